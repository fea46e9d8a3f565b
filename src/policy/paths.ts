/**
 * Resolves each VM's network path from the resources of a stack: VM → NIC → subnet → route table, NSGs, NAT
 * gateway, public IP, and an Azure Firewall at a `VirtualAppliance` next hop with its policy's rule collection
 * groups. Inline and standalone children count alike. Anything not known yet (preview) or not in the stack
 * stays unknown, and the engine then gives no verdict where it matters.
 */
import { PolicyResource } from "@pulumi/policy/policy";
import { firewallNextHopFromArm, nameFromId, nsgFromArm } from "../reachability/arm";
import { EgressSourceFact, IpGroupFact, LoadBalancerBackendFact, NextHopFacts, NsgFacts, PathFacts, RouteTableFacts } from "../reachability/types";
import { Group, ROUTE_TABLES, SECURITY_GROUPS, groupChildren } from "./children";
import { UNKNOWN, get, list, textAt } from "./props";

const T = {
    nic: "azure-native:network:NetworkInterface",
    subnet: "azure-native:network:Subnet",
    vnet: "azure-native:network:VirtualNetwork",
    nat: "azure-native:network:NatGateway",
    pip: "azure-native:network:PublicIPAddress",
    firewall: "azure-native:network:AzureFirewall",
    peering: "azure-native:network:VirtualNetworkPeering",
    gateway: "azure-native:network:VirtualNetworkGateway",
    firewallPolicy: "azure-native:network:FirewallPolicy",
    ruleCollectionGroup: "azure-native:network:FirewallPolicyRuleCollectionGroup",
    loadBalancer: "azure-native:network:LoadBalancer",
    ipGroup: "azure-native:network:IpGroup",
    asg: "azure-native:network:ApplicationSecurityGroup",
};

/** A plain copy of a value; reads that are unknown during preview become `UNKNOWN`. */
function plain(value: unknown, depth = 0): unknown {
    if (value === UNKNOWN || value === null || typeof value !== "object" || depth > 12) return value;
    const items = list(value);
    if (Array.isArray(items)) return items.map((v) => plain(v, depth + 1));
    const out: Record<string, unknown> = {};
    let keys: string[];
    try {
        keys = Object.keys(value);
    } catch {
        return UNKNOWN;
    }
    for (const key of keys) out[key] = plain(get(value, key), depth + 1);
    return out;
}

function hasUnknown(value: unknown): boolean {
    if (value === UNKNOWN) return true;
    if (value === null || typeof value !== "object") return false;
    return Object.values(value).some(hasUnknown);
}

const lower = (s: string) => s.toLowerCase();

/** Where a reference points: a resource (or inline entry) of the stack, nothing, something outside, or not known yet. */
type Ref<T> = { found: T } | "none" | "outside" | "unknown";

export interface Candidate {
    resource: PolicyResource;
    /** The inline entry, for a subnet written inside its VNet. */
    props: unknown;
    /** Its name, and its parent's name for a subnet, lower case. */
    name?: string;
    parentName?: string;
    id?: string;
}

/** Index of one resource type: by ID, by name, by URN. */
class Index {
    private readonly byId = new Map<string, Candidate>();
    private readonly byName = new Map<string, Candidate[]>();
    private readonly byUrn = new Map<string, Candidate[]>();

    constructor(
        candidates: Candidate[],
        private readonly segment: string,
        private readonly parentSegment?: string,
    ) {
        for (const c of candidates) {
            if (c.id) this.byId.set(lower(c.id), c);
            if (c.name) this.byName.set(c.name, [...(this.byName.get(c.name) ?? []), c]);
            this.byUrn.set(c.resource.urn, [...(this.byUrn.get(c.resource.urn) ?? []), c]);
        }
    }

