// `azure-kms-activation plan`: runs a Pulumi program under Pulumi's mock engine (no credentials, no network, nothing
// deployed) and prints what `pulumi up` would create, like `pulumi preview`, with the KMS egress, each subnet's
// outbound and each VM's guest activation. The rendering walks the registered resources, so any resource type shows.
import * as path from "path";
import { writePlanHtml } from "../fleet/planReport";
import { activationScript, decodeSettings, GuestSettings, inflateCommandLine, MAX_COMMAND_LENGTH } from "../guest/render";
import { CliInputError } from "./errors";
import { exampleSpec, isExampleName, listTargets } from "./examples";
import { Registration } from "./mock-engine";
import { maskSecrets, OfflineAnswer, ProgramRun, ProgramSpec, readProgramFolder, runProgram, SECRET_PLACEHOLDER } from "./program";
import { PlanVmReachability, planReachability, reachabilityMermaid, renderReachability } from "./reachability";
import { syntaxLocation } from "./loader";
import { DEFAULT_MAX_MEMORY_MB, DEFAULT_TIMEOUT_SECONDS, MAX_MEMORY_RANGE, PROGRAM_OUTPUT_PREFIX, runPlanInChild, TIMEOUT_RANGE, wholeNumber } from "./planProcess";
import { MAX_INPUT_TEXT } from "./inputFile";
import { mermaidLabel, safeStrings, safeText } from "./sanitize";

const PACKAGE_TYPE = "azure-kms-activation:index:";

export interface PlanResource {
    type: string;
    name: string;
    parent: string | null;
    azure: boolean;
}

export interface PlanRoute {
    routeTable: string;
    name: string;
    addressPrefix: string;
    nextHop: string;
    addedByPackage: boolean;
}

export interface PlanSecurityRule {
    networkSecurityGroup: string;
    name: string;
    priority: number;
    direction: string;
    access: string;
    protocol: string;
    source: string;
    destinations: string[];
    ports: string;
    addedByPackage: boolean;
}

export interface PlanFirewallRule {
    firewallPolicy: string;
    ruleCollectionGroup: string;
    groupPriority: number;
    ruleCollection: string;
    collectionPriority: number;
    action: string;
    name: string;
    ruleType: string;
    protocols: string[];
    sources: string[];
    destinations: string[];
    ports: string[];
    addedByPackage: boolean;
}

export interface PlanOutbound {
    subnet: string;
    natGateway: string | null;
    defaultOutboundAccess: boolean | null;
}

export interface PlanActivation {
    /** The VM's name, or the scale set's (`scaleSet`). */
    vm: string;
    /** The activation is a scale-set extension: every instance runs it. */
    scaleSet: boolean;
    /** The VM extension or Run Command that runs the guest activation. */
    resource: string;
    mechanism: string;
    kmsEndpoint: string;
    /** The KMS hosts the guest tries in order (its Settings): one name, or with the IpAddress host form every address. */
    kmsHosts: string[];
    keySource: string;
    keyAction: string;
    scriptCharacters: number;
    commandCharacters: number | null;
    /** What the guest reported; a plan is a preview, so always `known after deploy`. */
    activationStatus: string;
    /** What the guest activation waits for (`activationWaitsFor`: the KMS routes and rule). */
    waitsFor: PlanActivationWait[];
}

export interface PlanActivationWait {
    /** The resource the activation waits for. */
    name: string;
    type: string;
}

export interface Plan {
    offline: true;
    /** How the program was named: `examples/quickstart`, or its folder. */
    program: string;
    /** The example target (`sovereign-clouds:china`), or null for a program folder. */
    example: string | null;
    project: string;
    stack: string;
    /**
     * The config the program ran with. `[secret]` for a secret: `secure:` in the stack file, `--secret-config`, a key
     * whose name says password, secret, token or key, a key the program reads as a secret.
     */
    config: Record<string, string>;
    /** The stack's outputs (the program's exports): the value, `[secret]`, or `known after deploy`. */
    outputs: Record<string, unknown>;
    /** Invokes answered by assumption, since an offline run cannot ask Azure. */
    offlineAnswers: OfflineAnswer[];
    resources: PlanResource[];
    routes: PlanRoute[];
    securityRules: PlanSecurityRule[];
    firewallRules: PlanFirewallRule[];
    outbound: PlanOutbound[];
    activations: PlanActivation[];
    /**
     * Each Windows VM's verdict per KMS address from the reachability engine, on the path the kms-reachability policy
     * resolves from the program's resources; what the plan could not see offline is `unknown`, never `reachable`.
     */
    reachability: PlanVmReachability[];
    unreadSubnets: string[];
    summary: { toCreate: number; azureResources: number; components: number };
}

