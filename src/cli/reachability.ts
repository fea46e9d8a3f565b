// The offline plan's KMS reachability: the mock engine's registrations handed, in the shape the policy engine gives
// policies, to the kms-reachability policy's own stack resolution (src/policy/paths.ts) and judged by the one
// reachability engine. Nothing here decides reachability; it only says what the plan could not see.
import type { PolicyResource } from "@pulumi/policy/policy";
import { kmsEndpoint } from "../kms/endpoints";
import { PathGaps, StackPaths } from "../policy/paths";
import { isWindows } from "../policy/vm";
import { parseIpv4 } from "../reachability/cidr";
import { cloudKmsDestination, customKmsDestination, decideReachability } from "../reachability/engine";
import { AddressReachability, KmsDestination, PathFacts, Verdict } from "../reachability/types";
import { AzureCloud } from "../types";
import { Harness, Registration, isSecretValue } from "./mock-engine";
import { mermaidLabel } from "./sanitize";

const PACKAGE_TYPE = "azure-kms-activation:index:";
const VM = "azure-native:compute:VirtualMachine";
const NIC = "azure-native:network:NetworkInterface";
const ACTIVATION = `${PACKAGE_TYPE}KmsActivation`;

/** What the plan says when it cannot see a VM's path: how to get the answer where Azure can be asked. */
export const UNSEEN_FIX =
    "judge it from what Azure reports for the VM's NIC once it exists: `azure-kms-activation audit` with " +
    "`az network nic show-effective-route-table` and `az network nic list-effective-nsg` (the policy pack, too, judges only the stack's own resources).";

/** The KMS a VM's activation points at, as the plan judged it. */
export interface PlanKms {
    /** `host:port` as the guest uses it (`slmgr /skms`). */
    endpoint: string;
    /** Where the addresses come from: a cloud name, or `customKmsServer`. */
    source: string;
    /** `true`: an on-premises KMS, reached privately (rule K1). */
    custom: boolean;
    /** The addresses judged, each on its own. */
    addresses: string[];
}

/** One Windows VM's verdict: the engine's answer per KMS address, and what the offline plan could not see. */
export interface PlanVmReachability {
    /** The VM's Azure name. */
    vm: string;
    /** `true`: the VM is in the program; `false`: only a KmsActivation names it (an existing VM). */
    inProgram: boolean;
    /** The subnet of its primary NIC, when the plan could find it. */
    subnet: string | null;
    /** The KMS judged; null when the plan could not tell its addresses. */
    kms: PlanKms | null;
    /** `reachable` only when every address is; `blocked` when any is; else `unknown`. */
    verdict: Verdict;
    /** The engine's answer per address: the route and why it won, each NSG layer, the next hop or egress, blame and fix. */
    addresses: PlanAddress[];
    /** Each element of the path outside the program or not known offline, in plain words. */
    unseen: string[];
    /** For a VM whose path cannot be judged at all: the element to blame and how to get the answer. */
    blame: { element: string; fix: string } | null;
    /**
     * When only a gateway's routes (learned by Azure, never in a program) stand between the VM and a verdict: the
     * engine's answer under the one assumption those routes must meet. Not a verdict: `verdict` stays `unknown`.
     */
    assuming: PlanAssumption | null;
}

/** The engine's answer for one KMS address, and the public IP resource its egress leaves from, when the program holds it. */
export interface PlanAddress extends AddressReachability {
    /** E.g. `public IP "kms-net-nat-ip" (address assigned by Azure at deployment)`; null for a private path or none. */
    publicIpSource: string | null;
}

/** The engine's answer if the routes the plan cannot see say what `condition` says. */
export interface PlanAssumption {
    condition: string;
    verdict: Verdict;
    addresses: PlanAddress[];
}

/** A serialized value with every Pulumi secret replaced by its plain value (the resolution needs the data, not the flag). */
function unsecret(value: unknown): unknown {
    if (isSecretValue(value)) return unsecret((value as { value: unknown }).value);
    if (Array.isArray(value)) return value.map(unsecret);
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, unsecret(v)]));
    }
    return value;
}

/**
 * A registration as the policy engine hands it to a stack policy: the mock engine's state (the inputs, the Azure
 * name, the ID and what it computes as Azure would, e.g. a firewall's private IP). A NIC keeps its own inputs'
 * IP configurations: its dynamic address is Azure's choice at deployment, and the mock's is made up.
 */
