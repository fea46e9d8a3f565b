// `plan` runs in a child process (src/cli/planChild.ts), so that however the user's program ends, the command ends
// with one line that says how: a program that loops forever is stopped at the time limit, an unbounded allocation
// meets a heap limit instead of the machine's memory (and V8's dump is not shown), a `process.exit` ends the child,
// not the command, and what the program prints (console.log, pulumi.log) goes to stderr, prefixed, so that `--json`
// and `--mermaid` on stdout always parse. This module is the parent's side and loads nothing heavy: the command's
// own work (the mock engine, @pulumi/pulumi, the renderers) happens once, in the child.
import { spawn } from "child_process";
import * as path from "path";
import { safeText } from "./sanitize";

/** How long the program may run, by default (`--timeout`), in seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 120;
/** The child's V8 heap limit, by default (`--max-memory`), in MB: about ten times what the examples need. */
export const DEFAULT_MAX_MEMORY_MB = 2048;
export const TIMEOUT_RANGE = { min: 1, max: 86400, unit: "seconds" };
export const MAX_MEMORY_RANGE = { min: 64, max: 65536, unit: "MB" };
/** What the child may take to start (Node, the command's modules, @pulumi/pulumi) on top of `--timeout`. */
const STARTUP_SECONDS = 60;
/** How the program's own output lines are marked on stderr. */
export const PROGRAM_OUTPUT_PREFIX = "[program] ";

/** What the child sends on fd 3, one JSON document a line. */
export type ChildMessage =
    /** The program about to run, as the plan names it (for the parent's one line if the child is stopped). */
    | { kind: "label"; label: string }
    /** The command finished: its output, its messages and its exit status. */
    | { kind: "done"; code: number; out: string[]; err: string[] }
    /** The program called process.exit. */
    | { kind: "exit"; code: number }
    /** The child's event loop emptied before the command finished. */
    | { kind: "ended" };

/** A whole number within `range`, for `flag`; throws with the range otherwise. */
export function wholeNumber(flag: string, text: string, range: { min: number; max: number; unit: string }): number {
    const n = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
    if (!(n >= range.min && n <= range.max)) {
        throw new Error(`${flag} ${JSON.stringify(text)}: expected a whole number of ${range.unit} from ${range.min} to ${range.max}`);
    }
    return n;
}

/** `--timeout` and `--max-memory` as the child will read them; a value the child will refuse is left to it (exit 2). */
function limitsOf(argv: readonly string[]): { timeoutSeconds: number; maxMemoryMb: number } {
    const valueOf = (flag: string, range: typeof TIMEOUT_RANGE, fallback: number): number => {
        let found = fallback;
        argv.forEach((arg, i) => {
            const text = arg.startsWith(`${flag}=`) ? arg.slice(flag.length + 1) : arg === flag ? argv[i + 1] : undefined;
            try {
                if (text !== undefined) found = wholeNumber(flag, text, range);
            } catch {
                // refused by the child's own parser, with the usage
            }
        });
        return found;
    };
    return { timeoutSeconds: valueOf("--timeout", TIMEOUT_RANGE, DEFAULT_TIMEOUT_SECONDS), maxMemoryMb: valueOf("--max-memory", MAX_MEMORY_RANGE, DEFAULT_MAX_MEMORY_MB) };
}

// V8's report of a heap out of memory: the GC trace begins it, the FATAL ERROR line names it.
const OOM = /Reached heap limit|JavaScript heap out of memory|Allocation failed - process out of memory/;
const V8_DUMP_START = /^<--- Last few GCs --->|^FATAL ERROR:|^\s*<--- JS stacktrace --->/;

/** Splits a stream into lines; calls `line` for each complete one, and for the rest at the end. */
function lines(stream: NodeJS.ReadableStream, line: (text: string) => void): Promise<void> {
    let rest = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop() ?? "";
        parts.forEach((p) => line(p.replace(/\r$/, "")));
    });
    return new Promise((resolve) =>
        stream.on("end", () => {
            if (rest !== "") line(rest);
            resolve();
        }),
    );
}

/** The child's entry point and how Node must start to run it (ts-node when this copy is the TypeScript source). */
function childCommand(): { file: string; execArgv: string[] } {
    const ext = path.extname(__filename);
    const file = path.join(__dirname, `planChild${ext}`);
    return ext === ".ts" ? { file, execArgv: ["-r", require.resolve("ts-node/register/transpile-only")] } : { file, execArgv: [] };
}

