import { KMS_PORT, kmsEndpoint } from "../kms/endpoints";
import { AzureCloud, CustomKmsServer } from "../types";
import { Ipv4Prefix, formatPrefix, parseIpv4Prefix } from "./cidr";
import { OrderedFirewallRule, evaluateFirewall, orderedRules } from "./firewall";
import { TagContext, asgKey, evaluateNsg, namesLicensingTag, ruleName } from "./nsg";
import { deriveEffectiveRoutes, describeRoute, isConfiguredDefaultRoute, selectRoute, sourceRank } from "./routes";
import {
    AddressReachability,
    AzureFirewallFacts,
    Blame,
    ChosenRoute,
    KmsDestination,
    NsgFacts,
    PathFacts,
    PathStep,
    Reachability,
    RouteFact,
    RuleId,
    SecurityRuleFact,
    Verdict,
} from "./types";

/** The cloud's KMS as a destination: its addresses (or `kmsIpAddresses` when given), TCP 1688. */
export function cloudKmsDestination(cloud: AzureCloud = AzureCloud.AzurePublic, kmsIpAddresses?: readonly string[]): KmsDestination {
    const endpoint = kmsEndpoint(cloud);
    return {
        host: endpoint.host,
        port: endpoint.port,
        addressPrefixes: [...(kmsIpAddresses ?? endpoint.ipAddresses)],
        custom: false,
        source: kmsIpAddresses ? "kmsIpAddresses" : endpoint.cloud,
    };
}

/** An on-premises KMS as a destination: reached privately, no Azure public IP needed (rule K1). */
export function customKmsDestination(server: CustomKmsServer): KmsDestination {
    return { host: server.host, port: server.port ?? KMS_PORT, addressPrefixes: [...server.addressPrefixes], custom: true, source: "customKmsServer" };
}

const PRIVATE_HOPS = ["vnetlocal", "vnetpeering", "vnetglobalpeering", "virtualnetworkgateway"];

interface Walk {
    address: string;
    prefix: Ipv4Prefix;
    destination: KmsDestination;
    steps: PathStep[];
    blame?: Blame;
    blameOutcome?: PathStep["outcome"];
    egress?: string;
    route?: ChosenRoute;
}

function step(walk: Walk, s: PathStep, fix?: string): void {
    walk.steps.push(s);
    // The first blocking element is the one to blame; an unknown one only while nothing blocks.
    if (s.outcome !== "pass" && fix !== undefined && (!walk.blame || (s.outcome === "block" && walk.blameOutcome === "unknown"))) {
        walk.blame = { rule: s.rule, kind: s.kind, element: s.element, reason: s.detail, fix };
        walk.blameOutcome = s.outcome;
    }
}

function verdictOf(steps: readonly PathStep[]): Verdict {
    if (steps.some((s) => s.outcome === "block")) return "blocked";
    return steps.some((s) => s.outcome === "unknown") ? "unknown" : "reachable";
}

function kmsRouteFix(w: Walk, table: string | undefined, subnet: string | undefined): string {
    const where = table ? `route table "${table}"` : `a route table associated with ${subnet ? `subnet "${subnet}"` : "the VM's subnet"}`;
    return `add a route ${formatPrefix(w.prefix)} with next hop type Internet to ${where} (the longest prefix beats the 0.0.0.0/0; KmsEgressRules adds one per KMS IP).`;
}

function routeElement(route: RouteFact): string {
    return describeRoute(route);
}

function routeTableOf(facts: PathFacts, route: RouteFact): string | undefined {
    return route.routeTable ?? facts.routeTable?.name ?? undefined;
}

