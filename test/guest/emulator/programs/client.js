// The emulated programs' client in node, for a machine without a C compiler: the same request and answer as
// program.c (read it for the protocol), one node start-up (~0.12 CPU-s) slower per call.
"use strict";
const net = require("net");
const { PROGRAMS_PORT } = require("../protocol");

function run(name, args) {
    const machine = net.connect({ host: "127.0.0.1", port: PROGRAMS_PORT });
    machine.on("connect", () => machine.write(JSON.stringify({ program: name, pid: process.pid, args }) + "\n"));
    const chunks = [];
    machine.on("data", (d) => chunks.push(d));
    machine.on("error", (e) => {
        process.stderr.write(`${name}: the emulated machine does not answer on 127.0.0.1:${PROGRAMS_PORT} (${e.message})\n`);
        process.exitCode = 1;
    });
    machine.on("end", () => {
        const answer = Buffer.concat(chunks);
        const nl = answer.indexOf(10);
        const m = /^(-?\d+) (\d+) (\d+)$/.exec(answer.subarray(0, Math.max(nl, 0)).toString());
        if (!m) {
            process.stderr.write(`${name}: the emulated machine gave no answer\n`);
            process.exitCode = 1;
            return;
        }
        const [exit, outLength, errLength] = [Number(m[1]), Number(m[2]), Number(m[3])];
        process.stdout.write(answer.subarray(nl + 1, nl + 1 + outLength));
        process.stderr.write(answer.subarray(nl + 1 + outLength, nl + 1 + outLength + errLength));
        process.exitCode = exit === 0 ? 0 : exit & 0xff || 1;
    });
}

module.exports = { run };
