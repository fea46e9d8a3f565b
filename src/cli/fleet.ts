/**
 * `fleet`: every Windows VM's activation state (and KMS path with `--paths`) and stale KMS routes/rules in the
 * subscriptions a credential sees, read through Azure's SDK. A thin shell: parsing and exit codes here, the reading
 * and the reports in src/fleet/.
 */
import { writeFileSync } from "fs";
import type { TokenCredential } from "@azure/identity";
import { cloudOfArmEndpoint, defaultCredential, fleetClients } from "../fleet/clients";
import { renderFleetHtml } from "../fleet/html";
import { CREDENTIAL_ERRORS, FleetAccessError, fleetIsFine, readFleet } from "../fleet/read";
import { renderFleetJson, renderFleetText } from "../fleet/report";
import { Resolve4 } from "../fleet/stale";
import { FleetReport } from "../fleet/types";
import { AzureCloud } from "../types";
import { safeStrings, safeText } from "./sanitize";

/** Where `fleet` writes. */
export interface FleetIo {
    out(s: string): void;
    err(s: string): void;
}

/** What the command takes from its surroundings; tests and the bench give a stand-in's. */
export interface FleetEnvironment {
    /** Default: `DefaultAzureCredential`. */
    credential?: TokenCredential;
    /** Resource Manager endpoint instead of the cloud's (a stand-in). */
    endpoint?: string;
    /** PEM certificate to trust for it. */
    ca?: string;
    /** DNS resolver for `--resolve`. */
    resolve4?: Resolve4;
    /** Where the progress bar goes; it is drawn only when this is a terminal. Default: process.stderr. */
    progress?: { isTTY?: boolean; write(s: string): unknown };
    /** Writes the `--html` file. */
    writeFile?: (file: string, text: string) => void;
    /** Receives the report (the bench reads its counts). */
    onReport?: (report: FleetReport) => void;
}

export const FleetExit = { Fine: 0, NotFine: 1, BadInput: 2 } as const;

export const FLEET_USAGE = `Usage: azure-kms-activation fleet [--subscription <id>]... [--resource-group <name>] [--paths] [--probe] [--resolve] [--json] [--html <file>] [--concurrency <n>] [--cloud <AzureCloud>]

Every Windows VM's (and scale set instance's) activation state in the subscriptions your Azure credential sees
(az login, managed identity or AZURE_* environment), read from the KmsActivation extension's or run command's result
line, and every route table, NSG and firewall rule collection group that routes or allows some KMS addresses but
not all (stale since Azure moved its KMS in 2023).
  --subscription <id>     a subscription to read (repeatable; default: every one the credential sees)
  --resource-group <name> only this resource group
  --paths                 also judge each VM's effective routes and NSGs (long-running reads per NIC)
  --probe                 ask guests with no result line through Run Command, read-only (it runs code in them)
  --resolve               resolve the KMS names from here and report addresses outside the package's table
  --json                  print the report as JSON (schema: docs/fleet.md)
  --html <file>           also write a self-contained HTML page
  --concurrency <n>       per-VM reads at once, 1-64 (default 8)
  --cloud <cloud>         ${Object.values(AzureCloud).join(", ")} (default AzurePublic)
Exit: 0 every Windows VM activated/licensed and every judged path reachable, 1 otherwise, 2 bad input or no access.
`;

/** Parsed options. */
export interface FleetArgs {
    subscriptions: string[];
    resourceGroup?: string;
    paths: boolean;
    probe: boolean;
    resolve: boolean;
    json: boolean;
    html?: string;
    concurrency: number;
    cloud?: AzureCloud;
}

class UsageError extends Error {}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// ARM resource group names: 1-90 letters, digits, underscores, hyphens, periods, parentheses; not ending in a period.
const RESOURCE_GROUP = /^[-\w.()]{0,89}[-\w()]$/;

