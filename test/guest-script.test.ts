import { readFileSync } from "fs";
import * as path from "path";
import { compactScript, decodePayload, decodeSettings, encodePayload, guestScript, MAX_COMMAND_LENGTH, renderActivationScript, renderDetectionTable, ActivationScriptOptions } from "../src/guest/render";
import { windowsServerReleases } from "../src/kms";
import { AzureCloud, KmsHostForm } from "../src/types";
import { inflateCommand } from "./harness";
import { syntaxProblems } from "./powershell";

const SCRIPT = readFileSync(path.join(__dirname, "..", "src", "guest", "activate.ps1"), "utf8");
const LONGEST_HOST = ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(61)].join(".");
const MOST_PREFIXES = Array.from({ length: 16 }, (_, i) => `192.168.${100 + i}.100/32`);
const MOST_IPS = Array.from({ length: 16 }, (_, i) => `203.0.${100 + i}.200`);
const settingsOf = (options: ActivationScriptOptions) => decodeSettings(renderActivationScript(options).parameters.find((p) => p.name === "Settings")!.value);

/** The bootstrap PowerShell on the command line, the invocation it inflates, and the arguments and script in it. */
function unpack(commandLine: string): { bootstrap: string; invocation: string; script: string; args: string } {
    const match = /^powershell\.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command "([^"]+)"$/.exec(commandLine);
    if (!match) {
        throw new Error(`unexpected command line: ${commandLine.slice(0, 120)}`);
    }
    const invocation = inflateCommand(commandLine);
    const parts = /^\$a=@\{(.*)\}\n& \{\n([\s\S]*)\n\} @a\n$/.exec(invocation);
    if (!parts) {
        throw new Error(`unexpected invocation: ${invocation.slice(0, 120)}`);
    }
    return { bootstrap: match[1], invocation, script: parts[2], args: parts[1] };
}

const variants: [string, ActivationScriptOptions][] = [
    ...Object.values(AzureCloud).flatMap((cloud) =>
        Object.values(KmsHostForm).map((form): [string, ActivationScriptOptions] => [`${cloud} ${form} detected key`, { cloud, kmsHostForm: form }]),
    ),
    ["explicit key", { productKey: "VDYBN-27WPP-V4HQT-9VMD4-VMK7H" }],
    ["image SKU key", { imageSku: "2022-datacenter-azure-edition" }],
    ["custom KMS server", { customKmsServer: { host: "kms01.corp.contoso.com", port: 1700, addressPrefixes: ["10.50.0.10/32"] } }],
    ["firewall off, fail on error, rerun token", { configureGuestFirewall: false, failOnActivationError: true, rerunToken: "2026-11-30.1" }],
    ["worst case", { customKmsServer: { host: LONGEST_HOST, port: 65535, addressPrefixes: MOST_PREFIXES }, rerunToken: "x".repeat(64), failOnActivationError: true }],
    ["worst case, IpAddress form", { kmsHostForm: KmsHostForm.IpAddress, kmsIpAddresses: MOST_IPS, rerunToken: "y".repeat(64), failOnActivationError: true }],
];

