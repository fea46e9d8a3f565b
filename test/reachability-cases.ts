// The engine's case table: path facts, the rule each case exercises, and the expected verdict and blame.
// Shared by the engine test and the policy pack's "no contradiction" test, which rebuilds the reachable ones as stacks.
import { kmsEndpoint } from "../src/kms/endpoints";
import {
    AzureFirewallFacts,
    FirewallRuleFact,
    KmsDestination,
    NsgFacts,
    PathFacts,
    RouteFact,
    RuleId,
    SecurityRuleFact,
    UserRouteFact,
    Verdict,
    cloudKmsDestination,
    customKmsDestination,
} from "../src/reachability";
import { AzureCloud } from "../src/types";

export const KMS = kmsEndpoint(AzureCloud.AzurePublic).ipAddresses;
export const [K1, K2, K3] = KMS;
export const FW_IP = "10.0.1.4";

export const route = (name: string, addressPrefix: string, nextHopType: string, nextHopIpAddress?: string): UserRouteFact => ({
    name,
    addressPrefix,
    nextHopType,
    ...(nextHopIpAddress ? { nextHopIpAddress } : {}),
});
export const tunnel = (hop = "VirtualAppliance") => route("default", "0.0.0.0/0", hop, hop === "VirtualAppliance" ? FW_IP : undefined);
export const kmsRoutes = (ips: readonly string[] = KMS, hop = "Internet") => ips.map((ip) => route(`kms-${ip}`, `${ip}/32`, hop));
export const bgpDefault: RouteFact = { source: "VirtualNetworkGateway", addressPrefixes: ["0.0.0.0/0"], nextHopType: "VirtualNetworkGateway", nextHopIpAddress: "10.255.0.4" };

export function rule(name: string, priority: number, access: string, destination: string | string[], extra: Partial<SecurityRuleFact> = {}): SecurityRuleFact {
    return {
        name,
        priority,
        direction: "Outbound",
        access,
        protocol: "*",
        sourceAddressPrefixes: ["*"],
        sourcePortRanges: ["*"],
        destinationAddressPrefixes: Array.isArray(destination) ? destination : [destination],
        destinationPortRanges: ["*"],
        ...extra,
    };
}
export const nsg = (name: string, ...rules: SecurityRuleFact[]): NsgFacts => ({ name, rules });
export const denyInternet = rule("deny-internet", 4000, "Deny", "Internet");
export const allowKms = (priority = 100, destinations: string[] = [...KMS]) => rule("allow-kms-tcp-1688-out", priority, "Allow", destinations, { protocol: "Tcp", destinationPortRanges: ["1688"] });

export const networkRule = (name: string, extra: Partial<FirewallRuleFact> = {}): FirewallRuleFact => ({
    name,
    ruleType: "NetworkRule",
    ipProtocols: ["TCP"],
    sourceAddresses: ["10.1.0.0/16"],
    destinationAddresses: [...KMS],
    destinationPorts: ["1688"],
    ...extra,
});
export const applicationRule = (name: string): FirewallRuleFact => ({
    name,
    ruleType: "ApplicationRule",
    sourceAddresses: ["10.1.0.0/16"],
    protocols: [{ protocolType: "Https", port: 1688 }],
    targetFqdns: ["azkms.core.windows.net"],
});
export function firewall(rules: FirewallRuleFact[], action = "Allow"): AzureFirewallFacts {
    return {
        name: "fw-hub",
        policyName: "fwp-hub",
        publicIpAddresses: ["52.1.2.3"],
        ruleCollectionGroups: [{ name: "rcg-kms", priority: 200, ruleCollections: [{ name: "kms", priority: 100, action, ruleCollectionType: "FirewallPolicyFilterRuleCollection", rules }] }],
    };
}