/** Route step (R1–R3, K1). Returns the next hop type the traffic takes, or undefined when it stops here. */
function judgeRoute(facts: PathFacts, routes: readonly RouteFact[] | undefined, w: Walk): RouteFact | undefined {
    if (!routes && facts.bgpRoutesUnknown !== undefined && facts.routeTable !== undefined) {
        const table = facts.routeTable?.name;
        step(
            w,
            {
                rule: "R1",
                kind: "route",
                element: `routes ${facts.bgpRoutesUnknown} gives ${facts.subnetName ? `subnet "${facts.subnetName}"` : "the VM's subnet"}`,
                outcome: "unknown",
                detail: `the routes ${facts.bgpRoutesUnknown} gives the subnet are not known, and no /32 user route carries ${w.address} (R5: one would decide it whatever they are).`,
            },
            w.destination.custom ? "give the routes the gateway advertises (or the effective routes of the VM's NIC: azure-kms-activation audit)." : kmsRouteFix(w, table, facts.subnetName),
        );
        return undefined;
    }
    if (!routes) {
        step(w, { rule: "R1", kind: "route", element: `route table of ${facts.subnetName ? `subnet "${facts.subnetName}"` : "the VM's subnet"}`, outcome: "unknown", detail: "the subnet's routes are not known." }, "give the route table (or the effective routes) of the VM's NIC.");
        return undefined;
    }
    const chosen = selectRoute(routes, w.prefix);
    if (!chosen) {
        step(w, { rule: "R2", kind: "route", element: `effective routes of ${facts.subnetName ? `subnet "${facts.subnetName}"` : "the VM's subnet"}`, outcome: "block", detail: `no route covers ${w.address}, so the packet is dropped.` }, kmsRouteFix(w, facts.routeTable?.name, facts.subnetName));
        return undefined;
    }
    const { route } = chosen;
    const why =
        chosen.beaten.length > 0
            ? `equal prefix /${chosen.prefix.bits}: ${route.source === "User" ? "a user route beats BGP and system routes" : sourceRank(route.source) === 1 ? "a BGP route beats the system route" : "system route"}`
            : `longest matching prefix (/${chosen.prefix.bits})`;
    w.route = { route, prefix: chosen.prefixText, why };
    const element = routeElement(route);
    const hop = route.nextHopType.toLowerCase();
    const detail = `${element} carries ${w.address}: ${why}.`;
    if (chosen.partial) {
        step(w, { rule: "R1", kind: "route", element, outcome: "unknown", detail: `${detail} But ${describeRoute(chosen.partial)} carries part of ${w.address}.` }, `list each KMS address as its own /32 so one route decides each.`);
        return undefined;
    }
    const table = routeTableOf(facts, route);
    if (hop === "none") {
        const fix = w.destination.custom
            ? `route ${w.address} to the gateway, peering or appliance that reaches the KMS (a user route, or BGP from the gateway).`
            : route.source === "User"
              ? `change route "${route.name}"'s next hop type to Internet (or delete it) so ${w.address} is not dropped.`
              : kmsRouteFix(w, table, facts.subnetName);
        step(w, { rule: "R2", kind: "route", element, outcome: "block", detail: `${detail} Next hop None drops the packet.` }, fix);
        return undefined;
    }
    if (w.destination.custom) {
        if (hop === "internet" || hop === "virtualappliance" || PRIVATE_HOPS.includes(hop)) {
            step(w, { rule: "K1", kind: "route", element, outcome: "pass", detail: `${detail} An on-premises KMS needs no Azure public IP.` });
            return route;
        }
    } else if (hop === "internet" || hop === "virtualappliance") {
        if (facts.bgpRoutesUnknown !== undefined) {
            step(w, { rule: "R5", kind: "route", element, outcome: "pass", detail: `${detail} It wins over any route ${facts.bgpRoutesUnknown} gives, whatever propagation says: no route is longer than /32, and a user route wins an equal prefix.` });
            return route;
        }
        step(w, { rule: hop === "internet" ? "R1" : "R3", kind: "route", element, outcome: "pass", detail });
        return route;
    } else if (hop === "virtualnetworkgateway") {
        step(
            w,
            { rule: "R3", kind: "route", element, outcome: "block", detail: `${detail} The gateway sends it on-premises, so it does not leave from an Azure public IP and Azure KMS refuses it.` },
            kmsRouteFix(w, table, facts.subnetName),
        );
        return undefined;
    } else if (PRIVATE_HOPS.includes(hop)) {
        step(w, { rule: "R1", kind: "route", element, outcome: "block", detail: `${detail} The KMS address is routed into the virtual network, not to the Internet.` }, kmsRouteFix(w, table, facts.subnetName));
        return undefined;
    }
    step(w, { rule: "R1", kind: "route", element, outcome: "unknown", detail: `${detail} Next hop type ${route.nextHopType} is not one the engine knows.` }, kmsRouteFix(w, table, facts.subnetName));
    return undefined;
}

