/**
 * The reachability engine's input and output. Plain data only: the engine reads no file, calls no API and
 * knows nothing of Pulumi, so the policy pack, the `audit` command and the components share one judgement.
 *
 * Convention for every fact: `undefined` means "not known" (the engine then answers `unknown` wherever the
 * fact could change the answer), `null` means "known to be absent".
 */

/** The rules of the facts file, section 6, that a decision cites; `K1` is this engine's rule for an on-premises KMS. */
export type RuleId = "R1" | "R2" | "R3" | "R4" | "R5" | "N1" | "N2" | "N3" | "N4" | "N5" | "N6" | "E1" | "E2" | "E3" | "E4" | "E5" | "E6" | "K1";

/** What the engine answers for one KMS address. */
export type Verdict = "reachable" | "blocked" | "unknown";

/** One route as the effective route table shows it (or as derived from a route table). */
export interface RouteFact {
    /** The user route's name; system and BGP routes have none. */
    name?: string;
    /** The route table holding a user route. */
    routeTable?: string;
    /** `User`, `VirtualNetworkGateway` (BGP) or `Default` (system). */
    source: string;
    /** Address prefixes the route covers (the effective route table lists several per entry). */
    addressPrefixes: string[];
    /** `Internet`, `VirtualAppliance`, `VirtualNetworkGateway`, `VnetLocal`, `VNetPeering`, `None`, … */
    nextHopType: string;
    /** The appliance's IP for `VirtualAppliance`, or the gateway's. */
    nextHopIpAddress?: string;
    /** `Active` or `Invalid`; an `Invalid` route lost to another and is never used. Absent: the engine decides. */
    state?: string;
}

/** One user route of a route table. */
export interface UserRouteFact {
    /** Route name. */
    name: string;
    /** Destination prefix, e.g. `20.118.99.224/32` or `0.0.0.0/0`. */
    addressPrefix: string;
    /** Next hop type, see `RouteFact.nextHopType`. */
    nextHopType: string;
    /** The appliance's private IP for `VirtualAppliance`. */
    nextHopIpAddress?: string;
}

/** A route table on the subnet, from which the engine derives the effective routes (with the system defaults). */
export interface RouteTableFacts {
    /** Route table name, for messages. */
    name: string;
    /** Its user routes. */
    routes: UserRouteFact[];
    /** `true`: routes learned over BGP (VPN/ExpressRoute gateway) do not reach the subnet. */
    disableBgpRoutePropagation?: boolean;
}

/** One NSG security rule, in the flat shape of ARM's `securityRules` / effective security rules. */
export interface SecurityRuleFact {
    /** Rule name (`defaultSecurityRules/…` and `securityRules/…` prefixes of the effective list are kept). */
    name: string;
    /** 100–4096 for user rules, 65000+ for default rules. */
    priority: number;
    /** `Inbound` or `Outbound`. */
    direction: string;
    /** `Allow` or `Deny`. */
    access: string;
    /** `Tcp`, `Udp`, `Icmp`, `Esp`, `Ah`, `*` (ARM) or `All` (effective list). */
    protocol: string;
    /** Source prefixes or tags (single and plural forms together); empty means `*`. */
    sourceAddressPrefixes: string[];
    /** Source port ranges; empty means `*`. */
    sourcePortRanges: string[];
    /** Destination prefixes or service tags; empty means `*`. */
    destinationAddressPrefixes: string[];
    /** Destination port ranges (`*`, `1688`, `1000-2000`); empty means `*`. */
    destinationPortRanges: string[];
    /** What Azure expanded a service tag to (effective list); used only for tags the engine does not know. */
    expandedDestinationAddressPrefixes?: string[];
    /** Source application security groups (IDs or names): the rule applies only to NICs in one of them (N4). */
    sourceApplicationSecurityGroups?: string[];
    /** Destination application security groups (IDs or names): they hold NICs, never a KMS on the Internet (N4). */
    destinationApplicationSecurityGroups?: string[];
}

/** An NSG on the NIC or on the subnet. */
export interface NsgFacts {
    /** NSG name, for messages. */
    name: string;
    /** Its rules; the default rules are added unless already present. */
    rules: SecurityRuleFact[];
}

/** One rule of an Azure Firewall policy's rule collection. */
export interface FirewallRuleFact {
    /** Rule name. */
    name: string;
    /** `NetworkRule`, `ApplicationRule` or `NatRule`. */
    ruleType: string;
    /** Network rules: `TCP`, `UDP`, `ICMP`, `Any`. */
    ipProtocols?: string[];
    /** Source prefixes, `*` for any. */
    sourceAddresses?: string[];
    /** Source IP groups (their content is not known to the engine). */
    sourceIpGroups?: string[];
    /** Destination prefixes, `*` or service tags. */
    destinationAddresses?: string[];
    /** Destination IP groups (their content is not known to the engine). */
    destinationIpGroups?: string[];
    /** Network rules: destination FQDNs (need the firewall's DNS proxy). */
    destinationFqdns?: string[];
    /** Network rules: destination ports (`1688`, `1000-2000`, `*`). */
    destinationPorts?: string[];
    /** Application rules: protocols and ports (`Https:443`). */
    protocols?: { protocolType: string; port?: number }[];
    /** Application rules: target FQDNs. */
    targetFqdns?: string[];
}

