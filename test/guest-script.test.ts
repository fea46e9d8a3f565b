import { readFileSync } from "fs";
import * as path from "path";
import { compactScript, MAX_COMMAND_LENGTH, renderActivationScript, renderDetectionTable, ActivationScriptOptions } from "../src/guest/render";
import { windowsServerReleases } from "../src/kms";
import { AzureCloud, KmsHostForm } from "../src/types";
import { inflateCommand } from "./harness";
import { syntaxProblems } from "./powershell";

const SCRIPT = readFileSync(path.join(__dirname, "..", "src", "guest", "activate.ps1"), "utf8");
const LONGEST_HOST = ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(61)].join(".");
const MOST_PREFIXES = Array.from({ length: 16 }, (_, i) => `192.168.${100 + i}.100/32`);

/** The bootstrap PowerShell on the command line, the invocation it inflates, and the arguments and script in it. */
function unpack(commandLine: string): { bootstrap: string; invocation: string; script: string; args: string } {
    const match = /^powershell\.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command "([^"]+)"$/.exec(commandLine);
    if (!match) {
        throw new Error(`unexpected command line: ${commandLine.slice(0, 120)}`);
    }
    const invocation = inflateCommand(commandLine);
    const parts = /^\$a=@\{([^}\n]*)\}\n& \{\n([\s\S]*)\n\} @a\n$/.exec(invocation);
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

    test("finishes within 180 s even when KMS is unreachable, by its own constants", () => {
        const constant = (name: string) => Number(new RegExp(`^\\$${name} = (\\d+)$`, "m").exec(SCRIPT)![1]);
        const backoff = /^\$AtoBackoffSeconds = @\(([\d, ]+)\)$/m.exec(SCRIPT)![1].split(",").map(Number);
        const attempts = constant("AtoAttempts");
        // One slmgr call each for /ipk and /skms, and /ato once per attempt (the loop holds the third call).
        const slmgrCallSites = SCRIPT.match(/Invoke-Slmgr @\(/g)!.length;
        expect(slmgrCallSites).toBe(3);
        const slmgrCalls = slmgrCallSites - 1 + attempts;
        const netshCalls = SCRIPT.match(/Invoke-Bounded 'netsh\.exe'/g)!.length;
        expect(backoff.length).toBe(attempts - 1);
        // A timed-out process gets KillGraceSeconds more to die.
        const grace = constant("KillGraceSeconds");
        const worstSeconds =
            slmgrCalls * (constant("SlmgrTimeoutSeconds") + grace) +
            netshCalls * (constant("NetshTimeoutSeconds") + grace) +
            (constant("DnsTimeoutMilliseconds") + constant("ProbeTimeoutMilliseconds")) / 1000 +
            backoff.reduce((a, b) => a + b, 0);
        expect(worstSeconds).toBe(176);
        expect(worstSeconds).toBeLessThanOrEqual(180);
    });
});