/** What `plan` needs from its surroundings here. */
export interface ChildIo {
    out(s: string): void;
    err(s: string): void;
    cwd?: string;
}

/**
 * Runs `azure-kms-activation plan <argv>` in a child process within the time and memory limits; returns its exit
 * status. Each line the program prints goes to `err`, prefixed and sanitized, as it comes.
 */
export function runPlanInChild(argv: string[], io: ChildIo): Promise<number> {
    const limits = limitsOf(argv);
    const { file, execArgv } = childCommand();
    const child = spawn(process.execPath, [...execArgv, `--max-old-space-size=${limits.maxMemoryMb}`, file], {
        cwd: io.cwd ?? process.cwd(),
        env: process.env,
        // stdin carries the arguments (never the child's argv: --config values may be secrets, and argv is visible
        // to every user of the machine); fd 3 the command's result.
        stdio: ["pipe", "pipe", "pipe", "pipe"],
    });
    let timedOut = false;
    const stop = () => {
        timedOut = true;
        child.kill("SIGKILL");
    };
    // The limit counts from when the program is about to run (the child's own start, loading the mock engine, takes
    // seconds on a busy machine); until then the start has the limit plus a minute.
    let timer = setTimeout(stop, (limits.timeoutSeconds + STARTUP_SECONDS) * 1000);
    const forward = (line: string) => io.err(`${PROGRAM_OUTPUT_PREFIX}${safeText(line)}`);
    const messages: ChildMessage[] = [];
    const results = lines(child.stdio[3] as NodeJS.ReadableStream, (line) => {
        let message: ChildMessage;
        try {
            message = JSON.parse(line) as ChildMessage;
        } catch {
            return; // a line cut short: the child died while writing it
        }
        messages.push(message);
        if (message.kind === "label" && !timedOut) {
            clearTimeout(timer);
            timer = setTimeout(stop, limits.timeoutSeconds * 1000);
        }
    });
    let oom = false;
    let dump: string[] | undefined;
    // Blank lines wait for the next line: V8's dump begins with one.
    let blanks: string[] = [];
    const stdoutDone = lines(child.stdout, forward);
    const stderrDone = lines(child.stderr, (line) => {
        if (OOM.test(line)) oom = true;
        if (dump === undefined && line.trim() === "") {
            blanks.push(line);
            return;
        }
        // Hold V8's dump back until the end: dropped when it is an out-of-memory report, shown otherwise.
        if (dump === undefined && V8_DUMP_START.test(line)) dump = [];
        const held = [...blanks, line];
        blanks = [];
        if (dump !== undefined) dump.push(...held);
        else held.forEach(forward);
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(JSON.stringify({ argv, cwd: io.cwd ?? process.cwd() }));
    return new Promise((resolve) => {
        child.on("close", async (code, signal) => {
            clearTimeout(timer);
            await Promise.all([stdoutDone, stderrDone, results]);
            if (!oom) [...(dump ?? []), ...blanks].forEach(forward);
            const label = [...messages].reverse().find((m): m is Extract<ChildMessage, { kind: "label" }> => m.kind === "label")?.label;
            const end = messages.find((m) => m.kind !== "label");
            const fail = (status: number, line: string) => {
                io.err(`plan: ${safeText(label === undefined ? line : `${label}: ${line}`)}`);
                resolve(status);
            };
            if (timedOut) return fail(1, `the program did not finish within ${limits.timeoutSeconds} s and was stopped (an endless loop?); if it is only slow, raise --timeout`);
            if (oom) return fail(1, `the program ran out of memory (heap limit ${limits.maxMemoryMb} MB) and was stopped (an unbounded allocation?); if it needs more, raise --max-memory`);
            switch (end?.kind) {
                case "done":
                    end.out.forEach((s) => io.out(s));
                    end.err.forEach((s) => io.err(s));
                    return resolve(end.code);
                case "exit":
                    return fail(2, `the program called process.exit(${end.code}) before its resources were registered, so there is no plan; remove the call (a Pulumi program ends by itself when its resources are declared)`);
                case "ended":
                    return fail(1, "the program stopped before its resources were registered: it waits for something that never comes (a promise that never settles?)");
            }
            return fail(1, `the command's process ended (${signal ? `signal ${signal}` : `exit code ${code}`}) before the plan was complete`);
        });
    });
}
