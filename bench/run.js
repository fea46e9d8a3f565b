// `npm run bench [-- --skip-context] [--rounds N] [--attribution]`: this package against a hand-written
// azure-native program under Pulumi's mock engine, as ratios from one run. Writes bench/RESULTS.md and prints
// its table. --attribution (6-9 minutes, outside the five-minute budget) adds where the test suite's time goes.
//
// The package is measured compiled (tsc into a temp dir), not through ts-node: ts-node's transpiling and its
// source-map stack traces would be charged to the package and not to the raw program.
"use strict";
const { spawnSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const root = path.join(__dirname, "..");
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name, fallback) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : fallback);
// Odd counts so the median is one real run.
const ROUNDS = { 10: option("--rounds", 7), 50: option("--rounds", 5), import: option("--rounds", 11), reads: option("--rounds", 1) };
// The context (jest alone takes 90-150 s here) is left out when the measurements ran long on a busy machine,
// so `npm run bench` stays inside five minutes.
const CONTEXT_DEADLINE_S = 150;
const BUDGET_S = 285;
const FLEETS = [10, 50];
// The fleet that also reads every VM's activation result back (one pair of runs by default: each side takes
// 20-120 s at this size, depending on the machine's load).
const READ_FLEET = 500;
const RESULTS = path.join(__dirname, "RESULTS.md");
// Everything after this line in RESULTS.md is written by hand and kept across runs.
const KEEP_MARKER = "<!-- analysis below is written by hand; run.js keeps it -->";

const began = Date.now();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (...a) => console.error(`[bench ${((Date.now() - began) / 1000).toFixed(0)}s]`, ...a);

function run(cmd, args, opts = {}) {
    // A hung program (a promise nobody resolves) must fail the bench, not stall it.
    const r = spawnSync(cmd, args, { cwd: root, encoding: "utf8", maxBuffer: 64 << 20, timeout: 240_000, ...opts });
    if (r.error) throw r.error;
    return r;
}

// One JSON line from a helper in a fresh process: a fresh heap, so peak RSS is that program's alone.
function child(script, args, nodeFlags = []) {
    const r = run(process.execPath, [...nodeFlags, path.join(__dirname, script), ...args]);
    if (r.status !== 0) throw new Error(`${script} ${args.join(" ")} failed:\n${r.stderr}`);
    return JSON.parse(r.stdout.trim().split("\n").pop());
}

// Both sides in every round, the order swapped each round, so drift in machine load hits both alike.
function alternate(rounds, sides, once) {
    const out = Object.fromEntries(sides.map((s) => [s, []]));
    for (let i = 0; i < rounds; i++) {
        for (const side of i % 2 ? [...sides].reverse() : sides) out[side].push(once(side));
    }
    return out;
}

function compile() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kms-bench-"));
    const r = run("npx", ["tsc", "-p", "tsconfig.build.json", "--outDir", dir]);
    if (!fs.existsSync(path.join(dir, "index.js"))) throw new Error(`tsc emitted nothing:\n${r.stdout}${r.stderr}`);
    if (r.status !== 0) log(`warning: tsc reported errors, measuring what it emitted:\n${r.stdout}`);
    // What scripts/finish-build.js does for dist/: the renderer reads the guest script next to itself.
    fs.copyFileSync(path.join(root, "src", "guest", "activate.ps1"), path.join(dir, "guest", "activate.ps1"));
    // The compiled copy resolves @pulumi/* from this repository, as dist/ would.
    fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
    return dir;
}

// Stopped at `timeoutS`, so the context can never push the run past five minutes.
function timed(cmd, args, timeoutS) {
    const start = Date.now();
    const r = spawnSync(cmd, args, { cwd: root, stdio: "ignore", timeout: Math.round(Math.max(1, timeoutS) * 1000) });
    const s = (Date.now() - start) / 1000;
    if (r.error?.code === "ETIMEDOUT") return `> ${fmt(s, 0)} (stopped at the five-minute budget)`;
    return `${fmt(s, 1)}${r.status === 0 ? "" : " (exit code " + r.status + ")"}`;
}

const ratio = (a, b) => a / b;
const fmt = (x, digits = 0) => x.toFixed(digits);
const verdict = (ok) => (ok ? "pass" : "**FAIL**");