describe("renderActivationScript", () => {
    test.each(variants)("%s: script, bootstrap and inflated script all parse", async (_label, options) => {
        const rendered = renderActivationScript(options);
        const { bootstrap, invocation, script } = unpack(rendered.commandToExecute);
        expect(rendered.script).toBe(SCRIPT);
        expect(script).toBe(compactScript(SCRIPT));
        expect(await syntaxProblems(bootstrap)).toEqual([]);
        expect(await syntaxProblems(invocation)).toEqual([]);
        expect(rendered.commandToExecute.length).toBeLessThanOrEqual(MAX_COMMAND_LENGTH);
    });

    test("the worst case command line stays within cmd.exe's 8,191 characters", () => {
        const worst = renderActivationScript(variants.find(([label]) => label === "worst case")![1]);
        expect(worst.keySource).toBe("detected");
        expect(worst.commandToExecute.length).toBeLessThanOrEqual(MAX_COMMAND_LENGTH);
        // Printed so the closing note and reviewers see the margin.
        process.stdout.write(`worst-case command length: ${worst.commandToExecute.length}\n`);
    });

    test("cmd.exe sees nothing to expand or split: no %, no double quote inside, no line break", () => {
        for (const [, options] of variants) {
            const { bootstrap } = unpack(renderActivationScript(options).commandToExecute);
            expect(bootstrap).not.toMatch(/[%"\r\n]/);
        }
    });

    test("the bootstrap, which script block logging records, holds no argument and no key: only base64", () => {
        const key = "ABCDE-FGHJK-MNPQR-STVWX-YZ234";
        const { bootstrap, args } = unpack(renderActivationScript({ productKey: key }).commandToExecute);
        expect(bootstrap).not.toContain(key);
        expect(bootstrap).not.toContain("ProductKey");
        expect(bootstrap.replace(/FromBase64String\('[A-Za-z0-9+/=]+'\)/, "FromBase64String('')")).toBe(
            "$ErrorActionPreference='Stop';$b=[Convert]::FromBase64String('');" +
                "$z=New-Object IO.Compression.GZipStream((New-Object IO.MemoryStream(,$b)),[IO.Compression.CompressionMode]::Decompress);" +
                "& ([ScriptBlock]::Create((New-Object IO.StreamReader($z)).ReadToEnd()))",
        );
        expect(args).toContain(`ProductKey='${key}'`);
    });

    test("the script itself uses none of the words that make PowerShell log a script block as suspicious", () => {
        const suspicious = ["Add-Type", "DllImport", "GetMethod", "GetProperty", "InvokeMember", "Marshal", "IntPtr", "MemoryStream", "DeflateStream", "FromBase64String", "EncodedCommand", "Bypass", "NonPublic", "BindingFlags", "Cryptography", "kernel32"];
        expect(suspicious.filter((word) => SCRIPT.toLowerCase().includes(word.toLowerCase()))).toEqual([]);
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
        expect(detected.parameters.find((p) => p.name === "DetectionTable")?.value).toBe(renderDetectionTable());
        expect(sku.parameters.find((p) => p.name === "DetectionTable")?.value).toBe("");
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

    test("arguments reach the bootstrap only as single-quoted literals", () => {
        const { args } = unpack(renderActivationScript({ customKmsServer: { host: "kms.contoso.com", port: 1688, addressPrefixes: ["10.0.0.0/8"] }, rerunToken: "r1" }).commandToExecute);
        const assignments = [...args.matchAll(/([A-Za-z]+)='([A-Za-z0-9.:;,/_-]*)'/g)];
        expect(assignments.map((m) => m[0]).join(";")).toBe(args);
        expect(assignments.map((m) => m[1])).toEqual(["KmsHost", "KmsPort", "KmsAddresses", "DetectionTable", "ConfigureFirewall", "FailOnActivationError", "RunTag"]);
        expect(assignments[0][2]).toBe("kms.contoso.com");
    });
});

describe("activate.ps1 behaviour that must not drift", () => {
    const body = (from: string, to: string) => SCRIPT.slice(SCRIPT.indexOf(from), SCRIPT.indexOf(to, SCRIPT.indexOf(from)));

    test("exit codes: 1 for configuration failures, 2 only with FailOnActivationError, else 0", () => {
        const exits = [...SCRIPT.matchAll(/Write-Result (\d)/g)].map((m) => m[1]);
        expect(exits.sort()).toEqual(["0", "1", "1", "1", "1", "2"]);
        expect(SCRIPT).toContain("if ($FailOnActivationError -eq 'true') { Write-Result 2 }");
        // /ipk, the firewall rule and /skms each fail the run when they fail; so does anything unforeseen.
        expect(body("Invoke-Slmgr @('/ipk'", "Write-Result 1")).toContain("$Result.status = 'error'");
        expect(body("'firewall', 'add'", "Write-Result 1")).toContain("$Result.status = 'error'");
        expect(body("Invoke-Slmgr @('/skms'", "Write-Result 1")).toContain("$Result.status = 'error'");
        expect(body("} catch {\n    # Anything unforeseen", "Write-Result 1")).toContain("$Result.status = 'error'");
    });

    test("an activation that is only pending succeeds with a warning", () => {
        expect(SCRIPT).toContain("$Result.status = if ($state.status -eq 1) { 'activated' } else { 'pending' }");
        expect(body("if ($Result.status -eq 'pending')", "Write-Result 0")).toContain("WARNING: not activated yet");
    });

    test("the guest firewall rule allows the remote port, by a fixed rule name", () => {
        const rule = body("'firewall', 'add'", "$NetshTimeoutSeconds");
        expect(rule).toContain('"remoteport=$KmsPort"');
        expect(rule).toContain('"remoteip=$KmsAddresses"');
        expect(rule).toContain("'dir=out'");
        expect(rule).not.toContain("localport");
        expect(body("if ($ConfigureFirewall -eq 'true'", "'firewall', 'add'")).toContain("'delete', 'rule', \"name=$FirewallRuleName\"");
    });

    test("the probe diagnosis names every cause the product knows, and the fix, within the diagnosis cap", () => {
        const diagnosis = body("$Result.probe = Test-KmsPort", "$state = Get-LicenseState");
        const cap = Number(/^\$MaxDiagnosisLength = (\d+)$/m.exec(SCRIPT)![1]);
        // Every Add-Diagnosis text here, with the longest values its variables can take (port 65535, "untested").
        const texts = [...diagnosis.matchAll(/Add-Diagnosis \(([\s\S]*?)\)\n/g)].map((m) =>
            m[1]
                .split(/\s*\+\s*\n\s*/)
                .map((part) => part.trim().replace(/^["']|["']$/g, ""))
                .join("")
                .replace("$KmsPort", "65535")
                .replace("$($Result.probe.tcp)", "untested"),
        );
        expect(texts).toHaveLength(2);
        for (const text of texts) {
            expect(text).not.toMatch(/\$/);
            expect(text.length).toBeLessThanOrEqual(cap);
        }
        for (const cause of ["kmsHostForm IpAddress", "forced tunnel", "/32 Internet routes", "NSG", "guest firewall", "Azure Firewall without a network rule", "private subnet without explicit outbound (NAT gateway)"]) {
            expect(diagnosis).toContain(cause);
        }
    });

    test("every code the issue names has a plain cause and fix", () => {
        const codes = body("function Get-CodeDiagnosis", "\n}\n");
        for (const code of ["0xC004F074", "0x8007232B", "0xC004F06C", "0xC004F050", "0xC004F039", "0x800705B4", "0xC004FD01"]) {
            expect(codes).toMatch(new RegExp(`'${code}' \\{ '[^']{20,}' \\}`));
        }
    });

    test("a user key never reaches the output: Hide-Key on every slmgr line", () => {
        expect(SCRIPT).toContain("Write-Host (Hide-Key (");
        expect(SCRIPT.match(/Write-Host/g)).toHaveLength(1);
    });
});