/** A rule collection of a rule collection group. */
export interface FirewallRuleCollectionFact {
    /** Collection name. */
    name: string;
    /** Priority within the group (lower first). */
    priority: number;
    /** `FirewallPolicyFilterRuleCollection` or `FirewallPolicyNatRuleCollection`. */
    ruleCollectionType?: string;
    /** `Allow` or `Deny` (filter collections), `DNAT` (NAT collections). */
    action: string;
    /** The rules. */
    rules: FirewallRuleFact[];
}

/** A `FirewallPolicyRuleCollectionGroup`. */
export interface FirewallRuleCollectionGroupFact {
    /** Group name. */
    name: string;
    /** Priority (lower first). */
    priority: number;
    /** Its rule collections. */
    ruleCollections: FirewallRuleCollectionFact[];
}

/** An Azure Firewall reached as a next hop, with its policy's rule collection groups. */
export interface AzureFirewallFacts {
    /** Firewall name, for messages. */
    name: string;
    /** Its policy's name, for messages. */
    policyName?: string;
    /** Its public IPs, the SNAT source (for messages; any Azure Firewall public IP is an Azure public IP). */
    publicIpAddresses?: string[];
    /** The policy's rule collection groups; `undefined` when they are not known. */
    ruleCollectionGroups?: FirewallRuleCollectionGroupFact[];
    /** The policy's `dnsSettings.enableProxy`: network rules with `destinationFqdns` match only with it on (E6); `undefined`: not known. */
    dnsProxy?: boolean;
    /** The IP groups the engine knows the content of; a rule naming another stays unknown. */
    ipGroups?: IpGroupFact[];
}

/** An IP group (`Microsoft.Network/ipGroups`) a firewall rule can name. */
export interface IpGroupFact {
    /** Its name; rules name it by ID, matched on the last segment (case-insensitive). */
    name: string;
    /** Its resource ID, when known (matched exactly, case-insensitive). */
    id?: string;
    /** Its addresses and prefixes. */
    ipAddresses: string[];
}

/** A network virtual appliance: what is known of it. */
export interface NvaFacts {
    /** Appliance name, for messages. */
    name: string;
    /** `true`: it SNATs outbound traffic to a public IP of its own; `undefined`: not known. */
    snatsToPublicIp?: boolean;
    /** `true`: it allows TCP to the KMS port; `undefined`: not known. */
    allowsKmsTraffic?: boolean;
}

/** What sits at a `VirtualAppliance` next hop IP. */
export interface NextHopFacts {
    /** The private IP the routes name. */
    ipAddress: string;
    /** An Azure Firewall (judged by its policy's rules). */
    azureFirewall?: AzureFirewallFacts;
    /** Any other appliance. */
    nva?: NvaFacts;
}

/** A subnet's or NIC's explicit outbound source, named for messages. */
export interface EgressSourceFact {
    /** Resource name (NAT gateway, public IP, load balancer). */
    name: string;
    /** Its public IPs, when known. */
    publicIpAddresses?: string[];
    /**
     * NAT gateway: whether it holds a public IP or public IP prefix (E4). `false`: none, so it carries nothing out;
     * `undefined`: only a reference to it is known (the step then says its public IPs were not read).
     */
    hasPublicIp?: boolean;
}

/** A load balancer whose backend pool holds the NIC (E5). */
export interface LoadBalancerBackendFact {
    /** Balancer name, for messages. */
    name: string;
    /** `Standard` or `Basic`; `undefined`: not known. A Standard pool takes default outbound access away. */
    sku?: string;
}

/**
 * Everything the engine knows about one VM's path out. The engine never changes it and caches what it derives
 * from a shared route table or NSG object (many VMs share one), so treat facts as immutable once judged.
 */