/** A VM in an ordinary subnet: no route table, no NSG, default outbound access; cases change one thing. */
export function base(overrides: Partial<PathFacts> = {}): PathFacts {
    return {
        vmName: "vm1",
        subnetName: "snet-app",
        privateIpAddress: "10.1.0.5",
        vnetAddressPrefixes: ["10.1.0.0/16"],
        routeTable: null,
        nicNsg: null,
        subnetNsg: null,
        natGateway: null,
        nicPublicIp: null,
        loadBalancerOutbound: null,
        defaultOutboundAccess: true,
        ...overrides,
    };
}
export const table = (...routes: UserRouteFact[]) => ({ name: "rt-spoke", routes });
export const hubFirewall = (rules: FirewallRuleFact[], action?: string) => [{ ipAddress: FW_IP, azureFirewall: firewall(rules, action) }];
export const privateSubnet = { defaultOutboundAccess: false };
export const natGateway = { name: "nat-app", publicIpAddresses: ["20.50.1.1"] };

export const ONPREM = customKmsDestination({ host: "kms.corp.example", addressPrefixes: ["192.168.10.5/32"] });

export interface EngineCase {
    name: string;
    rule: RuleId;
    facts: PathFacts;
    destination?: KmsDestination;
    verdict: Verdict;
    /** Text the blamed element must contain (blocked / unknown). */
    blame?: string;
    /** Text some step's detail must contain. */
    detail?: string;
}

const publicKms = cloudKmsDestination();