    /** Resolves `reference` (an `{ id }` object, as azure-native takes it) held by `holder` under input `key`. */
    resolve(reference: unknown, holder: PolicyResource, key: string): Ref<Candidate> {
        if (reference === undefined || reference === null) return "none";
        const id = reference === UNKNOWN ? UNKNOWN : typeof reference === "string" ? reference : get(reference, "id");
        if (typeof id === "string") {
            const exact = this.byId.get(lower(id));
            if (exact) return { found: exact };
            const name = nameFromId(id, this.segment);
            const parent = this.parentSegment ? nameFromId(id, this.parentSegment) : undefined;
            const named = (name ? (this.byName.get(lower(name)) ?? []) : []).filter((c) => !parent || !c.parentName || c.parentName === lower(parent));
            return named.length === 1 ? { found: named[0] } : named.length > 1 ? "unknown" : "outside";
        }
        if (id !== UNKNOWN && typeof reference === "object") {
            return "none"; // `{}`: names nothing
        }
        // Preview: the ID is an output of a resource not created yet; the engine recorded which.
        const deps = (holder.propertyDependencies?.[key] ?? []).flatMap((d) => this.byUrn.get(d.urn) ?? []);
        return deps.length === 1 ? { found: deps[0] } : "unknown";
    }
}

function textOf(props: unknown, ...keys: string[]): string | undefined {
    for (const k of keys) {
        const v = textAt(props, k);
        if (typeof v === "string") return v;
    }
    return undefined;
}

function candidates(resources: readonly PolicyResource[], type: string, nameKeys: string[], parentKey?: string): Candidate[] {
    return resources
        .filter((r) => r.type === type)
        .map((resource) => {
            const name = textOf(resource.props, ...nameKeys);
            const parent = parentKey ? textOf(resource.props, parentKey) : undefined;
            return { resource, props: resource.props, name: name && lower(name), parentName: parent && lower(parent), id: textOf(resource.props, "id") };
        });
}

function subnetCandidates(resources: readonly PolicyResource[]): Candidate[] {
    const standalone = candidates(resources, T.subnet, ["subnetName", "name"], "virtualNetworkName");
    const inline = resources
        .filter((r) => r.type === T.vnet)
        .flatMap((vnet) => {
            const entries = list(get(vnet.props, "subnets"));
            const vnetName = textOf(vnet.props, "virtualNetworkName", "name");
            return (Array.isArray(entries) ? entries : []).map((entry) => {
                const name = textOf(entry, "name");
                return { resource: vnet, props: entry, name: name && lower(name), parentName: vnetName && lower(vnetName), id: textOf(entry, "id") };
            });
        });
    return [...standalone, ...inline];
}

/**
 * Per virtual network of the stack (by lower-case name): the gateway whose routes reach its subnets, in words. A
 * peering that uses the remote network's gateways, or a VPN/ExpressRoute gateway in the network's GatewaySubnet.
 */
function gatewayRouteSources(resources: readonly PolicyResource[]): Map<string, string> {
    const sources = new Map<string, string>();
    for (const r of resources) {
        if (r.type === T.peering) {
            const uses = get(r.props, "useRemoteGateways");
            const vnet = textAt(r.props, "virtualNetworkName");
            if ((uses === true || uses === UNKNOWN) && typeof vnet === "string") {
                const remote = textAt(r.props, "remoteVirtualNetwork", "id");
                const name = textOf(r.props, "virtualNetworkPeeringName", "name") ?? r.name;
                sources.set(lower(vnet), `the gateway of ${typeof remote === "string" ? `virtual network "${nameFromId(remote, "virtualNetworks")}"` : "the peered network"} (peering "${name}" uses remote gateways)`);
            }
        } else if (r.type === T.gateway) {
            const configs = list(get(r.props, "ipConfigurations"));
            for (const c of Array.isArray(configs) ? configs : []) {
                const subnetId = textAt(c, "subnet", "id");
                const vnet = typeof subnetId === "string" ? nameFromId(subnetId, "virtualNetworks") : undefined;
                if (vnet) sources.set(lower(vnet), `virtual network gateway "${textOf(r.props, "virtualNetworkGatewayName", "name") ?? r.name}"`);
            }
        }
    }
    return sources;
}

/** A subnet the stack defines. */
export interface StackSubnet {
    /** Its Azure name (or resource name). */
    name: string;
    /** `true` when delegated to a service (no VM goes there); `undefined` while its delegations are not known. */
    delegated?: boolean;
    /** The resolved entry, for `pathOfSubnet`. */
    candidate: Candidate;
}