function fleetRows(fleet, m, withReads = false) {
    const p = m.package, r = m.raw;
    const med = (side, key) => median(m[side].map((x) => x[key]));
    const t = ratio(med("package", "ms"), med("raw", "ms"));
    const rss = ratio(med("package", "maxRssKb"), med("raw", "maxRssKb"));
    const cpu = ratio(med("package", "cpuMs"), med("raw", "cpuMs"));
    const n = withReads ? `${fleet} VMs with the activation read` : `${fleet} VMs`;
    const reads = withReads
        ? [[`statuses read as \`activated\`, ${n}`, p[0].activated, r[0].activated, p[0].activated === r[0].activated ? "equal" : "differ", `${fleet} each`, verdict(p[0].activated === fleet && r[0].activated === fleet)]]
        : [];
    return [
        ...reads,
        [`evaluation wall time, ${n} (ms, median of ${p.length})`, fmt(med("package", "ms")), fmt(med("raw", "ms")), fmt(t, 2), "≤ 1.10", verdict(t <= 1.1)],
        [`peak RSS, ${n} (MB)`, fmt(med("package", "maxRssKb") / 1024), fmt(med("raw", "maxRssKb") / 1024), fmt(rss, 2), "≤ 1.10", verdict(rss <= 1.1)],
        [`Azure (custom) resources, ${n}`, p[0].customResources, r[0].customResources, p[0].customResources === r[0].customResources ? "equal" : fmt(ratio(p[0].customResources, r[0].customResources), 2), "equal", verdict(p[0].customResources === r[0].customResources)],
        [`_context:_ evaluation CPU time, ${n} (ms)`, fmt(med("package", "cpuMs")), fmt(med("raw", "cpuMs")), fmt(cpu, 2), "", ""],
        [`_context:_ registrations incl. components, ${n}`, p[0].registrations, r[0].registrations, fmt(ratio(p[0].registrations, r[0].registrations), 2), "", ""],
        [`_context:_ SDK promises (one stack trace each), ${n}`, p[0].sdkPromises, r[0].sdkPromises, fmt(ratio(p[0].sdkPromises, r[0].sdkPromises), 2), "", ""],
    ];
}

function table(rows) {
    const head = ["figure", "package", "raw / minimum", "ratio", "target", "result"];
    return [head, head.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

// Where the 90 ms per resource of the test suite goes: the same fleet of 20, one layer added at a time.
function attribution(dir) {
    const variants = {
        "raw azure-native program, bench mocks": () => child("program.js", ["raw", "20", dir]).ms,
        "package compiled, bench mocks": () => child("program.js", ["package", "20", dir]).ms,
        "package src via ts-node, bench mocks": () => child("program.js", ["package", "20", path.join(root, "src")]).ms,
        "package src via ts-node, bench mocks, --stack-trace-limit=0": () =>
            child("program.js", ["package", "20", path.join(root, "src")], ["--stack-trace-limit=0"]).ms,
        "package src via ts-node, test/harness.ts mocks": () => child("program.js", ["package", "20", path.join(root, "src"), "--test-harness"]).ms,
        "jest fleet test, --coverage=false": () => jestFleetMs(false, dir),
        "jest fleet test, --coverage (as npm test)": () => jestFleetMs(true, dir),
    };
    const rounds = option("--rounds", 3);
    const res = alternate(rounds, Object.keys(variants), (v) => (log(`attribution: ${v}`), variants[v]()));
    const lines = Object.entries(res).map(([v, xs]) => `| ${v} | ${fmt(median(xs))} | ${fmt(median(xs) / 70, 1)} |`);
    return ["| fleet of 20 (70 Azure resources) | ms | ms per Azure resource |", "|---|---|---|", ...lines].join("\n");
}

// The fleet test's own duration as jest reports it; coverage goes to the temp dir, not the repository.
function jestFleetMs(coverage, dir) {
    const out = path.join(dir, "jest.json");
    fs.rmSync(out, { force: true });
    run("npx", ["jest", "test/windows-vm.test.ts", "-t", "fleet of 20", `--coverage=${coverage}`,
        "--coverageDirectory", path.join(dir, "coverage"), "--coverageReporters", "json", "--json", "--outputFile", out]);
    const results = fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, "utf8")).testResults : [];
    const test = results.flatMap((r) => r.assertionResults).find((a) => a.status === "passed");
    return test ? test.duration : NaN;
}

function machine() {
    const cpus = os.cpus();
    return [
        `- machine: ${cpus.length} cores (${cpus[0]?.model.trim()}), ${fmt(os.totalmem() / 2 ** 30, 1)} GiB memory, load average at start ${os.loadavg().map((l) => fmt(l, 2)).join(" ")}`,
        `- Node ${process.version}, ${os.type()} ${os.release()}`,
        `- date: ${new Date().toISOString()}`,
    ].join("\n");
}