export const CASES: EngineCase[] = [
    // Routes
    { name: "plain subnet: system 0/0 to Internet, default outbound", rule: "R2", facts: base(), verdict: "reachable", detail: "system route 0.0.0.0/0 -> Internet" },
    { name: "user 0/0 to an unknown NVA, no /32: the appliance decides", rule: "R3", facts: base({ routeTable: table(tunnel()) }), verdict: "unknown", blame: `appliance at ${FW_IP}` },
    { name: "user 0/0 to an NVA with /32 Internet routes for every KMS IP", rule: "R1", facts: base({ routeTable: table(tunnel(), ...kmsRoutes()) }), verdict: "reachable", detail: "longest matching prefix (/32)" },
    { name: "user 0/0 to the gateway without /32 routes", rule: "R3", facts: base({ routeTable: table(tunnel("VirtualNetworkGateway")) }), verdict: "blocked", blame: 'user route "default"' },
    { name: "user 0/0 to the gateway with /32 routes", rule: "R1", facts: base({ routeTable: table(tunnel("VirtualNetworkGateway"), ...kmsRoutes()) }), verdict: "reachable" },
    { name: "user 0/0 to the gateway, /32 for only one KMS IP", rule: "R1", facts: base({ routeTable: table(tunnel("VirtualNetworkGateway"), ...kmsRoutes([K1])) }), verdict: "blocked", blame: "user route" },
    { name: "BGP 0/0 from ExpressRoute, no route table", rule: "R3", facts: base({ bgpRoutes: [bgpDefault] }), verdict: "blocked", blame: "BGP route 0.0.0.0/0" },
    { name: "BGP 0/0 with /32 Internet user routes", rule: "R1", facts: base({ bgpRoutes: [bgpDefault], routeTable: table(...kmsRoutes()) }), verdict: "reachable" },
    { name: "BGP 0/0 kept off by disableBgpRoutePropagation", rule: "R3", facts: base({ bgpRoutes: [bgpDefault], routeTable: { ...table(), disableBgpRoutePropagation: true } }), verdict: "reachable" },
    { name: "equal prefix: user 0/0 Internet beats BGP 0/0", rule: "R1", facts: base({ bgpRoutes: [bgpDefault], routeTable: table(route("default", "0.0.0.0/0", "Internet")) }), verdict: "reachable", detail: "a user route beats BGP and system routes" },
    { name: "equal prefix: BGP 0/0 beats the system 0/0", rule: "R1", facts: base({ bgpRoutes: [bgpDefault] }), verdict: "blocked", detail: "a BGP route beats the system route" },
    { name: "a /32 KMS route with next hop None", rule: "R2", facts: base({ routeTable: table(route("kms-drop", `${K2}/32`, "None")) }), verdict: "blocked", blame: 'user route "kms-drop"' },
    { name: "user 0/0 with next hop None, no /32", rule: "R2", facts: base({ routeTable: table(route("default", "0.0.0.0/0", "None")) }), verdict: "blocked", blame: 'user route "default"' },
    { name: "user 0/0 None with /32 Internet routes", rule: "R1", facts: base({ routeTable: table(route("default", "0.0.0.0/0", "None"), ...kmsRoutes()) }), verdict: "reachable" },
    { name: "a wider Internet route (20.0.0.0/8) under a 0/0 to the gateway", rule: "R1", facts: base({ routeTable: table(tunnel("VirtualNetworkGateway"), route("azure", "20.0.0.0/8", "Internet")) }), verdict: "blocked", blame: "user route" },
    { name: "effective routes: an Invalid user route does not count", rule: "R1", facts: base({ effectiveRoutes: [{ source: "Default", addressPrefixes: ["0.0.0.0/0"], nextHopType: "Internet", state: "Invalid" }, { name: "default", source: "User", addressPrefixes: ["0.0.0.0/0"], nextHopType: "VirtualNetworkGateway", state: "Active" }] }), verdict: "blocked" },
    { name: "KMS IP routed into a peering", rule: "R1", facts: base({ routeTable: table(route("odd", "20.118.0.0/16", "VNetPeering")) }), verdict: "blocked", blame: 'user route "odd"' },
    { name: "routes not known", rule: "R1", facts: base({ routeTable: undefined }), verdict: "unknown", blame: "route table" },
    { name: "/32 Internet route in a private subnet without explicit outbound", rule: "R4", facts: base({ ...privateSubnet, routeTable: table(tunnel(), ...kmsRoutes()) }), verdict: "blocked", blame: 'subnet "snet-app"' },
    { name: "/32 Internet route in a private subnet with a NAT gateway", rule: "R4", facts: base({ ...privateSubnet, natGateway, routeTable: table(tunnel(), ...kmsRoutes()) }), verdict: "reachable", detail: 'NAT gateway "nat-app"' },
    // NSGs
    { name: "NSG denies Internet, no 0/0 route: the platform rule lets 1688 through", rule: "N2", facts: base({ subnetNsg: nsg("nsg-app", denyInternet) }), verdict: "reachable", detail: "platform rule" },
    { name: "NSG deny-all at 4096, no 0/0 route: platform rule", rule: "N2", facts: base({ nicNsg: nsg("nsg-vm", rule("deny-all", 4096, "Deny", "*")) }), verdict: "reachable" },
    { name: "NSG denies Internet with a 0/0 route and /32s: the platform rule is off", rule: "N2", facts: base({ routeTable: table(tunnel(), ...kmsRoutes()), subnetNsg: nsg("nsg-app", denyInternet) }), verdict: "blocked", blame: 'NSG "nsg-app" rule "deny-internet"' },
    { name: "0/0 and /32s, deny Internet after an allow for 1688", rule: "N1", facts: base({ routeTable: table(tunnel(), ...kmsRoutes()), subnetNsg: nsg("nsg-app", allowKms(100), denyInternet) }), verdict: "reachable" },
    { name: "allow for 1688 after the deny (higher number)", rule: "N1", facts: base({ routeTable: table(tunnel(), ...kmsRoutes()), subnetNsg: nsg("nsg-app", allowKms(4050), denyInternet) }), verdict: "blocked", blame: "deny-internet" },
    { name: "NIC NSG allows, subnet NSG denies: a deny in either wins", rule: "N1", facts: base({ routeTable: table(tunnel(), ...kmsRoutes()), nicNsg: nsg("nsg-vm", allowKms()), subnetNsg: nsg("nsg-app", denyInternet) }), verdict: "blocked", blame: 'NSG "nsg-app"' },
    { name: "NIC NSG denies, subnet NSG allows", rule: "N1", facts: base({ routeTable: table(tunnel(), ...kmsRoutes()), nicNsg: nsg("nsg-vm", denyInternet), subnetNsg: nsg("nsg-app", allowKms()) }), verdict: "blocked", blame: 'NSG "nsg-vm"' },
    { name: "deny on UDP only does not stop TCP 1688", rule: "N1", facts: base({ routeTable: table(tunnel(), ...kmsRoutes()), subnetNsg: nsg("nsg-app", rule("deny-udp", 200, "Deny", "*", { protocol: "Udp" })) }), verdict: "reachable" },
    { name: "deny on port range 1000-2000 stops 1688", rule: "N1", facts: base({ routeTable: table(tunnel(), ...kmsRoutes()), subnetNsg: nsg("nsg-app", rule("deny-range", 200, "Deny", "Internet", { destinationPortRanges: ["1000-2000"] })) }), verdict: "blocked", blame: "deny-range" },
    { name: "deny on port 443 leaves 1688 alone", rule: "N1", facts: base({ routeTable: table(tunnel(), ...kmsRoutes()), subnetNsg: nsg("nsg-app", rule("deny-443", 200, "Deny", "*", { destinationPortRanges: ["443"] })) }), verdict: "reachable" },
    { name: "deny to a CIDR holding one KMS IP (20.0.0.0/8)", rule: "N1", facts: base({ routeTable: table(tunnel(), ...kmsRoutes()), subnetNsg: nsg("nsg-app", rule("deny-20", 200, "Deny", "20.0.0.0/8")) }), verdict: "blocked", blame: "deny-20" },
    { name: "deny from another source prefix does not apply to this VM", rule: "N1", facts: base({ routeTable: table(tunnel(), ...kmsRoutes()), subnetNsg: nsg("nsg-app", rule("deny-other", 200, "Deny", "*", { sourceAddressPrefixes: ["10.9.0.0/16"] })) }), verdict: "reachable" },
    { name: "deny to VirtualNetwork does not cover the public KMS", rule: "N1", facts: base({ routeTable: table(tunnel(), ...kmsRoutes()), subnetNsg: nsg("nsg-app", rule("deny-vnet", 200, "Deny", "VirtualNetwork")) }), verdict: "reachable" },
    { name: "deny with a specific source port: cannot be told", rule: "N1", facts: base({ routeTable: table(tunnel(), ...kmsRoutes()), subnetNsg: nsg("nsg-app", rule("deny-sport", 200, "Deny", "*", { sourcePortRanges: ["50000-60000"] })) }), verdict: "unknown", blame: "deny-sport" },
    { name: "deny to the AzurePlatformLKM tag without any 0/0 route", rule: "N3", facts: base({ subnetNsg: nsg("nsg-app", rule("deny-lkm", 300, "Deny", "AzurePlatformLKM")) }), verdict: "blocked", blame: 'rule "deny-lkm"' },
    { name: "allow to AzurePlatformLKM before a deny-all, with 0/0 and /32s", rule: "N3", facts: base({ routeTable: table(tunnel(), ...kmsRoutes()), subnetNsg: nsg("nsg-app", rule("allow-lkm", 100, "Allow", "AzurePlatformLKM", { protocol: "Tcp", destinationPortRanges: ["1688"] }), rule("deny-all", 4096, "Deny", "*")) }), verdict: "reachable" },
    { name: "NSG not known", rule: "N1", facts: base({ subnetNsg: undefined }), verdict: "unknown", blame: "subnet NSG" },
    // Egress
    { name: "private subnet, no explicit outbound", rule: "E2", facts: base({ ...privateSubnet }), verdict: "blocked", blame: 'subnet "snet-app"' },
    { name: "private subnet with a NAT gateway", rule: "E1", facts: base({ ...privateSubnet, natGateway }), verdict: "reachable", detail: "NAT gateway" },
    { name: "private subnet with a public IP on the NIC", rule: "E1", facts: base({ ...privateSubnet, nicPublicIp: { name: "pip-vm1" } }), verdict: "reachable", detail: "instance-level public IP" },
    { name: "private subnet with load-balancer outbound", rule: "E1", facts: base({ ...privateSubnet, loadBalancerOutbound: { name: "lb-out" } }), verdict: "reachable", detail: "load-balancer outbound" },
    { name: "NAT gateway and a NIC public IP: the NAT gateway wins", rule: "E1", facts: base({ natGateway, nicPublicIp: { name: "pip-vm1" } }), verdict: "reachable", detail: 'NAT gateway "nat-app"' },
    { name: "private subnet, NIC in a load-balancer pool of unknown outbound", rule: "E1", facts: base({ ...privateSubnet, loadBalancerOutbound: undefined }), verdict: "unknown", blame: "subnet" },
    { name: "defaultOutboundAccess not known", rule: "E2", facts: base({ defaultOutboundAccess: undefined }), verdict: "unknown" },
    { name: "private subnet but 0/0 to the hub firewall with a network rule", rule: "E1", facts: base({ ...privateSubnet, routeTable: table(tunnel()), nextHops: hubFirewall([networkRule("allow-kms")]) }), verdict: "reachable", detail: "SNATs to its public IP" },
    // Azure Firewall / NVA
    { name: "hub firewall: 0/0 to Azure Firewall with a network rule for 1688, NSG denies Internet", rule: "E3", facts: base({ routeTable: table(tunnel()), subnetNsg: nsg("nsg-app", allowKms(100), denyInternet), nextHops: hubFirewall([networkRule("allow-kms")]) }), verdict: "reachable", detail: 'network rule "allow-kms"' },
    { name: "hub firewall with only an application rule (Https:1688)", rule: "E3", facts: base({ routeTable: table(tunnel()), nextHops: hubFirewall([applicationRule("kms-https")]) }), verdict: "blocked", blame: 'Azure Firewall "fw-hub" (policy "fwp-hub") rule "kms-https"' },
    { name: "hub firewall with no rule for KMS", rule: "E3", facts: base({ routeTable: table(tunnel()), nextHops: hubFirewall([networkRule("dns", { destinationPorts: ["53"] })]) }), verdict: "blocked", blame: 'Azure Firewall "fw-hub"' },
    { name: "hub firewall: network rule to * on port *", rule: "E3", facts: base({ routeTable: table(tunnel()), nextHops: hubFirewall([networkRule("any", { destinationAddresses: ["*"], destinationPorts: ["*"], ipProtocols: ["Any"] })]) }), verdict: "reachable" },
    { name: "hub firewall: a deny collection before the allow", rule: "E3", facts: base({ routeTable: table(tunnel()), nextHops: [{ ipAddress: FW_IP, azureFirewall: { ...firewall([networkRule("allow-kms")]), ruleCollectionGroups: [...(firewall([networkRule("allow-kms")]).ruleCollectionGroups ?? []), { name: "rcg-deny", priority: 100, ruleCollections: [{ name: "deny", priority: 100, action: "Deny", rules: [networkRule("deny-all", { destinationAddresses: ["*"], destinationPorts: ["*"] })] }] }] } }] }), verdict: "blocked", blame: 'rule "deny-all"' },
    { name: "hub firewall: a network rule only for UDP", rule: "E3", facts: base({ routeTable: table(tunnel()), nextHops: hubFirewall([networkRule("udp", { ipProtocols: ["UDP"] })]) }), verdict: "blocked" },
    { name: "hub firewall: network rule from another spoke's prefix", rule: "E3", facts: base({ routeTable: table(tunnel()), nextHops: hubFirewall([networkRule("other", { sourceAddresses: ["10.2.0.0/16"] })]) }), verdict: "blocked" },
    { name: "hub firewall: rule collection groups not known", rule: "E3", facts: base({ routeTable: table(tunnel()), nextHops: [{ ipAddress: FW_IP, azureFirewall: { name: "fw-hub" } }] }), verdict: "unknown", blame: "fw-hub" },
    { name: "hub firewall: rule names an IP group", rule: "E3", facts: base({ routeTable: table(tunnel()), nextHops: hubFirewall([networkRule("grp", { destinationAddresses: [], destinationIpGroups: ["/ipGroups/kms"] })]) }), verdict: "unknown" },
    { name: "NVA known to SNAT and allow 1688", rule: "E3", facts: base({ routeTable: table(tunnel()), nextHops: [{ ipAddress: FW_IP, nva: { name: "nva1", snatsToPublicIp: true, allowsKmsTraffic: true } }] }), verdict: "reachable" },
    { name: "NVA known not to SNAT", rule: "E3", facts: base({ routeTable: table(tunnel()), nextHops: [{ ipAddress: FW_IP, nva: { name: "nva1", snatsToPublicIp: false } }] }), verdict: "blocked", blame: 'appliance "nva1"' },
    // On-premises KMS (K1)
    { name: "on-premises KMS over a BGP route from the gateway", rule: "K1", destination: ONPREM, facts: base({ bgpRoutes: [{ source: "VirtualNetworkGateway", addressPrefixes: ["192.168.0.0/16"], nextHopType: "VirtualNetworkGateway" }], ...privateSubnet }), verdict: "reachable" },
    { name: "on-premises KMS with no route: the system None route drops 192.168/16", rule: "R2", destination: ONPREM, facts: base(), verdict: "blocked", blame: "system route 192.168.0.0/16 -> None" },
    { name: "on-premises KMS behind a deny-all NSG: no platform rule for it", rule: "N2", destination: ONPREM, facts: base({ bgpRoutes: [bgpDefault, { source: "VirtualNetworkGateway", addressPrefixes: ["192.168.0.0/16"], nextHopType: "VirtualNetworkGateway" }], subnetNsg: nsg("nsg-app", rule("deny-all", 4096, "Deny", "*")) }), verdict: "blocked", blame: "deny-all" },
    { name: "on-premises KMS through the hub firewall with a network rule", rule: "K1", destination: ONPREM, facts: base({ routeTable: table(tunnel(), route("onprem", "192.168.0.0/16", "VirtualAppliance", FW_IP)), nextHops: hubFirewall([networkRule("onprem", { destinationAddresses: ["192.168.10.0/24"] })]) }), verdict: "reachable" },
    { name: "on-premises KMS over the gateway, allowed by the VirtualNetwork tag", rule: "K1", destination: ONPREM, facts: base({ bgpRoutes: [{ source: "VirtualNetworkGateway", addressPrefixes: ["192.168.0.0/16"], nextHopType: "VirtualNetworkGateway" }], subnetNsg: nsg("nsg-app", denyInternet) }), verdict: "reachable" },
    // Sovereign clouds
    { name: "US Government: the two KMS IPs behind a gateway 0/0 with /32s", rule: "R1", destination: cloudKmsDestination(AzureCloud.AzureUSGovernment), facts: base({ bgpRoutes: [bgpDefault], routeTable: table(...kmsRoutes([...kmsEndpoint(AzureCloud.AzureUSGovernment).ipAddresses])) }), verdict: "reachable" },
    { name: "China: public-cloud /32s do not help", rule: "R3", destination: cloudKmsDestination(AzureCloud.AzureChina), facts: base({ bgpRoutes: [bgpDefault], routeTable: table(...kmsRoutes()) }), verdict: "blocked" },
];

export function destinationOf(c: EngineCase): KmsDestination {
    return c.destination ?? publicKms;
}
