// The child process `plan` runs a program in (see planProcess.ts): reads the program's spec on stdin, runs it under
// the mock engine and writes one JSON message on fd 3: the plan, or how the program failed. Whatever the program
// prints on stdout or stderr is the parent's to forward; fd 3 is written synchronously, so even a `process.exit`
// in the middle of the program is reported.
import { readFileSync, writeSync } from "fs";
import { CliInputError } from "./errors";
import { nodeLoader } from "./loader";
import { buildPlan, programError } from "./plan";
import type { ChildMessage } from "./planProcess";
import { ProgramSpec, runProgram } from "./program";

const RESULT_FD = 3;
let sent = false;

function send(message: ChildMessage): void {
    if (sent) return;
    sent = true;
    const data = Buffer.from(JSON.stringify(message));
    for (let offset = 0; offset < data.length; ) {
        try {
            offset += writeSync(RESULT_FD, data, offset);
        } catch (err) {
            // The parent reads as it can; a full pipe only means "again".
            if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
        }
    }
}

/**
 * Where a program does not parse, as `file:line:column: message`: ts-node's diagnostic (`file.ts(3,7): error TS1005:
 * ...`), Node's SyntaxError for JavaScript (the file and line head its stack, a caret marks the column), or the
 * loader's own (`ProgramSyntaxError`). Undefined for any other error.
 */
export function syntaxLocation(err: unknown): string | undefined {
    if (!(err instanceof Error)) return undefined;
    const located = err as Error & { file?: string; line?: number; column?: number };
    if (err.name === "ProgramSyntaxError" && located.file) return `${located.file}:${located.line}:${located.column}: ${err.message}`;
    const ts = /^(.+?)\((\d+),(\d+)\): error TS\d+: (.+)$/m.exec(err.message);
    if (err.name === "TSError" && ts) return `${ts[1]}:${ts[2]}:${ts[3]}: ${ts[4]}`;
    if (err instanceof SyntaxError && err.stack) {
        const [head, , caret] = err.stack.split("\n");
        const at = /^(.+):(\d+)$/.exec(head ?? "");
        if (at) return `${at[1]}:${at[2]}:${(caret ?? "").indexOf("^") + 1}: ${err.message}`;
    }
    return undefined;
}

if (require.main === module) {
    const exit = process.exit.bind(process);
    // A program that ends the process itself ends only this child; the parent says so (exit 2).
    process.exit = ((code?: number | string | null) => {
        send({ kind: "exit", code: Number(code ?? process.exitCode ?? 0) });
        return exit(code as number);
    }) as typeof process.exit;
    // The event loop emptied before the plan was made: the program waits for something that never comes.
    process.on("exit", () => send({ kind: "ended" }));
    (async () => {
        const spec = JSON.parse(readFileSync(0, "utf8")) as ProgramSpec;
        try {
            const run = await runProgram(spec, nodeLoader(spec));
            send({ kind: "plan", plan: buildPlan(run) });
        } catch (err) {
            if (err instanceof CliInputError) send({ kind: "input", message: err.message });
            else {
                const where = syntaxLocation(err);
                send({ kind: "failed", message: where ? `syntax error at ${where}` : programError(err) });
            }
        }
        // The program may have left timers or handles: the result is sent, end now.
        exit(0);
    })();
}