export function policyResourceOf(r: Registration): PolicyResource {
    const state = unsecret(r.outputs) as Record<string, unknown>;
    const props: Record<string, unknown> = { ...state, id: r.id };
    if (r.type === NIC) props.ipConfigurations = unsecret(r.inputs.ipConfigurations);
    return {
        type: r.type,
        name: r.name,
        urn: r.urn,
        props,
        opts: {
            protect: false,
            ignoreChanges: [],
            aliases: [],
            customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
            additionalSecretOutputs: [],
            parent: r.parentUrn || undefined,
        },
        dependencies: [],
        // Under the mock engine every value is known, so no reference needs the engine's dependency record.
        propertyDependencies: {},
        isType: () => false,
        asType: () => undefined,
    } as PolicyResource;
}

/** The stack's resources as the policy engine gives them: custom resources only (components hold no Azure facts). */
export function stackResources(harness: Harness): PolicyResource[] {
    return harness.custom().map(policyResourceOf);
}

function endpointParts(endpoint: string): { host: string; port: number } {
    const at = endpoint.lastIndexOf(":");
    return at < 0 ? { host: endpoint, port: 1688 } : { host: endpoint.slice(0, at), port: Number(endpoint.slice(at + 1)) };
}

function cloudOf(host: string): AzureCloud | undefined {
    return Object.values(AzureCloud).find((cloud) => {
        const e = kmsEndpoint(cloud);
        return e.host.toLowerCase() === host.toLowerCase() || e.ipAddresses.includes(host);
    });
}

/**
 * The KMS an activation's endpoint names: a cloud's KMS by its host name or one of its IPs; otherwise an on-premises
 * KMS, whose addresses are the one custom set the program's KMS components (KmsNetwork, KmsEgressRules,
 * KmsFirewallRules) output, or the host itself when it is an IP.
 */
function destinationOf(endpoint: string, customSets: string[][]): { destination: KmsDestination } | { missing: string } {
    const { host, port } = endpointParts(endpoint);
    const cloud = cloudOf(host);
    if (cloud) return { destination: cloudKmsDestination(cloud) };
    const sets = [...new Map(customSets.map((s) => [s.join(","), s])).values()];
    if (sets.length === 1) return { destination: customKmsDestination({ host, port, addressPrefixes: sets[0] }) };
    if (parseIpv4(host) !== undefined) return { destination: customKmsDestination({ host, port, addressPrefixes: [host] }) };
    return {
        missing:
            sets.length === 0
                ? `the addresses of the on-premises KMS ${host}: no KMS component of the program outputs them (customKmsServer.addressPrefixes)`
                : `the addresses of the on-premises KMS ${host}: the program's KMS components name ${sets.length} different sets`,
    };
}

/** The custom KMS address sets the program's components output (`kmsAddressPrefixes`), without the clouds' own. */
function customAddressSets(harness: Harness): string[][] {
    const cloudSets = Object.values(AzureCloud).map((c) => kmsEndpoint(c).ipAddresses.join(","));
    return [...harness.componentOutputs.values()]
        .map((o) => (o as { kmsAddressPrefixes?: unknown } | undefined)?.kmsAddressPrefixes)
        .filter((p): p is string[] => Array.isArray(p) && p.every((x) => typeof x === "string"))
        .filter((p) => !cloudSets.includes(p.join(",")));
}

interface ActivationTarget {
    vm: string;
    endpoint: string;
    scaleSet: boolean;
}

/** Every KmsActivation's target VM (or scale set) and the endpoint it points the guest at. */
function activationTargets(harness: Harness): ActivationTarget[] {
    return harness.ofType(ACTIVATION).flatMap((component) => {
        const child = harness.registrations.find((r) => r.parentUrn === component.urn && r.custom);
        const outputs = (harness.componentOutputs.get(component.urn) ?? {}) as { kmsEndpoint?: unknown };
        const vm = child?.inputs.vmName ?? child?.inputs.vmScaleSetName;
        if (!child || typeof vm !== "string" || typeof outputs.kmsEndpoint !== "string") return [];
        return [{ vm, endpoint: outputs.kmsEndpoint, scaleSet: child.inputs.vmName === undefined }];
    });
}

const EGRESS_TYPES: Record<string, string> = {
    "NAT gateway": "azure-native:network:NatGateway",
    "instance-level public IP": "azure-native:network:PublicIPAddress",
    "Azure Firewall": "azure-native:network:AzureFirewall",
};