/** The rule of section 6 that made an NSG rule match (or not be told): ASG membership (N4), the `VirtualNetwork` tag with user-route prefixes (N5), `AzureCloud` (N6); else N1. */
function nsgRuleId(r: SecurityRuleFact | undefined, ctx: TagContext): RuleId {
    if (!r) return "N1";
    if ((r.sourceApplicationSecurityGroups ?? []).length > 0 || (r.destinationApplicationSecurityGroups ?? []).length > 0) return "N4";
    const tags = r.destinationAddressPrefixes.map((d) => d.trim().toLowerCase());
    if (tags.includes("virtualnetwork") && !ctx.privatePath) return "N5";
    if (tags.some((t) => t === "azurecloud" || t.startsWith("azurecloud."))) return "N6";
    return "N1";
}

function judgeNsg(layer: "NIC" | "subnet", nsg: NsgFacts | null | undefined, w: Walk, ctx: TagContext, platformRule: boolean | undefined): void {
    if (nsg === null) {
        step(w, { rule: "N1", kind: "nsg", element: `${layer} NSG`, outcome: "pass", detail: `no NSG on the ${layer}: the layer allows.` });
        return;
    }
    const port = w.destination.port;
    if (nsg === undefined) {
        step(w, { rule: "N1", kind: "nsg", element: `${layer} NSG`, outcome: "unknown", detail: `the ${layer}'s NSG is not known.` }, `give the ${layer}'s NSG rules (az network nic list-effective-nsg).`);
        return;
    }
    const decided = evaluateNsg(nsg, port, ctx);
    const r = decided.rule;
    const element = r ? `NSG "${nsg.name}" rule "${ruleName(r)}"` : `NSG "${nsg.name}"`;
    const at = r ? ` (priority ${r.priority})` : "";
    const allowFix = `add an outbound Allow rule for TCP ${port} to ${w.address} to NSG "${nsg.name}" with a priority number below ${r?.priority ?? 4096} (KmsEgressRules adds one).`;
    const id = nsgRuleId(r, ctx);
    const why =
        id === "N5"
            ? ` (a user route's prefix holds ${w.address}, which puts it in the VirtualNetwork tag)`
            : id === "N6"
              ? r?.destinationAddressPrefixes.some((d) => d.trim().toLowerCase() === "azurecloud")
                ? ` (the AzureCloud tag holds every Azure public IP, the KMS's too)`
                : ` (a regional AzureCloud tag: whether its region holds the KMS address is not known)`
              : id === "N4" && r && (r.sourceApplicationSecurityGroups ?? []).length > 0
                ? ctx.applicationSecurityGroups
                    ? ` (the NIC is in application security group ${(r.sourceApplicationSecurityGroups ?? []).map(asgKey).filter((a) => ctx.applicationSecurityGroups?.has(a)).join(", ")})`
                    : ""
                : "";
    if (decided.access === "allow") {
        step(w, { rule: id, kind: "nsg", element, outcome: "pass", detail: `${layer} NSG: ${element}${at} allows TCP ${port} to ${w.address}${why}.` });
        return;
    }
    if (decided.access === "unknown") {
        if (platformRule && r && !namesLicensingTag(r)) {
            step(w, { rule: "N2", kind: "nsg", element, outcome: "pass", detail: `${layer} NSG: whatever ${element}${at} decides, Azure's KMS platform rule lets TCP 1688 through (no 0.0.0.0/0 route).` });
            return;
        }
        if (id === "N4" && !ctx.applicationSecurityGroups) {
            step(w, { rule: "N4", kind: "nsg", element, outcome: "unknown", detail: `${layer} NSG: ${element}${at} applies only to NICs in application security group ${(r?.sourceApplicationSecurityGroups ?? []).map(asgKey).join(", ")}, and the NIC's membership is not known.` }, `give the NIC's IP configurations (their applicationSecurityGroups), or ${allowFix}`);
            return;
        }
        step(w, { rule: id, kind: "nsg", element, outcome: "unknown", detail: `${layer} NSG: ${element}${at} matches only part of the traffic (source port, source prefix, tag or range), and the rules after it disagree.` }, allowFix);
        return;
    }
    if (r && namesLicensingTag(r)) {
        step(w, { rule: "N3", kind: "nsg", element, outcome: "block", detail: `${layer} NSG: ${element}${at} denies the AzurePlatformLKM tag, which switches the KMS platform rule off.` }, `remove the deny to AzurePlatformLKM from NSG "${nsg.name}", or ${allowFix.replace(/^add/, "add before it")}`);
        return;
    }
    if (platformRule) {
        step(w, { rule: "N2", kind: "nsg", element, outcome: "pass", detail: `${layer} NSG: ${element}${at} would deny, but Azure's KMS platform rule lets TCP 1688 to the KMS through while no 0.0.0.0/0 route is configured.` });
        return;
    }
    if (platformRule === undefined) {
        step(
            w,
            { rule: "N2", kind: "nsg", element, outcome: "unknown", detail: `${layer} NSG: ${element}${at} denies TCP ${port} to ${w.address}${why}; Azure's KMS platform rule lets it through unless a 0.0.0.0/0 route is configured, and the gateway's routes are not known.` },
            allowFix,
        );
        return;
    }
    const disabled = w.destination.custom ? "" : " (the KMS platform rule is off: a 0.0.0.0/0 route is configured)";
    step(w, { rule: id, kind: "nsg", element, outcome: "block", detail: `${layer} NSG: ${element}${at} denies TCP ${port} to ${w.address}${why}${disabled}.` }, allowFix);
}