function subnetNameOf(subnet: Candidate): string {
    return subnet.name ? (textOf(subnet.props, "subnetName", "name") ?? subnet.name) : subnet.resource.name;
}

/** What `pathOf` could not see of a path. */
export interface PathGaps {
    /** Each element outside the stack or not known yet, in plain words. */
    unseen: string[];
    /** Set when a gateway's routes reach the subnet: the facts then leave the routes unknown; this is the table they held back. */
    gateway?: { source: string; routeTable: RouteTableFacts | null };
}

/** Records one element of a path that cannot be seen. */
type Unseen = (what: string) => void;

/** What a reference that did not resolve to the stack names, in plain words. */
function describeRef(ref: "none" | "outside" | "unknown", reference: unknown, kind: string, segment: string, partial?: Set<string>): string {
    const id = reference === UNKNOWN ? undefined : typeof reference === "string" ? reference : textAt(reference, "id");
    const name = typeof id === "string" ? nameFromId(id, segment) : undefined;
    if (ref === "outside" && typeof id === "string") {
        const some = name !== undefined && partial?.has(lower(name)) ? "; this program adds to it, but its other contents are not known" : "";
        return `${kind} "${name ?? id}": outside the program (named by ID ${id})${some}`;
    }
    return `${kind}${name ? ` "${name}"` : ""}: not known yet`;
}

/** Everything resolved once per stack; `pathOf` then costs a few map lookups per VM. */
export class StackPaths {
    private readonly nics: Index;
    private readonly subnets: Index;
    private readonly routeTables: Index;
    private readonly nsgs: Index;
    private readonly nats: Index;
    private readonly pips: Index;
    private readonly lbs: Index;
    private readonly routeGroups = new Map<PolicyResource, Group>();
    private readonly nsgGroups = new Map<PolicyResource, Group>();
    private readonly routesUnplaced: boolean;
    private readonly rulesUnplaced: boolean;
    private readonly nextHops: NextHopFacts[];
    private readonly firewallByUrn = new Map<string, string>();
    private readonly routeTableFacts = new Map<Group, RouteTableFacts | undefined>();
    private readonly nsgFacts = new Map<Group, NsgFacts | undefined>();
    private readonly routeGroupNames: Set<string>;
    /** Per virtual network (lower-case name): what gives its subnets gateway routes the stack cannot know. */
    private readonly gatewaySources: Map<string, string>;
    private readonly nsgGroupNames: Set<string>;

    private readonly subnetList: Candidate[];

    constructor(resources: readonly PolicyResource[]) {
        this.nics = new Index(candidates(resources, T.nic, ["networkInterfaceName", "name"]), "networkInterfaces");
        this.subnetList = subnetCandidates(resources);
        this.subnets = new Index(this.subnetList, "subnets", "virtualNetworks");
        const routing = groupChildren(resources, ROUTE_TABLES);
        const security = groupChildren(resources, SECURITY_GROUPS);
        this.routesUnplaced = routing.unplaced.length > 0;
        this.rulesUnplaced = security.unplaced.length > 0;
        const groupCandidates = (groups: Group[], into: Map<PolicyResource, Group>) =>
            groups.flatMap((g) => (g.resource ? (into.set(g.resource, g), [{ resource: g.resource, props: g.resource.props, name: g.name, id: textOf(g.resource.props, "id") }]) : []));
        this.routeTables = new Index(groupCandidates(routing.groups, this.routeGroups), "routeTables");
        this.nsgs = new Index(groupCandidates(security.groups, this.nsgGroups), "networkSecurityGroups");
        // Tables and NSGs owned elsewhere that this stack adds routes or rules to.
        this.routeGroupNames = new Set(routing.groups.filter((g) => !g.resource && g.name).map((g) => g.name as string));
        this.nsgGroupNames = new Set(security.groups.filter((g) => !g.resource && g.name).map((g) => g.name as string));
        this.nats = new Index(candidates(resources, T.nat, ["natGatewayName", "name"]), "natGateways");
        this.pips = new Index(candidates(resources, T.pip, ["publicIpAddressName", "name"]), "publicIPAddresses");
        this.lbs = new Index(candidates(resources, T.loadBalancer, ["loadBalancerName", "name"]), "loadBalancers");
        this.nextHops = this.firewalls(resources);
        this.gatewaySources = gatewayRouteSources(resources);
    }

