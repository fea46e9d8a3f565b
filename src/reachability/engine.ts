import { KMS_PORT, kmsEndpoint } from "../kms/endpoints";
import { AzureCloud, CustomKmsServer } from "../types";
import { Ipv4Prefix, formatPrefix, parseIpv4Prefix } from "./cidr";
import { evaluateFirewall } from "./firewall";
import { TagContext, evaluateNsg, namesLicensingTag, ruleName } from "./nsg";
import { deriveEffectiveRoutes, describeRoute, isConfiguredDefaultRoute, selectRoute, sourceRank } from "./routes";
import {
    AddressReachability,
    Blame,
    ChosenRoute,
    KmsDestination,
    NsgFacts,
    PathFacts,
    PathStep,
    Reachability,
    RouteFact,
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

function judgeNsg(layer: "NIC" | "subnet", nsg: NsgFacts | null | undefined, w: Walk, ctx: TagContext, platformRule: boolean): void {
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
    if (decided.access === "allow") {
        step(w, { rule: "N1", kind: "nsg", element, outcome: "pass", detail: `${layer} NSG: ${element}${at} allows TCP ${port} to ${w.address}.` });
        return;
    }
    if (decided.access === "unknown") {
        if (platformRule && r && !namesLicensingTag(r)) {
            step(w, { rule: "N2", kind: "nsg", element, outcome: "pass", detail: `${layer} NSG: whatever ${element}${at} decides, Azure's KMS platform rule lets TCP 1688 through (no 0.0.0.0/0 route).` });
            return;
        }
        step(w, { rule: "N1", kind: "nsg", element, outcome: "unknown", detail: `${layer} NSG: ${element}${at} matches only part of the traffic (source port, source prefix, tag or range), and the rules after it disagree.` }, allowFix);
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
    const disabled = w.destination.custom ? "" : " (the KMS platform rule is off: a 0.0.0.0/0 route is configured)";
    step(w, { rule: "N1", kind: "nsg", element, outcome: "block", detail: `${layer} NSG: ${element}${at} denies TCP ${port} to ${w.address}${disabled}.` }, allowFix);
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
            const snat = w.destination.custom ? "" : `; it SNATs to its public IP${fw.publicIpAddresses?.length ? ` ${fw.publicIpAddresses.join(", ")}` : ""}, an Azure public IP`;
            step(w, { rule: "E3", kind: "firewall", element: `${name}${ruleText(decided.rule)}`, outcome: "pass", detail: `${name} at ${ip}: network${ruleText(decided.rule)} allows TCP ${port} to ${w.address}${snat}.` });
            w.egress = w.destination.custom ? `through ${name}` : `${name} (SNAT to its public IP${fw.publicIpAddresses?.length ? ` ${fw.publicIpAddresses.join(", ")}` : ""})`;
            return;
        }
        if (decided.access === "deny") {
            step(w, { rule: "E3", kind: "firewall", element: `${name}${ruleText(decided.rule)}`, outcome: "block", detail: `${name} at ${ip}: network${ruleText(decided.rule)} denies TCP ${port} to ${w.address}.` }, networkRuleFix);
            return;
        }
        if (decided.access === "unknown") {
            step(w, { rule: "E3", kind: "firewall", element: `${name}${ruleText(decided.rule)}`, outcome: "unknown", detail: `${name} at ${ip}: network${ruleText(decided.rule)} matches only part of the traffic (source, IP group, FQDN or service tag).` }, networkRuleFix);
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

function judgeEgress(facts: PathFacts, route: RouteFact, w: Walk): void {
    const subnet = facts.subnetName ? `subnet "${facts.subnetName}"` : "the VM's subnet";
    const sources: [string, { name: string; publicIpAddresses?: string[] } | null | undefined][] = [
        ["NAT gateway", facts.natGateway],
        ["instance-level public IP", facts.nicPublicIp],
        ["load-balancer outbound rule", facts.loadBalancerOutbound],
    ];
    const named = (kind: string, s: { name: string; publicIpAddresses?: string[] }) => `${kind} "${s.name}"${s.publicIpAddresses?.length ? ` (${s.publicIpAddresses.join(", ")})` : ""}`;
    const unknownAbove: string[] = [];
    for (const [kind, source] of sources) {
        if (source) {
            const caveat = unknownAbove.length > 0 ? ` (unless a ${unknownAbove.join(" or ")}, not known, takes precedence; it too is an Azure public IP)` : "";
            w.egress = named(kind, source);
            step(w, { rule: "E1", kind: "egress", element: named(kind, source), outcome: "pass", detail: `leaves from the ${named(kind, source)}${caveat}.` });
            return;
        }
        if (source === undefined) unknownAbove.push(kind);
    }
    const explicit = `attach a NAT gateway to ${subnet} (Microsoft's recommendation), give the NIC a public IP, or add load-balancer outbound rules`;
    if (facts.defaultOutboundAccess === true && unknownAbove.length === 0) {
        w.egress = "default outbound access (an Azure-chosen public IP)";
        step(w, { rule: "E1", kind: "egress", element: subnet, outcome: "pass", detail: `${subnet} has default outbound access: the packet leaves from an Azure-owned public IP.` });
        return;
    }
    if (facts.defaultOutboundAccess === true) {
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

function judgeAddress(facts: PathFacts, routes: readonly RouteFact[] | undefined, destination: KmsDestination, address: string): AddressReachability {
    const prefix = parseIpv4Prefix(address);
    const w: Walk = { address, prefix: prefix ?? { network: 0, bits: 0 }, destination, steps: [] };
    if (!prefix) {
        step(w, { rule: "R1", kind: "input", element: `KMS address "${address}"`, outcome: "unknown", detail: `"${address}" is not an IPv4 address or prefix.` }, "give the KMS as IPv4 addresses or prefixes.");
        return finish(w);
    }
    const route = judgeRoute(facts, routes, w);
    const hop = route?.nextHopType.toLowerCase() ?? w.route?.route.nextHopType.toLowerCase();
    const platformRule = !destination.custom && destination.port === KMS_PORT && routes !== undefined && !routes.some(isConfiguredDefaultRoute);
    const ctx: TagContext = {
        destination: prefix,
        cloudKms: !destination.custom,
        privatePath: hop !== undefined && PRIVATE_HOPS.includes(hop),
        source: facts.privateIpAddress ? parseIpv4Prefix(facts.privateIpAddress) : undefined,
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
