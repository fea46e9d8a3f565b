// npm pretest (and the HTML report's browser test): makes sure Debian's Chromium is at /usr/bin/chromium, the headless
// browser test/fleet-html.test.ts opens the report in. Installs it with apt-get when missing and running as root (as
// guest-tools.js restores PowerShell); elsewhere says in one line how to get it. With CI=true a missing browser fails.
"use strict";
const { existsSync } = require("fs");
const { spawnSync } = require("child_process");

const CHROMIUM = "/usr/bin/chromium";

/** The browser's path, installing it first when it can; undefined (with the reason) when it cannot. */
function ensureChromium(log = () => undefined) {
    if (existsSync(CHROMIUM)) return { path: CHROMIUM };
    const root = typeof process.getuid === "function" && process.getuid() === 0;
    if (!root || !existsSync("/usr/bin/apt-get")) {
        return { reason: "Chromium is not installed (sudo apt-get install chromium)" };
    }
    log("installing Chromium (apt-get install chromium) for the HTML report's browser test");
    for (const args of [["update"], ["install", "-y", "--no-install-recommends", "chromium"]]) {
        const r = spawnSync("apt-get", args, { encoding: "utf8", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
        if (r.status !== 0) return { reason: `apt-get ${args.join(" ")} failed: ${(r.stderr || r.stdout || "").trim().split("\n").pop()}` };
    }
    return existsSync(CHROMIUM) ? { path: CHROMIUM } : { reason: "apt-get installed chromium but /usr/bin/chromium is not there" };
}

module.exports = { ensureChromium, CHROMIUM };

if (require.main === module) {
    const result = ensureChromium((line) => console.log(`pretest: ${line}`));
    if (!result.path) {
        console.error(`pretest: ${result.reason}; the HTML report's browser test will not run`);
        process.exit(process.env.CI === "true" ? 1 : 0);
    }
}