/** The public IP resources of the program an address leaves from (its NAT gateway's, its firewall's, the NIC's own). */
function publicIpSourceOf(a: AddressReachability, harness: Harness): string | null {
    const out = [...a.steps].reverse().find((s) => s.outcome === "pass" && (s.kind === "egress" || s.kind === "firewall"));
    const match = out && /^(NAT gateway|instance-level public IP|Azure Firewall) "([^"]+)"/.exec(out.element);
    if (!match || a.verdict === "blocked") return null;
    const [, kind, name] = match;
    const holder = harness.ofType(EGRESS_TYPES[kind]).find((r) => r.outputs.name === name);
    if (!holder) return null;
    const ids =
        kind === "NAT gateway"
            ? [...((holder.outputs.publicIpAddresses as { id?: string }[] | undefined) ?? []), ...((holder.outputs.publicIpPrefixes as { id?: string }[] | undefined) ?? [])].map((r) => r.id)
            : kind === "Azure Firewall"
              ? ((holder.outputs.ipConfigurations as { publicIPAddress?: { id?: string } }[] | undefined) ?? []).map((c) => c.publicIPAddress?.id)
              : [holder.id];
    const names = ids.filter((id): id is string => typeof id === "string").map((id) => {
        const pip = harness.custom().find((r) => r.id.toLowerCase() === id.toLowerCase());
        const address = pip?.outputs.ipAddress;
        return `"${pip?.name ?? id.split("/").pop()}"${typeof address === "string" ? ` ${address}` : ""}`;
    });
    if (names.length === 0) return null;
    return `public IP ${names.join(", ")} (${names.some((n) => / \d/.test(n)) ? "as the program sets it" : "address assigned by Azure at deployment"})`;
}

function withPublicIps(addresses: readonly AddressReachability[], harness: Harness): PlanAddress[] {
    return addresses.map((a) => ({ ...a, publicIpSource: publicIpSourceOf(a, harness) }));
}

function verdictOf(addresses: readonly AddressReachability[]): Verdict {
    if (addresses.some((a) => a.verdict === "blocked")) return "blocked";
    return addresses.length > 0 && addresses.every((a) => a.verdict === "reachable") ? "reachable" : "unknown";
}

/**
 * Each Windows VM of the program, and each existing VM a KmsActivation names, judged as the kms-reachability policy
 * judges it: the same stack resolution, the same engine. A VM without a KmsActivation is judged against the public
 * cloud's KMS, which Azure's Windows images use.
 */
export function planReachability(harness: Harness): PlanVmReachability[] {
    const resources = stackResources(harness);
    const vms = resources.filter((r) => r.type === VM && isWindows(r.props));
    const targets = activationTargets(harness);
    const customSets = customAddressSets(harness);
    const paths = vms.length > 0 ? new StackPaths(resources) : undefined;
    const judged: PlanVmReachability[] = [];
    const inProgram = new Set<string>();
    for (const vm of vms) {
        const name = String((vm.props as { name?: unknown }).name ?? vm.name);
        inProgram.add(name.toLowerCase());
        const target = targets.find((t) => !t.scaleSet && t.vm.toLowerCase() === name.toLowerCase());
        const endpoint = target?.endpoint ?? `${kmsEndpoint(AzureCloud.AzurePublic).host}:${kmsEndpoint(AzureCloud.AzurePublic).port}`;
        const gaps: PathGaps = { unseen: [] };
        const unseen = gaps.unseen;
        const facts = (paths as StackPaths).pathOf(vm, name, gaps);
        const kms = destinationOf(endpoint, customSets);
        if (!facts || !("destination" in kms)) {
            if (!("destination" in kms)) unseen.push(kms.missing);
            judged.push({ vm: name, inProgram: true, subnet: facts?.subnetName ?? null, kms: "destination" in kms ? planKms(endpoint, kms.destination) : null, verdict: "unknown", addresses: [], unseen, blame: { element: unseen[0], fix: UNSEEN_FIX }, assuming: null });
            continue;
        }
        const result = decideReachability(facts, kms.destination);
        const assuming = gaps.gateway && unseen.length === 1 && verdictOf(result.addresses) === "unknown" ? assumeGatewayRoutes(facts, gaps.gateway, kms.destination, harness) : null;
        judged.push({ vm: name, inProgram: true, subnet: facts.subnetName ?? null, kms: planKms(endpoint, kms.destination), verdict: verdictOf(result.addresses), addresses: withPublicIps(result.addresses, harness), unseen, blame: null, assuming });
    }
    for (const t of targets.filter((t) => !inProgram.has(t.vm.toLowerCase()))) {
        const kms = destinationOf(t.endpoint, customSets);
        const what = t.scaleSet
            ? `scale set "${t.vm}": the plan does not resolve scale set paths`
            : `VM "${t.vm}": outside the program (a KmsActivation names it), so its NIC, subnet, route table and NSGs are not seen offline`;
        judged.push({ vm: t.vm, inProgram: false, subnet: null, kms: "destination" in kms ? planKms(t.endpoint, kms.destination) : null, verdict: "unknown", addresses: [], unseen: [what], blame: { element: what, fix: UNSEEN_FIX }, assuming: null });
    }
    return judged;
}

