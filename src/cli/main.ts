#!/usr/bin/env node
// `azure-kms-activation <command>`: the package's command line. Each command is a function of its arguments and
// the process's surroundings that returns the exit status: 0 done, 1 the check or program failed, 2 bad input.
import { readFileSync } from "fs";
import * as path from "path";
import { readInputFile } from "./inputFile";
import { safeLines, safeText } from "./sanitize";
import type { PlanIo } from "./plan";
import { runPlanInChild } from "./planProcess";

/** What a command needs from the process; tests pass their own. */
export interface CliIo {
    out(s: string): void;
    err(s: string): void;
    readFile(path: string): string;
}

type Command = (argv: string[], io: CliIo) => number | Promise<number>;

const COMMANDS: Record<string, { summary: string; run: Command }> = {
    plan: {
        summary: "what a Pulumi program would deploy (routes, NSG rules, outbound, activation), run offline (1 when a VM is blocked)",
        // What users run goes to a child process at once (this process loads nothing of the plan's: it stays light);
        // a caller that brings its own loader (tests) runs the program here.
        run: (argv, io) => ((io as PlanIo).load ? (require("./plan") as typeof import("./plan")).runPlan(argv, io) : runPlanInChild(argv, io)),
    },
    audit: {
        summary: "whether VMs in an existing network can reach KMS (0 reachable, 1 blocked or unknown, 2 bad input)",
        run: (argv, io) => (require("./audit") as typeof import("./audit")).runAudit(argv, io),
    },
    fleet: {
        summary: "every Windows VM's activation and KMS path in your subscriptions, read through Azure's SDK (0 fine, 1 not, 2 bad input or no access)",
        run: (argv, io) => (require("./fleet") as typeof import("./fleet")).runFleet(argv, io),
    },
};

export const USAGE = "Usage: azure-kms-activation <command> [options]";

function version(): string {
    return (JSON.parse(readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")) as { version: string }).version;
}

export function help(): string {
    const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length)) + 3;
    return [
        USAGE,
        "",
        "Pulumi components that make Windows VMs on Azure activate against KMS; this command checks programs offline.",
        "",
        "Commands:",
        ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
        "",
        "Options:",
        "  -h, --help     print this help (`azure-kms-activation <command> --help` for a command's)",
        "  --version      print the package version",
    ].join("\n");
}

/** Runs the command line; returns the exit status. */
export async function main(argv: string[], io: CliIo): Promise<number> {
    const [first, ...rest] = argv;
    if (first === undefined || first === "--help" || first === "-h" || first === "help") {
        if (first === "help" && rest[0] !== undefined && COMMANDS[rest[0]]) {
            return COMMANDS[rest[0]].run(["--help"], io);
        }
        (first === undefined ? io.err : io.out)(help());
        return first === undefined ? 2 : 0;
    }
    if (first === "--version") {
        io.out(version());
        return 0;
    }
    const command = COMMANDS[first];
    if (!command) {
        io.err(`azure-kms-activation: unknown ${first.startsWith("-") ? "option" : "command"} ${safeText(first)}\n${help()}`);
        return 2;
    }
    return command.run(rest, io);
}

/** The process's own surroundings. */
export const processIo: CliIo = {
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`${s}\n`),
    // Regular files only, at most 64 MB: never /dev/zero until memory runs out, never a FIFO that blocks forever.
    readFile: (file) => readInputFile(file),
};

if (require.main === module) {
    const fail = (err: unknown) => {
        process.stderr.write(`azure-kms-activation: ${safeLines(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
        process.exit(1);
    };
    process.on("unhandledRejection", fail);
    main(process.argv.slice(2), processIo).then(
        // The mock engine keeps no handles open, but a program may have started timers: end now, once output is flushed.
        (code) => process.stdout.write("", () => process.exit(code)),
        fail,
    );
}
