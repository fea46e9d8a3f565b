import { readFileSync } from "fs";
import * as path from "path";
import { activationScript, guestScript, renderActivationScript } from "../src/guest/render";
import { inflateCommand } from "./harness";
import { powershell2Problems, powershell7Only } from "./ps51";

const SCRIPT = readFileSync(path.join(__dirname, "..", "src", "guest", "activate.ps1"), "utf8");

// Each sample holds one thing Windows PowerShell 5.1 cannot run, and what the check must call it.
const negatives: [string, string, RegExp][] = [
    ["null coalescing", "$a = $b ?? 'x'", /\?\? \(null coalescing\)/],
    ["null-coalescing assignment", "$a ??= 2", /\?\?= /],
    ["null-conditional member", "$a?.Name", /\?\. or \?\[\]/],
    ["null-conditional index", "$a?[0]", /\?\. or \?\[\]/],
    ["ternary", "$x = $ok ? 'yes' : 'no'", /\? : \(ternary\)/],
    ["&& chain", "Get-Item C:\\x && Write-Output ok", /pipeline chain/],
    ["|| chain", "Get-Item C:\\x || exit 1", /pipeline chain/],
    ["ForEach-Object -Parallel", "1..3 | ForEach-Object -Parallel { $_ }", /ForEach-Object -Parallel/],
    ["% -Parallel", "1..3 | % -Parallel { $_ }", /-Parallel/],
    ["clean block", "function f { process { } clean { } }", /clean block|not 5\.1 syntax/],
    ["background operator", "Start-Sleep 1 &", /not 5\.1 syntax/],
    ["ConvertTo-Json -AsArray", "ConvertTo-Json -AsArray $x", /ConvertTo-Json -AsArray/],
    ["ConvertFrom-Json -AsHashtable", "$t | ConvertFrom-Json -AsHashtable", /ConvertFrom-Json -AsHashtable/],
    ["ConvertFrom-Json -Depth", "$t | ConvertFrom-Json -Depth 5", /ConvertFrom-Json -Depth/],
    ["Test-Connection -TcpPort", "Test-Connection kms -TcpPort 1688", /Test-Connection -TcpPort/],
    ["Invoke-WebRequest -SkipCertificateCheck", "Invoke-WebRequest https://x -SkipCertificateCheck", /-SkipCertificateCheck/],
    ["Invoke-RestMethod -NoProxy", "Invoke-RestMethod http://169.254.169.254/ -NoProxy", /Invoke-RestMethod -NoProxy/],
    ["abbreviated parameter", "ConvertFrom-Json -AsHash", /ConvertFrom-Json -AsHashtable/],
    ["Get-Error", "Get-Error -Newest 1", /cmdlet Get-Error/],
    ["Join-String", "$a | Join-String -Separator ','", /cmdlet Join-String/],
    ["Get-Content -AsByteStream", "Get-Content x -AsByteStream", /-AsByteStream/],
    ["$IsWindows", "if ($IsWindows) { 1 }", /\$IsWindows/],
    ["$PSStyle", "$PSStyle.Reset", /\$PSStyle/],
];

describe("Windows PowerShell 5.1 compatibility", () => {
    test("activate.ps1 uses nothing PowerShell 7 added", async () => {
        expect(await powershell7Only(SCRIPT)).toEqual([]);
    });

    test("nor does what the CustomScriptExtension runs: the bootstrap and the inflated invocation", async () => {
        const command = renderActivationScript({ productKey: "VDYBN-27WPP-V4HQT-9VMD4-VMK7H" }).commandToExecute;
        const bootstrap = /-Command "([^"]+)"$/.exec(command)![1];
        expect(await powershell7Only(bootstrap)).toEqual([]);
        expect(await powershell7Only(inflateCommand(command))).toEqual([]);
    });

    test.each(negatives)("catches %s", async (_label, sample, expected) => {
        const found = await powershell7Only(sample);
        expect(found.join("\n")).toMatch(expected);
    });

    test("5.1 forms of the same things pass", async () => {
        for (const ok of [
            "$a = if ($null -ne $b) { $b } else { 'x' }",
            "Get-Item C:\\x; if ($?) { Write-Output ok }",
            "1..3 | ForEach-Object -Process { $_ }",
            "$t | ConvertFrom-Json",
            "ConvertTo-Json -InputObject @($x) -Compress -Depth 4",
            "Invoke-WebRequest -Uri http://x -UseBasicParsing -TimeoutSec 5",
            "function f { begin { } process { } end { } }",
            "$client = New-Object Net.Sockets.TcpClient",
        ]) {
            expect(await powershell7Only(ok)).toEqual([]);
        }
    });
});

