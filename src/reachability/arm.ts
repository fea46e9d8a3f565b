/**
 * From Azure's resource shapes to engine input. Each reader takes an object as ARM returns it (`properties`
 * nested) or as azure-native and the Azure CLI give it (`properties` flattened), so a component holding
 * `network.getSubnet` / `getRouteTable` / `getNetworkSecurityGroup` results, the policy pack and `audit` build
 * the same `PathFacts`.
 */
import {
    AzureFirewallFacts,
    EgressSourceFact,
    FirewallRuleCollectionGroupFact,
    FirewallRuleFact,
    NextHopFacts,
    NsgFacts,
    PathFacts,
    RouteFact,
    RouteTableFacts,
    SecurityRuleFact,
} from "./types";

/** Any ARM-like object: plain JSON. */
export type ArmObject = { [key: string]: unknown };

/** The object with its `properties` merged in (ARM nests them; azure-native and the CLI do not). */
export function flatten(value: unknown): ArmObject {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return {};
    const obj = value as ArmObject;
    const props = obj.properties;
    if (!props || typeof props !== "object" || Array.isArray(props)) return obj;
    const outer = Object.fromEntries(Object.entries(obj).filter(([key, v]) => key !== "properties" && v !== undefined));
    return { ...(props as ArmObject), ...outer };
}

function str(value: unknown): string | undefined {
    return typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
}

function strings(...values: unknown[]): string[] {
    return values.flatMap((v) => (Array.isArray(v) ? v.map(str) : [str(v)])).filter((s): s is string => s !== undefined && s.trim() !== "");
}

function objects(value: unknown): ArmObject[] {
    return Array.isArray(value) ? value.map(flatten) : [];
}

/** The last segment of a resource ID after `segment`, e.g. the NSG's name. */
export function nameFromId(id: unknown, segment?: string): string | undefined {
    const text = str(id);
    if (!text) return undefined;
    if (segment) {
        const m = new RegExp(`/${segment}/([^/]+)`, "i").exec(text);
        if (m) return m[1];
    }
    return text.split("/").filter(Boolean).pop();
}

/** A reference `{ id }` (or a nested resource) present and naming something. */
function reference(value: unknown): ArmObject | undefined {
    const obj = flatten(value);
    return str(obj.id) !== undefined || str(obj.name) !== undefined ? obj : undefined;
}

/** A route table (`routes`, `disableBgpRoutePropagation`). */
export function routeTableFromArm(table: unknown, fallbackName = "route table"): RouteTableFacts {
    const t = flatten(table);
    return {
        name: str(t.name) ?? nameFromId(t.id, "routeTables") ?? fallbackName,
        routes: objects(t.routes).map((r) => ({
            name: str(r.name) ?? "(unnamed)",
            addressPrefix: str(r.addressPrefix) ?? "",
            nextHopType: str(r.nextHopType) ?? "",
            ...(str(r.nextHopIpAddress) ? { nextHopIpAddress: str(r.nextHopIpAddress) } : {}),
        })),
        disableBgpRoutePropagation: t.disableBgpRoutePropagation === true,
    };
}

/** One security rule, single and plural fields together. */
export function securityRuleFromArm(rule: unknown): SecurityRuleFact {
    const r = flatten(rule);
    const expanded = strings(r.expandedDestinationAddressPrefix);
    return {
        name: str(r.name) ?? "(unnamed)",
        priority: Number(r.priority ?? 0),
        direction: str(r.direction) ?? "",
        access: str(r.access) ?? "",
        protocol: str(r.protocol) ?? "*",
        sourceAddressPrefixes: strings(r.sourceAddressPrefix, r.sourceAddressPrefixes),
        sourcePortRanges: strings(r.sourcePortRange, r.sourcePortRanges),
        destinationAddressPrefixes: strings(r.destinationAddressPrefix, r.destinationAddressPrefixes),
        destinationPortRanges: strings(r.destinationPortRange, r.destinationPortRanges),
        ...(expanded.length > 0 ? { expandedDestinationAddressPrefixes: expanded } : {}),
        ...asgField("sourceApplicationSecurityGroups", r.sourceApplicationSecurityGroups),
        ...asgField("destinationApplicationSecurityGroups", r.destinationApplicationSecurityGroups),
    };
}

/** ASG references (`[{ id }]`) as their IDs (N4); absent when the rule names none. */
function asgField<K extends string>(key: K, value: unknown): { [P in K]?: string[] } {
    const ids = strings(...objects(value).map((a) => a.id ?? a.name));
    return (ids.length > 0 ? { [key]: ids } : {}) as { [P in K]?: string[] };
}

