// `azure-kms-activation plan`: runs a Pulumi program under Pulumi's mock engine (no credentials, no network, nothing
// deployed) and prints what `pulumi up` would create, like `pulumi preview`, with the KMS egress, each subnet's
// outbound and each VM's guest activation. The rendering walks the registered resources, so any resource type shows.
import * as path from "path";
import { writePlanHtml } from "../fleet/planReport";
import { CliInputError } from "./errors";
import { exampleSpec, isExampleName, listTargets } from "./examples";
import { maskSecrets, ProgramSpec, readProgramFolder, runProgram } from "./program";
import { syntaxLocation } from "./loader";
import { DEFAULT_MAX_MEMORY_MB, DEFAULT_TIMEOUT_SECONDS, MAX_MEMORY_RANGE, PROGRAM_OUTPUT_PREFIX, runPlanInChild, TIMEOUT_RANGE, wholeNumber } from "./planProcess";
import { MAX_INPUT_TEXT } from "./inputFile";
import { safeText } from "./sanitize";
import { buildPlan, Plan } from "./planModel";
import { renderJson } from "./planJson";
import { renderMermaid } from "./planMermaid";
import { renderText } from "./planText";

// The model and its renderers are their own modules; what the CLI and its tests import from here stays here.
export { buildPlan, renderMermaid, renderText };
export type { Plan, PlanActivation, PlanActivationWait, PlanFirewallRule, PlanOutbound, PlanResource, PlanRoute, PlanSecurityRule } from "./planModel";

export type PlanFormat = "text" | "json" | "mermaid";

export interface PlanArgs {
    /** An example target (`quickstart`, `sovereign-clouds:china`) or a folder (`.`, `./infra`, `../app`). */
    target: string;
    /** Whether `target` is a folder: it is `.`/`..`, has a path separator, or is not an example's name. */
    isFolder: boolean;
    stack: string | undefined;
    config: Record<string, string>;
    /** `--secret-config` pairs: like `config`, and secret. */
    secretConfig: Record<string, string>;
    format: PlanFormat;
    /** `--strict`: an `unknown` verdict fails the plan too (exit 1), not only `blocked`. */
    strict: boolean;
    /** `--html <file>`: also write the fleet report's page for this stack. */
    html?: string;
    /** `--timeout`: how long the program may run, in seconds (default `DEFAULT_TIMEOUT_SECONDS`). */
    timeoutSeconds?: number;
    /** `--max-memory`: the program's heap limit, in MB (default `DEFAULT_MAX_MEMORY_MB`). */
    maxMemoryMb?: number;
}

export const PLAN_USAGE =
    "Usage: azure-kms-activation plan [<example> | <folder>] [--stack <name>] [--config <key>=<value>]... [--secret-config <key>=<value>]... [--json | --mermaid] [--strict] [--html <file>] [--timeout <seconds>] [--max-memory <MB>]";

export function planHelp(): string {
    const examples = listTargets();
    return [
        PLAN_USAGE,
        "",
        "Runs a Pulumi program (TypeScript or JavaScript) under Pulumi's mock engine: no Azure credentials, no network,",
        "nothing deployed. Prints the resources `pulumi up` would create, the KMS routes and NSG rules and where they go,",
        "each subnet's outbound, each VM's guest activation (KMS endpoint, key, what it waits for), and each Windows VM's",
        "KMS reachability: the reachability engine's verdict per KMS address (reachable, blocked or unknown) with the path",
        "(route and why, NSG layers, egress or firewall rule), and for blocked or unknown the element to blame and the fix.",
        "What the program only names by ID (an existing subnet, route table or NSG) is unknown offline, never reachable.",
        "",
        "Arguments:",
        "  <folder>                 a Pulumi program's folder (its Pulumi.yaml, main and Pulumi.<stack>.yaml), e.g. `.`",
        `  <example>                a bundled example${examples.length ? `: ${examples.join(", ")}` : " (none in this installation)"}`,
        "                           (default: quickstart; a folder path needs a `/` or is `.`)",
        "",
        "Options:",
        "  --stack <name>           read config from Pulumi.<name>.yaml (default: the folder's only stack file, if any)",
        "  --config <key>=<value>   set a config value, over the stack file (repeatable; `key` means `<project>:key`)",
        "  --secret-config <key>=<value>",
        "                           set a config value as a secret: the program gets a secret, the plan shows [secret]",
        "  --json                   print the plan as one JSON document",
        "  --mermaid                print the resource tree as a Mermaid flowchart",
        "  --strict                 exit 1 also when a Windows VM's KMS reachability is unknown (not only blocked)",
        "  --html <file>            also write the plan as the fleet report's self-contained HTML page",
        `  --timeout <seconds>      stop the program after this long (default ${DEFAULT_TIMEOUT_SECONDS}); an endless loop ends in one line, exit 1`,
        `  --max-memory <MB>        the program's heap limit (default ${DEFAULT_MAX_MEMORY_MB}); running out ends in one line, exit 1`,
        "  -h, --help               print this help",
        "",
        "The program runs in a child process. What it prints (console.log, pulumi.log) goes to stderr, each line prefixed",
        `with "${PROGRAM_OUTPUT_PREFIX.trim()}", so --json and --mermaid on stdout always parse. A program that calls process.exit has no`,
        `plan (exit 2). Pulumi.yaml and the stack file must be regular files of at most ${MAX_INPUT_TEXT}.`,
        "",
        "Secrets: `[secret]` in every output for `secure:` stack values, --secret-config values, keys whose name says",
        "password, secret, token or key, and values the program reads as secrets (requireSecret, getSecret).",
        "Offline: invokes are answered without Azure: a subnet",
        "the program declares from its own inputs, an existing subnet as one with default outbound access (listed as",
        "unread), getClientConfig with all-zero IDs, any other invoke with its own arguments (listed in the plan).",
        "TypeScript is transpiled with the program's own `typescript` package (else the one @pulumi/pulumi vendors), without",
        "type checking.",
        "",
        "Exit status: 0 planned, 1 a Windows VM's KMS reachability is blocked (--strict: or unknown) or the program failed, 2 bad input.",
    ].join("\n");
}

