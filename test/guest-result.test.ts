import { readFileSync } from "fs";
import * as path from "path";
import { CODE_DIAGNOSES, parseActivationResult, PERMANENT_CODES, RESULT_MARKER } from "../src/guest/result";

const SCRIPT = readFileSync(path.join(__dirname, "..", "src", "guest", "activate.ps1"), "utf8");
const constant = (name: string) => Number(new RegExp(`^\\$${name} = (\\d+)$`, "m").exec(SCRIPT)![1]);

// What Windows PowerShell 5.1's ConvertTo-Json -Compress writes for a run that activated.
const ACTIVATED =
    '{"v":1,"tag":"","os":{"build":20348,"sku":8,"editionId":"ServerDatacenter","edition":"Datacenter"},' +
    '"before":{"status":0,"channel":"Retail","partialKey":"ABCDE","kms":""},"key":"installed-detected",' +
    '"endpoint":"azkms.core.windows.net:1688","firewall":"allowed","probe":{"dns":"ok","tcp":"open","address":"20.118.99.224"},' +
    '"attempts":1,"after":{"status":1,"channel":"Volume:GVLK","partialKey":"6VM33","kms":"azkms.core.windows.net:1688"},' +
    '"codes":[],"events":["12289:0x00000000","12288:0x00000000"],"diagnosis":[],"status":"activated","seconds":14}';

describe("parseActivationResult", () => {
    test("reads the last result line of the extension output", () => {
        const output = ["OS build 20348, edition Datacenter", "slmgr /ato: Product activated successfully.", `${RESULT_MARKER} ${ACTIVATED}`, ""].join("\r\n");
        const result = parseActivationResult(output)!;
        expect(result.status).toBe("activated");
        expect(result.key).toBe("installed-detected");
        expect(result.after?.status).toBe(1);
        expect(result.probe).toEqual({ dns: "ok", tcp: "open", address: "20.118.99.224", tried: [] });
        expect(result.events).toEqual(["12289:0x00000000", "12288:0x00000000"]);
    });

    test("PowerShell 5.1 quirks: a one-element array written bare, \\u0027 escapes", () => {
        const line = `${RESULT_MARKER} {"v":1,"status":"pending","codes":"0xC004F074","diagnosis":"it\\u0027s blocked","events":null}`;
        const result = parseActivationResult(`noise\n${line}`)!;
        expect(result.codes).toEqual(["0xC004F074"]);
        expect(result.diagnosis).toEqual(["it's blocked", `0xC004F074: ${CODE_DIAGNOSES["0xC004F074"]}`]);
        expect(result.events).toEqual([]);
    });

    test("the last line wins when a run printed two", () => {
        const first = `${RESULT_MARKER} {"v":1,"status":"error"}`;
        const second = `${RESULT_MARKER} {"v":1,"status":"licensed"}`;
        expect(parseActivationResult(`${first}\n${second}`)?.status).toBe("licensed");
    });

    test("no result line: undefined; a broken one: an error that says so", () => {
        expect(parseActivationResult("The script was stopped.\n")).toBeUndefined();
        expect(() => parseActivationResult(`${RESULT_MARKER} {"v":1,`)).toThrow("KMS_ACTIVATION_RESULT: the line is not valid JSON");
        expect(() => parseActivationResult(`${RESULT_MARKER} {"hello":1}`)).toThrow('KMS_ACTIVATION_RESULT: the JSON has no "v" and "status"');
    });
});