const KEY_ACTIONS: Record<string, string> = {
    explicit: "install the given key (a secret), unless it is already installed",
    imageSku: "the image SKU's KMS client key: kept when the image already has it, else installed",
    detected: "detected in the guest from build and edition: installed unless the right KMS client key is in",
};

// How the plan shows a stack output a preview cannot know (an ID Azure assigns).
const UNKNOWN_OUTPUT = "known after deploy";

// How the engine serializes a value a preview cannot know.
const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

function lastSegment(id: unknown): string | null {
    return typeof id === "string" ? id.split("/").pop() ?? null : null;
}

function withinPackage(harness: ProgramRun["harness"], r: Registration): boolean {
    for (let parent = harness.byUrn(r.parentUrn); parent; parent = harness.byUrn(parent.parentUrn)) {
        if (parent.type.startsWith(PACKAGE_TYPE)) {
            return true;
        }
    }
    return false;
}

function secretInner(value: unknown): any {
    return value && typeof value === "object" && "value" in (value as object) ? (value as { value: unknown }).value : value;
}

/** The guest's Settings as the activation resource carries them: a Run Command's parameter, or inside the extension's compressed command. */
function guestSettingsOf(child: Registration, command: string | undefined): GuestSettings | undefined {
    try {
        if (command === undefined) {
            const parameter = ((child.inputs.parameters as { name: string; value: string }[] | undefined) ?? []).find((p) => p.name === "Settings");
            return parameter ? decodeSettings(parameter.value) : undefined;
        }
        const invocation = inflateCommandLine(command);
        const json = /Settings=-join\(\[Text\.Encoding\]::UTF8\.GetBytes\('([^']*)'\)/.exec(invocation)?.[1];
        return json ? (JSON.parse(json) as GuestSettings) : undefined;
    } catch {
        return undefined;
    }
}

// What an activation depends on by its own inputs (the machine it runs on, its resource group), not by
// activationWaitsFor.
const MACHINE_INPUTS = ["vmName", "vmScaleSetName"];

/** The resources an activation waits for (activationWaitsFor), besides the machine and group it runs in. */
function waitsFor(h: ProgramRun["harness"], child: Registration): PlanActivationWait[] {
    return child.dependencies
        .map((urn) => h.byUrn(urn))
        .filter((r): r is Registration => r !== undefined && r.custom)
        .filter((r) => r.type !== "azure-native:resources:ResourceGroup")
        .filter((r) => !MACHINE_INPUTS.some((k) => r.inputs[k] !== undefined && r.inputs[k] === child.inputs[k]))
        .map((r) => ({ name: r.name, type: r.type }));
}

