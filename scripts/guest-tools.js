// npm pretest: restores the repository's .NET local tools (PowerShell 7, for the guest behaviour suite) when the .NET SDK
// is there. Without it the suite says in one line that it did not run (test/guest/behaviour.test.ts); in CI it fails.
// Then builds what the suite runs, once (both cached under node_modules/.cache; the suite builds them itself when
// started without npm test): the precompiled copy of pwsh and the native client of the emulated programs.
"use strict";
const { spawnSync } = require("child_process");

const probe = spawnSync("dotnet", ["--version"], { encoding: "utf8" });
if (probe.error || probe.status !== 0) {
    if (process.env.CI === "true") {
        console.error("pretest: dotnet not found; CI needs it for the guest behaviour suite (PowerShell 7 is a .NET local tool)");
        process.exit(1);
    }
    console.log("pretest: dotnet not found, so the guest behaviour suite will not run; install the .NET SDK, then npm test");
    process.exit(0);
}
const restore = spawnSync("dotnet", ["tool", "restore"], { encoding: "utf8", cwd: `${__dirname}/..` });
if (restore.status !== 0) {
    console.error(`pretest: dotnet tool restore failed:\n${restore.stdout}${restore.stderr}`);
    process.exit(process.env.CI === "true" ? 1 : 0);
}

require("ts-node").register({ transpileOnly: true });
const started = Date.now();
const { runnablePwsh, pwshPath } = require("../test/guest/emulator/run");
const { emulatedPrograms } = require("../test/guest/emulator/programs");
const pwsh = runnablePwsh();
const programs = emulatedPrograms();
console.log(
    `pretest: guest tools ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
        `${pwsh === pwshPath() ? "pwsh as shipped (crossgen2 not at hand)" : "pwsh precompiled"}, ` +
        `${programs.native ? "native program client" : `node program clients (${programs.problem})`}`,
);