/** Reads the command's arguments; throws a one-line `UsageError` naming the option and the fix. */
export function parseFleetArgs(argv: readonly string[]): FleetArgs | "help" {
    const args: FleetArgs = { subscriptions: [], paths: false, probe: false, resolve: false, json: false, concurrency: 8 };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const [name, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
        if (name === "--help" || name === "-h") return "help";
        if (name === "--paths" || name === "--probe" || name === "--resolve" || name === "--json") {
            args[name.slice(2) as "paths" | "probe" | "resolve" | "json"] = true;
            continue;
        }
        if (!["--subscription", "--resource-group", "--html", "--concurrency", "--cloud"].includes(name)) {
            throw new UsageError(`unknown argument "${arg}"`);
        }
        const value = inline ?? argv[++i];
        if (value === undefined || value === "" || (inline === undefined && value.startsWith("--"))) throw new UsageError(`${name} needs a value`);
        if (name === "--subscription") {
            if (!GUID.test(value)) throw new UsageError(`--subscription "${value}" is not a subscription ID: give its GUID (az account list -o table)`);
            if (!args.subscriptions.includes(value.toLowerCase())) args.subscriptions.push(value.toLowerCase());
        } else if (name === "--resource-group") {
            if (!RESOURCE_GROUP.test(value)) throw new UsageError(`--resource-group "${value}" is not a resource group name (1-90 letters, digits, - _ . ( ), not ending in .)`);
            args.resourceGroup = value;
        } else if (name === "--html") {
            args.html = value;
        } else if (name === "--concurrency") {
            const n = Number(value);
            if (!/^\d+$/.test(value) || n < 1 || n > 64) throw new UsageError(`--concurrency "${value}" must be a whole number from 1 to 64`);
            args.concurrency = n;
        } else {
            const match = Object.values(AzureCloud).find((c) => c.toLowerCase() === value.toLowerCase());
            if (!match) throw new UsageError(`--cloud "${value}" is not one of ${Object.values(AzureCloud).join(", ")}`);
            args.cloud = match;
        }
    }
    return args;
}

function progressBar(stream: FleetEnvironment["progress"]): ((done: number, total: number) => void) | undefined {
    if (!stream?.isTTY) return undefined;
    return (done, total) => {
        const width = 30;
        const filled = Math.round((done / Math.max(1, total)) * width);
        stream.write(`\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} VMs${done === total ? "\r\x1b[K" : ""}`);
    };
}

/** Runs `fleet`; returns the exit code. */
export async function runFleet(argv: string[], io: FleetIo, env: FleetEnvironment = {}): Promise<number> {
    let args: FleetArgs | "help";
    try {
        args = parseFleetArgs(argv);
    } catch (err) {
        io.err(`fleet: ${safeText((err as Error).message)}\n${FLEET_USAGE}`);
        return FleetExit.BadInput;
    }
    if (args === "help") {
        io.out(FLEET_USAGE);
        return FleetExit.Fine;
    }
    const cloud = args.cloud ?? (env.endpoint ? cloudOfArmEndpoint(env.endpoint) : undefined) ?? AzureCloud.AzurePublic;
    let report: FleetReport;
    try {
        const clients = fleetClients({ credential: env.credential ?? defaultCredential(), cloud, endpoint: env.endpoint, ca: env.ca });
        report = await readFleet(clients, {
            cloud,
            subscriptions: args.subscriptions,
            resourceGroup: args.resourceGroup,
            paths: args.paths,
            probe: args.probe,
            resolve: args.resolve,
            concurrency: args.concurrency,
            resolve4: env.resolve4,
            progress: progressBar(env.progress ?? process.stderr),
        });
    } catch (err) {
        if (err instanceof FleetAccessError) {
            io.err(`fleet: no access: ${safeText(err.message)}`);
            return FleetExit.BadInput;
        }
        if (CREDENTIAL_ERRORS.includes((err as Error).name)) {
            io.err(`fleet: no Azure credential: ${safeText(String((err as Error).message).split(/\r?\n/)[0].slice(0, 300))} (run az login, or set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET)`);
            return FleetExit.BadInput;
        }
        throw err;
    }
    env.onReport?.(report);
    // Names, rule names and the guests' own diagnoses come from Azure and from the VMs: the text goes through the one
    // sanitizer (src/cli/sanitize.ts), as plan's and audit's do; JSON escapes by itself, the HTML page escapes its own.
    io.out(args.json ? renderFleetJson(report) : renderFleetText(safeStrings(report)));
    if (args.html) {
        try {
            (env.writeFile ?? ((file, text) => writeFileSync(file, text, "utf8")))(args.html, renderFleetHtml(report));
        } catch (err) {
            io.err(`fleet: --html file "${safeText(args.html)}" cannot be written: ${safeText((err as Error).message)}`);
            return FleetExit.BadInput;
        }
    }
    const denied = report.subscriptions.filter((s) => s.access !== "ok");
    if (denied.length > 0) {
        io.err(`fleet: no access to subscription ${safeText(denied.map((s) => `${s.id} (${s.error})`).join("; "))}: grant the credential Reader there, or leave it out with --subscription`);
        return FleetExit.BadInput;
    }
    return fleetIsFine(report) ? FleetExit.Fine : FleetExit.NotFine;
}