    /** Each Azure Firewall of the stack as a next hop, at its private IP (or, in preview, at a key its routes point to). */
    private firewalls(resources: readonly PolicyResource[]): NextHopFacts[] {
        const policies = new Index(candidates(resources, T.firewallPolicy, ["firewallPolicyName", "name"]), "firewallPolicies");
        const groups = resources.filter((r) => r.type === T.ruleCollectionGroup);
        const hops: NextHopFacts[] = [];
        // IP groups the stack defines, with known content: a rule naming one is judged by its addresses.
        const ipGroups: IpGroupFact[] = resources
            .filter((r) => r.type === T.ipGroup)
            .flatMap((r) => {
                const addresses = plain(get(r.props, "ipAddresses"));
                const name = textOf(r.props, "ipGroupsName", "name");
                if (!name || hasUnknown(addresses)) return [];
                const id = textOf(r.props, "id");
                return [{ name, ...(id ? { id } : {}), ipAddresses: Array.isArray(addresses) ? addresses.filter((a): a is string => typeof a === "string") : [] }];
            });
        for (const fw of resources.filter((r) => r.type === T.firewall)) {
            const props = plain(fw.props);
            const policyRef = policies.resolve(get(fw.props, "firewallPolicy"), fw, "firewallPolicy");
            let rcgs: unknown[] | undefined;
            let policyName: string | undefined;
            let dnsProxy: boolean | undefined;
            if (typeof policyRef === "object") {
                const policy = policyRef.found.resource;
                policyName = textOf(policy.props, "firewallPolicyName", "name");
                // E6: FQDN network rules need the policy's DNS proxy; Azure leaves it off unless dnsSettings turns it on.
                const proxy = get(policy.props, "dnsSettings", "enableProxy");
                dnsProxy = proxy === UNKNOWN ? undefined : proxy === true;
                const mine = groups.filter((g) => {
                    const byDep = (g.propertyDependencies?.firewallPolicyName ?? []).some((d) => d.urn === policy.urn);
                    const name = textAt(g.props, "firewallPolicyName");
                    return byDep || (typeof name === "string" && policyName !== undefined && lower(name) === lower(policyName));
                });
                // Only what decides: the group's name and policy may be outputs not known yet.
                const copies = mine.map((g) => ({
                    name: textOf(g.props, "ruleCollectionGroupName", "name") ?? g.name,
                    priority: plain(get(g.props, "priority")),
                    ruleCollections: plain(get(g.props, "ruleCollections")),
                }));
                // A group still being computed, or one whose policy cannot be told, leaves the rules unknown.
                const undecided = groups.some((g) => !mine.includes(g) && textAt(g.props, "firewallPolicyName") === UNKNOWN && !(g.propertyDependencies?.firewallPolicyName ?? []).length);
                rcgs = copies.some(hasUnknown) || undecided ? undefined : copies;
            } else if (policyRef === "none") {
                rcgs = []; // classic rules are not read: a firewall without a policy allows nothing the engine can see
            }
            const key = `firewall:${fw.urn}`;
            this.firewallByUrn.set(fw.urn, key);
            const withIp = firewallNextHopFromArm(props, rcgs, policyName);
            const base = withIp ?? firewallNextHopFromArm({ ...(props as object), ipConfigurations: [{ privateIPAddress: key }] }, rcgs, policyName);
            if (base) {
                const extra = { ...(dnsProxy !== undefined ? { dnsProxy } : {}), ...(ipGroups.length > 0 ? { ipGroups } : {}) };
                hops.push({ ...base, azureFirewall: { ...base.azureFirewall!, name: textOf(fw.props, "azureFirewallName", "name") ?? fw.name, ...extra } });
                if (withIp) hops.push({ ...hops[hops.length - 1], ipAddress: key });
            }
        }
        return hops;
    }

