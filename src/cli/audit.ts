/**
 * `audit`: judges a deployed VM's path to KMS from what Azure reports for its NIC, with the same engine the
 * policy pack uses. Self-contained: the command front door calls `runAudit(argv, io)` and exits with its result.
 */
import { AddressReachability, AzureJsonError, PathStep, Reachability, cloudKmsDestination, decideReachability, pathFactsFromAzureCli } from "../reachability";
import { checkAzureCliOutputs } from "../reachability/azureJsonChecks";
import { AzureCloud } from "../types";
import { CliInputError } from "./errors";
import { jsonParseError, MAX_INPUT_TEXT } from "./inputFile";
import { safeStrings, safeText } from "./sanitize";

/** Where `audit` writes and how it reads files (injected, so tests and the front door need no process I/O). */
export interface AuditIo {
    /** Writes standard output (a whole line or block, newline included). */
    out(s: string): void;
    /** Writes standard error. */
    err(s: string): void;
    /** Reads a file as UTF-8 text; throws when it cannot. */
    readFile(path: string): string;
}

/** Exit codes: every address reachable, some blocked or unknown, bad input. */
export const AuditExit = { Reachable: 0, NotReachable: 1, BadInput: 2 } as const;

export const AUDIT_USAGE = `Usage: azure-kms-activation audit --routes <file> --nsgs <file> [--subnet <file>] [--nic <file>] [--cloud <AzureCloud>] [--json]

Judges whether TCP 1688 from one NIC reaches every Azure KMS address from an Azure public IP, from what Azure reports:
  --routes <file>   az network nic show-effective-route-table -g <rg> -n <nic>   (required)
  --nsgs <file>     az network nic list-effective-nsg -g <rg> -n <nic>           (required)
  --subnet <file>   az network vnet subnet show -g <rg> --vnet-name <vnet> -n <subnet>   (NAT gateway, defaultOutboundAccess)
  --nic <file>      az network nic show -g <rg> -n <nic>                          (public IP, private IP, load-balancer pools)
  --cloud <cloud>   ${Object.values(AzureCloud).join(", ")} (default AzurePublic)
  --json            print the verdicts as JSON
Each file holds the REST body ({"value": [...]}) or what the CLI prints. Without --subnet and --nic the egress may be unknown.
Each file must be a regular file of at most ${MAX_INPUT_TEXT}. Every value is checked before it is judged (priorities, ports,
prefixes, access, direction, protocol): a value Azure would not report refuses the input (exit 2), never a verdict.
IPv6 prefixes are listed as not judged (every KMS address is IPv4).
Exit: 0 every address reachable, 1 any blocked or unknown, 2 bad input (an empty route list too: every NIC has system routes).
`;

interface AuditArgs {
    routes: string;
    nsgs: string;
    subnet?: string;
    nic?: string;
    cloud: AzureCloud;
    json: boolean;
}

class UsageError extends Error {}

const FILE_OPTIONS = ["--routes", "--nsgs", "--subnet", "--nic"] as const;

function parseArgs(argv: readonly string[]): AuditArgs | "help" {
    const files: Partial<Record<(typeof FILE_OPTIONS)[number], string>> = {};
    let cloud: AzureCloud = AzureCloud.AzurePublic;
    let json = false;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const [name, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
        if (name === "--help" || name === "-h") return "help";
        if (name === "--json") {
            json = true;
            continue;
        }
        if ((FILE_OPTIONS as readonly string[]).includes(name) || name === "--cloud") {
            const value = inline ?? argv[++i];
            if (value === undefined || value === "" || (inline === undefined && value.startsWith("--"))) {
                throw new UsageError(`${name} needs a value`);
            }
            if (name === "--cloud") {
                const match = Object.values(AzureCloud).find((c) => c.toLowerCase() === value.toLowerCase());
                if (!match) throw new UsageError(`--cloud "${value}" is not one of ${Object.values(AzureCloud).join(", ")}`);
                cloud = match;
            } else {
                files[name as (typeof FILE_OPTIONS)[number]] = value;
            }
            continue;
        }
        throw new UsageError(`unknown argument "${arg}"`);
    }
    if (!files["--routes"] || !files["--nsgs"]) {
        throw new UsageError(`${!files["--routes"] ? "--routes" : "--nsgs"} is required`);
    }
    return { routes: files["--routes"], nsgs: files["--nsgs"], subnet: files["--subnet"], nic: files["--nic"], cloud, json };
}

function readJson(io: AuditIo, option: string, file: string): { json: unknown; file: string } {
    const label = `${option} file "${file}"`;
    let text: string;
    try {
        text = io.readFile(file);
    } catch (err) {
        if (err instanceof CliInputError) throw new UsageError(`${label} ${err.message}`);
        const code = (err as NodeJS.ErrnoException).code;
        throw new UsageError(`${label} cannot be read${code === "ENOENT" ? ": no such file" : `: ${(err as Error).message}`}`);
    }
    text = text.replace(/^\uFEFF/, "");
    try {
        return { json: JSON.parse(text), file: label };
    } catch (err) {
        const format = azTextFormat(text);
        if (format) {
            throw new UsageError(`${label} is az's ${format} output, not JSON; run the az command again with -o json (the text leaves out what the check needs)`);
        }
        // Never V8's message: it quotes the start of the file.
        throw new UsageError(`${label} is not JSON: ${jsonParseError(text, err)}`);
    }
}

/**
 * Whether a text is what `az … -o table` or `-o tsv` prints (a user's default output may be either, set by
 * `az config set core.output=table`): a header line over a line of dashes, or tab-separated columns.
 */
