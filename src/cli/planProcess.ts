// `plan` runs the user's program in a child process (src/cli/planChild.ts), so that however the program ends, the
// command ends with one line that says how: a program that loops forever is stopped at the time limit, an unbounded
// allocation meets a heap limit instead of the machine's memory (and V8's 26-line dump is not shown), a
// `process.exit` ends the child, not the command, and what the program prints (console.log, pulumi.log) goes to
// stderr, prefixed, so that `--json` and `--mermaid` on stdout always parse.
import { spawn } from "child_process";
import * as path from "path";
import type { Plan } from "./plan";
import type { ProgramSpec } from "./program";

/** How long the program may run, by default (`--timeout`), in seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 120;
/** The child's V8 heap limit, by default (`--max-memory`), in MB: about ten times what the largest example needs. */
export const DEFAULT_MAX_MEMORY_MB = 2048;
/** How the program's own output lines are marked on stderr. */
export const PROGRAM_OUTPUT_PREFIX = "[program] ";

/** What the child sends back on its result channel (fd 3), one JSON document. */
export type ChildMessage =
    | { kind: "plan"; plan: Plan }
    | { kind: "input"; message: string }
    | { kind: "failed"; message: string }
    | { kind: "exit"; code: number }
    | { kind: "ended" };

/** How the program's run ended, as the parent tells it. */
export type ChildOutcome =
    | ChildMessage
    | { kind: "timeout"; seconds: number }
    | { kind: "oom"; megabytes: number }
    | { kind: "crash"; code: number | null; signal: string | null };

export interface ChildLimits {
    timeoutSeconds: number;
    maxMemoryMb: number;
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
    return new Promise((resolve) => stream.on("end", () => {
        if (rest !== "") line(rest);
        resolve();
    }));
}

/** The child's entry point and how Node must start to run it (ts-node when this copy is the TypeScript source). */
function childCommand(): { file: string; execArgv: string[] } {
    const ext = path.extname(__filename);
    const file = path.join(__dirname, `planChild${ext}`);
    return ext === ".ts" ? { file, execArgv: ["-r", require.resolve("ts-node/register/transpile-only")] } : { file, execArgv: [] };
}

/**
 * Runs the program `spec` names in a child process within the limits. `output` receives each line the program
 * printed (stdout and stderr, in order per stream); the caller writes it to stderr, sanitized and prefixed.
 */
export function runInChild(spec: ProgramSpec, limits: ChildLimits, output: (line: string) => void): Promise<ChildOutcome> {
    const { file, execArgv } = childCommand();
    const child = spawn(process.execPath, [...execArgv, `--max-old-space-size=${limits.maxMemoryMb}`, file], {
        cwd: process.cwd(),
        env: process.env,
        // stdin carries the spec (never argv: --config values may be secrets, and argv is visible to every user).
        stdio: ["pipe", "pipe", "pipe", "pipe"],
    });
    let timedOut = false;
    const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
    }, limits.timeoutSeconds * 1000);
    let result = "";
    const channel = child.stdio[3] as NodeJS.ReadableStream;
    channel.setEncoding("utf8");
    channel.on("data", (chunk: string) => (result += chunk));
    const channelEnded = new Promise<void>((resolve) => channel.on("end", resolve));
    let oom = false;
    let dump: string[] | undefined;
    const stdoutDone = lines(child.stdout, output);
    // Blank lines wait for the next line: V8's dump begins with one.
    let blanks: string[] = [];
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
        else held.forEach(output);
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(JSON.stringify(spec));
    return new Promise((resolve) => {
        child.on("close", async (code, signal) => {
            clearTimeout(timer);
            await Promise.all([stdoutDone, stderrDone, channelEnded]);
            if (dump !== undefined && !oom) dump.forEach(output);
            if (!oom) blanks.forEach(output);
            if (timedOut) return resolve({ kind: "timeout", seconds: limits.timeoutSeconds });
            if (oom) return resolve({ kind: "oom", megabytes: limits.maxMemoryMb });
            if (result !== "") {
                try {
                    return resolve(JSON.parse(result) as ChildMessage);
                } catch {
                    // a result cut short: the child died while writing it
                }
            }
            resolve({ kind: "crash", code, signal });
        });
    });
}
