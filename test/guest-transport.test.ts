// The CustomScriptExtension's payload travels as 15 bits a character (see encodePayload in src/guest/render.ts). If a
// step on the way turned those characters into something else (an ANSI round trip leaves "?"), the run must still end
// with a result line that says so: run the real bootstrap in the repository's pwsh, intact and mangled.
import { spawnSync } from "child_process";
import { parseActivationResult } from "../src/guest/result";
import { renderActivationScript } from "../src/guest/render";
import { pwshPath } from "./guest/emulator/run";

const pwsh = pwshPath();
const describeWithPwsh = pwsh || process.env.CI === "true" ? describe : describe.skip;

function runBootstrap(bootstrap: string) {
    return spawnSync(pwsh!, ["-NoLogo", "-NoProfile", "-NonInteractive", "-Command", bootstrap], {
        encoding: "utf8",
        env: { ...process.env, POWERSHELL_TELEMETRY_OPTOUT: "1", POWERSHELL_UPDATECHECK: "Off" },
    });
}

describeWithPwsh("the CustomScriptExtension payload on its way", () => {
    const bootstrap = /-Command "([^"]+)"$/.exec(renderActivationScript({}).commandToExecute)![1];

    test("characters lost on the way (each turned into ?): a result line naming the fix, exit 1", () => {
        const mangled = bootstrap.replace(/[\u4e00-\ucdff]/g, "?");
        const run = runBootstrap(mangled);
        expect(run.status).toBe(1);
        const result = parseActivationResult(run.stdout)!;
        expect(result).toMatchObject({ v: 2, status: "error", key: "none", codes: [], events: [] });
        expect(result.diagnosis).toEqual(["the command line did not arrive intact (its payload could not be inflated): use mechanism RunCommand"]);
    });

    test("intact, the bootstrap inflates the whole payload", () => {
        // The script itself is run by the behaviour suite on the emulated machine; here only the decoding is measured.
        const run = runBootstrap(bootstrap.replace(/& \(\[ScriptBlock\]::Create\(\$t\)\)$/, "Write-Output $t.Length"));
        expect(run.status).toBe(0);
        expect(Number(run.stdout.trim())).toBeGreaterThan(20000);
    });
});