function azTextFormat(text: string): "table" | "tsv" | undefined {
    const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/).filter((l) => l.trim() !== "");
    if (lines.length >= 2 && /^-+(\s+-+)*\s*$/.test(lines[1]) && !/^[[{]/.test(lines[0].trim())) {
        return "table";
    }
    if (lines.length >= 1 && lines.every((l) => l.includes("\t")) && !/^[[{]/.test(lines[0].trim())) {
        return "tsv";
    }
    return undefined;
}

// What supplies a subnet the files did not name, said where a message can only say "the VM's subnet".
const SUBNET_NOTE =
    "the VM's subnet: the files do not name it; give --subnet <file> from `az network vnet subnet show -g <rg> --vnet-name <vnet> -n <subnet> -o json` " +
    "(or --nic <file> from `az network nic show -g <rg> -n <nic> -o json`, which names it)";

const MARK: Record<PathStep["outcome"], string> = { pass: "ok     ", block: "BLOCKS ", unknown: "UNKNOWN" };

function nextHopLines(a: AddressReachability): string[] {
    if (!a.route) return ["  Next hop type: -   (no route chosen)"];
    const r = a.route.route;
    const table = r.source === "User" ? (r.routeTable ? `route table "${r.routeTable}", route "${r.name}"` : `user route "${r.name ?? a.route.prefix}"`) : r.source === "Default" ? "System Route" : `BGP (${r.source})`;
    return [`  Next hop type: ${r.nextHopType}   Next hop IP: ${r.nextHopIpAddress ?? "-"}   Route: ${table} ${a.route.prefix} (${a.route.why})`];
}

/**
 * The text `audit` prints: per KMS address the next hop (as Network Watcher shows it), each step, the verdict.
 * Every value from the input is shown through the sanitizer: a name cannot move the cursor or start a line.
 */
export function formatAudit(input: Reachability, heading: string, notJudged: readonly string[] = []): string {
    const result = safeStrings(input);
    const lines = [safeText(heading), ""];
    for (const a of result.addresses) {
        lines.push(`${a.address}:${a.port}  ${a.verdict.toUpperCase()}`);
        lines.push(...nextHopLines(a));
        for (const s of a.steps) lines.push(`  [${s.rule}] ${MARK[s.outcome]} ${s.detail}`);
        if (a.egress) lines.push(`  Egress: ${a.egress}`);
        if (a.blame) {
            lines.push(`  Blame: [${a.blame.rule}] ${a.blame.element}`);
            lines.push(`  Fix: ${a.blame.fix}`);
        }
        lines.push("");
    }
    for (const note of notJudged) lines.push(`Not judged: ${safeText(note)}`);
    if (notJudged.length > 0) lines.push("");
    const reachable = result.addresses.filter((a) => a.verdict === "reachable").length;
    lines.push(`Verdict: ${result.verdict} (${reachable} of ${result.addresses.length} KMS addresses reachable)`);
    return `${lines.join("\n")}\n`;
}

/**
 * Runs `audit` with the arguments after the command name. Returns the exit code: 0 every KMS address reachable,
 * 1 any blocked or unknown, 2 bad input (usage, a missing or unreadable file, not JSON, another shape: one line
 * on `err` naming the file).
 */
export function runAudit(argv: string[], io: AuditIo): number {
    let args: AuditArgs | "help";
    try {
        args = parseArgs(argv);
    } catch (err) {
        io.err(`audit: ${safeText((err as Error).message)}\n${AUDIT_USAGE}`);
        return AuditExit.BadInput;
    }
    if (args === "help") {
        io.out(AUDIT_USAGE);
        return AuditExit.Reachable;
    }
    let result: Reachability;
    const destination = cloudKmsDestination(args.cloud);
    let nicName: string | undefined;
    let notJudged: string[];
    try {
        const outputs = {
            routes: readJson(io, "--routes", args.routes),
            nsgs: readJson(io, "--nsgs", args.nsgs),
            ...(args.subnet ? { subnet: readJson(io, "--subnet", args.subnet) } : {}),
            ...(args.nic ? { nic: readJson(io, "--nic", args.nic) } : {}),
        };
        // Every value checked before the engine sees one: an invalid rule refuses the input, never a verdict.
        notJudged = checkAzureCliOutputs(outputs).notJudged;
        const facts = pathFactsFromAzureCli(outputs);
        nicName = facts.vmName;
        result = decideReachability(facts, destination);
    } catch (err) {
        if (err instanceof UsageError || err instanceof AzureJsonError) {
            io.err(`audit: ${safeText(err.message)}\n`);
            return AuditExit.BadInput;
        }
        throw err;
    }
    if (args.json) {
        io.out(`${JSON.stringify({ kms: { host: destination.host, port: destination.port, source: destination.source }, verdict: result.verdict, addresses: result.addresses, notJudged }, null, 2)}\n`);
    } else {
        const missing = [...(args.subnet ? [] : ["--subnet"]), ...(args.nic ? [] : ["--nic"])];
        const note = missing.length > 0 ? ` (without ${missing.join(" and ")})` : "";
        const text = formatAudit(result, `KMS ${destination.host}:${destination.port} (${destination.source}) from ${nicName ?? "the NIC"}${note}`, notJudged);
        io.out(text.includes("the VM's subnet") ? `${text}Note: ${SUBNET_NOTE}\n` : text);
    }
    return result.verdict === "reachable" ? AuditExit.Reachable : AuditExit.NotReachable;
}
