// The model `plan` computes from a program run under the mock engine: the resources, the KMS egress, each subnet's
// outbound, each VM's guest activation and reachability verdict. Rendering it (text, JSON, Mermaid, HTML) is each
// format's own module over this model: planText.ts, planJson.ts, planMermaid.ts, ../fleet/planReport.ts.
import { activationScript, decodeSettings, GuestSettings, inflateCommandLine } from "../guest/render";
import { Registration } from "./mock-engine";
import { OfflineAnswer, ProgramRun, SECRET_PLACEHOLDER } from "./program";
import { PlanVmReachability, planReachability } from "./reachability";

/** The type prefix of the package's own components. */
export const PACKAGE_TYPE = "azure-kms-activation:index:";

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
