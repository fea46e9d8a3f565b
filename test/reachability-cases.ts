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

/** An application security group's ID (rules and NICs name ASGs by ID). */
export const asg = (name: string) => `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/applicationSecurityGroups/${name}`;
/** An outbound rule from (or to) application security groups instead of prefixes. */
export const asgRule = (name: string, priority: number, access: string, side: "source" | "destination", groups: string[], extra: Partial<SecurityRuleFact> = {}): SecurityRuleFact =>
    side === "source"
        ? rule(name, priority, access, "*", { sourceAddressPrefixes: [], sourceApplicationSecurityGroups: groups.map(asg), ...extra })
        : rule(name, priority, access, [], { destinationApplicationSecurityGroups: groups.map(asg), ...extra });
export const ipGroupId = (name: string) => `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-hub/providers/Microsoft.Network/ipGroups/${name}`;
/** The hub firewall at FW_IP with more of its policy known (DNS proxy, IP groups). */
export const hubFirewallWith = (rules: FirewallRuleFact[], extra: Partial<AzureFirewallFacts>) => [{ ipAddress: FW_IP, azureFirewall: { ...firewall(rules), ...extra } }];
export const fqdnRule = (name: string) => networkRule(name, { destinationAddresses: [], destinationFqdns: ["azkms.core.windows.net"] });
const forcedWithKmsRoutes = () => table(tunnel(), ...kmsRoutes());

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
    // Was "deny to VirtualNetwork does not cover the public KMS" with a 0/0 and /32s: N5 (the tag holds user-route prefixes) makes that a block; see ROUND_2.
    { name: "deny to VirtualNetwork with /32 routes and no 0/0: the platform rule lets 1688 through", rule: "N2", facts: base({ routeTable: table(...kmsRoutes()), subnetNsg: nsg("nsg-app", rule("deny-vnet", 200, "Deny", "VirtualNetwork")) }), verdict: "reachable", detail: "platform rule" },
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

/**
 * Round 2 (issue 24): the rules N4–N6, E4–E6 and R5 of the facts file, section 6, on the designs platform teams run.
 * Each row cites the rule it exercises.
 */