/** The plan of a finished offline run. */
export function buildPlan(run: ProgramRun): Plan {
    const h = run.harness;
    const resources = h.registrations.map((r) => ({ type: r.type, name: r.name, parent: h.byUrn(r.parentUrn)?.name ?? null, azure: r.custom }));
    const routes = h.ofType("azure-native:network:Route").map((r) => ({
        routeTable: String(r.inputs.routeTableName),
        name: String(r.inputs.routeName ?? r.name),
        addressPrefix: String(r.inputs.addressPrefix),
        nextHop: [r.inputs.nextHopType, r.inputs.nextHopIpAddress].filter(Boolean).join(" "),
        addedByPackage: withinPackage(h, r),
    }));
    const securityRules = h.ofType("azure-native:network:SecurityRule").map((r) => ({
        networkSecurityGroup: String(r.inputs.networkSecurityGroupName),
        name: String(r.inputs.securityRuleName ?? r.name),
        priority: Number(r.inputs.priority),
        direction: String(r.inputs.direction),
        access: String(r.inputs.access),
        protocol: String(r.inputs.protocol),
        source: String(r.inputs.sourceAddressPrefix ?? (r.inputs.sourceAddressPrefixes as string[] | undefined)?.join(",") ?? "*"),
        destinations: (r.inputs.destinationAddressPrefixes as string[] | undefined) ?? [String(r.inputs.destinationAddressPrefix)],
        ports: String(r.inputs.destinationPortRange ?? (r.inputs.destinationPortRanges as string[] | undefined)?.join(",")),
        addedByPackage: withinPackage(h, r),
    }));
    const firewallRules = h.ofType("azure-native:network:FirewallPolicyRuleCollectionGroup").flatMap((group) =>
        ((group.inputs.ruleCollections as Record<string, any>[] | undefined) ?? []).flatMap((collection) =>
            ((collection.rules as Record<string, any>[] | undefined) ?? []).map((rule) => ({
                firewallPolicy: String(group.inputs.firewallPolicyName),
                ruleCollectionGroup: String(group.inputs.ruleCollectionGroupName ?? group.name),
                groupPriority: Number(group.inputs.priority),
                ruleCollection: String(collection.name),
                collectionPriority: Number(collection.priority),
                action: String(collection.action?.type ?? ""),
                name: String(rule.name),
                ruleType: String(rule.ruleType),
                protocols: (rule.ipProtocols ?? rule.protocols?.map((p: { protocolType: string; port?: number }) => `${p.protocolType}:${p.port}`) ?? []) as string[],
                sources: (rule.sourceAddresses ?? []) as string[],
                destinations: (rule.destinationAddresses ?? rule.targetFqdns ?? []) as string[],
                ports: (rule.destinationPorts ?? []) as string[],
                addedByPackage: withinPackage(h, group),
            })),
        ),
    );
    const outbound = h.ofType("azure-native:network:Subnet").map((r) => ({
        subnet: r.name,
        natGateway: lastSegment((r.inputs.natGateway as { id?: string } | undefined)?.id),
        defaultOutboundAccess: typeof r.inputs.defaultOutboundAccess === "boolean" ? r.inputs.defaultOutboundAccess : null,
    }));
    // Any resource that runs the guest script under a KmsActivation (a VM or scale set extension, a Run Command).
    const activations = h.ofType(`${PACKAGE_TYPE}KmsActivation`).flatMap((component) => {
        const child = h.registrations.find((r) => r.parentUrn === component.urn && r.custom);
        if (!child) {
            return [];
        }
        const outputs = (h.componentOutputs.get(component.urn) ?? {}) as Record<string, unknown>;
        const isRunCommand = /RunCommand/.test(child.type);
        const command = isRunCommand ? undefined : String(secretInner(child.inputs.protectedSettings)?.commandToExecute ?? "");
        const keySource = String(outputs.keySource);
        return [
            {
                vm: String(child.inputs.vmName ?? child.inputs.vmScaleSetName ?? component.name),
                scaleSet: child.inputs.vmName === undefined && child.inputs.vmScaleSetName !== undefined,
                resource: child.name,
                mechanism: isRunCommand ? "RunCommand" : "CustomScriptExtension",
                kmsEndpoint: String(outputs.kmsEndpoint),
                kmsHosts: guestSettingsOf(child, command)?.kmsHosts ?? [String(outputs.kmsEndpoint).replace(/:\d+$/, "")],
                keySource,
                keyAction: KEY_ACTIONS[keySource] ?? keySource,
                scriptCharacters: activationScript().length,
                commandCharacters: command === undefined ? null : command.length,
                activationStatus: outputs.activationStatus === undefined || outputs.activationStatus === UNKNOWN_VALUE ? "known after deploy" : String(outputs.activationStatus),
                waitsFor: waitsFor(h, child),
            },
        ];
    });
    const azureResources = resources.filter((r) => r.azure).length;
    return {
        offline: true,
        program: run.spec.label,
        example: run.spec.label.startsWith("examples/") ? run.spec.label.slice("examples/".length) : null,
        project: run.spec.project,
        stack: run.spec.stack,
        config: Object.fromEntries(
            Object.entries(run.spec.config).map(([k, v]) => [k, run.spec.secretKeys.includes(k) ? SECRET_PLACEHOLDER : v]),
        ),
        outputs: Object.fromEntries(
            Object.entries(run.stackOutputs).map(([k, o]) => [k, o.secret ? SECRET_PLACEHOLDER : o.known ? o.value : UNKNOWN_OUTPUT]),
        ),
        offlineAnswers: run.offlineAnswers,
        resources,
        routes,
        securityRules,
        firewallRules,
        outbound,
        activations,
        reachability: planReachability(h),
        unreadSubnets: run.unreadSubnets,
        // The stack resource Pulumi adds is counted too, as `pulumi preview` does.
        summary: { toCreate: resources.length + 1, azureResources, components: resources.length - azureResources },
    };
}

