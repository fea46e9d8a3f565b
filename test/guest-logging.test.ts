// PowerShell logs a script block to event 4104 (Warning) whenever its text holds a word on its "suspicious" list, with
// or without a logging policy (facts section 7). A block that holds a product key must never be such a block: this asks
// PowerShell itself, calling its own check (ScriptBlock.CheckSuspiciousContent, internal: reached by reflection) in the
// repository's pwsh, on every block of both delivery forms that holds the key or runs with it.
import { spawnSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { activationScript, guestScript, renderActivationScript } from "../src/guest/render";
import { inflateCommand } from "./harness";
import { pwshPath } from "./guest/emulator/run";

const KEY = "ABCDE-FGHJK-MNPQR-STVWX-YZ234";
const pwsh = pwshPath();
const inCi = process.env.CI === "true";

const CHECK = `
$check = [System.Management.Automation.ScriptBlock].GetMethod('CheckSuspiciousContent', [Reflection.BindingFlags]'NonPublic,Static')
if ($null -eq $check) { throw 'ScriptBlock.CheckSuspiciousContent not found in this PowerShell' }
$blocks = Get-Content -Raw -LiteralPath $args[0] | ConvertFrom-Json
$hits = foreach ($block in $blocks) {
    $errors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseInput([string]$block, [ref]$null, [ref]$errors)
    if ($errors.Count -gt 0) { 'PARSE ERROR: ' + $errors[0].Message } else { [string]$check.Invoke($null, @($ast)) }
}
ConvertTo-Json -InputObject @($hits) -Compress
`;

/** What PowerShell's own check finds in each block: the suspicious word, or "" for none. */
function suspicious(blocks: string[]): string[] {
    const dir = mkdtempSync(path.join(tmpdir(), "kms-logging-"));
    try {
        writeFileSync(path.join(dir, "check.ps1"), CHECK);
        writeFileSync(path.join(dir, "blocks.json"), JSON.stringify(blocks));
        const run = spawnSync(pwsh!, ["-NoLogo", "-NoProfile", "-NonInteractive", "-File", path.join(dir, "check.ps1"), path.join(dir, "blocks.json")], {
            encoding: "utf8",
            env: { ...process.env, POWERSHELL_TELEMETRY_OPTOUT: "1", POWERSHELL_UPDATECHECK: "Off" },
        });
        if (run.status !== 0) throw new Error(`pwsh failed: ${run.stderr}`);
        return JSON.parse(run.stdout.trim());
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

/** Every script block the guest compiles, per delivery form, labelled. */
function blocks(): [string, string][] {
    const rendered = renderActivationScript({ productKey: KEY });
    const body = activationScript().replace(/^\uFEFF?<#[\s\S]*?#>\s*/, "");
    const settings = rendered.parameters[0].value;
    return [
        // CustomScriptExtension: the payload the bootstrap inflates and creates ($a with the key, then the script).
        ["CustomScriptExtension payload", inflateCommand(rendered.commandToExecute)],
        // Run Command: the script file, and the call a handler may build with the parameters.
        ["Run Command script", rendered.script],
        ["Run Command invocation", `& 'C:\\Packages\\Plugins\\Microsoft.CPlat.Core.RunCommandHandlerWindows\\script.ps1' -Settings '${settings}' -ProductKey '${KEY}'`],
        // Both: the body the bootstrap creates from its here-string, with the key as a parameter.
        ["activate.ps1 body", body],
    ];
}

const describeWithPwsh = pwsh || inCi ? describe : describe.skip;

describeWithPwsh("no block that holds the key is one PowerShell logs as suspicious", () => {
    test("the check is PowerShell's and finds what it should (so an empty answer means something)", () => {
        expect(suspicious(["$x.PSObject.Properties['a']", "New-Object IO.MemoryStream", "Get-Date"])).toEqual(["Properties", "MemoryStream", ""]);
    });

    test("every block of both forms: CustomScriptExtension payload, Run Command script and invocation, the body", () => {
        const all = blocks();
        // The key is really in the blocks that carry it (CSE payload, Run Command invocation), and in no other.
        expect(all.filter(([, text]) => text.includes(KEY)).map(([label]) => label)).toEqual(["CustomScriptExtension payload", "Run Command invocation"]);
        const found = suspicious(all.map(([, text]) => text));
        expect(all.map(([label], i) => [label, found[i]])).toEqual(all.map(([label]) => [label, ""]));
    });

    test("the bootstrap on the command line (suspicious by its decoder) carries no key in clear and no argument: only the encoded payload", () => {
        const rendered = renderActivationScript({ productKey: KEY });
        const bootstrap = /-Command "([^"]+)"$/.exec(rendered.commandToExecute)![1];
        expect(bootstrap).not.toContain(KEY);
        expect(bootstrap).not.toContain("ProductKey");
        // The key reaches the guest only in the protected parts.
        expect(JSON.stringify(rendered.parameters)).not.toContain(KEY);
        expect(rendered.protectedParameters).toEqual([{ name: "ProductKey", value: KEY }]);
        expect(guestScript(activationScript())).not.toContain(KEY);
    });
});