    private routeTableOf(group: Group): RouteTableFacts | undefined {
        if (this.routeTableFacts.has(group)) return this.routeTableFacts.get(group);
        let facts: RouteTableFacts | undefined;
        if (!group.incomplete) {
            const routes = group.children.map((child) => {
                const props = plain(child.props) as Record<string, unknown>;
                if (props.nextHopIpAddress === UNKNOWN) {
                    // In preview the appliance IP is often the firewall's output; the dependency names the firewall.
                    const key = child.resource === group.resource ? ROUTE_TABLES.inlineProperty : "nextHopIpAddress";
                    const fws = (child.resource.propertyDependencies?.[key] ?? []).map((d) => this.firewallByUrn.get(d.urn)).filter((k) => k !== undefined);
                    if (fws.length === 1) props.nextHopIpAddress = fws[0];
                }
                return { ...props, name: child.name } as Record<string, unknown>;
            });
            const table = plain(group.resource?.props ?? {}) as Record<string, unknown>;
            const candidate = { name: group.displayName, routes, disableBgpRoutePropagation: table.disableBgpRoutePropagation };
            facts = hasUnknown(candidate) ? undefined : {
                name: group.displayName,
                routes: routes.map((r) => ({ name: String(r.name), addressPrefix: String(r.addressPrefix ?? ""), nextHopType: String(r.nextHopType ?? ""), ...(typeof r.nextHopIpAddress === "string" ? { nextHopIpAddress: r.nextHopIpAddress } : {}) })),
                disableBgpRoutePropagation: table.disableBgpRoutePropagation === true,
            };
        }
        this.routeTableFacts.set(group, facts);
        return facts;
    }

    private nsgOf(group: Group): NsgFacts | undefined {
        if (this.nsgFacts.has(group)) return this.nsgFacts.get(group);
        const rules = group.children.map((child) => ({ ...(plain(child.props) as object), name: child.name }));
        const facts = group.incomplete || hasUnknown(rules) ? undefined : nsgFromArm({ name: group.displayName, securityRules: rules });
        this.nsgFacts.set(group, facts);
        return facts;
    }

    private resolveRouteTable(ref: Ref<Candidate>, reference: unknown, unseen: Unseen): RouteTableFacts | null | undefined {
        if (this.routesUnplaced && ref !== "outside") {
            unseen("a route whose route table cannot be told yet (it may belong to this subnet's table)");
            return undefined;
        }
        if (ref === "none") return null;
        if (typeof ref !== "object") {
            unseen(describeRef(ref, reference, "route table", "routeTables", this.routeGroupNames));
            return undefined;
        }
        const group = this.routeGroups.get(ref.found.resource);
        const facts = group ? this.routeTableOf(group) : undefined;
        if (facts === undefined) unseen(`route table "${group?.displayName ?? ref.found.resource.name}": some of its routes are not known yet`);
        return facts;
    }

    private resolveNsg(ref: Ref<Candidate>, reference: unknown, unseen: Unseen, layer: string): NsgFacts | null | undefined {
        if (ref === "none") return null;
        if (typeof ref !== "object") {
            unseen(describeRef(ref, reference, `${layer} NSG`, "networkSecurityGroups", this.nsgGroupNames));
            return undefined;
        }
        if (this.rulesUnplaced) {
            unseen("a security rule whose NSG cannot be told yet (it may belong to this NSG)");
            return undefined;
        }
        const group = this.nsgGroups.get(ref.found.resource);
        const facts = group ? this.nsgOf(group) : undefined;
        if (facts === undefined) unseen(`${layer} NSG "${group?.displayName ?? ref.found.resource.name}": some of its rules are not known yet`);
        return facts;
    }

