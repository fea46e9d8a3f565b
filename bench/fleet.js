// `node bench/fleet.js [--vms 1000] [--concurrency 16] [--paths]`: `azure-kms-activation fleet` over a generated fleet
// served by the local ARM stand-in (test/fleet/arm-standin.ts, in a child process of its own), through Azure's real
// SDK clients. Prints the wall time, the fleet process's peak RSS, the request count and the status counts, and one
// row for bench/RESULTS.md. The fleet side runs its TypeScript through ts-node (transpile only); its loading is
// before the clock starts, but is in the peak RSS.
"use strict";
const path = require("path");
const { spawn } = require("child_process");
const readline = require("readline");
const { performance } = require("perf_hooks");

const root = path.join(__dirname, "..");
require("ts-node").register({ transpileOnly: true, project: path.join(root, "tsconfig.json") });
const { runFleet } = require("../src/cli/fleet");
const { fixedTokenCredential } = require("../test/fleet/arm-standin");

const argv = process.argv.slice(2);
const option = (name, fallback) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : fallback);
const VMS = option("--vms", 1000);
const CONCURRENCY = option("--concurrency", 16);
const PATHS = argv.includes("--paths");

async function main() {
    const child = spawn(process.execPath, [path.join(__dirname, "fleet-standin.js"), String(VMS)], { stdio: ["pipe", "pipe", "inherit"] });
    const first = await new Promise((resolve, reject) => {
        readline.createInterface({ input: child.stdout }).once("line", resolve);
        child.once("exit", (code) => reject(new Error(`stand-in exited ${code}`)));
    });
    const { url, ca } = JSON.parse(first);
    let report;
    const args = ["--concurrency", String(CONCURRENCY), "--json", ...(PATHS ? ["--paths"] : [])];
    const started = performance.now();
    const code = await runFleet(args, { out: () => undefined, err: (s) => process.stderr.write(`${s}\n`) }, {
        credential: fixedTokenCredential,
        endpoint: url,
        ca,
        progress: { isTTY: false, write: () => 0 },
        onReport: (r) => (report = r),
    });
    const wallMs = Math.round(performance.now() - started);
    const peakMb = Math.round(process.resourceUsage().maxRSS / 1024);
    child.stdin.end();
    const s = report.summary;
    const counts = Object.entries(s.statuses).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(", ");
    const paths = s.paths ? `; paths ${s.paths.reachable} reachable, ${s.paths.blocked} blocked` : "";
    const target = wallMs < 60000 ? "pass" : "FAIL";
    console.log(`fleet ${args.join(" ")}: ${s.vms} VMs in ${wallMs} ms, peak RSS ${peakMb} MB, exit ${code}; ${counts}${paths}`);
    console.log(
        `| ${new Date().toISOString().slice(0, 10)} | ${VMS} VMs, --concurrency ${CONCURRENCY}${PATHS ? " --paths" : ""} | ${(wallMs / 1000).toFixed(1)} s | ${peakMb} MB | ${counts}${paths} | < 60 s | ${target} |`,
    );
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
