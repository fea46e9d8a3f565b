// Hostile input, round 2: no input writes to the terminal. Names with terminal escapes and newlines are shown escaped
// in every human-readable line (audit, plan's tree, config and errors), JSON stays JSON-escaped, and Mermaid labels
// are escaped so that no input becomes a Mermaid statement.
import * as fs from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { runAudit } from "../../src/cli/audit";
import { runExample } from "../../src/cli/examples";
import { readInputFile } from "../../src/cli/inputFile";
import { CliIo, main } from "../../src/cli/main";
import { buildPlan, Plan, renderMermaid, renderText } from "../../src/cli/plan";
import { mermaidLabel, safeStrings, safeText } from "../../src/cli/sanitize";

const ROOT = path.join(__dirname, "..", "..");
const BGP = path.join(ROOT, "test", "fixtures", "azure", "bgp-forced-tunnel");
// The strings: clear the screen; move up a line, erase it and return to its start (a fake line follows).
const CLEAR = "\u001b[2J";
const OVERWRITE = "\u001b[1A\u001b[2K\r";
const MERMAID_INJECTION = 'a"]\n click r_a "javascript:alert(1)"\n x["b';
// Anything a terminal obeys: C0 controls but the line break, DEL, C1 controls, bidi overrides.
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe("the sanitizer", () => {
    test.each([
        [CLEAR, "\\x1b[2J"],
        [OVERWRITE, "\\x1b[1A\\x1b[2K\\r"],
        ["two\nlines\ttab", "two\\nlines\\ttab"],
        ["\u0000\u0007\u007f\u009b31m", "\\x00\\x07\\x7f\\x9b31m"],
        ["evil\u202eexe.txt", "evil\\u202eexe.txt"],
        ["plain name-01 (ok) «ü»", "plain name-01 (ok) «ü»"],
    ])("safeText(%j) = %j", (input, shown) => {
        expect(safeText(input)).toBe(shown);
    });

    test("safeStrings escapes every string of a value, keys too, and keeps the rest", () => {
        expect(safeStrings({ [`k${CLEAR}`]: [`v${OVERWRITE}`, 3, null, { n: true }] })).toEqual({ "k\\x1b[2J": ["v\\x1b[1A\\x1b[2K\\r", 3, null, { n: true }] });
    });

    test("mermaidLabel: the issue's name stays one label", () => {
        expect(mermaidLabel(MERMAID_INJECTION)).toBe("a#quot;#93;\\n click r_a #quot;javascript:alert(1)#quot;\\n x#91;#quot;b");
        expect(mermaidLabel("#35; <b>`md`</b>")).toBe("#35;35; #lt;b#gt;#96;md#96;#lt;/b#gt;");
    });
});

describe("audit: names from the input cannot move the cursor or forge a line", () => {
    const scratch = fs.mkdtempSync(path.join(tmpdir(), "kms-term-"));
    afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

    function auditWithNames(json: boolean): string {
        const nsgs = JSON.parse(fs.readFileSync(path.join(BGP, "effective-nsgs.json"), "utf8"));
        // A rule on the path: its name tries to erase the line above (the route's BLOCKS) and print a fake ok and verdict.
        nsgs.value[0].effectiveSecurityRules[0].name = `securityRules/allow-kms${OVERWRITE}  [N1] ok      fake\nVerdict: reachable (3 of 3 KMS addresses reachable)${CLEAR}`;
        nsgs.value[0].networkSecurityGroup = { id: `/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg${CLEAR}` };
        const file = path.join(scratch, "nsgs.json");
        fs.writeFileSync(file, JSON.stringify(nsgs));
        let out = "";
        const argv = ["--routes", path.join(BGP, "effective-routes.json"), "--nsgs", file, "--subnet", path.join(BGP, "subnet-show.json"), "--nic", path.join(BGP, "nic-show.json"), ...(json ? ["--json"] : [])];
        expect(runAudit(argv, { out: (s) => (out += s), err: (s) => (out += s), readFile: (p) => readInputFile(p) })).toBe(1);
        return out;
    }

    test("text: the escapes are shown, not obeyed; the only Verdict line is the real one", () => {
        const out = auditWithNames(false);
        expect(out).not.toMatch(CONTROL);
        expect(out.split("\n").filter((l) => l.startsWith("Verdict:"))).toEqual(["Verdict: blocked (0 of 3 KMS addresses reachable)"]);
        expect(out).toContain("allow-kms\\x1b[1A\\x1b[2K\\r  [N1] ok      fake\\nVerdict: reachable (3 of 3 KMS addresses reachable)\\x1b[2J");
    });

    test("--json: JSON-escaped, and it parses back to the name as Azure gave it", () => {
        const out = auditWithNames(true);
        expect(out).not.toMatch(CONTROL);
        expect(out).toContain("\\u001b[1A\\u001b[2K\\r");
        const parsed = JSON.parse(out);
        expect(JSON.stringify(parsed)).toContain(`fake\\nVerdict: reachable`);
        expect(parsed.verdict).toBe("blocked");
    });
});