/**
 * The engine's answer with the gateway's routes as they must be: for an on-premises KMS, carrying its prefixes to the
 * gateway (rule K1); for Azure KMS, carrying none of its addresses (no 0.0.0.0/0 forced tunnel from on-premises).
 */
function assumeGatewayRoutes(facts: PathFacts, gateway: NonNullable<PathGaps["gateway"]>, destination: KmsDestination, harness: Harness): PlanAssumption {
    const bgpRoutes = destination.custom ? [{ source: "VirtualNetworkGateway", addressPrefixes: [...destination.addressPrefixes], nextHopType: "VirtualNetworkGateway" }] : [];
    const result = decideReachability({ ...facts, routeTable: gateway.routeTable, bgpRoutes, bgpRoutesUnknown: undefined }, destination);
    const condition = destination.custom
        ? `${gateway.source} routes ${destination.addressPrefixes.join(", ")} on-premises (the on-premises network advertises them, or the local network gateway lists them)`
        : `the routes of ${gateway.source} carry none of the KMS addresses (on-premises advertises no 0.0.0.0/0)`;
    return { condition, verdict: verdictOf(result.addresses), addresses: withPublicIps(result.addresses, harness) };
}

function planKms(endpoint: string, d: KmsDestination): PlanKms {
    return { endpoint, source: d.source, custom: d.custom, addresses: [...d.addressPrefixes] };
}

const MARK: Record<string, string> = { pass: "ok     ", block: "BLOCKS ", unknown: "UNKNOWN" };

// How a folded block names "each of the addresses above" in its steps.
const EACH_ADDRESS = "<address>";

/** An address's lines with the address itself (dotted, or dashed as in a route's name) replaced by `<address>`. */
function genericLines(a: PlanAddress, indent: string, address: string): string[] {
    const g = (s: string) => [a.address, a.address.replace(/\./g, "-")].reduce((t, form) => t.split(form).join(address), s);
    return [
        ...a.steps.map((s) => `${indent}    [${s.rule}] ${MARK[s.outcome]} ${g(s.detail)}`),
        ...(a.egress ? [`${indent}    egress: ${g(a.egress)}${a.publicIpSource ? `, ${g(a.publicIpSource)}` : ""}`] : []),
        ...(a.blame ? [`${indent}    blame: [${a.blame.rule}] ${g(a.blame.element)}`, `${indent}    fix: ${g(a.blame.fix)}`] : []),
    ];
}

/**
 * Per address: the verdict, each step of the path in order (the route and why it won first), egress, blame and fix.
 * Addresses whose paths are the same but for the address itself (each its own /32 route, the same NSG rule and
 * egress) print once, with the list of addresses and `<address>` in the steps; only paths that differ get their own.
 */
function addressLines(addresses: readonly PlanAddress[], indent: string): string[] {
    const groups = new Map<string, PlanAddress[]>();
    for (const a of addresses) {
        const key = `${a.port} ${a.verdict}\n${genericLines(a, "", EACH_ADDRESS).join("\n")}`;
        groups.set(key, [...(groups.get(key) ?? []), a]);
    }
    return [...groups.values()].flatMap((group) =>
        group.length === 1
            ? [`${indent}${group[0].address}:${group[0].port}  ${group[0].verdict}`, ...genericLines(group[0], indent, group[0].address)]
            : [
                  `${indent}${group.map((a) => a.address).join(", ")} (port ${group[0].port})  ${group[0].verdict}, each on the same path (${EACH_ADDRESS} below):`,
                  ...genericLines(group[0], indent, EACH_ADDRESS),
              ],
    );
}