function configLines(plan: Plan): string[] {
    const keys = Object.keys(plan.config).sort();
    if (keys.length === 0) {
        return [];
    }
    const width = Math.max(...keys.map((k) => k.length)) + 2;
    return ["Config:", ...keys.map((k) => `    ${k.padEnd(width)}${plan.config[k]}`), ""];
}

function outputLines(plan: Plan): string[] {
    const keys = Object.keys(plan.outputs ?? {});
    if (keys.length === 0) {
        return [];
    }
    const width = Math.max(...keys.map((k) => k.length)) + 2;
    const text = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v) ?? "undefined");
    return ["Outputs:", ...keys.map((k) => `    ${`${k}:`.padEnd(width)}${text(plan.outputs[k])}`), ""];
}

function tree(plan: Plan): string[] {
    const stack = `${plan.project}-${plan.stack}`;
    const rows: [string, string, string][] = [["pulumi:pulumi:Stack", stack, "create"]];
    const walk = (parent: string | null, indent: string) => {
        const children = plan.resources.filter((r) => r.parent === parent);
        children.forEach((child, i) => {
            const last = i === children.length - 1;
            rows.push([`${indent}${last ? "└─ " : "├─ "}${child.type}`, child.name, "create"]);
            walk(child.name, `${indent}${last ? "   " : "│  "}`);
        });
    };
    walk(null, "");
    const typeWidth = Math.max(...rows.map((r) => r[0].length)) + 2;
    const nameWidth = Math.max(...rows.map((r) => r[1].length)) + 2;
    return [
        ` ${"    Type".padEnd(typeWidth + 4)}${"Name".padEnd(nameWidth)}Plan`,
        ...rows.map(([type, name, op]) => ` +   ${type.padEnd(typeWidth)}${name.padEnd(nameWidth)}${op}`),
    ];
}