/** An NSG (`securityRules`, and `defaultSecurityRules` when ARM returns them). */
export function nsgFromArm(nsg: unknown, fallbackName = "NSG"): NsgFacts {
    const n = flatten(nsg);
    return {
        name: str(n.name) ?? nameFromId(n.id, "networkSecurityGroups") ?? fallbackName,
        rules: [...objects(n.securityRules), ...objects(n.defaultSecurityRules)].map(securityRuleFromArm),
    };
}

function egressSource(value: unknown, segment: string): EgressSourceFact | null {
    const ref = reference(value);
    if (!ref) return null;
    const ips = strings(ref.ipAddress, ...objects(ref.publicIpAddresses).map((p) => p.ipAddress));
    return { name: str(ref.name) ?? nameFromId(ref.id, segment) ?? segment, ...(ips.length > 0 ? { publicIpAddresses: ips } : {}) };
}

/** What a subnet says about egress: NAT gateway and `defaultOutboundAccess`. */
export interface SubnetEgress {
    subnetName?: string;
    natGateway: EgressSourceFact | null;
    /** Absent in ARM means the default: outbound access on (the API version azure-native 3.x uses). */
    defaultOutboundAccess: boolean;
    routeTableId?: string;
    networkSecurityGroupId?: string;
    addressPrefixes: string[];
}

/** Reads a subnet (`natGateway`, `defaultOutboundAccess`, `routeTable`, `networkSecurityGroup`, `addressPrefix(es)`). */
export function subnetFromArm(subnet: unknown): SubnetEgress {
    const s = flatten(subnet);
    return {
        subnetName: str(s.name) ?? nameFromId(s.id, "subnets"),
        natGateway: egressSource(s.natGateway, "natGateways"),
        defaultOutboundAccess: s.defaultOutboundAccess !== false,
        routeTableId: str(flatten(s.routeTable).id),
        networkSecurityGroupId: str(flatten(s.networkSecurityGroup).id),
        addressPrefixes: strings(s.addressPrefix, s.addressPrefixes),
    };
}

/** What a NIC says: private IP, public IP, load-balancer pools, its NSG. */
export interface NicEgress {
    privateIpAddress?: string;
    publicIp: EgressSourceFact | null;
    /** The load-balancer backend pools the NIC is in: whether their balancer has outbound rules is not in the NIC. */
    loadBalancerBackendPools: string[];
    /** The application security groups of the primary IP configuration, by ID (N4). */
    applicationSecurityGroups: string[];
    networkSecurityGroupId?: string;
    subnetId?: string;
}

/** Reads a NIC's primary IP configuration (the first, or the one marked `primary`). */
export function nicFromArm(nic: unknown): NicEgress {
    const n = flatten(nic);
    const configs = objects(n.ipConfigurations);
    const primary = configs.find((c) => c.primary === true) ?? configs[0] ?? {};
    return {
        privateIpAddress: str(primary.privateIPAddress) ?? str(primary.privateIpAddress),
        publicIp: egressSource(primary.publicIPAddress ?? primary.publicIpAddress, "publicIPAddresses"),
        loadBalancerBackendPools: strings(...objects(primary.loadBalancerBackendAddressPools).map((p) => p.id)),
        applicationSecurityGroups: strings(...objects(primary.applicationSecurityGroups).map((a) => a.id ?? a.name)),
        networkSecurityGroupId: str(flatten(n.networkSecurityGroup).id),
        subnetId: str(flatten(primary.subnet).id),
    };
}

function ruleFromArm(rule: unknown): FirewallRuleFact {
    const r = flatten(rule);
    return {
        name: str(r.name) ?? "(unnamed)",
        ruleType: str(r.ruleType) ?? "",
        ipProtocols: strings(r.ipProtocols),
        sourceAddresses: strings(r.sourceAddresses),
        sourceIpGroups: strings(r.sourceIpGroups),
        destinationAddresses: strings(r.destinationAddresses),
        destinationIpGroups: strings(r.destinationIpGroups),
        destinationFqdns: strings(r.destinationFqdns),
        destinationPorts: strings(r.destinationPorts),
        protocols: objects(r.protocols).map((p) => ({ protocolType: str(p.protocolType) ?? "", ...(p.port !== undefined ? { port: Number(p.port) } : {}) })),
        targetFqdns: strings(r.targetFqdns),
    };
}

/** A `FirewallPolicyRuleCollectionGroup` (ARM or azure-native shape). */
export function ruleCollectionGroupFromArm(group: unknown): FirewallRuleCollectionGroupFact {
    const g = flatten(group);
    return {
        name: str(g.name) ?? nameFromId(g.id, "ruleCollectionGroups") ?? "(unnamed)",
        priority: Number(g.priority ?? 0),
        ruleCollections: objects(g.ruleCollections).map((c) => {
            const action = flatten(c.action);
            return {
                name: str(c.name) ?? "(unnamed)",
                priority: Number(c.priority ?? 0),
                ruleCollectionType: str(c.ruleCollectionType),
                action: str(action.type) ?? str(c.action) ?? "",
                rules: objects(c.rules).map(ruleFromArm),
            };
        }),
    };
}