export const ROUND_2: EngineCase[] = [
    // N4: application security groups
    { name: "deny to an ASG (the database tier) with 0/0 and /32s: the KMS is in no ASG", rule: "N4", facts: base({ routeTable: forcedWithKmsRoutes(), applicationSecurityGroups: [asg("asg-web")], subnetNsg: nsg("nsg-app", asgRule("deny-to-db", 200, "Deny", "destination", ["asg-db"]), allowKms(300), denyInternet) }), verdict: "reachable" },
    { name: "deny-all to an ASG before the deny-internet: the ASG rule does not touch the KMS, the deny-internet does", rule: "N4", facts: base({ routeTable: forcedWithKmsRoutes(), applicationSecurityGroups: [], subnetNsg: nsg("nsg-app", asgRule("deny-to-db", 200, "Deny", "destination", ["asg-db"]), denyInternet) }), verdict: "blocked", blame: "deny-internet" },
    { name: "deny from an ASG the NIC is in: it applies", rule: "N4", facts: base({ routeTable: forcedWithKmsRoutes(), applicationSecurityGroups: [asg("asg-web")], subnetNsg: nsg("nsg-app", asgRule("deny-web-out", 200, "Deny", "source", ["asg-web"])) }), verdict: "blocked", blame: 'rule "deny-web-out"' },
    { name: "deny from an ASG the NIC is not in: it does not apply", rule: "N4", facts: base({ routeTable: forcedWithKmsRoutes(), applicationSecurityGroups: [asg("asg-web")], subnetNsg: nsg("nsg-app", asgRule("deny-db-out", 200, "Deny", "source", ["asg-db"])) }), verdict: "reachable" },
    { name: "deny from an ASG, the NIC's membership not known: unknown", rule: "N4", facts: base({ routeTable: forcedWithKmsRoutes(), subnetNsg: nsg("nsg-app", asgRule("deny-db-out", 200, "Deny", "source", ["asg-db"])) }), verdict: "unknown", blame: 'rule "deny-db-out"', detail: "membership is not known" },
    { name: "allow for 1688 from an ASG the NIC is not in, then deny Internet: the allow does not cover it", rule: "N4", facts: base({ routeTable: forcedWithKmsRoutes(), applicationSecurityGroups: [asg("asg-web")], subnetNsg: nsg("nsg-app", asgRule("allow-db-kms", 100, "Allow", "source", ["asg-db"], { protocol: "Tcp", destinationPortRanges: ["1688"] }), denyInternet) }), verdict: "blocked", blame: "deny-internet" },
    { name: "allow for 1688 from an ASG the NIC is in, then deny Internet", rule: "N4", facts: base({ routeTable: forcedWithKmsRoutes(), applicationSecurityGroups: [asg("asg-web")], subnetNsg: nsg("nsg-app", asgRule("allow-web-kms", 100, "Allow", "source", ["asg-web"], { protocol: "Tcp", destinationPortRanges: ["1688"] }), denyInternet) }), verdict: "reachable", detail: "the NIC is in application security group asg-web" },
    { name: "membership named by name matches the rule's ASG ID", rule: "N4", facts: base({ routeTable: forcedWithKmsRoutes(), applicationSecurityGroups: ["ASG-Web"], nicNsg: nsg("nsg-vm", asgRule("deny-web-out", 200, "Deny", "source", ["asg-web"])) }), verdict: "blocked", blame: 'NSG "nsg-vm" rule "deny-web-out"' },
    { name: "on-premises KMS: a deny to an ASG may hold the KMS host, so unknown", rule: "N4", destination: ONPREM, facts: base({ bgpRoutes: [{ source: "VirtualNetworkGateway", addressPrefixes: ["192.168.0.0/16"], nextHopType: "VirtualNetworkGateway" }], applicationSecurityGroups: [], subnetNsg: nsg("nsg-app", asgRule("deny-to-kms-tier", 200, "Deny", "destination", ["asg-kms"])) }), verdict: "unknown" },
    // N5: VirtualNetwork holds the user routes' prefixes
    { name: "deny to VirtualNetwork with a 0/0 and /32 routes: the /32s put the KMS in VirtualNetwork", rule: "N5", facts: base({ routeTable: forcedWithKmsRoutes(), subnetNsg: nsg("nsg-app", rule("deny-vnet", 200, "Deny", "VirtualNetwork")) }), verdict: "blocked", blame: 'rule "deny-vnet"', detail: "VirtualNetwork tag" },
    { name: "allow for 1688 to VirtualNetwork before deny Internet, with a 0/0 and /32 routes", rule: "N5", facts: base({ routeTable: forcedWithKmsRoutes(), subnetNsg: nsg("nsg-app", rule("allow-vnet-kms", 100, "Allow", "VirtualNetwork", { protocol: "Tcp", destinationPortRanges: ["1688"] }), denyInternet) }), verdict: "reachable", detail: "VirtualNetwork tag" },
    { name: "deny to VirtualNetwork with a user 0/0 to the Internet: its prefix holds every address", rule: "N5", facts: base({ routeTable: table(route("default", "0.0.0.0/0", "Internet")), nicNsg: nsg("nsg-vm", rule("deny-vnet", 200, "Deny", "VirtualNetwork")) }), verdict: "blocked", blame: 'NSG "nsg-vm" rule "deny-vnet"' },
    { name: "effective routes: Azure's user /32s put the KMS in VirtualNetwork", rule: "N5", facts: base({ effectiveRoutes: [{ source: "Default", addressPrefixes: ["0.0.0.0/0"], nextHopType: "Internet", state: "Invalid" }, { name: "default", source: "User", addressPrefixes: ["0.0.0.0/0"], nextHopType: "VirtualAppliance", nextHopIpAddress: FW_IP, state: "Active" }, ...KMS.map((ip) => ({ name: `kms-${ip}`, source: "User", addressPrefixes: [`${ip}/32`], nextHopType: "Internet", state: "Active" }))], subnetNsg: nsg("nsg-app", rule("deny-vnet", 200, "Deny", "VirtualNetwork")) }), verdict: "blocked", blame: 'rule "deny-vnet"' },
    { name: "deny to VirtualNetwork, a user route that holds no KMS address: the deny does not match", rule: "N5", facts: base({ routeTable: table(route("onprem", "10.9.0.0/16", "VirtualNetworkGateway")), subnetNsg: nsg("nsg-app", rule("deny-vnet", 200, "Deny", "VirtualNetwork")) }), verdict: "reachable", detail: 'rule "AllowInternetOutBound"' },
    // N6: AzureCloud holds the KMS addresses
    { name: "deny to AzureCloud with a 0/0 and /32 routes", rule: "N6", facts: base({ routeTable: forcedWithKmsRoutes(), subnetNsg: nsg("nsg-app", rule("deny-azure", 200, "Deny", "AzureCloud")) }), verdict: "blocked", blame: 'rule "deny-azure"', detail: "AzureCloud tag" },
    { name: "allow for 1688 to AzureCloud before deny Internet", rule: "N6", facts: base({ routeTable: forcedWithKmsRoutes(), subnetNsg: nsg("nsg-app", rule("allow-azure-kms", 100, "Allow", "AzureCloud", { protocol: "Tcp", destinationPortRanges: ["1688"] }), denyInternet) }), verdict: "reachable", detail: "AzureCloud tag" },
    { name: "deny to AzureCloud without a 0/0 route: the platform rule lets 1688 through", rule: "N6", facts: base({ subnetNsg: nsg("nsg-app", rule("deny-azure", 200, "Deny", "AzureCloud")) }), verdict: "reachable", detail: "platform rule" },
    { name: "on-premises KMS at a private address: a deny to AzureCloud does not touch it", rule: "N6", destination: ONPREM, facts: base({ bgpRoutes: [{ source: "VirtualNetworkGateway", addressPrefixes: ["192.168.0.0/16"], nextHopType: "VirtualNetworkGateway" }], subnetNsg: nsg("nsg-app", rule("deny-azure", 200, "Deny", "AzureCloud")) }), verdict: "reachable" },
    { name: "deny to a regional AzureCloud tag (AzureCloud.WestEurope): which region holds the KMS is not known", rule: "N6", facts: base({ routeTable: forcedWithKmsRoutes(), subnetNsg: nsg("nsg-app", rule("deny-weu", 200, "Deny", "AzureCloud.WestEurope")) }), verdict: "unknown", blame: 'rule "deny-weu"' },
    // E4: a NAT gateway needs a public IP or prefix
    { name: "private subnet with a NAT gateway that has no public IP or prefix", rule: "E4", facts: base({ ...privateSubnet, natGateway: { name: "nat-app", hasPublicIp: false } }), verdict: "blocked", blame: 'NAT gateway "nat-app"' },
    { name: "NAT gateway with only a public IP prefix", rule: "E4", facts: base({ ...privateSubnet, natGateway: { name: "nat-app", hasPublicIp: true } }), verdict: "reachable", detail: 'NAT gateway "nat-app"' },
    { name: "NAT gateway without a public IP takes the subnet's outbound even from a NIC with a public IP", rule: "E4", facts: base({ natGateway: { name: "nat-app", hasPublicIp: false }, nicPublicIp: { name: "pip-vm1" } }), verdict: "blocked", blame: 'NAT gateway "nat-app"' },
    { name: "/32 Internet routes under a 0/0 in a private subnet whose NAT gateway has no public IP", rule: "E4", facts: base({ ...privateSubnet, natGateway: { name: "nat-app", hasPublicIp: false }, routeTable: forcedWithKmsRoutes() }), verdict: "blocked", blame: 'NAT gateway "nat-app"' },
    { name: "NAT gateway without a public IP, but 0/0 to the hub firewall: the firewall's SNAT carries it", rule: "E4", facts: base({ ...privateSubnet, natGateway: { name: "nat-app", hasPublicIp: false }, routeTable: table(tunnel()), nextHops: hubFirewall([networkRule("allow-kms")]) }), verdict: "reachable" },
    // E5: Standard load balancers
    { name: "NIC in a Standard internal load balancer's pool: no default outbound", rule: "E5", facts: base({ loadBalancerBackends: [{ name: "lb-internal", sku: "Standard" }] }), verdict: "blocked", blame: 'load balancer "lb-internal"' },
    { name: "NIC in a Standard public load balancer's pool with an outbound rule", rule: "E5", facts: base({ loadBalancerBackends: [{ name: "lb-public", sku: "Standard" }], loadBalancerOutbound: { name: "lb-public" } }), verdict: "reachable", detail: 'load-balancer outbound rule "lb-public"' },
    { name: "NIC in a Basic load balancer's pool keeps default outbound", rule: "E5", facts: base({ loadBalancerBackends: [{ name: "lb-basic", sku: "Basic" }] }), verdict: "reachable", detail: "default outbound access" },
    { name: "NIC in a pool of a load balancer whose SKU is not known", rule: "E5", facts: base({ loadBalancerBackends: [{ name: "lb-other" }] }), verdict: "unknown", blame: 'load balancer "lb-other"' },
    { name: "Standard internal load balancer and a NAT gateway: the NAT gateway carries it", rule: "E5", facts: base({ loadBalancerBackends: [{ name: "lb-internal", sku: "Standard" }], natGateway }), verdict: "reachable", detail: 'NAT gateway "nat-app"' },
    { name: "Standard internal load balancer and a public IP on the NIC", rule: "E5", facts: base({ loadBalancerBackends: [{ name: "lb-internal", sku: "Standard" }], nicPublicIp: { name: "pip-vm1" } }), verdict: "reachable", detail: "instance-level public IP" },
    // E6: FQDN network rules need the DNS proxy
    { name: "hub firewall: network rule to azkms.core.windows.net by FQDN, DNS proxy off", rule: "E6", facts: base({ routeTable: table(tunnel()), nextHops: hubFirewallWith([fqdnRule("kms-fqdn")], { dnsProxy: false }) }), verdict: "blocked", blame: 'rule "kms-fqdn"', detail: "DNS proxy" },
    { name: "hub firewall: network rule by FQDN, DNS proxy on", rule: "E6", facts: base({ routeTable: table(tunnel()), nextHops: hubFirewallWith([fqdnRule("kms-fqdn")], { dnsProxy: true }) }), verdict: "reachable", detail: "through the policy's DNS proxy" },
    { name: "hub firewall: network rule by FQDN, the policy's DNS proxy not known", rule: "E6", facts: base({ routeTable: table(tunnel()), nextHops: hubFirewall([fqdnRule("kms-fqdn")]) }), verdict: "unknown", blame: 'rule "kms-fqdn"' },
    { name: "hub firewall: FQDN rule with the proxy off, then a rule by address", rule: "E6", facts: base({ routeTable: table(tunnel()), nextHops: hubFirewallWith([fqdnRule("kms-fqdn"), networkRule("kms-ips")], { dnsProxy: false }) }), verdict: "reachable", detail: 'rule "kms-ips"' },
    // IP groups the stack defines (E3: judged by their addresses)
    { name: "hub firewall: destination IP group holding the KMS addresses", rule: "E3", facts: base({ routeTable: table(tunnel()), nextHops: hubFirewallWith([networkRule("kms-grp", { destinationAddresses: [], destinationIpGroups: [ipGroupId("ipg-kms")] })], { ipGroups: [{ name: "ipg-kms", id: ipGroupId("ipg-kms"), ipAddresses: [...KMS] }] }) }), verdict: "reachable" },
    { name: "hub firewall: source IP group holding the spoke", rule: "E3", facts: base({ routeTable: table(tunnel()), nextHops: hubFirewallWith([networkRule("kms-src", { sourceAddresses: [], sourceIpGroups: [ipGroupId("ipg-spokes")] })], { ipGroups: [{ name: "ipg-spokes", ipAddresses: ["10.1.0.0/16", "10.2.0.0/16"] }] }) }), verdict: "reachable" },
    { name: "hub firewall: destination IP group without the KMS addresses", rule: "E3", facts: base({ routeTable: table(tunnel()), nextHops: hubFirewallWith([networkRule("dns-grp", { destinationAddresses: [], destinationIpGroups: [ipGroupId("ipg-dns")] })], { ipGroups: [{ name: "ipg-dns", ipAddresses: ["168.63.129.16"] }] }) }), verdict: "blocked" },
    // R5: a /32 user route wins over any BGP route
    { name: "/32 Internet routes with a BGP 0/0 and propagation on", rule: "R5", facts: base({ bgpRoutes: [bgpDefault], routeTable: { ...table(...kmsRoutes()), disableBgpRoutePropagation: false } }), verdict: "reachable", detail: "longest matching prefix (/32)" },
    { name: "/32 Internet routes against BGP /32s for the same KMS IPs: the user route wins the equal prefix", rule: "R5", facts: base({ bgpRoutes: [bgpDefault, { source: "VirtualNetworkGateway", addressPrefixes: KMS.map((ip) => `${ip}/32`), nextHopType: "VirtualNetworkGateway" }], routeTable: table(...kmsRoutes()) }), verdict: "reachable", detail: "a user route beats BGP and system routes" },
    { name: "a /24 user route loses to a BGP /32: only a /32 beats every BGP route", rule: "R5", facts: base({ bgpRoutes: [{ source: "VirtualNetworkGateway", addressPrefixes: [`${K1}/32`], nextHopType: "VirtualNetworkGateway" }], routeTable: table(route("kms-24", `${K1.split(".").slice(0, 3).join(".")}.0/24`, "Internet")) }), verdict: "blocked", blame: `BGP route ${K1}/32` },
    { name: "a gateway's routes not known, /32 Internet routes for every KMS IP: decided all the same", rule: "R5", facts: base({ bgpRoutesUnknown: "the hub gateway", routeTable: table(...kmsRoutes()) }), verdict: "reachable", detail: "whatever propagation says" },
    { name: "a gateway's routes not known and no /32 route: unknown, the fix is the /32", rule: "R5", facts: base({ bgpRoutesUnknown: "the hub gateway", routeTable: table() }), verdict: "unknown", blame: "routes the hub gateway gives", detail: "no /32 user route carries" },
    { name: "a gateway's routes not known, /32s, NSG denies Internet: the platform rule may be off", rule: "R5", facts: base({ bgpRoutesUnknown: "the hub gateway", routeTable: table(...kmsRoutes()), subnetNsg: nsg("nsg-app", denyInternet) }), verdict: "unknown", blame: 'rule "deny-internet"' },
    { name: "a gateway's routes not known, /32s, NSG allows 1688 before the deny", rule: "R5", facts: base({ bgpRoutesUnknown: "the hub gateway", routeTable: table(...kmsRoutes()), subnetNsg: nsg("nsg-app", allowKms(100), denyInternet) }), verdict: "reachable" },
    { name: "a gateway's routes not known, a user 0/0 and /32s, NSG denies Internet: the platform rule is off", rule: "R5", facts: base({ bgpRoutesUnknown: "the hub gateway", routeTable: table(tunnel("VirtualNetworkGateway"), ...kmsRoutes()), subnetNsg: nsg("nsg-app", denyInternet) }), verdict: "blocked", blame: 'rule "deny-internet"' },
    { name: "effective routes: user /32s Active over an Active BGP 0/0", rule: "R5", facts: base({ effectiveRoutes: [{ source: "Default", addressPrefixes: ["0.0.0.0/0"], nextHopType: "Internet", state: "Invalid" }, { ...bgpDefault, state: "Active" }, ...KMS.map((ip) => ({ name: `kms-${ip}`, source: "User", addressPrefixes: [`${ip}/32`], nextHopType: "Internet", state: "Active" }))], subnetNsg: nsg("nsg-app", allowKms(100), denyInternet) }), verdict: "reachable" },
];

CASES.push(...ROUND_2);

export function destinationOf(c: EngineCase): KmsDestination {
    return c.destination ?? publicKms;
}
