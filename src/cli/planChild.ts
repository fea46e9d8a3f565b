// The child process `plan` runs in (see planProcess.ts). Reads `{ argv, cwd }` on stdin and runs the whole `plan`
// command in this process; the program's own output stays on this process's stdout and stderr (the parent forwards
// it, prefixed), and the command's output and exit status go to the parent as JSON lines on fd 3. fd 3 is written
// synchronously, so even a `process.exit` in the middle of the program is reported.
import { readFileSync, writeSync } from "fs";
import { nodeLoader } from "./loader";
import { runPlan } from "./plan";
import type { ChildMessage } from "./planProcess";

const RESULT_FD = 3;
let done = false;

function send(message: ChildMessage): void {
    if (done) return;
    if (message.kind !== "label") done = true;
    const data = Buffer.from(`${JSON.stringify(message)}\n`);
    for (let offset = 0; offset < data.length; ) {
        try {
            offset += writeSync(RESULT_FD, data, offset);
        } catch (err) {
            // The parent reads as it can; a full pipe only means "again".
            if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
        }
    }
}

const exit = process.exit.bind(process);
// A program that ends the process itself ends only this child; the parent says so (exit 2).
process.exit = ((code?: number | string | null) => {
    send({ kind: "exit", code: Number(code ?? process.exitCode ?? 0) });
    return exit(code as number);
}) as typeof process.exit;
// The event loop emptied before the command finished: the program waits for something that never comes.
process.on("exit", () => send({ kind: "ended" }));

(async () => {
    const { argv, cwd } = JSON.parse(readFileSync(0, "utf8")) as { argv: string[]; cwd: string };
    const out: string[] = [];
    const err: string[] = [];
    const code = await runPlan(argv, {
        out: (s) => out.push(s),
        err: (s) => err.push(s),
        cwd,
        loaderFor: (spec) => {
            send({ kind: "label", label: spec.label });
            return nodeLoader(spec);
        },
    });
    send({ kind: "done", code, out, err });
    // The program may have left timers or handles: the result is sent, end now, with the command's status. A program
    // that failed leaves its registrations' promises pending, and Pulumi's leak report (runtime/debuggable.js, on
    // process exit) speaks only when the status is 0: with 0 here it printed ten lines under the one-line error.
    exit(code);
})().catch((error: unknown) => {
    send({ kind: "done", code: 1, out: [], err: [`plan: ${error instanceof Error ? error.message : String(error)}`] });
    exit(1);
});
