import { readFileSync } from "fs";
import * as path from "path";
import { parseActivationResult, RESULT_MARKER } from "../src/guest/result";

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
        expect(result.probe).toEqual({ dns: "ok", tcp: "open", address: "20.118.99.224" });
        expect(result.events).toEqual(["12289:0x00000000", "12288:0x00000000"]);
    });

    test("PowerShell 5.1 quirks: a one-element array written bare, \\u0027 escapes", () => {
        const line = `${RESULT_MARKER} {"v":1,"status":"pending","codes":"0xC004F074","diagnosis":"it\\u0027s blocked","events":null}`;
        const result = parseActivationResult(`noise\n${line}`)!;
        expect(result.codes).toEqual(["0xC004F074"]);
        expect(result.diagnosis).toEqual(["it's blocked"]);
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

describe("the result line's size", () => {
    test("its fields are the script's $Result fields", () => {
        const block = SCRIPT.slice(SCRIPT.indexOf("$Result = [ordered]@{"), SCRIPT.indexOf("}\n", SCRIPT.indexOf("$Result = [ordered]@{")));
        const fields = [...block.matchAll(/^\s+(\w+)\s+=/gm)].map((m) => m[1]);
        expect(fields).toEqual(["v", "tag", "os", "before", "key", "endpoint", "firewall", "probe", "attempts", "after", "codes", "events", "diagnosis", "status"]);
    });

    test("stays well inside the 4,096 bytes Azure keeps, at every cap of the script", () => {
        // Every free text goes through Get-SafeText: plain ASCII that JSON does not escape, cut to a length.
        expect(SCRIPT).toContain("$Text = $Text -replace '[^A-Za-z0-9 .,:;/()=+_-]', ' '");
        const text = (n: number) => "x".repeat(n);
        const licence = { status: -1, channel: text(40), partialKey: text(5), kms: text(255) };
        const worst = {
            v: 1,
            tag: text(64),
            os: { build: 99999, sku: 999, editionId: text(40), edition: "DatacenterAzureEdition" },
            before: licence,
            key: "skipped-multisession",
            endpoint: `${text(253)}:65535`,
            firewall: "skipped",
            probe: { dns: "timeout", tcp: "untested", address: "255.255.255.255" },
            attempts: constant("AtoAttempts"),
            after: licence,
            codes: Array(constant("MaxCodes")).fill("0xC004F074"),
            events: Array(constant("MaxEvents")).fill("12289:0xC004F074"),
            diagnosis: Array(constant("MaxDiagnoses")).fill(text(constant("MaxDiagnosisLength"))),
            status: "activated",
            seconds: 99999,
        };
        const line = `${RESULT_MARKER} ${JSON.stringify(worst)}`;
        expect(Buffer.byteLength(line)).toBeLessThanOrEqual(3072);
        process.stdout.write(`worst-case result line: ${Buffer.byteLength(line)} bytes\n`);
    });
});