/** An unknown or malformed option: exit 2 with the usage. */
export class PlanUsageError extends CliInputError {}

function looksLikePath(target: string): boolean {
    return target === "." || target === ".." || /[\\/]/.test(target) || path.isAbsolute(target);
}

/** A value `wholeNumber` refuses, as a usage error (exit 2 with the usage). */
function refusedAsUsage(read: () => number): number {
    try {
        return read();
    } catch (err) {
        throw new PlanUsageError((err as Error).message);
    }
}

/** Reads `[<example> | <folder>] [--stack <name>] [--config k=v]... [--json | --mermaid] [--timeout s] [--max-memory MB]`; throws with the fix on anything else. */
export function parseArgs(argv: string[]): PlanArgs {
    let target: string | undefined;
    let stack: string | undefined;
    let timeoutSeconds: number | undefined;
    let maxMemoryMb: number | undefined;
    const config: Record<string, string> = {};
    const secretConfig: Record<string, string> = {};
    const formats: PlanFormat[] = [];
    let strict = false;
    let html: string | undefined;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
        const value = (): string => {
            const v = inline ?? argv[++i];
            if (v === undefined || (inline === undefined && v.startsWith("-"))) {
                throw new PlanUsageError(`${flag} needs a value`);
            }
            return v;
        };
        if (flag === "--strict") {
            if (inline !== undefined) {
                throw new PlanUsageError(`${flag} takes no value`);
            }
            strict = true;
        } else if (flag === "--json" || flag === "--mermaid") {
            if (inline !== undefined) {
                throw new PlanUsageError(`${flag} takes no value`);
            }
            formats.push(flag === "--json" ? "json" : "mermaid");
        } else if (flag === "--html") {
            html = value();
        } else if (flag === "--stack") {
            if (stack !== undefined) {
                throw new PlanUsageError("--stack given twice; plan one stack at a time");
            }
            stack = value();
        } else if (flag === "--config" || flag === "--secret-config") {
            const pair = value();
            const eq = pair.indexOf("=");
            if (eq <= 0) {
                // A --secret-config argument is not echoed: without its `=` it may be the secret itself.
                throw new PlanUsageError(`${flag === "--config" ? `--config ${pair}` : flag}: expected <key>=<value>`);
            }
            (flag === "--config" ? config : secretConfig)[pair.slice(0, eq)] = pair.slice(eq + 1);
        } else if (flag === "--timeout") {
            timeoutSeconds = refusedAsUsage(() => wholeNumber(flag, value(), TIMEOUT_RANGE));
        } else if (flag === "--max-memory") {
            maxMemoryMb = refusedAsUsage(() => wholeNumber(flag, value(), MAX_MEMORY_RANGE));
        } else if (arg.startsWith("-") && arg !== "-") {
            throw new PlanUsageError(`unknown option ${arg}`);
        } else if (target !== undefined) {
            throw new PlanUsageError(`one program at a time: got "${target}" and "${arg}"`);
        } else {
            target = arg;
        }
    }
    if (new Set(formats).size > 1) {
        throw new PlanUsageError("--json and --mermaid cannot be used together; pick one");
    }
    const chosen = target ?? "quickstart";
    const isFolder = looksLikePath(chosen) || !isExampleName(chosen);
    if (isFolder && !looksLikePath(chosen) && !require("fs").existsSync(chosen)) {
        const known = listTargets();
        throw new PlanUsageError(
            `unknown example "${chosen}"; ${known.length ? `known examples: ${known.join(", ")}` : "this installation has no examples"} (a folder: ./${chosen})`,
        );
    }
    return { target: chosen, isFolder, stack, config, secretConfig, format: formats[0] ?? "text", strict, ...(html ? { html } : {}), timeoutSeconds, maxMemoryMb };
}