/** An Azure Firewall and its policy's rule collection groups, as a next hop at its private IP. */
export function firewallNextHopFromArm(firewall: unknown, ruleCollectionGroups: readonly unknown[] | undefined, policyName?: string): NextHopFacts | undefined {
    const f = flatten(firewall);
    const config = objects(f.ipConfigurations)[0];
    const ip = str(config?.privateIPAddress) ?? str(flatten(f.hubIPAddresses).privateIPAddress);
    if (!ip) return undefined;
    const fw: AzureFirewallFacts = {
        name: str(f.name) ?? nameFromId(f.id, "azureFirewalls") ?? "firewall",
        ...(policyName ?? nameFromId(flatten(f.firewallPolicy).id, "firewallPolicies") ? { policyName: policyName ?? nameFromId(flatten(f.firewallPolicy).id, "firewallPolicies") } : {}),
        ...(ruleCollectionGroups ? { ruleCollectionGroups: ruleCollectionGroups.map(ruleCollectionGroupFromArm) } : {}),
    };
    return { ipAddress: ip, azureFirewall: fw };
}

/** Everything Azure can tell about one VM's path, in Azure's shapes; each part optional. */
export interface ArmPath {
    /** VM name, for messages. */
    vmName?: string;
    /** The subnet (`network.getSubnet`, `az network vnet subnet show`); `null`: known to have nothing. */
    subnet?: unknown;
    /** The subnet's route table; `null`: none. */
    routeTable?: unknown | null;
    /** The subnet's NSG; `null`: none. */
    subnetNsg?: unknown | null;
    /** The NIC (`az network nic show`). */
    nic?: unknown;
    /** The NIC's NSG; `null`: none. */
    nicNsg?: unknown | null;
    /** Effective routes (they replace `routeTable`). */
    effectiveRoutes?: RouteFact[];
    /** The VNet's address space. */
    vnetAddressPrefixes?: string[];
    /** Routes learned over BGP. */
    bgpRoutes?: RouteFact[];
    /** What sits at appliance next hops. */
    nextHops?: NextHopFacts[];
    /** Whether a load balancer the NIC is in has outbound rules; `undefined`: not known. */
    loadBalancerOutbound?: EgressSourceFact | null;
}

/** Builds the engine's input from Azure's shapes. A part not given is not known (the engine answers `unknown` where it matters). */
export function pathFactsFromArm(path: ArmPath): PathFacts {
    const subnet = path.subnet === undefined || path.subnet === null ? undefined : subnetFromArm(path.subnet);
    const nic = path.nic === undefined || path.nic === null ? undefined : nicFromArm(path.nic);
    const facts: PathFacts = {
        ...(path.vmName ? { vmName: path.vmName } : {}),
        ...(subnet?.subnetName ? { subnetName: subnet.subnetName } : {}),
        ...(nic?.privateIpAddress ? { privateIpAddress: nic.privateIpAddress } : {}),
        ...(path.effectiveRoutes ? { effectiveRoutes: path.effectiveRoutes } : {}),
        ...(path.routeTable !== undefined ? { routeTable: path.routeTable === null ? null : routeTableFromArm(path.routeTable) } : {}),
        vnetAddressPrefixes: path.vnetAddressPrefixes ?? subnet?.addressPrefixes ?? [],
        ...(path.bgpRoutes ? { bgpRoutes: path.bgpRoutes } : {}),
        ...(path.nicNsg !== undefined ? { nicNsg: path.nicNsg === null ? null : nsgFromArm(path.nicNsg) } : {}),
        ...(path.subnetNsg !== undefined ? { subnetNsg: path.subnetNsg === null ? null : nsgFromArm(path.subnetNsg) } : {}),
        ...(subnet ? { natGateway: subnet.natGateway, defaultOutboundAccess: subnet.defaultOutboundAccess } : {}),
        ...(nic ? { nicPublicIp: nic.publicIp, applicationSecurityGroups: nic.applicationSecurityGroups } : {}),
        ...(path.nextHops ? { nextHops: path.nextHops } : {}),
    };
    if (path.loadBalancerOutbound !== undefined) {
        facts.loadBalancerOutbound = path.loadBalancerOutbound;
    } else if (nic && nic.loadBalancerBackendPools.length === 0) {
        facts.loadBalancerOutbound = null;
    }
    return facts;
}