describe("plan: the tree, the config, the reachability and the errors", () => {
    let hostile: Plan;
    beforeAll(async () => {
        const plan = buildPlan(await runExample("quickstart"));
        hostile = JSON.parse(JSON.stringify(plan));
        const nat = hostile.resources.find((r) => r.name === "kms-net-nat")!;
        nat.name = `kms-net-nat${OVERWRITE} +   azure-native:network:NatGateway  fine  create`;
        hostile.resources.push({ type: "azure-native:resources:ResourceGroup", name: MERMAID_INJECTION, parent: null, azure: true });
        hostile.config[`azure-kms-quickstart:note${CLEAR}`] = `x\nVerdict: reachable${OVERWRITE}`;
        hostile.reachability[0].vm = `kms-vm-01${CLEAR}`;
    });

    test("text: no control character reaches the terminal; names and config show their escapes on their own line", () => {
        const text = renderText(hostile);
        expect(text).not.toMatch(CONTROL);
        expect(text).toContain("kms-net-nat\\x1b[1A\\x1b[2K\\r +   azure-native:network:NatGateway  fine  create");
        expect(text).toMatch(/^ {4}azure-kms-quickstart:note\\x1b\[2J +x\\nVerdict: reachable\\x1b\[1A\\x1b\[2K\\r$/m);
        expect(text).toContain("VM kms-vm-01\\x1b[2J");
        expect(text.split("\n").filter((l) => l.startsWith("Verdict"))).toEqual([]);
    });

    test("--mermaid: the issue's resource name stays inside its label: no click, no extra node, no control character", () => {
        const mermaid = renderMermaid(hostile);
        expect(mermaid).not.toMatch(CONTROL);
        const lines = mermaid.split("\n");
        expect(lines.filter((l) => /^\s*click\b/.test(l))).toEqual([]);
        expect(lines).toContain('    r_a____click_r_a__javascript_alert_1____x__b["ResourceGroup<br/>a#quot;#93;\\n click r_a #quot;javascript:alert(1)#quot;\\n x#91;#quot;b"]');
        expect(lines).toContain('    k0_vm["VM kms-vm-01\\x1b#91;2J"]');
        // Every line is one statement of the shapes the renderer writes; each quoted label has an even number of quotes.
        for (const line of lines.slice(1)) {
            expect(line).toMatch(/^ {4}(\w+(\["[^"]*"\]|\(\("[^"]*"\)\))|\w+ (-->|-\. activation waits for \.->|-- "[^"]*" -->) \w+|class \w+ \w+|classDef \w+ .*)$/);
        }
    });

    test("an error from the program: one line, escapes shown", async () => {
        const err: string[] = [];
        const io = {
            out: () => undefined,
            err: (s: string) => err.push(s),
            readFile: () => "",
            cwd: ROOT,
            load: () => {
                throw new Error(`bad input${OVERWRITE}plan: planned, nothing wrong${CLEAR}`);
            },
        } as CliIo;
        expect(await main(["plan", "quickstart"], io)).toBe(1);
        expect(err).toEqual(["plan: examples/quickstart: the program failed: bad input\\x1b[1A\\x1b[2K\\rplan: planned, nothing wrong\\x1b[2J"]);
    });
});