    /** E4: whether the stack's NAT gateway holds a public IP or prefix; `{}` when it is not the stack's or not known yet. */
    private natPublicIp(reference: unknown, holder: PolicyResource, key: string): { hasPublicIp?: boolean } {
        const ref = reference === UNKNOWN ? "unknown" : this.nats.resolve(reference, holder, key);
        if (typeof ref !== "object") return {};
        const ips = list(get(ref.found.resource.props, "publicIpAddresses"));
        const prefixes = list(get(ref.found.resource.props, "publicIpPrefixes"));
        const count = (v: unknown) => (v === UNKNOWN ? undefined : Array.isArray(v) ? v.length : 0);
        const a = count(ips);
        const b = count(prefixes);
        if (a === undefined || b === undefined) return (a ?? 0) + (b ?? 0) > 0 ? { hasPublicIp: true } : {};
        return { hasPublicIp: a + b > 0 };
    }

    /** N4: the NIC's application security groups as their names (lower case); `undefined` while one is not known yet. */
    private asgsOf(value: unknown): string[] | undefined {
        if (value === undefined || value === null) return [];
        const items = list(value);
        if (!Array.isArray(items)) return undefined;
        const names = items.map((a) => {
            const id = typeof a === "string" ? a : get(a, "id");
            return typeof id === "string" ? nameFromId(id, "applicationSecurityGroups") : undefined;
        });
        return names.every((n): n is string => typeof n === "string") ? names : undefined;
    }

    /**
     * E5: the balancers whose backend pools hold the NIC, with their SKU, and the outbound a public Standard one gives
     * through an outbound rule for that pool. A pool of a balancer outside the stack keeps its SKU and rules unknown.
     */
    private balancersOf(pools: unknown, nic: PolicyResource): { backends?: LoadBalancerBackendFact[]; outbound: EgressSourceFact | null | undefined } {
        if (pools === undefined || pools === null || (Array.isArray(pools) && pools.length === 0)) return { backends: [], outbound: null };
        if (!Array.isArray(pools)) return { outbound: undefined };
        const backends: LoadBalancerBackendFact[] = [];
        let given: EgressSourceFact | undefined;
        let unknown = false;
        for (const pool of pools) {
            const id = get(pool, "id");
            const lbName = typeof id === "string" ? nameFromId(id, "loadBalancers") : undefined;
            const poolName = typeof id === "string" ? nameFromId(id, "backendAddressPools") : undefined;
            const ref = lbName ? this.lbs.resolve(`/loadBalancers/${lbName}`, nic, "ipConfigurations") : "unknown";
            if (typeof ref !== "object") {
                backends.push({ name: lbName ?? "(not known yet)" });
                unknown = true;
                continue;
            }
            const props = ref.found.resource.props;
            const name = textOf(props, "loadBalancerName", "name") ?? ref.found.resource.name;
            const sku = get(props, "sku", "name");
            backends.push({ name, ...(typeof sku === "string" ? { sku } : {}) });
            const frontends = list(get(props, "frontendIPConfigurations"));
            const rules = list(get(props, "outboundRules"));
            if (frontends === UNKNOWN || rules === UNKNOWN || hasUnknown(plain(frontends)) || hasUnknown(plain(rules))) {
                unknown = true;
                continue;
            }
            const isPublic = (Array.isArray(frontends) ? frontends : []).some((f) => get(f, "publicIPAddress") !== undefined || get(f, "publicIPPrefix") !== undefined);
            const covers = (Array.isArray(rules) ? rules : []).some((r) => {
                const target = get(r, "backendAddressPool", "id");
                return typeof target === "string" && poolName !== undefined && nameFromId(target, "backendAddressPools")?.toLowerCase() === poolName.toLowerCase();
            });
            if (isPublic && covers) given = given ?? { name };
        }
        return { backends, outbound: given ?? (unknown ? undefined : null) };
    }

    /** A reference as an egress source: the stack's resource, one outside it (it still names one), none, or not known yet. */
    private presence(index: Index, value: unknown, holder: PolicyResource, key: string): { name: string } | null | undefined {
        if (value === UNKNOWN) return undefined;
        const ref = index.resolve(value, holder, key);
        if (ref === "none") return null;
        if (typeof ref === "object") return { name: textOf(ref.found.resource.props, "natGatewayName", "publicIpAddressName", "name") ?? ref.found.resource.name };
        const id = get(value, "id");
        return { name: (typeof id === "string" ? nameFromId(id) : undefined) ?? "(not known yet)" };
    }

