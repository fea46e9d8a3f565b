// The emulated network of one scenario, in a network and mount namespace of its own (`unshare -mn`, see run.ts):
//   - "open": a real KMS listener on the address (added to lo), answering like a KMS host (busy, clock skew, errors);
//   - "tunnel": something on the path completes the TCP handshake and closes without a KMS reply (forced tunnel);
//   - "silent": something on the path accepts TCP 1688 and never answers or closes (a forced-tunnel appliance or
//     firewall that completes the handshake, azure-docs #45703: an open port is not a KMS, facts section 7);
//   - "refuse": the address exists and nothing listens (RST);
//   - "drop": routed to a neighbour that never answers (a silent drop: connects time out);
//   - "unreachable": no route at all.
// DNS: /etc/resolv.conf and /etc/hosts of the namespace point at a DNS server here that answers A records, NXDOMAIN, or
// nothing. IMDS: 169.254.169.254:80 answers the attested document (or fails). "No network": no interface but lo.
// Programs: the emulated cscript.exe and netsh.exe run here, for the clients on PATH (127.0.0.1:47002, see programs/).
// Windows Firewall: the machine's rules (windows.js firewallBlocks) decide what the guest may send; a blocked connect
// fails at once with an access error, as WSAEACCES on Windows: here an `ip rule ... prohibit` for that address and port,
// which makes connect() fail with EACCES. Re-applied after every netsh call, so a rule the script adds takes effect.
// Usage: node network.js -- <command> <args...>; runs the command in that network and exits with its exit code.
"use strict";
const { spawn, execFileSync } = require("child_process");
const dgram = require("dgram");
const fs = require("fs");
const http = require("http");
const net = require("net");
const path = require("path");
const windows = require("./windows");
const { MANAGEMENT_PORT, PROGRAMS_PORT, STARTED_LINE } = require("./protocol");

const state = windows.load();
const network = state.network;
const dir = path.dirname(process.env.KMS_EMU_STATE);
// The namespace is set up by one `ip -batch` and two bind mounts, run together once the plan below is complete: a
// process per `ip` command cost more than the rest of this file.
const ipCommands = [];
const ip = (...args) => ipCommands.push(args.join(" "));
const NEIGHBOUR = "10.99.0.2";

ip("link", "set", "lo", "up");
// The local table's lookup moves behind the firewall's prohibit rules (preferences below 1000).
ip("rule", "add", "from", "all", "lookup", "local", "pref", "1000");
ip("rule", "del", "pref", "0");
const hasNetwork = network.available !== false;
if (hasNetwork) {
    ip("link", "add", "v0", "type", "veth", "peer", "name", "v1");
    ip("link", "set", "v0", "up");
    ip("link", "set", "v1", "up");
    ip("addr", "add", "10.99.0.1/30", "dev", "v0");
    // A neighbour whose frames nobody takes: packets routed to it vanish, as behind a dropping NVA.
    ip("neigh", "add", NEIGHBOUR, "lladdr", "02:00:00:00:00:02", "dev", "v0", "nud", "permanent");
}
const onLo = (address) => {
    if (!address.startsWith("127.")) ip("addr", "add", `${address}/32`, "dev", "lo");
};
const dropped = (address) => ip("route", "add", `${address}/32`, "via", NEIGHBOUR, "dev", "v0");

const kmsHosts = hasNetwork ? network.kms ?? [] : [];
for (const kms of kmsHosts) {
    if (["open", "tunnel", "silent", "refuse"].includes(kms.behaviour)) onLo(kms.address);
    if (kms.behaviour === "drop") dropped(kms.address);
}
// IMDS attested document (Azure Edition checks it): "ok", "error" (HTTP 500), "drop", or "none".
const imds = hasNetwork ? network.imds ?? "none" : "none";
if (imds === "ok" || imds === "error") onLo("169.254.169.254");
if (imds === "drop") dropped("169.254.169.254");

// DNS: the namespace's own /etc/hosts and /etc/resolv.conf (bind-mounted below).
const dnsMode = hasNetwork ? network.dns?.mode ?? "ok" : "none";
fs.writeFileSync(path.join(dir, "hosts"), "127.0.0.1 localhost\n::1 localhost\n");
const dnsTimeout = Math.max(1, Math.round(10 * (state.timeScale ?? 1)));
fs.writeFileSync(
    path.join(dir, "resolv.conf"),
    dnsMode === "none" ? "nameserver 10.255.255.53\noptions timeout:1 attempts:1\n" : `nameserver 127.0.0.53\noptions timeout:${dnsTimeout} attempts:1\n`,
);