function fqdnRuleOf(fw: AzureFirewallFacts, w: Walk): OrderedFirewallRule | undefined {
    return orderedRules(fw).find((r) => r.rule.ruleType.toLowerCase() === "networkrule" && (r.rule.destinationFqdns ?? []).some((f) => f.trim().toLowerCase() === w.destination.host.toLowerCase()));
}

function judgeAppliance(facts: PathFacts, route: RouteFact, w: Walk): void {
    const ip = route.nextHopIpAddress ?? "";
    const known = (facts.nextHops ?? []).find((h) => h.ipAddress === ip);
    const port = w.destination.port;
    const table = routeTableOf(facts, route);
    const bypass = w.destination.custom ? "" : ` or bypass it: ${kmsRouteFix(w, table, facts.subnetName)}`;
    if (known?.azureFirewall) {
        const fw = known.azureFirewall;
        const name = `Azure Firewall "${fw.name}"${fw.policyName ? ` (policy "${fw.policyName}")` : ""}`;
        const networkRuleFix = `add a network rule (not an application rule) allowing TCP ${port} to ${w.address} from the VM's subnet to a rule collection group of ${fw.policyName ? `policy "${fw.policyName}"` : `the firewall's policy`} (KmsFirewallRules adds one)${bypass}`;
        if (!fw.ruleCollectionGroups) {
            step(w, { rule: "E3", kind: "firewall", element: name, outcome: "unknown", detail: `${name} at ${ip}: its policy's rule collection groups are not known.` }, networkRuleFix);
            return;
        }
        const decided = evaluateFirewall(fw, w.prefix, w.destination.host, port, facts.privateIpAddress ? parseIpv4Prefix(facts.privateIpAddress) : undefined);
        const ruleText = (r?: { group: string; collection: string; rule: { name: string } }) => (r ? ` rule "${r.rule.name}" (collection "${r.collection}", group "${r.group}")` : "");
        if (decided.access === "allow") {
            const rid: RuleId = decided.rule && decided.rule.rule === fqdnRuleOf(fw, w)?.rule && fw.dnsProxy === true && !(decided.rule.rule.destinationAddresses ?? []).length ? "E6" : "E3";
            const snat = w.destination.custom ? "" : `; it SNATs to its public IP${fw.publicIpAddresses?.length ? ` ${fw.publicIpAddresses.join(", ")}` : ""}, an Azure public IP`;
            step(w, { rule: rid, kind: "firewall", element: `${name}${ruleText(decided.rule)}`, outcome: "pass", detail: `${name} at ${ip}: network${ruleText(decided.rule)} allows TCP ${port} to ${w.address}${rid === "E6" ? ` (by FQDN, through the policy's DNS proxy)` : ""}${snat}.` });
            w.egress = w.destination.custom ? `through ${name}` : `${name} (SNAT to its public IP${fw.publicIpAddresses?.length ? ` ${fw.publicIpAddresses.join(", ")}` : ""})`;
            return;
        }
        if (decided.access === "deny") {
            step(w, { rule: "E3", kind: "firewall", element: `${name}${ruleText(decided.rule)}`, outcome: "block", detail: `${name} at ${ip}: network${ruleText(decided.rule)} denies TCP ${port} to ${w.address}.` }, networkRuleFix);
            return;
        }
        // E6: a network rule that names the KMS by FQDN matches only through the policy's DNS proxy.
        const fqdnRule = fqdnRuleOf(fw, w);
        const policyText = fw.policyName ? `policy "${fw.policyName}"` : "the firewall's policy";
        const proxyFix = `turn on the DNS proxy of ${policyText} (dnsSettings.enableProxy: true) and use the firewall as the VNet's DNS server, or write the rule with the KMS addresses instead of the FQDN (KmsFirewallRules does)`;
        if (decided.access === "unknown" && fqdnRule && decided.rule?.rule === fqdnRule.rule && fw.dnsProxy === undefined) {
            step(w, { rule: "E6", kind: "firewall", element: `${name}${ruleText(fqdnRule)}`, outcome: "unknown", detail: `${name} at ${ip}: network${ruleText(fqdnRule)} names ${w.destination.host} by FQDN, which matches only when the DNS proxy of ${policyText} is on, and that setting is not known.` }, `${proxyFix}${bypass}.`);
            return;
        }
        if (decided.access === "unknown") {
            step(w, { rule: "E3", kind: "firewall", element: `${name}${ruleText(decided.rule)}`, outcome: "unknown", detail: `${name} at ${ip}: network${ruleText(decided.rule)} matches only part of the traffic (source, IP group, FQDN or service tag).` }, networkRuleFix);
            return;
        }
        if (decided.access === "none" && fqdnRule && fw.dnsProxy === false) {
            step(w, { rule: "E6", kind: "firewall", element: `${name}${ruleText(fqdnRule)}`, outcome: "block", detail: `${name} at ${ip}: network${ruleText(fqdnRule)} names ${w.destination.host} by FQDN, but the DNS proxy of ${policyText} is off, so an FQDN network rule never matches; no other network rule allows TCP ${port} to ${w.address}.` }, `${proxyFix}${bypass}.`);
            return;
        }
        const app = decided.applicationRule;
        const detail = app
            ? `${name} at ${ip}: only application${ruleText(app)} is written for the KMS, and application rules carry HTTP, HTTPS and MSSQL only; no network rule allows TCP ${port} to ${w.address}, so the firewall denies it.`
            : `${name} at ${ip}: no network rule allows TCP ${port} to ${w.address}; the firewall denies what no rule allows.`;
        step(w, { rule: "E3", kind: "firewall", element: `${name}${ruleText(app)}`, outcome: "block", detail }, networkRuleFix);
        return;
    }
    const nva = known?.nva;
    const name = nva ? `appliance "${nva.name}" at ${ip}` : `appliance at ${ip}`;
    const needs = w.destination.custom ? `allow TCP ${port} to ${w.address}` : `SNAT to a public IP of its own and allow TCP ${port} to ${w.address}`;
    const fix = `make sure the ${name} ${needs}${bypass}`;
    const snatOk = w.destination.custom ? true : nva?.snatsToPublicIp;
    if (nva && (snatOk === false || nva.allowsKmsTraffic === false)) {
        step(w, { rule: "E3", kind: "appliance", element: name, outcome: "block", detail: `the ${name} ${nva.allowsKmsTraffic === false ? `does not allow TCP ${port}` : "does not SNAT to a public IP"}.` }, fix);
        return;
    }
    if (nva && snatOk === true && nva.allowsKmsTraffic === true) {
        step(w, { rule: "E3", kind: "appliance", element: name, outcome: "pass", detail: `the ${name} allows TCP ${port}${w.destination.custom ? "" : " and SNATs to its public IP"}.` });
        w.egress = `${name}${w.destination.custom ? "" : " (SNAT to its public IP)"}`;
        return;
    }
    step(w, { rule: "E3", kind: "appliance", element: name, outcome: "unknown", detail: `the ${name} is outside what is known: it must ${needs}.` }, fix);
}

/** E5: whether a Standard load balancer's backend pool holds the NIC (`undefined`: a pool of unknown SKU; not judged when not known). */
function standardPool(facts: PathFacts): { verdict: boolean | undefined; name?: string } {
    const backends = facts.loadBalancerBackends;
    if (backends === undefined) return { verdict: false };
    const standard = backends.find((b) => b.sku?.toLowerCase() === "standard");
    if (standard) return { verdict: true, name: standard.name };
    const unknown = backends.find((b) => b.sku === undefined);
    return unknown ? { verdict: undefined, name: unknown.name } : { verdict: false };
}

function judgeEgress(facts: PathFacts, route: RouteFact, w: Walk): void {
    const subnet = facts.subnetName ? `subnet "${facts.subnetName}"` : "the VM's subnet";
    const nat = facts.natGateway;
    // E4: a NAT gateway "requires Public Ip Address and/or Public Ip Prefix"; without one it still owns the subnet's
    // outbound (E1 puts it first) and carries nothing.
    if (nat && nat.hasPublicIp === false) {
        step(
            w,
            { rule: "E4", kind: "egress", element: `NAT gateway "${nat.name}"`, outcome: "block", detail: `NAT gateway "${nat.name}" on ${subnet} has no public IP address or public IP prefix, so the subnet has no way out through it.` },
            `give NAT gateway "${nat.name}" a Standard public IP address or a public IP prefix (publicIpAddresses / publicIpPrefixes).`,
        );
        return;
    }
    const sources: [string, RuleId, { name: string; publicIpAddresses?: string[]; hasPublicIp?: boolean } | null | undefined][] = [
        ["NAT gateway", "E1", nat],
        ["instance-level public IP", "E1", facts.nicPublicIp],
        // E5: a public Standard load balancer gives outbound only through an outbound rule; this fact is that rule.
        ["load-balancer outbound rule", "E5", facts.loadBalancerOutbound],
    ];
    const named = (kind: string, s: { name: string; publicIpAddresses?: string[] }) => `${kind} "${s.name}"${s.publicIpAddresses?.length ? ` (${s.publicIpAddresses.join(", ")})` : ""}`;
    const unknownAbove: string[] = [];
    for (const [kind, rule, source] of sources) {
        if (source) {
            const caveat = unknownAbove.length > 0 ? ` (unless a ${unknownAbove.join(" or ")}, not known, takes precedence; it too is an Azure public IP)` : "";
            // E4 with only a reference to the NAT gateway (audit's subnet, a gateway owned elsewhere): taken as carrying,
            // since Azure requires a public IP or prefix of a NAT gateway that serves a subnet; a stack's own is read.
            w.egress = named(kind, source);
            step(w, { rule, kind: "egress", element: named(kind, source), outcome: "pass", detail: `leaves from the ${named(kind, source)}${caveat}.` });
            return;
        }
        if (source === undefined) unknownAbove.push(kind);
    }
    const explicit = `attach a NAT gateway to ${subnet} (Microsoft's recommendation), give the NIC a public IP, or add load-balancer outbound rules`;
    // E5: in a Standard load balancer's backend pool the VM has no default outbound access, outbound rules or not.
    const pool = standardPool(facts);
    if (facts.defaultOutboundAccess === true && pool.verdict === true && unknownAbove.length === 0) {
        step(
            w,
            {
                rule: "E5",
                kind: "egress",
                element: `load balancer "${pool.name}"`,
                outcome: "block",
                detail: `the NIC is in a backend pool of Standard load balancer "${pool.name}", which takes default outbound access away; no NAT gateway, public IP or outbound rule gives it another way out.`,
            },
            `add an outbound rule for the pool on a public Standard load balancer, ${explicit.replace(", or add load-balancer outbound rules", "")}.`,
        );
        return;
    }
    if (facts.defaultOutboundAccess === true && pool.verdict === undefined && unknownAbove.length === 0) {
        step(
            w,
            { rule: "E5", kind: "egress", element: `load balancer "${pool.name}"`, outcome: "unknown", detail: `the NIC is in a backend pool of load balancer "${pool.name}" whose SKU is not known: a Standard one takes default outbound access away.` },
            `give the load balancer (az network lb show), or ${explicit}.`,
        );
        return;
    }
    if (facts.defaultOutboundAccess === true && pool.verdict === false && unknownAbove.length === 0) {
        w.egress = "default outbound access (an Azure-chosen public IP)";
        step(w, { rule: "E1", kind: "egress", element: subnet, outcome: "pass", detail: `${subnet} has default outbound access: the packet leaves from an Azure-owned public IP.` });
        return;
    }
    if (facts.defaultOutboundAccess === true && pool.verdict === false) {
        w.egress = "an Azure public IP (the explicit outbound source is not known; default outbound access is on)";
        step(w, { rule: "E1", kind: "egress", element: subnet, outcome: "pass", detail: `${subnet} has default outbound access, so some Azure public IP carries it whichever explicit source (${unknownAbove.join(", ")}, not known) takes precedence.` });
        return;
    }
    if (facts.defaultOutboundAccess === undefined || unknownAbove.length > 0) {
        const missing = [...unknownAbove, ...(facts.defaultOutboundAccess === undefined ? ["defaultOutboundAccess"] : [])];
        step(w, { rule: "E1", kind: "egress", element: subnet, outcome: "unknown", detail: `the egress source is not known (${missing.join(", ")}).` }, `give the subnet (az network vnet subnet show) and the NIC (az network nic show).`);
        return;
    }
    const byUserRoute = route.source === "User";
    step(
        w,
        {
            rule: byUserRoute ? "R4" : "E2",
            kind: "subnet",
            element: subnet,
            outcome: "block",
            detail: `${subnet} is private (defaultOutboundAccess: false) with no NAT gateway, no public IP on the NIC and no load-balancer outbound: ${byUserRoute ? "a route with next hop Internet breaks there, and " : ""}the packet has no Azure public IP to leave from.`,
        },
        `${explicit}.`,
    );
}

function isUserSlash32(chosen: ReturnType<typeof selectRoute>): boolean {
    return chosen !== undefined && !chosen.partial && chosen.route.source.toLowerCase() === "user" && chosen.prefix.bits === 32;
}

const userPrefixes = new WeakMap<readonly RouteFact[], Ipv4Prefix[]>();

/** N5: the prefixes of the user routes in force (an `Invalid` one lost and is not in force). */
function userRoutePrefixes(routes: readonly RouteFact[]): Ipv4Prefix[] {
    let out = userPrefixes.get(routes);
    if (!out) {
        out = routes
            .filter((r) => r.source.toLowerCase() === "user" && (r.state ?? "Active").toLowerCase() !== "invalid")
            .flatMap((r) => r.addressPrefixes.map(parseIpv4Prefix))
            .filter((p): p is Ipv4Prefix => p !== undefined);
        userPrefixes.set(routes, out);
    }
    return out;
}

function judgeAddress(facts: PathFacts, routes: readonly RouteFact[] | undefined, destination: KmsDestination, address: string): AddressReachability {
    const prefix = parseIpv4Prefix(address);
    const w: Walk = { address, prefix: prefix ?? { network: 0, bits: 0 }, destination, steps: [] };
    if (!prefix) {
        step(w, { rule: "R1", kind: "input", element: `KMS address "${address}"`, outcome: "unknown", detail: `"${address}" is not an IPv4 address or prefix.` }, "give the KMS as IPv4 addresses or prefixes.");
        return finish(w);
    }
    // R5: with a gateway's routes not known, a /32 user route still decides (no BGP route is longer, and on an equal
    // prefix the user route wins); any other address's route is not known.
    const decidedByR5 = facts.bgpRoutesUnknown !== undefined && routes !== undefined && isUserSlash32(selectRoute(routes, prefix));
    const route = judgeRoute(facts, facts.bgpRoutesUnknown !== undefined && !decidedByR5 ? undefined : routes, w);
    const hop = route?.nextHopType.toLowerCase() ?? w.route?.route.nextHopType.toLowerCase();
    const configured = routes !== undefined && routes.some(isConfiguredDefaultRoute);
    // N2: the platform rule is off once a 0/0 is configured; a gateway's routes not known may hold one.
    const platformRule: boolean | undefined =
        destination.custom || destination.port !== KMS_PORT || routes === undefined ? false : configured ? false : facts.bgpRoutesUnknown !== undefined ? undefined : true;
    const ctx: TagContext = {
        destination: prefix,
        cloudKms: !destination.custom,
        privatePath: hop !== undefined && PRIVATE_HOPS.includes(hop),
        source: facts.privateIpAddress ? parseIpv4Prefix(facts.privateIpAddress) : undefined,
        userRoutePrefixes: routes === undefined ? undefined : userRoutePrefixes(routes),
        applicationSecurityGroups: facts.applicationSecurityGroups === undefined ? undefined : new Set(facts.applicationSecurityGroups.map(asgKey)),
    };
    judgeNsg("NIC", facts.nicNsg, w, ctx, platformRule);
    judgeNsg("subnet", facts.subnetNsg, w, ctx, platformRule);
    if (route) {
        const h = route.nextHopType.toLowerCase();
        if (h === "virtualappliance") {
            judgeAppliance(facts, route, w);
        } else if (h === "internet") {
            judgeEgress(facts, route, w);
        } else {
            w.egress = `${route.nextHopType} (private path)`;
        }
    }
    return finish(w);
}

function finish(w: Walk): AddressReachability {
    const verdict = verdictOf(w.steps);
    return {
        address: w.address,
        port: w.destination.port,
        verdict,
        ...(w.route ? { route: w.route } : {}),
        steps: w.steps,
        ...(w.egress && verdict !== "blocked" ? { egress: w.egress } : {}),
        ...(verdict !== "reachable" && w.blame ? { blame: w.blame } : {}),
    };
}

/**
 * Decides, for each address of the KMS, whether TCP to it leaves the VM from an Azure public IP (Azure KMS) or
 * reaches the on-premises KMS privately (rule K1): `reachable`, `blocked` or `unknown`, with the path and, when not
 * reachable, the one element to blame and its fix. Rules: section 6 of the facts file (R1–R4, N1–N3, E1–E3).
 */
export function decideReachability(facts: PathFacts, destination: KmsDestination): Reachability {
    const routes = deriveEffectiveRoutes(facts);
    const addresses = destination.addressPrefixes.map((a) => judgeAddress(facts, routes, destination, a));
    const verdict: Verdict = addresses.some((a) => a.verdict === "blocked") ? "blocked" : addresses.some((a) => a.verdict === "unknown") ? "unknown" : "reachable";
    return { verdict, addresses };
}