export interface PathFacts {
    /** VM name, for messages. */
    vmName?: string;
    /** Subnet name, for messages. */
    subnetName?: string;
    /**
     * The NIC's private IP (decides source-prefix matches of NSG and firewall rules); or, while a dynamic address is
     * not assigned yet, its subnet's prefix: a rule's source then matches only when it covers the whole subnet.
     */
    privateIpAddress?: string;
    /** The effective routes as Azure reports them; when given, `routeTable`, `vnetAddressPrefixes` and `bgpRoutes` are ignored. */
    effectiveRoutes?: RouteFact[];
    /** The subnet's route table; `null`: none (system routes only); `undefined` (with no effective routes): not known. With `effectiveRoutes` it only names the table in messages. */
    routeTable?: RouteTableFacts | null;
    /** The VNet's address space (system `VnetLocal` routes). */
    vnetAddressPrefixes?: string[];
    /** Routes learned over BGP from a VPN/ExpressRoute gateway (source `VirtualNetworkGateway`). */
    bgpRoutes?: RouteFact[];
    /**
     * Set (to the gateway, in words) when a gateway gives the subnet routes these facts do not hold: then only a `/32`
     * user route decides an address (R5), the rest is unknown, and so is the KMS platform rule (N2) without a known 0/0.
     */
    bgpRoutesUnknown?: string;
    /** NSG on the NIC; `null`: none. */
    nicNsg?: NsgFacts | null;
    /** NSG on the subnet; `null`: none. */
    subnetNsg?: NsgFacts | null;
    /** NAT gateway on the subnet; `null`: none. */
    natGateway?: EgressSourceFact | null;
    /** Public IP on the NIC's IP configuration; `null`: none. */
    nicPublicIp?: EgressSourceFact | null;
    /** A public load balancer with outbound rules for the NIC; `null`: none. */
    loadBalancerOutbound?: EgressSourceFact | null;
    /** The load balancers whose backend pools hold the NIC (E5); `[]`: none; `undefined`: not known (then not judged). */
    loadBalancerBackends?: LoadBalancerBackendFact[];
    /** The NIC's application security groups (IDs or names) (N4); `[]`: none; `undefined`: not known. */
    applicationSecurityGroups?: string[];
    /** The subnet's `defaultOutboundAccess`; `false` makes it a private subnet. */
    defaultOutboundAccess?: boolean;
    /** What sits at the `VirtualAppliance` next hops, by IP. An IP not listed is an appliance the engine knows nothing of. */
    nextHops?: NextHopFacts[];
}

/** Where activation traffic goes: the cloud's KMS (see `cloudKmsDestination`) or an on-premises KMS. */
export interface KmsDestination {
    /** Host name the guest uses. */
    host: string;
    /** TCP port. */
    port: number;
    /** Addresses or prefixes, each judged on its own. */
    addressPrefixes: string[];
    /** `true`: an on-premises KMS reached privately (no Azure public IP needed, no platform rule). */
    custom: boolean;
    /** Where the addresses come from, for messages (a cloud name, `kmsIpAddresses`, `customKmsServer`). */
    source: string;
}

/** The element a step is about. */
export type ElementKind = "route" | "nsg" | "firewall" | "appliance" | "gateway" | "subnet" | "egress" | "input";

/** One hop of the decision, in path order: route, NIC NSG, subnet NSG, next hop, egress. */
export interface PathStep {
    /** The rule of the facts file the step applies. */
    rule: RuleId;
    /** What the step is about. */
    kind: ElementKind;
    /** The element, named for a person: `route "kms-1" (route table "rt-spoke")`, `NSG "nsg-vm" rule "deny-all"`. */
    element: string;
    /** `pass`, `block` or `unknown`. */
    outcome: "pass" | "block" | "unknown";
    /** Why, in one sentence. */
    detail: string;
}

/** The one element to blame for a blocked or unknown address, and its fix. */
export interface Blame {
    /** The rule that decides. */
    rule: RuleId;
    /** What the element is. */
    kind: ElementKind;
    /** The element, as in `PathStep.element`. */
    element: string;
    /** Why it blocks (or why the answer is not known). */
    reason: string;
    /** What to change. */
    fix: string;
}

/** The route that carries the traffic. */
export interface ChosenRoute {
    /** The route itself. */
    route: RouteFact;
    /** The prefix of it that matched. */
    prefix: string;
    /** Why it won (R1). */
    why: string;
}

/** The answer for one KMS address. */
export interface AddressReachability {
    /** The KMS address or prefix. */
    address: string;
    /** TCP port. */
    port: number;
    /** The verdict. */
    verdict: Verdict;
    /** The route taken, when one was found. */
    route?: ChosenRoute;
    /** Every step judged, in path order. */
    steps: PathStep[];
    /** Where the traffic leaves with a public IP (E1), when it does. */
    egress?: string;
    /** For `blocked` and `unknown`: the element to blame and its fix. */
    blame?: Blame;
}

/** The answer for a VM and a KMS: one entry per address; `verdict` is the worst of them. */
export interface Reachability {
    /** `reachable` only when every address is; `blocked` when any is; else `unknown`. */
    verdict: Verdict;
    /** Per address, in the destination's order. */
    addresses: AddressReachability[];
}