// Windows Server 2008 R2 ships Windows PowerShell 2.0, which parses a script whole before running it: the bootstrap of
// both forms must parse (and run up to its version check) in 2.0; the 5.1 body sits in a here-string until then.
const negatives2: [string, string, RegExp][] = [
    ["[ordered]", "$r = [ordered]@{ a = 1 }", /\[ordered\] \(PowerShell 3\.0\)/],
    ["[pscustomobject]", "$o = [pscustomobject]@{ a = 1 }", /\[pscustomobject\]/],
    ["-in", "if ($a -in 'x', 'y') { 1 }", /operator -in/],
    ["-notin", "if ($a -notin 'x', 'y') { 1 }", /operator -notin/],
    ["ConvertFrom-Json", "$c = $t | ConvertFrom-Json", /cmdlet ConvertFrom-Json/],
    ["ConvertTo-Json", "ConvertTo-Json -InputObject $r", /cmdlet ConvertTo-Json/],
    ["Get-CimInstance", "Get-CimInstance -ClassName Win32_OperatingSystem", /cmdlet Get-CimInstance/],
    ["Get-Content -Raw", "Get-Content -Path x -Raw", /Get-Content -Raw/],
    ["::new()", "$l = [Collections.ArrayList]::new()", /\.new\(\)/],
    ["$PSScriptRoot", "Join-Path $PSScriptRoot x", /\$PSScriptRoot/],
    ["$using:", "Invoke-Command { $using:x }", /\$using:x/],
];

describe("Windows PowerShell 2.0: the bootstrap (2.0 profile)", () => {
    const rendered = renderActivationScript({ productKey: "VDYBN-27WPP-V4HQT-9VMD4-VMK7H" });

    test("the Run Command script: its bootstrap parses in 2.0 (the body is a here-string until the version check)", async () => {
        expect(await powershell2Problems(rendered.script)).toEqual([]);
        expect(rendered.script).toBe(guestScript(activationScript()));
        expect(rendered.script).toContain("if (-not ($PSVersionTable.PSVersion.Major -ge 3)) {");
        // The check comes before the body is handed to the parser.
        expect(rendered.script.indexOf("$PSVersionTable.PSVersion.Major -ge 3")).toBeLessThan(rendered.script.indexOf("[ScriptBlock]::Create(@'"));
    });

    test("the CustomScriptExtension: the command-line bootstrap and the payload parse in 2.0", async () => {
        const bootstrap = /-Command "([^"]+)"$/.exec(rendered.commandToExecute)![1];
        expect(await powershell2Problems(bootstrap)).toEqual([]);
        expect(await powershell2Problems(inflateCommand(rendered.commandToExecute))).toEqual([]);
    });

    test("the body alone does not (so the bootstrap is what makes 2.0 get a result line)", async () => {
        const found = await powershell2Problems(activationScript());
        expect(found.join("\n")).toMatch(/\[ordered\]/);
        expect(found.join("\n")).toMatch(/cmdlet ConvertFrom-Json/);
    });

    test.each(negatives2)("the 2.0 profile catches %s", async (_label, sample, expected) => {
        expect((await powershell2Problems(sample)).join("\n")).toMatch(expected);
    });

    test("2.0 forms pass", async () => {
        for (const ok of ["$h = @{ a = 1 }", "if (@('x', 'y') -contains $a) { 1 }", "$o = New-Object PSObject -Property @{ a = 1 }", "Write-Output ('a' + $PSVersionTable.PSVersion)", "exit 1"]) {
            expect(await powershell2Problems(ok)).toEqual([]);
        }
    });
});
