// `plan` runs the program in a child process: each way a program can misbehave ends in one line and a clear exit
// status, and what the program prints goes to stderr (prefixed), so --json and --mermaid on stdout always parse.
// These run the real child (ts-node, as `npm run plan` does), a few seconds each.
import * as path from "path";
import { parseArgs, runPlan } from "../../src/cli/plan";

const ROOT = path.join(__dirname, "..", "..");
const FIXTURES = "test/fixtures/hostile-programs";

async function plan(...argv: string[]): Promise<{ code: number; out: string; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runPlan(argv, { out: (s) => out.push(s), err: (s) => err.push(s), cwd: ROOT });
    return { code, out: out.join("\n"), err };
}

jest.setTimeout(120000);

describe("plan runs the program in a child process", () => {
    test("process.exit(0) before declaring anything: exit 2, one line naming process.exit, no plan", async () => {
        expect(await plan(`${FIXTURES}/exits-early`)).toEqual({
            code: 2,
            out: "",
            err: [
                `plan: ${FIXTURES}/exits-early: the program called process.exit(0) before its resources were registered, so there is no plan; remove the call (a Pulumi program ends by itself when its resources are declared)`,
            ],
        });
    });

    test("console.log, console.error and pulumi.log go to stderr, prefixed and escaped; --json and --mermaid on stdout parse", async () => {
        const json = await plan(`${FIXTURES}/logs`, "--json");
        expect(json.code).toBe(0);
        expect(JSON.parse(json.out)).toMatchObject({ project: "hostile-logs", resources: [{ type: "azure-native:resources:ResourceGroup", name: "logs-rg" }] });
        expect(json.err).toEqual(
            expect.arrayContaining([
                "[program] hello from console.log",
                "[program] hello from console.error",
                expect.stringMatching(/^\[program\] .*hello from pulumi\.log$/),
                "[program] an escape: \\x1b[2J and a fake line",
                "[program] Verdict: reachable",
            ]),
        );
        const mermaid = await plan(`${FIXTURES}/logs`, "--mermaid");
        expect(mermaid.code).toBe(0);
        expect(mermaid.out.split("\n")[0]).toBe("flowchart TD");
        expect(mermaid.out).not.toContain("hello");
    });

    test("a program that waits for a promise that never settles: the child's event loop empties, exit 1, one line at the end", async () => {
        const run = await plan(`${FIXTURES}/never-settles`);
        expect(run.code).toBe(1);
        expect(run.out).toBe("");
        // Before it, Pulumi's own note on the promises left active, as the program's output.
        expect(run.err.slice(0, -1).every((line) => line.startsWith("[program] "))).toBe(true);
        expect(run.err[run.err.length - 1]).toBe(
            `plan: ${FIXTURES}/never-settles: the program stopped before its resources were registered: it waits for something that never comes (a promise that never settles?)`,
        );
    });

    test("an endless loop: stopped at --timeout, exit 1, one line", async () => {
        const started = Date.now();
        expect(await plan(`${FIXTURES}/loops`, "--timeout", "5")).toEqual({
            code: 1,
            out: "",
            err: [`plan: ${FIXTURES}/loops: the program did not finish within 5 s and was stopped (an endless loop?); if it is only slow, raise --timeout`],
        });
        // The limit counts from when the program starts (the child's own start, a few seconds, comes before).
        expect(Date.now() - started).toBeGreaterThanOrEqual(5000);
        expect(Date.now() - started).toBeLessThan(30000);
    });

    test("an unbounded allocation: stopped at the heap limit, exit 1, one line, no V8 dump", async () => {
        expect(await plan(`${FIXTURES}/allocates`, "--max-memory", "256")).toEqual({
            code: 1,
            out: "",
            err: [`plan: ${FIXTURES}/allocates: the program ran out of memory (heap limit 256 MB) and was stopped (an unbounded allocation?); if it needs more, raise --max-memory`],
        });
    });

    test("a syntax error: file:line:column (JavaScript, Node's parser)", async () => {
        const file = path.join(ROOT, FIXTURES, "syntax-js", "index.js");
        expect(await plan(`${FIXTURES}/syntax-js`)).toEqual({ code: 1, out: "", err: [`plan: ${FIXTURES}/syntax-js: the program failed: syntax error at ${file}:3:18: Unexpected token ';'`] });
    });

    test("a syntax error: file:line:column (TypeScript)", async () => {
        const run = await plan(`${FIXTURES}/syntax-ts`);
        expect(run.code).toBe(1);
        expect(run.err).toEqual([expect.stringMatching(new RegExp(`^plan: ${FIXTURES}/syntax-ts: the program failed: syntax error at \\S*syntax-ts/index\\.ts:3:74: ',' expected\\.$`))]);
    });

    test("--timeout and --max-memory take whole numbers in range; a refused value is exit 2 with the usage, before any program runs", async () => {
        expect(parseArgs(["--timeout", "30", "--max-memory=512"])).toMatchObject({ timeoutSeconds: 30, maxMemoryMb: 512 });
        expect(() => parseArgs(["--timeout", "0"])).toThrow('--timeout "0": expected a whole number of seconds from 1 to 86400');
        expect(() => parseArgs(["--timeout", "1.5"])).toThrow('--timeout "1.5": expected a whole number of seconds from 1 to 86400');
        expect(() => parseArgs(["--max-memory", "10"])).toThrow('--max-memory "10": expected a whole number of MB from 64 to 65536');
        const run = await plan(`${FIXTURES}/loops`, "--timeout=-5");
        expect(run.code).toBe(2);
        expect(run.err[0].split("\n")[0]).toBe('plan: --timeout "-5": expected a whole number of seconds from 1 to 86400');
    });
});