/** The plan as text that reads like `pulumi preview`. Every value shown through the sanitizer (no input writes to the terminal). */
export function renderText(input: Plan): string {
    const plan = safeStrings(input);
    const n = (x: number) => x.toLocaleString("en-US");
    const lines = [
        `Offline plan of ${plan.program} (stack "${plan.stack}")`,
        "Pulumi's mock engine ran the program: no Azure credentials, no network, nothing deployed.",
        "",
        ...tree(plan),
        "",
        "Resources:",
        `    + ${plan.summary.toCreate} to create (${plan.summary.azureResources} Azure resources, ${plan.summary.components} components)`,
        "",
        ...configLines(plan),
        ...outputLines(plan),
        "KMS egress:",
    ];
    const packageRoutes = plan.routes.filter((r) => r.addedByPackage);
    const packageRules = plan.securityRules.filter((r) => r.addedByPackage);
    for (const table of [...new Set(plan.routes.map((r) => r.routeTable))]) {
        lines.push(`    route table ${table}:`);
        for (const r of plan.routes.filter((x) => x.routeTable === table)) {
            lines.push(`        ${r.addedByPackage ? "+ KMS" : "  own"}  ${r.name.padEnd(28)}${r.addressPrefix.padEnd(20)}-> ${r.nextHop}`);
        }
    }
    for (const nsg of [...new Set(plan.securityRules.map((r) => r.networkSecurityGroup))]) {
        lines.push(`    NSG ${nsg}:`);
        for (const r of plan.securityRules.filter((x) => x.networkSecurityGroup === nsg)) {
            lines.push(
                `        ${r.addedByPackage ? "+ KMS" : "  own"}  ${r.name.padEnd(28)}priority ${String(r.priority).padEnd(6)}${r.direction} ${r.access} ${r.protocol} ${r.source} -> ${r.destinations.join(", ")} port ${r.ports}`,
            );
        }
    }
    for (const group of [...new Set(plan.firewallRules.map((r) => `${r.firewallPolicy}\u0000${r.ruleCollectionGroup}`))]) {
        const [policy, name] = group.split("\u0000");
        const rules = plan.firewallRules.filter((r) => r.firewallPolicy === policy && r.ruleCollectionGroup === name);
        lines.push(`    firewall policy ${policy}, rule collection group ${name} (priority ${rules[0].groupPriority}):`);
        for (const r of rules) {
            lines.push(
                `        ${r.addedByPackage ? "+ KMS" : "  own"}  ${r.name.padEnd(28)}${r.ruleCollection} (priority ${r.collectionPriority}) ${r.action} ${r.ruleType} ${r.protocols.join(",")} ` +
                    `${r.sources.join(", ")} -> ${r.destinations.join(", ")} port ${r.ports.join(",")}`,
            );
        }
    }
    if (packageRoutes.length === 0 && packageRules.length === 0 && !plan.firewallRules.some((r) => r.addedByPackage)) {
        lines.push("    (none)");
    }
    lines.push("", "Explicit outbound:");
    for (const o of plan.outbound) {
        const access = o.defaultOutboundAccess === false ? "private subnet (defaultOutboundAccess: false)" : "default outbound access";
        lines.push(`    subnet ${o.subnet}: ${o.natGateway ? `NAT gateway ${o.natGateway}` : "no NAT gateway"}, ${access}`);
    }
    for (const s of plan.unreadSubnets) {
        lines.push(`    existing subnet ${s}: cannot be read offline; pulumi preview reads it and warns when it is private without a way out`);
    }
    if (plan.outbound.length === 0 && plan.unreadSubnets.length === 0) {
        lines.push("    (no subnet in this program)");
    }
    lines.push("", "Guest activation:");
    for (const a of plan.activations) {
        const port = a.kmsEndpoint.slice(a.kmsEndpoint.lastIndexOf(":") + 1);
        lines.push(
            a.kmsHosts.length > 1
                ? `    ${a.scaleSet ? "scale set" : "VM"} ${a.vm}: ${a.mechanism} -> slmgr /skms <the first of ${a.kmsHosts.join(", ")} that accepts TCP>:${port}`
                : `    ${a.scaleSet ? "scale set" : "VM"} ${a.vm}: ${a.mechanism} -> slmgr /skms ${a.kmsEndpoint}`,
        );
        lines.push(`        key: ${a.keyAction}`);
        lines.push(
            `        guest script: ${n(a.scriptCharacters)} characters` +
                (a.commandCharacters === null ? " (inline Run Command script)" : `; command line ${n(a.commandCharacters)} of ${n(MAX_COMMAND_LENGTH)}`),
        );
        if (a.waitsFor.length > 0) {
            lines.push(`        waits for: ${a.waitsFor.map((w) => w.name).join(", ")}`);
        }
        lines.push(`        activationStatus: ${a.activationStatus}`);
    }
    if (plan.activations.length === 0) {
        lines.push("    (no KmsActivation in this program)");
    }
    lines.push("", "KMS reachability (the reachability engine on each Windows VM's path, as the kms-reachability policy resolves it):");
    lines.push(...renderReachability(plan.reachability));
    if (plan.offlineAnswers.length > 0) {
        lines.push("", "Offline answers (no Azure to ask):");
        for (const a of plan.offlineAnswers) {
            lines.push(`    ${a.token}: ${a.assumption}`);
        }
    }
    lines.push("", "This was an offline plan. With Azure credentials, `pulumi preview` shows the real diff against your subscription.");
    return lines.join("\n");
}

function nodeId(name: string): string {
    return `r_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

/** The resource tree as a Mermaid flowchart, with the edges the guest activation waits for. */
export function renderMermaid(plan: Plan): string {
    const lines = ["flowchart TD", `    stack["${mermaidLabel(plan.project)} (offline plan)"]`];
    for (const r of plan.resources) {
        const kind = r.type.split(":").pop() ?? r.type;
        lines.push(`    ${nodeId(r.name)}["${mermaidLabel(kind)}<br/>${mermaidLabel(r.name)}"]`);
        lines.push(`    ${r.parent ? nodeId(r.parent) : "stack"} --> ${nodeId(r.name)}`);
        if (r.type.startsWith(PACKAGE_TYPE)) {
            lines.push(`    class ${nodeId(r.name)} component`);
        }
    }
    for (const a of plan.activations) {
        for (const w of a.waitsFor) {
            lines.push(`    ${nodeId(w.name)} -. activation waits for .-> ${nodeId(a.resource)}`);
        }
    }
    lines.push("    classDef component fill:#e8f0fe,stroke:#1a73e8");
    // Each Windows VM's path to KMS as the reachability engine judged it (the first KMS address's steps).
    lines.push(...reachabilityMermaid(plan.reachability));
    return lines.join("\n");
}

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
    return format === "json" ? JSON.stringify(plan, null, 2) : format === "mermaid" ? renderMermaid(plan) : renderText(plan);
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
