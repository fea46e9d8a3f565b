// Hostile input to `audit`, round 2: every value is checked before the engine sees it (an invalid rule refuses the
// input, exit 2, never a verdict), and files are read bounded (regular files only, a size cap, no content quoted).
import { execFileSync, spawnSync } from "child_process";
import * as fc from "fast-check";
import * as fs from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { runAudit } from "../../src/cli/audit";
import { readInputFile } from "../../src/cli/inputFile";

const ROOT = path.join(__dirname, "..", "..");
const BGP = path.join(ROOT, "test", "fixtures", "azure", "bgp-forced-tunnel");
const scratch = fs.mkdtempSync(path.join(tmpdir(), "kms-audit-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** `audit` with files given as JSON values (written to the scratch folder), read by the command's own bounded reader. */
function audit(files: { routes?: unknown; nsgs?: unknown }, ...extra: string[]): { code: number; out: string; err: string } {
    const routes = path.join(scratch, "routes.json");
    const nsgs = path.join(scratch, "nsgs.json");
    fs.writeFileSync(routes, JSON.stringify(files.routes ?? JSON.parse(fs.readFileSync(path.join(BGP, "effective-routes-with-kms-routes.json"), "utf8"))));
    fs.writeFileSync(nsgs, JSON.stringify(files.nsgs ?? nsgsWith([])));
    return run("--routes", routes, "--nsgs", nsgs, "--subnet", path.join(BGP, "subnet-show.json"), "--nic", path.join(BGP, "nic-show.json"), ...extra);
}

function run(...argv: string[]): { code: number; out: string; err: string } {
    let out = "";
    let err = "";
    const code = runAudit(argv, { out: (s) => (out += s), err: (s) => (err += s), readFile: (p) => readInputFile(p) });
    return { code, out, err };
}

/** An outbound rule as `az network nic list-effective-nsg` prints it. */
function rule(name: string, priority: unknown, access: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        name: `securityRules/${name}`,
        protocol: "Tcp",
        sourcePortRange: "0-65535",
        destinationPortRange: "0-65535",
        sourceAddressPrefix: "0.0.0.0/0",
        destinationAddressPrefix: "0.0.0.0/0",
        sourceAddressPrefixes: [],
        destinationAddressPrefixes: [],
        sourcePortRanges: [],
        destinationPortRanges: [],
        access,
        priority,
        direction: "Outbound",
        ...extra,
    };
}

/** The subnet's NSG: the given rules, listed before a Deny of everything at 100 (which blocks TCP 1688 unless a rule outranks it). */
function nsgsWith(rules: Record<string, unknown>[]): unknown {
    return {
        value: [
            {
                association: { subnet: { id: "/subscriptions/0/resourceGroups/rg-spoke/providers/Microsoft.Network/virtualNetworks/vnet-spoke/subnets/snet-app" } },
                networkSecurityGroup: { id: "/subscriptions/0/resourceGroups/rg-spoke/providers/Microsoft.Network/networkSecurityGroups/nsg-spoke" },
                effectiveSecurityRules: [...rules, rule("deny-all-out", 100, "Deny")],
            },
        ],
    };
}

const ALLOW_KMS = rule("allow-kms", 200, "Allow", { destinationPortRange: "1688-1688" });

describe("audit checks every value before the engine sees it", () => {
    test("the baseline: a valid Allow at 200 comes after the Deny at 100, so the case is blocked", () => {
        expect(audit({ nsgs: nsgsWith([ALLOW_KMS]) })).toMatchObject({ code: 1, err: "" });
        expect(audit({ nsgs: nsgsWith([ALLOW_KMS]) }).out).toContain("Verdict: blocked (0 of 3 KMS addresses reachable)");
    });

    test('the issue\'s case: an Allow whose priority is "x" no longer outranks the Deny at 100: the input is refused, exit 2', () => {
        const result = audit({ nsgs: nsgsWith([rule("allow-kms", "x", "Allow")]) });
        expect(result).toEqual({
            code: 2,
            out: "",
            err: `audit: --nsgs file "${path.join(scratch, "nsgs.json")}": NSG "nsg-spoke" rule "securityRules/allow-kms": priority "x" is not an integer 100-4096 (65000 and up for Azure's default rules); fix the file, or save the command's output again unchanged\n`,
        });
    });

    // Each refusal names the file, the rule and the field; each value is one Azure would never report.
    const refused: [string, Record<string, unknown>, string][] = [
        ["priority missing", rule("r", undefined, "Allow"), 'priority undefined is not an integer'],
        ["priority 0", rule("r", 0, "Allow"), "priority 0 is not an integer 100-4096"],
        ["priority 99", rule("r", 99, "Allow"), "priority 99 is not"],
        ["priority 4097", rule("r", 4097, "Allow"), "priority 4097 is not"],
        ["priority 150.5", rule("r", 150.5, "Allow"), "priority 150.5 is not"],
        ['priority "150" (a string)', rule("r", "150", "Allow"), 'priority "150" is not'],
        ["priority NaN-like null", rule("r", null, "Allow"), "priority null is not"],
        ['access "Permit"', rule("r", 200, "Permit"), 'access "Permit" is not one of Allow, Deny'],
        ["access missing", rule("r", 200, undefined), "access undefined is not one of Allow, Deny"],
        ['direction "Out"', rule("r", 200, "Allow", { direction: "Out" }), 'direction "Out" is not one of Inbound, Outbound'],
        ['protocol "TCP/IP"', rule("r", 200, "Allow", { protocol: "TCP/IP" }), 'protocol "TCP/IP" is not one of Tcp, Udp, Icmp, Esp, Ah, *, All'],
        ["port 70000", rule("r", 200, "Allow", { destinationPortRange: "70000" }), 'destinationPortRange "70000" is not *, a port 0-65535'],
        ["range high < low", rule("r", 200, "Allow", { destinationPortRange: "2000-1000" }), 'destinationPortRange "2000-1000" is not'],
        ["port as words", rule("r", 200, "Allow", { destinationPortRanges: ["kms"] }), 'destinationPortRanges "kms" is not'],
        ["port as an object", rule("r", 200, "Allow", { destinationPortRanges: [{}] }), "destinationPortRanges {} is not a string"],
        ["prefix /33", rule("r", 200, "Allow", { destinationAddressPrefix: "20.118.99.224/33" }), 'destinationAddressPrefix "20.118.99.224/33" is not an IPv4 prefix'],
        ["octet 300", rule("r", 200, "Allow", { destinationAddressPrefixes: ["300.1.1.1"] }), 'destinationAddressPrefixes "300.1.1.1" is not'],
        ["source prefix garbage", rule("r", 200, "Allow", { sourceAddressPrefix: "10.0.0.0/8; rm -rf" }), 'sourceAddressPrefix "10.0.0.0/8; rm -rf" is not'],
    ];
    test.each(refused)("%s: refused, exit 2, one line naming file, rule and field", (_what, bad, message) => {
        const result = audit({ nsgs: nsgsWith([bad]) });
        expect(result.code).toBe(2);
        expect(result.out).toBe("");
        expect(result.err.split("\n")).toEqual([expect.stringContaining(`audit: --nsgs file "${path.join(scratch, "nsgs.json")}": NSG "nsg-spoke" rule "securityRules/r": ${message}`), ""]);
    });

    test("a route with an invalid prefix, next hop IP or state is refused naming the route", () => {
        const routes = (r: Record<string, unknown>) => ({ value: [{ source: "Default", state: "Active", addressPrefix: ["0.0.0.0/0"], nextHopType: "Internet", nextHopIpAddress: [], ...r }] });
        const file = `--routes file "${path.join(scratch, "routes.json")}"`;
        expect(audit({ routes: routes({ addressPrefix: ["0.0.0.0/-1"] }) }).err).toMatch(`audit: ${file}: route 1: addressPrefix "0.0.0.0/-1" is not an IPv4 or IPv6 prefix`);
        expect(audit({ routes: routes({ nextHopIpAddress: ["10.0.0.300"] }) }).err).toMatch(`audit: ${file}: route 1: nextHopIpAddress "10.0.0.300" is not an IP address`);
        expect(audit({ routes: routes({ state: "Maybe" }) }).err).toMatch(`audit: ${file}: route 1: state "Maybe" is not one of Active, Invalid`);
        expect(audit({ routes: routes({ nextHopType: "Internet\u001b[2J" }) })).toMatchObject({ code: 2, err: expect.stringContaining('nextHopType "Internet\\u001b[2J" is not a next hop type') });
    });

    test("IPv6 is reported as not judged, never silently skipped (text and JSON)", () => {
        const v6 = rule("deny-v6", 300, "Deny", { destinationAddressPrefix: "2001:db8::/32" });
        const text = audit({ nsgs: nsgsWith([ALLOW_KMS, v6]) });
        expect(text.code).toBe(1);
        expect(text.out).toContain(`Not judged: --nsgs file "${path.join(scratch, "nsgs.json")}": NSG "nsg-spoke" rule "securityRules/deny-v6": destinationAddressPrefix "2001:db8::/32" is IPv6; not judged (every KMS address is IPv4)`);
        const json = JSON.parse(audit({ nsgs: nsgsWith([ALLOW_KMS, v6]) }, "--json").out);
        expect(json.notJudged).toEqual([expect.stringContaining('"2001:db8::/32" is IPv6; not judged')]);
        expect(JSON.parse(audit({ nsgs: nsgsWith([ALLOW_KMS]) }, "--json").out).notJudged).toEqual([]);
        // A dual-stack expansion lists many: one note for the field, with the count.
        const expanded = rule("allow-internet", 300, "Allow", { expandedDestinationAddressPrefix: ["20.0.0.0/8", "2603:1000::/25", "2603:1010::/24", "2a01:111::/32"] });
        expect(JSON.parse(audit({ nsgs: nsgsWith([ALLOW_KMS, expanded]) }, "--json").out).notJudged).toEqual([
            `--nsgs file "${path.join(scratch, "nsgs.json")}": NSG "nsg-spoke" rule "securityRules/allow-internet": expandedDestinationAddressPrefix holds 3 IPv6 prefixes (the first "2603:1000::/25"); not judged (every KMS address is IPv4)`,
        ]);
    });

    test("Azure's own files pass the checks unchanged (the fixtures from Azure's API specs and the BGP case)", () => {
        const SPEC = path.join(ROOT, "test", "fixtures", "azure", "spec-examples");
        expect(run("--routes", path.join(SPEC, "NetworkInterfaceEffectiveRouteTableList.json"), "--nsgs", path.join(SPEC, "NetworkInterfaceEffectiveNSGList.json")).err).toBe("");
        expect(run("--routes", path.join(BGP, "effective-routes.json"), "--nsgs", path.join(BGP, "effective-nsgs.json")).err).toBe("");
    });

    test("property: no malformed rule turns a blocked case into reachable; it is refused (exit 2) or the case stays blocked", () => {
        // Values an NSG rule's fields might hold in a hostile or hand-edited file: some valid, most not.
        const anyValue = fc.oneof(
            fc.constantFrom<unknown>("x", "", " ", "NaN", "Infinity", "-1", "1e3", "0x10", null, true, [], {}, "100", "Allow", "*", "1688", "0-65535", "::/0", "0.0.0.0/0", "Internet"),
            fc.integer({ min: -100000, max: 100000 }),
            fc.double(),
            fc.string(),
        );
        const fields = ["priority", "access", "direction", "protocol", "destinationPortRange", "destinationPortRanges", "destinationAddressPrefix", "destinationAddressPrefixes", "sourceAddressPrefix", "sourcePortRange"];
        fc.assert(
            fc.property(fc.constantFrom(...fields), anyValue, fc.integer({ min: 100, max: 4096 }), (field, value, priority) => {
                // Without the malformed field, this Allow is below the Deny at 100: the case is blocked.
                const allow = rule("allow-kms", Math.max(101, priority), "Allow", { destinationPortRange: "1688", [field]: value });
                const result = audit({ nsgs: nsgsWith([allow]) });
                expect(result.out).not.toContain("Verdict: reachable");
                expect([1, 2]).toContain(result.code);
            }),
            { numRuns: 150 },
        );
    });
});

describe("audit reads bounded: regular files only, at most 64 MB, nothing of the file quoted back", () => {
    const { processIo } = require("../../src/cli/main") as typeof import("../../src/cli/main");
    /** `audit` with the process's own file reader (what users run). */
    function withProcessReader(...argv: string[]): { code: number; out: string; err: string } {
        let out = "";
        let err = "";
        const code = runAudit(argv, { out: (s) => (out += s), err: (s) => (err += s), readFile: processIo.readFile });
        return { code, out, err };
    }
    const nsgs = path.join(BGP, "effective-nsgs.json");

    test("a directory, a device (/dev/zero) and a FIFO are refused by kind, at once", () => {
        const fifo = path.join(scratch, "fifo");
        execFileSync("mkfifo", [fifo]);
        for (const [file, kind] of [
            [scratch, "a directory"],
            ["/dev/zero", "a device"],
            [fifo, "a FIFO (named pipe)"],
        ]) {
            expect(withProcessReader("--routes", file, "--nsgs", nsgs)).toEqual({
                code: 2,
                out: "",
                err: `audit: --routes file "${file}" cannot be read: ${kind}, not a regular file; save the output to a file and name that\n`,
            });
        }
    });

    test("the command as a process: a FIFO with no writer exits 2 at once instead of blocking forever", () => {
        const fifo = path.join(scratch, "fifo-process");
        execFileSync("mkfifo", [fifo]);
        const started = Date.now();
        const ran = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(ROOT, "src", "cli", "main.ts"), "audit", "--routes", fifo, "--nsgs", nsgs], { cwd: ROOT, encoding: "utf8", timeout: 30000 });
        expect({ status: ran.status, signal: ran.signal, stdout: ran.stdout }).toEqual({ status: 2, signal: null, stdout: "" });
        expect(ran.stderr.split("\n")[0] + "\n").toBe(`audit: --routes file "${fifo}" cannot be read: a FIFO (named pipe), not a regular file; save the output to a file and name that\n`);
        expect(Date.now() - started).toBeLessThan(30000);
    }, 40000);

    test("a file over 64 MB is refused before it is read (sparse: no disk used)", () => {
        const big = path.join(scratch, "big.json");
        fs.writeFileSync(big, "");
        fs.truncateSync(big, 64 * 1024 * 1024 + 1);
        expect(withProcessReader("--routes", big, "--nsgs", nsgs)).toEqual({ code: 2, out: "", err: `audit: --routes file "${big}" cannot be read: 67108865 bytes, over the 64 MB limit\n` });
        // A file whose size says 0 but which reads on (as /proc files do) is cut at the cap while reading.
        expect(() => readInputFile("/proc/self/environ", 8)).toThrow("cannot be read: over the 8-byte limit");
    });

    test("a file that is not JSON (environment-variable-like content): line, column and a 20-character escaped excerpt, nothing else", () => {
        const environ = path.join(scratch, "environ");
        const secret = "AZURE_CLIENT_SECRET=s3cr3t-value-never-printed";
        fs.writeFileSync(environ, `HOME=/root\u0000PATH=/usr/bin\u0000${secret}\u0000\u001b[2J`);
        const result = withProcessReader("--routes", environ, "--nsgs", nsgs);
        expect(result).toEqual({ code: 2, out: "", err: `audit: --routes file "${environ}" is not JSON: unexpected "H" at line 1, column 1 (near "HOME=/root\\x00PATH=/usr")\n` });
        expect(result.err).not.toContain("s3cr3t");
        // An error further in: the excerpt is the 20 characters around it, control characters escaped.
        const late = path.join(scratch, "late.json");
        fs.writeFileSync(late, `{"value": [\n  {"name": "r1"},\n  {"name": "r2" \u001b[2J "SECRET=${secret}"}\n]}`);
        expect(withProcessReader("--routes", late, "--nsgs", nsgs).err).toBe(`audit: --routes file "${late}" is not JSON: unexpected "\\x1b" at line 3, column 17 (near "me": "r2" \\x1b[2J "SECR")\n`);
    });

    test("--help states the size cap", () => {
        expect(run("--help").out).toContain("Each file must be a regular file of at most 64 MB.");
    });
});