    /** What the subnet decides of a path: its routes (and a gateway's), its NSG, NAT gateway, outbound access, next hops. */
    private subnetPart(subnet: Candidate, note: Unseen, gaps: PathGaps): PathFacts {
        const sp = subnet.props;
        const routeTable = this.resolveRouteTable(this.routeTables.resolve(get(sp, "routeTable"), subnet.resource, subnet.resource.type === T.vnet ? "subnets" : "routeTable"), get(sp, "routeTable"), note);
        // Routes a VPN/ExpressRoute gateway gives the subnet (BGP, or a local network gateway's prefixes) are Azure's to
        // learn, not the stack's: unless the table stops their propagation, the subnet's routes are not known.
        const gateway = subnet.parentName !== undefined || subnet.resource.type === T.subnet ? this.gatewaySources.get(lower(String(textOf(subnet.resource.props, "virtualNetworkName", "name") ?? subnet.parentName ?? ""))) : undefined;
        let bgpRoutesUnknown: string | undefined;
        if (gateway && routeTable !== undefined && routeTable?.disableBgpRoutePropagation !== true) {
            note(`the routes ${gateway} gives subnet "${textOf(sp, "subnetName", "name") ?? subnet.resource.name}" (learned by Azure from on-premises; the program cannot hold them)`);
            gaps.gateway = { source: gateway, routeTable };
            // R5: the table stays: its /32 user routes decide whatever the gateway gives; the engine leaves the rest unknown.
            bgpRoutesUnknown = gateway;
        }
        const outbound = get(sp, "defaultOutboundAccess");
        const natKey = subnet.resource.type === T.vnet ? "subnets" : "natGateway";
        const natRef = get(sp, "natGateway");
        const natGateway = this.presence(this.nats, natRef, subnet.resource, natKey);
        const prefix = textAt(sp, "addressPrefix");
        const subnetNsgKey = subnet.resource.type === T.vnet ? "subnets" : "networkSecurityGroup";
        return {
            subnetName: subnetNameOf(subnet),
            // A dynamic address is not known before Azure assigns it, but it lies in the subnet: a source prefix
            // then matches only when it covers the whole subnet.
            ...(typeof prefix === "string" ? { privateIpAddress: prefix } : {}),
            vnetAddressPrefixes: typeof prefix === "string" ? [prefix] : [],
            routeTable,
            ...(bgpRoutesUnknown ? { bgpRoutesUnknown } : {}),
            subnetNsg: this.resolveNsg(this.nsgs.resolve(get(sp, "networkSecurityGroup"), subnet.resource, subnetNsgKey), get(sp, "networkSecurityGroup"), note, "subnet"),
            natGateway: natGateway ? { ...natGateway, ...this.natPublicIp(natRef, subnet.resource, natKey) } : natGateway,
            // azure-native 3.x's API leaves default outbound access on when the property is not set.
            ...(outbound === UNKNOWN ? {} : { defaultOutboundAccess: outbound !== false }),
            nextHops: this.nextHops,
        };
    }

    /** Every subnet the stack defines (standalone or inline in its VNet). */
    subnetsOfStack(): StackSubnet[] {
        return this.subnetList.map((c) => {
            const delegations = list(get(c.props, "delegations"));
            return {
                candidate: c,
                name: subnetNameOf(c),
                delegated: delegations === UNKNOWN ? undefined : Array.isArray(delegations) && delegations.length > 0,
            };
        });
    }

    /** The stack's subnet of a VM's primary NIC, when both are the stack's. */
    subnetOfVm(vm: PolicyResource): Candidate | undefined {
        const nicRefs = list(get(vm.props, "networkProfile", "networkInterfaces"));
        if (!Array.isArray(nicRefs) || nicRefs.length === 0) return undefined;
        const primary = nicRefs.find((n) => get(n, "primary") === true) ?? nicRefs[0];
        const nicRef = this.nics.resolve(primary, vm, "networkProfile");
        if (typeof nicRef !== "object") return undefined;
        const configs = list(get(nicRef.found.resource.props, "ipConfigurations"));
        if (!Array.isArray(configs) || configs.length === 0) return undefined;
        const config = configs.find((c) => get(c, "primary") === true) ?? configs[0];
        const ref = this.subnets.resolve(get(config, "subnet"), nicRef.found.resource, "ipConfigurations");
        return typeof ref === "object" ? ref.found : undefined;
    }