function main() {
    const header = machine();
    const fleets = {};
    log("compiling the package (tsc -p tsconfig.build.json) into a temp dir");
    const dir = compile();
    try {
        const rows = [];
        for (const fleet of FLEETS) {
            fleets[fleet] = alternate(ROUNDS[fleet], ["package", "raw"], (side) => {
                const r = child("program.js", [side, String(fleet), dir]);
                log(`fleet ${fleet}: ${side} ${fmt(r.ms)} ms wall, ${fmt(r.cpuMs)} ms CPU, ${fmt(r.maxRssKb / 1024)} MB`);
                return r;
            });
            rows.push(...fleetRows(fleet, fleets[fleet]));
        }
        const readFleet = alternate(ROUNDS.reads, ["package", "raw"], (side) => {
            const r = child("program.js", [side, String(READ_FLEET), dir, "--reads"]);
            log(`fleet ${READ_FLEET} with reads: ${side} ${fmt(r.ms)} ms wall, ${fmt(r.cpuMs)} ms CPU, ${fmt(r.maxRssKb / 1024)} MB, ${r.activated} activated`);
            return r;
        });
        rows.push(...fleetRows(READ_FLEET, readFleet, true).map((row) => [row[0].replace(/median of 1\)/, "one run each)"), ...row.slice(1)]));
        const chain = (side) => fleets[50][side][0];
        const pkgChain = chain("package"), rawChain = chain("raw");
        rows.push([
            "critical path, 50 VMs (resources in the longest dependency chain)",
            `${pkgChain.criticalPath}: ${pkgChain.chain.join(" → ")}`,
            `${rawChain.criticalPath}: ${rawChain.chain.join(" → ")}`,
            pkgChain.criticalPath === rawChain.criticalPath ? "equal" : fmt(ratio(pkgChain.criticalPath, rawChain.criticalPath), 2),
            "equal",
            verdict(pkgChain.criticalPath === rawChain.criticalPath),
        ]);

        const imports = alternate(ROUNDS.import, ["package", "raw"], (side) => {
            const r = child("import.js", [side, dir]);
            log(`import: ${side} ${fmt(r.ms)} ms`);
            return r;
        });
        const ip = median(imports.package.map((x) => x.ms)), ir = median(imports.raw.map((x) => x.ms));
        rows.push([`import time (ms, median of ${ROUNDS.import}, fresh process each)`, fmt(ip), fmt(ir), fmt(ratio(ip, ir), 2), "≤ 1.10", verdict(ratio(ip, ir) <= 1.1)]);

        const elapsed = (Date.now() - began) / 1000;
        if (!flag("--skip-context") && elapsed > CONTEXT_DEADLINE_S) {
            rows.push([`_context:_ jest and tsc left out: the measurements took ${fmt(elapsed)} s (busy machine)`, "", "", "", "", ""]);
        } else if (!flag("--skip-context")) {
            log("context: npx tsc --noEmit -p .");
            const tsc = timed("npx", ["tsc", "--noEmit", "-p", "."], 60);
            log("context: jest --coverage=false");
            // jest's own bin rather than npx, so that stopping it at the budget stops jest and not only npx.
            const jestBin = require.resolve("jest/bin/jest", { paths: [root] });
            const jest = timed(process.execPath, [jestBin, "--coverage=false"], BUDGET_S - (Date.now() - began) / 1000);
            rows.push([`_context:_ \`jest --coverage=false\` (s, once; jest/bin/jest.js, as npx runs it)`, jest, "", "", "", ""]);
            rows.push([`_context:_ \`npx tsc --noEmit -p .\` (s, once)`, tsc, "", "", "", ""]);
        }

        const body = [
            "# Benchmark results",
            "",
            "Written by `npm run bench` (`node bench/run.js`); the table is printed the same way.",
            "",
            header,
            `- package side: compiled with \`npx tsc -p tsconfig.build.json\` into a temp dir (not ts-node); raw side: bench/program.js \`rawProgram\``,
            "- each program and each import in its own child process; sides alternate every round; figures are medians",
            "",
            table(rows),
            "",
            ...FLEETS.map((f) => `Wall ms per run, ${f} VMs: package ${fleets[f].package.map((x) => fmt(x.ms)).join(", ")}; raw ${fleets[f].raw.map((x) => fmt(x.ms)).join(", ")}.`),
            `Wall ms per run, ${READ_FLEET} VMs with the activation read: package ${readFleet.package.map((x) => fmt(x.ms)).join(", ")}; raw ${readFleet.raw.map((x) => fmt(x.ms)).join(", ")}.`,
            "",
            `The ${fmt(FLEETS[0])}- and ${fmt(FLEETS[1])}-VM rows run the package with \`readActivationResult: false\` (the raw program reads nothing there); ` +
                `in the ${READ_FLEET}-VM rows both sides read every extension's instance view once it exists and parse its result line.`,
            "",
            `Whole run: ${fmt((Date.now() - began) / 1000)} s.`,
        ];
        if (flag("--attribution")) {
            log("attribution (fleet of 20)");
            body.push("", "### Where the test suite's time per resource goes (`--attribution`)", "", attribution(dir));
        }
        const text = body.join("\n") + "\n";
        const previous = fs.existsSync(RESULTS) ? fs.readFileSync(RESULTS, "utf8") : "";
        const kept = previous.includes(KEEP_MARKER) ? previous.slice(previous.indexOf(KEEP_MARKER)) : `${KEEP_MARKER}\n`;
        fs.writeFileSync(RESULTS, `${text}\n${kept}`);
        console.log(text);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

main();