describe("explanations added by the parser", () => {
    test("every code the issues name has a plain cause and fix; permanent codes are only facts section 7's list", () => {
        for (const code of ["0xC004F074", "0x8007232B", "0xC004F06C", "0xC004F050", "0xC004F069", "0xC004F035", "0xC004F039", "0x800705B4", "0xC004FD01", "0xC004FD02", "0x8007139F", "0xC0020017", "0x80072EE7"]) {
            expect(CODE_DIAGNOSES[code]?.length).toBeGreaterThan(20);
        }
        expect(PERMANENT_CODES).toEqual(["0xC004F050", "0xC004F06C", "0xC004FD01", "0xC004FD02", "0xC004F035", "0xC004F069"]);
        expect(SCRIPT).toContain(`$PermanentCodes = @(${PERMANENT_CODES.map((c) => `'${c}'`).join(", ")})`);
        expect(CODE_DIAGNOSES["0xC004F069"]).toContain("DISM /Set-Edition");
    });

    test("slui's 8198 codes are explained as what they are: no KMS problem", () => {
        const result = parseActivationResult(`${RESULT_MARKER} {"v":2,"status":"pending","codes":["0xC004F074","0x8007139F","0xC0020017","0x80072EE7"],"events":["8198:0x8007139F"],"diagnosis":[]}`)!;
        expect(result.diagnosis.filter((d) => /slui\.exe/.test(d))).toHaveLength(3);
        expect(result.diagnosis.find((d) => d.startsWith("0x8007139F"))).toMatch(/says nothing about KMS/);
    });

    test("drift: each address outside the package's is explained, with the fix", () => {
        const result = parseActivationResult(`${RESULT_MARKER} {"v":2,"status":"activated","drift":"20.118.99.250","codes":[],"events":[],"diagnosis":[]}`)!;
        expect(result.drift).toEqual(["20.118.99.250"]);
        expect(result.diagnosis).toEqual([
            "KMS address drift: the KMS name resolved to 20.118.99.250, which the package does not route or allow: Microsoft changed the KMS addresses; " +
                "update azure-kms-activation, or add the address to kmsIpAddresses (routes, NSG and guest firewall)",
        ]);
        expect(parseActivationResult(`${RESULT_MARKER} {"v":2,"status":"activated"}`)!.drift).toEqual([]);
    });

    test("the probe: no network is never blamed on DNS; refused, timeout and unreachable are told apart", () => {
        const base = { v: 2, status: "pending", endpoint: "azkms.core.windows.net:1688", firewall: "allowed", imds: "skipped", codes: [], events: [], diagnosis: [] };
        const probe = (p: object) => parseActivationResult(`${RESULT_MARKER} ${JSON.stringify({ ...base, probe: { network: "up", dns: "ok", tcp: "open", address: "20.118.99.224", host: "x", tried: [], ...p } })}`)!.diagnosis;
        expect(probe({ network: "none", dns: "skipped", tcp: "untested" })).toEqual([expect.stringContaining("no network connection at all")]);
        expect(probe({ network: "none" }).join()).not.toMatch(/DNS servers|kmsHostForm/);
        expect(probe({ dns: "nxdomain", tcp: "untested" })).toEqual([expect.stringContaining("kmsHostForm IpAddress")]);
        expect(probe({ tcp: "refused" })[0]).toContain("refused (a reset");
        expect(probe({ tcp: "timeout" })[0]).toContain("timed out (silently dropped)");
        expect(probe({ tcp: "unreachable" })[0]).toContain("unreachable (no route)");
        expect(probe({ tcp: "blocked" })[0]).toContain("blocked by the guest firewall");
        // Open but no activation: an open port is not a KMS. Open and activated: nothing to say.
        expect(parseActivationResult(`${RESULT_MARKER} ${JSON.stringify({ ...base, probe: { network: "up", dns: "ok", tcp: "open", address: "20.118.99.224", host: "x", tried: [] } })}`)!.diagnosis[0]).toMatch(
            /accepted the connection but no KMS answered/,
        );
        expect(parseActivationResult(`${RESULT_MARKER} ${JSON.stringify({ ...base, status: "activated", probe: { network: "up", dns: "ok", tcp: "open", address: "20.118.99.224", host: "x", tried: [] } })}`)!.diagnosis).toEqual([]);
        for (const cause of ["forced tunnel", "/32 Internet routes", "NSG", "guest firewall", "Azure Firewall without a network rule", "private subnet without explicit outbound (NAT gateway)"]) {
            expect(probe({ tcp: "timeout" })[0]).toContain(cause);
        }
    });
});

describe("the result line's size", () => {
    test("its fields are the script's $Result fields", () => {
        const start = SCRIPT.indexOf("$Result = [ordered]@{") + "$Result = [ordered]@{".length;
        const block = SCRIPT.slice(start, SCRIPT.indexOf(" }\n", start));
        const fields = [...block.matchAll(/(\w+) = /g)].map((m) => m[1]);
        expect(fields).toEqual(["v", "tag", "os", "before", "key", "via", "endpoint", "firewall", "firewallRule", "imds", "probe", "drift", "attempts", "after", "codes", "events", "diagnosis", "status"]);
    });

    test("stays well inside the 4,096 bytes Azure keeps, at every cap of the script", () => {
        // Every free text goes through Get-SafeText: plain ASCII that JSON does not escape, cut to a length.
        expect(SCRIPT).toContain("$Text = $Text -replace '[^A-Za-z0-9 .,:;/()=+_-]', ' '");
        const text = (n: number) => "x".repeat(n);
        const licence = { status: -1, channel: text(40), partialKey: text(5), grace: 259200, kms: text(260), productKms: text(260) };
        const worst = {
            v: 1,
            tag: text(64),
            os: { build: 99999, sku: 999, editionId: text(40), edition: "DatacenterAzureEdition" },
            before: licence,
            key: "skipped-multisession",
            via: "slmgr",
            endpoint: `${text(253)}:65535`,
            firewall: "blocked",
            firewallRule: text(60),
            imds: "skipped",
            probe: {
                network: "none",
                dns: "nxdomain",
                tcp: "unreachable",
                address: "255.255.255.255",
                host: text(253),
                tried: Array(constant("MaxTried")).fill("255.255.255.255=unreachable"),
            },
            drift: Array(constant("MaxDrift")).fill("255.255.255.255"),
            attempts: constant("AtoAttempts"),
            after: licence,
            codes: Array(constant("MaxCodes")).fill("0xC004F074"),
            events: Array(constant("MaxEvents")).fill("12289:0xC004F074"),
            diagnosis: Array(constant("MaxDiagnoses")).fill(text(constant("MaxDiagnosisLength"))),
            status: "activated",
            seconds: 99999,
        };
        const line = `${RESULT_MARKER} ${JSON.stringify(worst)}`;
        expect(Buffer.byteLength(line)).toBeLessThanOrEqual(4096);
        process.stdout.write(`worst-case result line: ${Buffer.byteLength(line)} bytes\n`);
    });
});