    /**
     * The path of a Windows VM placed in the subnet with a plain NIC (no NSG, no public IP, no balancer, no ASG): what
     * the subnet alone decides (kms-subnet-reachability).
     */
    pathOfSubnet(subnet: StackSubnet, gaps: PathGaps = { unseen: [] }): PathFacts {
        const note: Unseen = (what) => {
            if (!gaps.unseen.includes(what)) gaps.unseen.push(what);
        };
        return { ...this.subnetPart(subnet.candidate, note, gaps), nicNsg: null, nicPublicIp: null, loadBalancerOutbound: null, loadBalancerBackends: [], applicationSecurityGroups: [] };
    }

    /**
     * The path facts of a VM's primary NIC; `undefined` when the NIC or its subnet cannot be found in the
     * stack (not known yet, or owned elsewhere): then there is nothing to judge. `gaps` receives, in plain
     * words, each element of the path that is outside the stack or not known yet (the facts leave it `undefined`).
     */
    pathOf(vm: PolicyResource, vmName: string, gaps: PathGaps = { unseen: [] }): PathFacts | undefined {
        const unseen = gaps.unseen;
        const note: Unseen = (what) => {
            if (!unseen.includes(what)) unseen.push(what);
        };
        const nicRefs = list(get(vm.props, "networkProfile", "networkInterfaces"));
        if (!Array.isArray(nicRefs) || nicRefs.length === 0) {
            note(`VM "${vmName}": its network interfaces are not known yet`);
            return undefined;
        }
        const primary = nicRefs.find((n) => get(n, "primary") === true) ?? nicRefs[0];
        const nicRef = this.nics.resolve(primary, vm, "networkProfile");
        if (typeof nicRef !== "object") {
            note(describeRef(nicRef, primary, "network interface", "networkInterfaces"));
            return undefined;
        }
        const nic = nicRef.found.resource;
        const configs = list(get(nic.props, "ipConfigurations"));
        if (!Array.isArray(configs) || configs.length === 0) {
            note(`network interface "${nic.name}": its IP configurations are not known yet`);
            return undefined;
        }
        const config = configs.find((c) => get(c, "primary") === true) ?? configs[0];
        const subnetReference = get(config, "subnet");
        const subnetRef = this.subnets.resolve(subnetReference, nic, "ipConfigurations");
        if (typeof subnetRef !== "object") {
            note(describeRef(subnetRef, subnetReference, "subnet", "subnets"));
            return undefined;
        }
        const subnet = subnetRef.found;
        const pools = list(get(config, "loadBalancerBackendAddressPools"));
        const balancers = this.balancersOf(pools, nic);
        const asgs = this.asgsOf(get(config, "applicationSecurityGroups"));
        const privateIp = textAt(config, "privateIPAddress");
        const facts: PathFacts = {
            vmName,
            ...this.subnetPart(subnet, note, gaps),
            ...(typeof privateIp === "string" ? { privateIpAddress: privateIp } : {}),
            nicNsg: this.resolveNsg(this.nsgs.resolve(get(nic.props, "networkSecurityGroup"), nic, "networkSecurityGroup"), get(nic.props, "networkSecurityGroup"), note, "NIC"),
            nicPublicIp: this.presence(this.pips, get(config, "publicIPAddress"), nic, "ipConfigurations"),
            // E5: a balancer of the stack tells its SKU and outbound rules; one outside leaves them unknown.
            loadBalancerOutbound: balancers.outbound,
            ...(balancers.backends ? { loadBalancerBackends: balancers.backends } : {}),
            ...(asgs ? { applicationSecurityGroups: asgs } : {}),
        };
        return facts;
    }
}