fs.writeFileSync(path.join(dir, "ip.batch"), ipCommands.join("\n") + "\n");
execFileSync(
    "sh",
    ["-ec", 'ip -batch "$1"; mount --bind "$2" /etc/hosts; mount --bind "$3" /etc/resolv.conf', "sh", path.join(dir, "ip.batch"), path.join(dir, "hosts"), path.join(dir, "resolv.conf")],
    { stdio: "inherit" },
);

const servers = [];
for (const kms of kmsHosts) {
    if (kms.behaviour === "open" || kms.behaviour === "tunnel" || kms.behaviour === "silent") servers.push(kmsServer(kms));
}

// Events the machine logged before the run ("time": "start" in a scenario: stamped now, before pwsh starts).
for (const e of state.events) if (e.time === "start") e.time = new Date(Date.now() - 5).toISOString();
windows.save(state);

// The firewall's verdict on each KMS endpoint, as prohibit rules (see the header).
let applied = new Set();
function applyFirewall() {
    if (!hasNetwork) return;
    const now = windows.load();
    const wanted = new Set(kmsHosts.filter((k) => windows.firewallBlocks(now.firewall, k.address, k.port ?? 1688)).map((k) => `${k.address} ${k.port ?? 1688}`));
    const changes = [];
    let pref = 100;
    for (const key of new Set([...applied, ...wanted])) {
        const [address, port] = key.split(" ");
        const rule = `to ${address}/32 ipproto tcp dport ${port} prohibit`;
        if (wanted.has(key) && !applied.has(key)) changes.push(`rule add ${rule} pref ${pref++}`);
        if (!wanted.has(key) && applied.has(key)) changes.push(`rule del ${rule}`);
    }
    if (changes.length > 0) {
        fs.writeFileSync(path.join(dir, "firewall.batch"), changes.join("\n") + "\n");
        execFileSync("ip", ["-batch", path.join(dir, "firewall.batch")], { stdio: "inherit" });
    }
    applied = wanted;
}
applyFirewall();

function kmsServer(kms) {
    let busy = kms.busy ?? 0;
    const server = net.createServer((socket) => {
        if (kms.behaviour === "tunnel") {
            socket.destroy();
            return;
        }
        socket.on("error", () => undefined);
        if (kms.behaviour === "silent") return; // holds the connection, answers nothing
        let buffer = "";
        socket.on("error", () => undefined);
        socket.on("data", (d) => {
            buffer += d.toString();
            const nl = buffer.indexOf("\n");
            if (nl < 0) return;
            const request = JSON.parse(buffer.slice(0, nl));
            if (busy > 0) {
                busy--;
                return; // overloaded: never answers this request
            }
            let hr = kms.reply ?? "0x00000000";
            // A KMS host refuses a client whose clock is more than four hours off.
            if (Math.abs(request.clientTime - Date.now()) > 4 * 3600 * 1000) hr = "0xC004F06C";
            // A slow host answers after `delaySeconds` (scaled like every other wait).
            setTimeout(() => socket.end(JSON.stringify({ hr }) + "\n"), windows.scaled(state, kms.delaySeconds ?? 0));
        });
    });
    server.listen(kms.port ?? 1688, kms.address);
    return server;
}

// DNS over UDP: A answers from network.dns.records, NXDOMAIN for other names (mode "ok"); all NXDOMAIN ("nxdomain");
// no answer at all ("timeout").
let dnsServer;
if (dnsMode !== "none") {
    dnsServer = dgram.createSocket("udp4");
    dnsServer.on("message", (msg, rinfo) => {
        if (dnsMode === "timeout") return;
        const reply = dnsAnswer(msg, dnsMode === "ok" ? network.dns?.records ?? {} : {});
        if (reply) dnsServer.send(reply, rinfo.port, rinfo.address);
    });
    servers.push(dnsServer);
}