describe("activate.ps1", () => {
    test("parses as PowerShell with no ERROR or MISSING node", async () => {
        expect(await syntaxProblems(SCRIPT)).toEqual([]);
    });

    test("the parser does find errors (so an empty list means something)", async () => {
        expect(await syntaxProblems("param([string]$A\nif ($A { 'x' }")).not.toEqual([]);
    });

    test("has a parameter block with the parameters the renderer passes", () => {
        const rendered = renderActivationScript({ productKey: "VDYBN-27WPP-V4HQT-9VMD4-VMK7H" });
        const paramBlock = SCRIPT.slice(SCRIPT.indexOf("param("), SCRIPT.indexOf("\n)\n"));
        for (const p of [...rendered.parameters, ...rendered.protectedParameters]) {
            expect(paramBlock).toMatch(new RegExp(`\\]\\$${p.name}\\b`));
        }
    });

    test("waits and timeouts are script constants that TimeScalePercent shrinks, shipped at 100", () => {
        expect(SCRIPT).toContain("[ValidateRange(1, 100)][int]$TimeScalePercent = 100");
        for (const name of ["IpkTimeoutSeconds", "IpkSettleSeconds", "SlmgrTimeoutSeconds", "NetshTimeoutSeconds", "KillGraceSeconds", "DnsTimeoutSeconds", "ProbeTimeoutSeconds", "ImdsTimeoutSeconds", "WmiTimeoutSeconds", "EventTimeoutSeconds"]) {
            expect(SCRIPT).toMatch(new RegExp(`^\\$${name} = \\d+$`, "m"));
        }
        // slmgr's timeouts leave room for a first boot (60-120 s).
        expect(Number(/^\$IpkTimeoutSeconds = (\d+)$/m.exec(SCRIPT)![1])).toBeGreaterThanOrEqual(60);
        expect(Number(/^\$SlmgrTimeoutSeconds = (\d+)$/m.exec(SCRIPT)![1])).toBeGreaterThanOrEqual(60);
        // Every wait goes through Get-Milliseconds (the scale); no bare sleep or timeout.
        expect(SCRIPT.match(/Start-Sleep -Milliseconds \(Get-Milliseconds /g)).toHaveLength(2);
        expect(SCRIPT).not.toMatch(/Start-Sleep -Seconds|WaitOne\(\d|WaitForExit\(\d/);
    });
});

describe("renderActivationScript", () => {
    test.each(variants)("%s: script, bootstrap and inflated script all parse", async (_label, options) => {
        const rendered = renderActivationScript(options);
        const { bootstrap, invocation, script } = unpack(rendered.commandToExecute);
        expect(rendered.script).toBe(guestScript(SCRIPT));
        expect(script).toBe(compactScript(guestScript(SCRIPT)));
        expect(await syntaxProblems(bootstrap)).toEqual([]);
        expect(await syntaxProblems(invocation)).toEqual([]);
        expect(rendered.commandToExecute.length).toBeLessThanOrEqual(MAX_COMMAND_LENGTH);
    });

    test("the worst case command line stays within cmd.exe's 8,191 characters", () => {
        const lengths = variants.filter(([label]) => label.startsWith("worst case")).map(([, options]) => renderActivationScript(options));
        for (const worst of lengths) {
            expect(worst.keySource).toBe("detected");
            expect(worst.commandToExecute.length).toBeLessThanOrEqual(MAX_COMMAND_LENGTH);
        }
        const longest = Math.max(...lengths.map((w) => w.commandToExecute.length));
        expect(longest).toBe(Math.max(...variants.map(([, options]) => renderActivationScript(options).commandToExecute.length)));
        // Printed so the closing note and reviewers see the margin.
        process.stdout.write(`worst-case command length: ${longest}\n`);
    });

    test("Run Command values need no quoting anywhere: Settings is hex, the key letters, digits and dashes", () => {
        for (const [, options] of [...variants, ["explicit key", { productKey: "VDYBN-27WPP-V4HQT-9VMD4-VMK7H" }] as const]) {
            const rendered = renderActivationScript(options);
            expect(rendered.parameters.map((p) => p.name)).toEqual(["Settings"]);
            for (const p of rendered.parameters) expect(p.value).toMatch(/^[0-9a-f]+$/);
            for (const p of rendered.protectedParameters) expect(p.value).toMatch(/^[A-Z0-9-]+$/);
        }
        // What used to travel as a comma list and a semicolon list now sits inside the hex.
        const settings = settingsOf({ customKmsServer: { host: "kms.contoso.com", port: 1700, addressPrefixes: ["10.0.0.0/8", "10.1.0.5/32"] }, rerunToken: "r1" });
        expect(settings).toEqual({
            kmsHosts: ["kms.contoso.com"],
            kmsPort: 1700,
            kmsAddresses: ["10.0.0.0/8", "10.1.0.5/32"],
            keySource: "",
            detectionTable: renderDetectionTable().split(";"),
            configureFirewall: true,
            failOnActivationError: false,
            runTag: "r1",
        });
    });

    test("cmd.exe sees nothing to expand or split: no %, no double quote inside, no line break", () => {
        for (const [, options] of variants) {
            const { bootstrap } = unpack(renderActivationScript(options).commandToExecute);
            expect(bootstrap).not.toMatch(/[%"\r\n]/);
        }
    });

    test("the bootstrap, which script block logging records, holds no argument and no key: only the payload", () => {
        const key = "ABCDE-FGHJK-MNPQR-STVWX-YZ234";
        const { bootstrap, args } = unpack(renderActivationScript({ productKey: key }).commandToExecute);
        expect(bootstrap).not.toContain(key);
        expect(bootstrap).not.toContain("ProductKey");
        const m = /^\$ErrorActionPreference='Stop';\$s='([\u4e00-\ucdff]+)';try\{\$b=New-Object byte\[\] (\d+);(.*)IO\.MemoryStream\(\$b,0,(\d+)\)(.*)$/.exec(bootstrap)!;
        expect(m).not.toBeNull();
        // Only the decoder's fixed text around the payload's characters, every character of which is in U+4E00-U+CDFF.
        expect(Number(m[2])).toBe(Number(m[4]) + 2);
        expect(m[3] + m[5]).toBe(
            "$n=0;$v=0;$k=0;foreach($c in $s.ToCharArray()){$v=$v*32768+[int]$c-19968;$k+=15;while($k -ge 8){$k-=8;$p=[Math]::Pow(2,$k);$x=[Math]::Floor($v/$p);$b[$n]=$x;$n++;$v-=$x*$p}};" +
                "$z=New-Object IO.Compression.GZipStream((New-Object " +
                "),[IO.Compression.CompressionMode]::Decompress);$t=(New-Object IO.StreamReader($z)).ReadToEnd()}" +
                "catch{Write-Output ('KMS_ACTIVATION_RESULT {~v~:2,~status~:~error~,~key~:~none~,~codes~:[],~events~:[],~diagnosis~:[~the command line did not arrive intact " +
                "(its payload could not be inflated): use mechanism RunCommand~]}'.Replace('~',[string][char]34));exit 1};& ([ScriptBlock]::Create($t))",
        );
        expect(args).toContain(`ProductKey='${key}'`);
    });

    test("the payload's encoding: 15 bits a character, U+4E00 to U+CDFF, and back, for every length", () => {
        for (let length = 0; length < 40; length++) {
            const bytes = Buffer.from(Array.from({ length }, (_, i) => (i * 97 + length * 31) & 0xff));
            const text = encodePayload(bytes);
            expect(text.length).toBe(Math.ceil((length * 8) / 15));
            expect([...text].every((c) => c.charCodeAt(0) >= 0x4e00 && c.charCodeAt(0) <= 0xcdff)).toBe(true);
            expect(decodePayload(text, length)).toEqual(bytes);
        }
        // No code point PowerShell or cmd.exe reads specially: its typographic quotes and dashes are below U+4E00.
        expect(encodePayload(Buffer.from([0xff, 0xff, 0xff, 0xff]))).not.toMatch(/[\u2013-\u201e\ud800-\udfff]/);
    });

    test("the script itself uses none of the words that make PowerShell log a script block as suspicious", () => {
        const suspicious = ["Add-Type", "DllImport", "GetMethod", "GetProperty", "InvokeMember", "Marshal", "IntPtr", "MemoryStream", "DeflateStream", "FromBase64String", "EncodedCommand", "Bypass", "NonPublic", "BindingFlags", "Cryptography", "kernel32"];
        expect(suspicious.filter((word) => SCRIPT.toLowerCase().includes(word.toLowerCase()))).toEqual([]);
    });

    test("IpAddress hands the guest every KMS address of the cloud, azkms first", () => {
        expect(settingsOf({ kmsHostForm: KmsHostForm.IpAddress }).kmsHosts).toEqual(["20.118.99.224", "40.83.235.53", "23.102.135.246"]);
        expect(settingsOf({ cloud: AzureCloud.AzureUSGovernment, kmsHostForm: KmsHostForm.IpAddress }).kmsHosts).toEqual(["52.126.105.2", "23.97.0.13"]);
        expect(settingsOf({ cloud: AzureCloud.AzureChina, kmsHostForm: KmsHostForm.IpAddress }).kmsHosts).toEqual(["159.27.28.100", "163.228.64.161", "42.159.7.249"]);
        expect(settingsOf({}).kmsHosts).toEqual(["azkms.core.windows.net"]);
    });

    test("points the guest at the cloud's DNS name by default and at the first IP with IpAddress", () => {
        expect(renderActivationScript({}).kmsEndpoint).toBe("azkms.core.windows.net:1688");
        expect(renderActivationScript({ cloud: AzureCloud.AzureChina, kmsHostForm: KmsHostForm.IpAddress }).kmsEndpoint).toBe("159.27.28.100:1688");
        expect(renderActivationScript({ cloud: AzureCloud.AzureUSGovernment }).kmsEndpoint).toBe("azkms.core.usgovcloudapi.net:1688");
        expect(renderActivationScript({ kmsIpAddresses: ["20.118.99.224"], kmsHostForm: KmsHostForm.IpAddress }).kmsEndpoint).toBe("20.118.99.224:1688");
        expect(renderActivationScript({ customKmsServer: { host: "10.50.0.10", addressPrefixes: ["10.50.0.10/32"] } }).kmsEndpoint).toBe("10.50.0.10:1688");
    });

    test("key precedence: explicit > image SKU > detected in the guest", () => {
        const explicit = renderActivationScript({ productKey: "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE", imageSku: "2022-datacenter" });
        expect(explicit.keySource).toBe("explicit");
        expect(explicit.protectedParameters).toEqual([{ name: "ProductKey", value: "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE" }]);
        const sku = renderActivationScript({ imageSku: "2022-datacenter" });
        expect(sku.keySource).toBe("imageSku");
        expect(sku.protectedParameters).toEqual([{ name: "ProductKey", value: "WX4NM-KYWYW-QJJR4-XV3QB-6VM33" }]);
        const detected = renderActivationScript({ imageSku: "win11-23h2-avd" });
        expect(detected.keySource).toBe("detected");
        expect(detected.protectedParameters).toEqual([]);
        expect(settingsOf({ imageSku: "win11-23h2-avd" }).detectionTable).toEqual(renderDetectionTable().split(";"));
        expect(settingsOf({ imageSku: "2022-datacenter" }).detectionTable).toEqual([]);
        expect(settingsOf({ imageSku: "2022-datacenter" }).keySource).toBe("imageSku");
    });

    test("the detection table is rendered from the one key table", () => {
        const entries = renderDetectionTable().split(";");
        const expected = windowsServerReleases.flatMap((r) => Object.entries(r.keys).map(([edition, key]) => `${r.build}:${edition}:${key}`));
        expect(entries).toEqual(expected);
        expect(entries).toContain("20348:DatacenterAzureEdition:NTBV8-9K7Q8-V27C6-M2BTV-KHMXV");
        expect(entries).toContain("7601:Enterprise:489J6-VHDMP-X63PK-3K798-CPX3Y");
        expect(entries).toHaveLength(21);
    });

    test("the guest's edition names are the table's edition names", () => {
        for (const edition of new Set(windowsServerReleases.flatMap((r) => Object.keys(r.keys)))) {
            expect(SCRIPT).toContain(`'${edition}'`);
        }
    });

    test("the key never appears in the non-secret parts", () => {
        const key = "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE";
        const rendered = renderActivationScript({ productKey: key });
        expect(JSON.stringify(rendered.parameters)).not.toContain(key);
        expect(rendered.fingerprint).toBe(renderActivationScript({ productKey: "ZZZZZ-BBBBB-CCCCC-DDDDD-EEEEE" }).fingerprint);
        expect(unpack(rendered.commandToExecute).args).toContain(`ProductKey='${key}'`);
    });

    test("the fingerprint is stable and changes exactly with the guest's behaviour", () => {
        const base = renderActivationScript({});
        expect(renderActivationScript({}).fingerprint).toBe(base.fingerprint);
        expect(renderActivationScript({}).commandToExecute).toBe(base.commandToExecute);
        expect(renderActivationScript({ rerunToken: "1" }).fingerprint).not.toBe(base.fingerprint);
        expect(renderActivationScript({ kmsHostForm: KmsHostForm.IpAddress }).fingerprint).not.toBe(base.fingerprint);
        expect(renderActivationScript({ configureGuestFirewall: false }).fingerprint).not.toBe(base.fingerprint);
        expect(base.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    });

    test("arguments reach the payload only as single-quoted literals: the settings JSON and the key", () => {
        const { args } = unpack(renderActivationScript({ customKmsServer: { host: "kms.contoso.com", port: 1688, addressPrefixes: ["10.0.0.0/8"] }, rerunToken: "r1", productKey: "ABCDE-FGHJK-MNPQR-STVWX-YZ234" }).commandToExecute);
        const m = /^Settings=-join\(\[Text\.Encoding\]::UTF8\.GetBytes\('([^']*)'\)\|%\{\$_\.ToString\('x2'\)\}\);ProductKey='([A-Z0-9-]+)'$/.exec(args);
        expect(m).not.toBeNull();
        expect(JSON.parse(m![1]).kmsHosts).toEqual(["kms.contoso.com"]);
        expect(m![2]).toBe("ABCDE-FGHJK-MNPQR-STVWX-YZ234");
    });
});

describe("activate.ps1 behaviour that must not drift (the scenarios in test/guest prove the rest)", () => {
    const body = (from: string, to: string) => SCRIPT.slice(SCRIPT.indexOf(from), SCRIPT.indexOf(to, SCRIPT.indexOf(from)));

    test("exit codes: 1 for errors, 2 only for pending with FailOnActivationError, else 0", () => {
        const exits = [...SCRIPT.matchAll(/Write-Result (\d)/g)].map((m) => m[1]);
        expect([...new Set(exits)].sort()).toEqual(["0", "1", "2"]);
        expect(SCRIPT).toContain("if ($Result.status -eq 'pending' -and [string]$Config.failOnActivationError -eq 'True') { Write-Result 2 }");
        expect(SCRIPT).toContain("if ($Result.status -eq 'error') { Write-Result 1 }");
    });

    test("the guest firewall rule allows the remote port, by a fixed rule name, and a failure does not stop the run", () => {
        const rule = body("'firewall', 'add'", "$NetshTimeoutSeconds");
        expect(rule).toContain('"remoteport=$($Config.kmsPort)"');
        expect(rule).toContain('"remoteip=$addresses"');
        expect(rule).toContain("'dir=out'");
        expect(rule).not.toContain("localport");
        expect(body("if ([string]$Config.configureFirewall", "'firewall', 'add'")).toContain("'delete', 'rule', \"name=$FirewallRuleName\"");
        expect(body("if ($add.exit -ne 0)", "$Result.imds")).not.toContain("Write-Result");
    });

    test("the base OS licence only: LicenseIsAddon = FALSE, as slmgr.vbs reads it", () => {
        expect(body("function Get-LicenseState", "Get-Wmi $query")).toContain("AND LicenseIsAddon = FALSE AND PartialProductKey IS NOT NULL");
    });

    test("every WMI read is bounded (Get-CimInstance -OperationTimeoutSec), and events are read in a runspace waited for", () => {
        expect(SCRIPT).not.toMatch(/Get-WmiObject/);
        expect(SCRIPT.match(/Get-CimInstance/g)).toHaveLength(1);
        expect(SCRIPT).toContain("Get-CimInstance -Query $Query -OperationTimeoutSec (Get-Seconds $WmiTimeoutSeconds)");
        expect(SCRIPT.match(/Invoke-CimMethod /g)!.length).toBe((SCRIPT.match(/-OperationTimeoutSec \(Get-Seconds \$SlmgrTimeoutSeconds\)/g) ?? []).length);
        expect(SCRIPT.match(/Get-WinEvent/g)).toHaveLength(1);
        expect(body("function Get-SppEventCodes", "function Get-IpNumber")).toContain("$pending.AsyncWaitHandle.WaitOne((Get-Milliseconds $EventTimeoutSeconds))");
    });

    test("a user key never reaches the output: Hide-Key on every slmgr line", () => {
        expect(SCRIPT).toContain("Write-Host (Hide-Key (");
        expect(SCRIPT.match(/Write-Host/g)).toHaveLength(1);
    });
});
