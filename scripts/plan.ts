// `npm run plan [-- <example>] [--json] [--mermaid]`: runs an example program under Pulumi's mock engine (no
// credentials, no network, nothing deployed) and prints what `pulumi up` would create, like `pulumi preview`.
import { ExampleRun, listTargets, runExample } from "./examples";
import { Registration } from "./mock-engine";
import { activationScript, MAX_COMMAND_LENGTH } from "../src/guest/render";

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

export interface PlanOutbound {
    subnet: string;
    natGateway: string | null;
    defaultOutboundAccess: boolean | null;
}

export interface PlanActivation {
    vm: string;
    mechanism: string;
    kmsEndpoint: string;
    keySource: string;
    keyAction: string;
    scriptCharacters: number;
    commandCharacters: number | null;
    /** What the guest reported; a plan is a preview, so always `known after deploy`. */
    activationStatus: string;
}

export interface Plan {
    offline: true;
    example: string;
    project: string;
    resources: PlanResource[];
    routes: PlanRoute[];
    securityRules: PlanSecurityRule[];
    outbound: PlanOutbound[];
    activations: PlanActivation[];
    unreadSubnets: string[];
    summary: { toCreate: number; azureResources: number; components: number };
}

// How the engine serializes a value a preview cannot know.
const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const KEY_ACTIONS: Record<string, string> = {
    explicit: "install the given key (a secret), unless it is already installed",
    imageSku: "the image SKU's KMS client key: kept when the image already has it, else installed",
    detected: "detected in the guest from build and edition: installed unless the right KMS client key is in",
};

function lastSegment(id: unknown): string | null {
    return typeof id === "string" ? id.split("/").pop() ?? null : null;
}

function withinPackage(harness: ExampleRun["harness"], r: Registration): boolean {
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

/** The plan of a finished offline run. */
export function buildPlan(run: ExampleRun): Plan {
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
    const outbound = h.ofType("azure-native:network:Subnet").map((r) => ({
        subnet: r.name,
        natGateway: lastSegment((r.inputs.natGateway as { id?: string } | undefined)?.id),
        defaultOutboundAccess: typeof r.inputs.defaultOutboundAccess === "boolean" ? r.inputs.defaultOutboundAccess : null,
    }));
    const activations = h.ofType(`${PACKAGE_TYPE}KmsActivation`).map((component) => {
        const child = h.registrations.find((r) => r.parentUrn === component.urn && r.custom)!;
        const outputs = (h.componentOutputs.get(component.urn) ?? {}) as Record<string, unknown>;
        const isRunCommand = child.type.endsWith("RunCommandByVirtualMachine");
        const command = isRunCommand ? undefined : String(secretInner(child.inputs.protectedSettings)?.commandToExecute ?? "");
        const keySource = String(outputs.keySource);
        return {
            vm: String(child.inputs.vmName),
            mechanism: isRunCommand ? "RunCommand" : "CustomScriptExtension",
            kmsEndpoint: String(outputs.kmsEndpoint),
            keySource,
            keyAction: KEY_ACTIONS[keySource] ?? keySource,
            scriptCharacters: activationScript().length,
            commandCharacters: command === undefined ? null : command.length,
            activationStatus: outputs.activationStatus === undefined || outputs.activationStatus === UNKNOWN_VALUE ? "known after deploy" : String(outputs.activationStatus),
        };
    });
    const azureResources = resources.filter((r) => r.azure).length;
    return {
        offline: true,
        example: run.variant ? `${run.example}:${run.variant}` : run.example,
        project: run.project,
        resources,
        routes,
        securityRules,
        outbound,
        activations,
        unreadSubnets: run.unreadSubnets,
        // The stack resource Pulumi adds is counted too, as `pulumi preview` does.
        summary: { toCreate: resources.length + 1, azureResources, components: resources.length - azureResources },
    };
}

function tree(plan: Plan): string[] {
    const stack = `${plan.project}-offline`;
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

/** The plan as text that reads like `pulumi preview`. */
export function renderText(plan: Plan): string {
    const n = (x: number) => x.toLocaleString("en-US");
    const lines = [
        `Offline plan of examples/${plan.example} (stack "offline")`,
        "Pulumi's mock engine ran the program: no Azure credentials, no network, nothing deployed.",
        "",
        ...tree(plan),
        "",
        "Resources:",
        `    + ${plan.summary.toCreate} to create (${plan.summary.azureResources} Azure resources, ${plan.summary.components} components)`,
        "",
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
    if (packageRoutes.length === 0 && packageRules.length === 0) {
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
        lines.push(`    VM ${a.vm}: ${a.mechanism} -> slmgr /skms ${a.kmsEndpoint}`);
        lines.push(`        key: ${a.keyAction}`);
        lines.push(
            `        guest script: ${n(a.scriptCharacters)} characters` +
                (a.commandCharacters === null ? " (inline Run Command script)" : `; command line ${n(a.commandCharacters)} of ${n(MAX_COMMAND_LENGTH)}`),
        );
        lines.push(`        activationStatus: ${a.activationStatus}`);
    }
    lines.push("", "This was an offline plan. With Azure credentials, `pulumi preview` shows the real diff against your subscription.");
    return lines.join("\n");
}

function nodeId(name: string): string {
    return `r_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

/** The resource tree as a Mermaid flowchart. */
export function renderMermaid(plan: Plan): string {
    const lines = ["flowchart TD", `    stack["${plan.project} (offline plan)"]`];
    for (const r of plan.resources) {
        const kind = r.type.split(":").pop();
        lines.push(`    ${nodeId(r.name)}["${kind}<br/>${r.name}"]`);
        lines.push(`    ${r.parent ? nodeId(r.parent) : "stack"} --> ${nodeId(r.name)}`);
        if (r.type.startsWith(PACKAGE_TYPE)) {
            lines.push(`    class ${nodeId(r.name)} component`);
        }
    }
    lines.push("    classDef component fill:#e8f0fe,stroke:#1a73e8");
    return lines.join("\n");
}

export interface PlanArgs {
    target: string;
    format: "text" | "json" | "mermaid";
}

/** Reads `[<example>] [--json] [--mermaid]`; throws with the fix on anything else. */
export function parseArgs(argv: string[]): PlanArgs {
    let target = "quickstart";
    let format: PlanArgs["format"] = "text";
    for (const arg of argv) {
        if (arg === "--json" || arg === "--mermaid") {
            format = arg === "--json" ? "json" : "mermaid";
        } else if (arg.startsWith("-")) {
            throw new Error(`unknown option ${arg}; use: npm run plan [-- <example>] [--json] [--mermaid]`);
        } else {
            target = arg;
        }
    }
    if (!listTargets().includes(target)) {
        throw new Error(`unknown example "${target}"; known examples: ${listTargets().join(", ")}`);
    }
    return { target, format };
}

export async function plan(args: PlanArgs): Promise<string> {
    const built = buildPlan(await runExample(args.target));
    return args.format === "json" ? JSON.stringify(built, null, 2) : args.format === "mermaid" ? renderMermaid(built) : renderText(built);
}

if (require.main === module) {
    (async () => {
        let args: PlanArgs;
        try {
            args = parseArgs(process.argv.slice(2));
        } catch (err) {
            process.stderr.write(`plan: ${(err as Error).message}\n`);
            process.exit(2);
        }
        process.stdout.write(`${await plan(args)}\n`);
        // The mock engine keeps no handles open, but the program may have started timers: end now.
        process.exit(0);
    })().catch((err) => {
        process.stderr.write(`plan: ${(err as Error).stack ?? err}\n`);
        process.exit(1);
    });
}