function dnsAnswer(msg, records) {
    let offset = 12;
    const labels = [];
    while (msg[offset] !== 0) {
        labels.push(msg.slice(offset + 1, offset + 1 + msg[offset]).toString());
        offset += msg[offset] + 1;
    }
    const name = labels.join(".").toLowerCase();
    const type = msg.readUInt16BE(offset + 1);
    const question = msg.slice(12, offset + 5);
    const addresses = records[name];
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2);
    const answers = addresses && type === 1 ? addresses : [];
    header.writeUInt16BE(0x8180 | (addresses ? 0 : 3), 2); // response, RD+RA; rcode 3 = NXDOMAIN
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const rrs = answers.map((a) => {
        const rr = Buffer.alloc(16);
        rr.writeUInt16BE(0xc00c, 0);
        rr.writeUInt16BE(1, 2);
        rr.writeUInt16BE(1, 4);
        rr.writeUInt32BE(60, 6);
        rr.writeUInt16BE(4, 10);
        a.split(".").forEach((octet, i) => rr.writeUInt8(Number(octet), 12 + i));
        return rr;
    });
    return Buffer.concat([header, question, ...rrs]);
}

if (imds === "ok" || imds === "error") {
    const server = http.createServer((req, res) => {
        const ok = imds === "ok" && req.headers.metadata === "true" && req.url.startsWith("/metadata/attested/document");
        res.writeHead(ok ? 200 : imds === "ok" ? 400 : 500, { "Content-Type": "application/json" });
        res.end(ok ? JSON.stringify({ encoding: "pkcs7", signature: "MIIL" + "A".repeat(64) }) : JSON.stringify({ error: "internal" }));
    });
    server.listen(80, "169.254.169.254");
    servers.push(server);
}

// The emulated machine's management interface (WMI, event log, registry), for the WindowsEmulator module: one JSON
// request per line, one JSON answer per line. A server in the namespace answers faster than a process per call.
// The first request to the machine means the script is past pwsh's start-up, most of a run's CPU: said once on
// stderr for the suite's start gate (run.ts), which takes the line out again.
let announced = false;
function announceStarted() {
    if (!announced) process.stderr.write(STARTED_LINE);
    announced = true;
}

const { answer } = require("./management");
const management = net.createServer((socket) => {
    let buffer = "";
    // Answers go back in the order asked, each when it is ready (a method takes time; a hung one holds the rest).
    let queue = Promise.resolve();
    socket.on("error", () => undefined);
    socket.on("data", (d) => {
        announceStarted();
        buffer += d.toString();
        let nl;
        while ((nl = buffer.indexOf("\n")) >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            const request = JSON.parse(line);
            const reply = Promise.resolve(answer(request.what, request.argument ?? {}));
            queue = queue.then(() => reply).then((a) => {
                if (!socket.destroyed) socket.write(JSON.stringify(a) + "\n");
            });
        }
    });
});
management.listen(MANAGEMENT_PORT, "127.0.0.1");
servers.push(management);

// The emulated programs (cscript.exe, netsh.exe): a request line from the client on PATH, the program runs here, the
// answer goes back framed (programs/program.c). A client that is killed closes its connection: the call is abandoned.
const programs = net.createServer((socket) => {
    const call = new windows.Call();
    let buffer = "";
    let started = false;
    socket.on("error", () => undefined);
    socket.on("close", () => call.cancel());
    socket.on("data", (d) => {
        announceStarted();
        if (started) return;
        buffer += d.toString();
        const nl = buffer.indexOf("\n");
        if (nl < 0) return;
        started = true;
        const request = JSON.parse(buffer.slice(0, nl));
        windows.program(request.program, request.args, request.pid, call).then(
            (result) => {
                if (/^netsh/i.test(request.program)) applyFirewall();
                const out = Buffer.from(result.out);
                const err = Buffer.from(result.err ?? "");
                socket.end(Buffer.concat([Buffer.from(`${result.exit} ${out.length} ${err.length}\n`), out, err]));
            },
            (e) => {
                if (!(e instanceof windows.Abandoned)) {
                    process.stderr.write(`emulated ${request.program} failed: ${e.stack}\n`);
                    socket.destroy();
                }
            },
        );
    });
});
programs.listen(PROGRAMS_PORT, "127.0.0.1");
servers.push(programs);

const listening = servers.map((s) => new Promise((resolve) => (s instanceof dgram.Socket ? s.bind(53, "127.0.0.53", resolve) : s.listening ? resolve() : s.once("listening", resolve))));
Promise.all(listening).then(() => {
    const argv = process.argv.slice(process.argv.indexOf("--") + 1);
    const child = spawn(argv[0], argv.slice(1), { stdio: "inherit" });
    child.on("exit", (code, signal) => {
        for (const s of servers) s.close();
        process.exit(code ?? (signal ? 128 : 1));
    });
});