/** The KMS as the guest is pointed at it: with the IpAddress host form, every address it tries, not only the first. */
function kmsText(kms: PlanKms): string {
    const { host, port } = endpointParts(kms.endpoint);
    if (!kms.custom && parseIpv4(host) !== undefined && kms.addresses.includes(host) && kms.addresses.length > 1) {
        return `KMS ${kms.addresses.join(", ")} port ${port} (${kms.source}; IpAddress host form: the guest uses the first that accepts TCP)`;
    }
    return `${kms.custom ? "on-premises KMS" : "KMS"} ${kms.endpoint} (${kms.source})`;
}

/** A VM's judgement without its name, so VMs on the same path print once. */
function pathKey(v: PlanVmReachability): string {
    return JSON.stringify({ ...v, vm: undefined, addresses: v.addresses.map((a) => ({ ...a, steps: a.steps.map((s) => ({ ...s, detail: s.detail.split(`"${v.vm}"`).join("") })) })), unseen: v.unseen.map((u) => u.split(`"${v.vm}"`).join("")) });
}

/** The text section: per VM (VMs on the same path together) the verdict, then per KMS address the path and, when not reachable, blame and fix. */
export function renderReachability(judged: readonly PlanVmReachability[]): string[] {
    const lines: string[] = [];
    const groups = new Map<string, PlanVmReachability[]>();
    for (const v of judged) groups.set(pathKey(v), [...(groups.get(pathKey(v)) ?? []), v]);
    for (const group of groups.values()) {
        const v = group[0];
        const names = group.map((g) => g.vm).join(", ");
        const reachable = v.addresses.filter((a) => a.verdict === "reachable").length;
        const count = v.addresses.length > 0 ? ` (${reachable} of ${v.addresses.length} KMS addresses reachable)` : "";
        const kms = v.kms ? ` -> ${kmsText(v.kms)}` : "";
        lines.push(`    ${group.length > 1 ? "VMs" : "VM"} ${names}${v.subnet ? ` in subnet ${v.subnet}` : ""}${kms}: ${v.verdict.toUpperCase()}${count}`);
        lines.push(...addressLines(v.addresses, "        "));
        for (const u of v.unseen) lines.push(`        not seen offline: ${u}`);
        if (v.blame) lines.push(`        fix: ${v.blame.fix}`);
        if (v.assuming) {
            lines.push(`        if ${v.assuming.condition}: ${v.assuming.verdict.toUpperCase()}`);
            lines.push(...addressLines(v.assuming.addresses, "            "));
        }
    }
    if (judged.length === 0) lines.push("    (no Windows VM in this program)");
    return lines;
}

function mermaidText(s: string): string {
    return mermaidLabel(s);
}

/** Each VM's path as Mermaid lines: the VM, each element of the path (its rule and outcome), the KMS with the verdict. */
export function reachabilityMermaid(judged: readonly PlanVmReachability[]): string[] {
    const lines: string[] = [];
    judged.forEach((v, i) => {
        const id = `k${i}`;
        lines.push(`    ${id}_vm["VM ${mermaidText(v.vm)}"]`);
        let previous = `${id}_vm`;
        const first = v.addresses[0];
        (first?.steps ?? []).forEach((s, j) => {
            lines.push(`    ${id}_${j}["${mermaidText(s.element)}"]`);
            lines.push(`    ${previous} -- "[${s.rule}] ${s.outcome}" --> ${id}_${j}`);
            previous = `${id}_${j}`;
        });
        if (!first) {
            lines.push(`    ${id}_unseen["not seen offline: ${mermaidText(v.unseen[0] ?? "")}"]`);
            lines.push(`    ${previous} --> ${id}_unseen`);
            previous = `${id}_unseen`;
        }
        lines.push(`    ${id}_kms(("${mermaidText(v.kms?.endpoint ?? "KMS")}"))`);
        lines.push(`    ${previous} -- "${v.verdict}" --> ${id}_kms`);
        lines.push(`    class ${id}_kms ${v.verdict}`);
    });
    if (lines.length > 0) {
        lines.push("    classDef reachable fill:#e6f4ea,stroke:#188038", "    classDef blocked fill:#fce8e6,stroke:#d93025", "    classDef unknown fill:#fef7e0,stroke:#f9ab00");
    }
    return lines;
}