/** The program the arguments name: a folder (relative to `cwd`), or an example with its offline config. */
export function resolveSpec(args: PlanArgs, cwd: string = process.cwd()): ProgramSpec {
    if (!args.isFolder) {
        const target = args.stack === undefined || args.target.includes(":") ? args.target : `${args.target}:${args.stack}`;
        return exampleSpec(target, args.config, args.secretConfig);
    }
    return readProgramFolder(path.resolve(cwd, args.target), args.target, { stack: args.stack, config: args.config, secretConfig: args.secretConfig });
}

/** Renders a plan in the chosen format. */
export function render(plan: Plan, format: PlanFormat): string {
    return format === "json" ? renderJson(plan) : format === "mermaid" ? renderMermaid(plan) : renderText(plan);
}

/** What `plan` needs from its surroundings; tests pass their own. */
export interface PlanIo {
    out(s: string): void;
    err(s: string): void;
    cwd?: string;
    /** Runs the program's entry point in this process (tests: an isolated require). */
    load?: (file: string) => unknown;
    /** Writes the `--html` page (default: the file system). */
    writeFile?: (file: string, text: string) => void;
    /** Prepares this process to run the program and returns its loader (the child process: Node's `require`, prepared). */
    loaderFor?: (spec: ProgramSpec) => (file: string) => unknown;
}

/** `azure-kms-activation plan …`: 0 planned, 1 a VM blocked (`--strict`: or unknown) or the program failed, 2 bad input. */
export async function runPlan(argv: string[], io: PlanIo): Promise<number> {
    // What users run: the whole command in a child process, within the time and memory limits (planProcess.ts).
    if (!io.load && !io.loaderFor) {
        return runPlanInChild(argv, io);
    }
    if (argv.includes("--help") || argv.includes("-h")) {
        io.out(planHelp());
        return 0;
    }
    let spec: ProgramSpec;
    let args: PlanArgs;
    try {
        args = parseArgs(argv);
        spec = resolveSpec(args, io.cwd);
    } catch (err) {
        if (err instanceof PlanUsageError) {
            io.err(`plan: ${safeText(err.message)}\n${PLAN_USAGE}\nRun \`azure-kms-activation plan --help\` for more.`);
            return 2;
        }
        if (err instanceof CliInputError) {
            io.err(`plan: ${safeText(err.message)}`);
            return 2;
        }
        throw err;
    }
    const ran = await executeProgram(spec, io);
    if ("exit" in ran) {
        io.err(`plan: ${safeText(ran.message)}`);
        return ran.exit;
    }
    const plan = ran.plan;
    // Every secret value out of every format, wherever the program put it (a resource name, a tag, an echoed invoke).
    io.out(maskSecrets(render(plan, args.format), ran.secretValues));
    if (args.html) {
        const written = writePlanHtml(plan, args.html, io.writeFile);
        if (written) {
            io.err(`plan: ${safeText(written)}`);
            return 2;
        }
    }
    return reachabilityExit(plan, args.strict);
}

/** 1 when a Windows VM's verdict is `blocked` (with `--strict`, also `unknown`), so CI can gate on the plan; else 0. */
export function reachabilityExit(plan: Pick<Plan, "reachability">, strict: boolean): number {
    return plan.reachability.some((v) => v.verdict === "blocked" || (strict && v.verdict === "unknown")) ? 1 : 0;
}

/**
 * Runs the program and makes its plan in this process: with the caller's `load` (tests), or the loader `loaderFor`
 * prepares (the child process `plan` runs programs in). Any other end is an exit status and one line. No secret
 * leaves: the plan is masked before it is rendered (so what is derived from a name, a Mermaid node ID or the HTML
 * page, is derived from the mask), and so is the failure line (the command line's secrets are known even then).
 */
async function executeProgram(spec: ProgramSpec, io: PlanIo): Promise<{ plan: Plan; secretValues: string[] } | { exit: number; message: string }> {
    try {
        const load = io.load ?? (io.loaderFor as NonNullable<PlanIo["loaderFor"]>)(spec);
        const run = await runProgram(spec, load);
        return { plan: JSON.parse(maskSecrets(JSON.stringify(buildPlan(run)), run.secretValues)) as Plan, secretValues: run.secretValues };
    } catch (err) {
        if (err instanceof CliInputError) return { exit: 2, message: err.message };
        return { exit: 1, message: maskSecrets(`${spec.label}: the program failed: ${programError(err)}`, spec.secretKeys.map((k) => spec.config[k])) };
    }
}

/** The first line of what the program threw (Pulumi's RunError and the components' KmsInputError carry the fix). */
export function programError(err: unknown): string {
    const where = syntaxLocation(err);
    if (where) return `syntax error at ${where}`;
    const message = err instanceof Error ? err.message : String(err);
    // The SDK prefixes a failure inside an input with the property it was serializing; the component's own message
    // already names the component and the field.
    return message.split("\n")[0].replace(/^(error serializing property "[^"]*": )+/, "");
}
