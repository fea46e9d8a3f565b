import { Ipv4Prefix, parseIpv4Prefix, prefixContains, prefixesOverlap } from "./cidr";
import { Tri, allTri, anyTri, firstMatch, portsMatch } from "./match";
import { AzureFirewallFacts, FirewallRuleFact, IpGroupFact } from "./types";

/** What a rule's FQDNs and IP groups need from the firewall and its policy. */
export interface FirewallContext {
    /** The policy's DNS proxy (E6); `undefined`: not known. */
    dnsProxy?: boolean;
    /** IP groups whose content is known. */
    ipGroups?: readonly IpGroupFact[];
}

function ipGroupOf(reference: string, ctx: FirewallContext): IpGroupFact | undefined {
    const ref = reference.trim().toLowerCase();
    const name = ref.split("/").filter(Boolean).pop();
    return (ctx.ipGroups ?? []).find((g) => (g.id !== undefined && g.id.toLowerCase() === ref) || g.name.toLowerCase() === name);
}

/** E3: an IP group whose content is known is judged by its addresses, like the rule's own; one not known decides nothing. */
function ipGroupEntries(references: readonly string[] | undefined, target: Ipv4Prefix | undefined, ctx: FirewallContext): Tri[] {
    return (references ?? []).map((r) => {
        const group = ipGroupOf(r, ctx);
        if (!group || !target) return undefined;
        return anyTri(group.ipAddresses.map((a) => addressEntry(a, target)));
    });
}

/** One rule with the collection it sits in, in processing order. */
export interface OrderedFirewallRule {
    group: string;
    collection: string;
    action: string;
    rule: FirewallRuleFact;
}

/**
 * The filter rules of the policy in processing order: rule collection group priority, then collection
 * priority (E3). NAT (DNAT) collections concern inbound traffic and are left out.
 */
export function orderedRules(firewall: AzureFirewallFacts): OrderedFirewallRule[] {
    const groups = [...(firewall.ruleCollectionGroups ?? [])].sort((a, b) => a.priority - b.priority);
    return groups.flatMap((g) =>
        [...g.ruleCollections]
            .filter((c) => !/nat/i.test(c.ruleCollectionType ?? "") && !/dnat/i.test(c.action))
            .sort((a, b) => a.priority - b.priority)
            .flatMap((c) => c.rules.map((rule) => ({ group: g.name, collection: c.name, action: c.action, rule }))),
    );
}

function addressEntry(entry: string, target: Ipv4Prefix): Tri {
    const e = entry.trim();
    if (e === "*" || e.toLowerCase() === "any") return true;
    const prefix = parseIpv4Prefix(e);
    if (!prefix) return undefined; // a service tag: its content is not known here
    if (prefixContains(prefix, target)) return true;
    return prefixesOverlap(prefix, target) ? undefined : false;
}

function sourceMatches(rule: FirewallRuleFact, source: Ipv4Prefix | undefined, ctx: FirewallContext): Tri {
    const groups = rule.sourceIpGroups ?? [];
    const addresses = rule.sourceAddresses ?? [];
    if (addresses.length === 0 && groups.length === 0) return true;
    const fromAddresses = addresses.map((a) => {
        const e = a.trim();
        if (e === "*" || parseIpv4Prefix(e)?.bits === 0) return true;
        return source ? addressEntry(e, source) : undefined;
    });
    return anyTri([...fromAddresses, ...ipGroupEntries(groups, source, ctx)]);
}

/**
 * E6: a network rule's FQDN matches only through the policy's DNS proxy ("fqdn-filtering-network-rules.md"): with the
 * proxy off the FQDN never matches; with it on, the KMS host name is resolved by the firewall itself.
 */
function fqdnMatches(rule: FirewallRuleFact, host: string, ctx: FirewallContext): Tri[] {
    const named = (rule.destinationFqdns ?? []).some((f) => f.trim().toLowerCase() === host.toLowerCase());
    if (!named) return [];
    return [ctx.dnsProxy === undefined ? undefined : ctx.dnsProxy];
}

/** Whether a network rule lets TCP `port` to the address (and host) through. */
export function networkRuleMatches(rule: FirewallRuleFact, destination: Ipv4Prefix, host: string, port: number, source: Ipv4Prefix | undefined, ctx: FirewallContext = {}): Tri {
    const protocols = (rule.ipProtocols ?? ["Any"]).map((p) => p.toLowerCase());
    if (!protocols.includes("tcp") && !protocols.includes("any")) return false;
    const destination_ = anyTri([
        ...(rule.destinationAddresses ?? []).map((d) => addressEntry(d, destination)),
        ...fqdnMatches(rule, host, ctx),
        ...ipGroupEntries(rule.destinationIpGroups, destination, ctx),
    ]);
    return allTri([portsMatch(rule.destinationPorts, port), sourceMatches(rule, source, ctx), destination_]);
}

/** An application rule that was written for the KMS (its FQDN, port or address): it cannot carry it (E3). */
export function applicationRuleAimsAtKms(rule: FirewallRuleFact, destination: Ipv4Prefix, host: string, port: number): boolean {
    const byFqdn = (rule.targetFqdns ?? []).some((f) => f.toLowerCase() === host.toLowerCase() || (f.startsWith("*.") && host.toLowerCase().endsWith(f.slice(1).toLowerCase())));
    const byPort = (rule.protocols ?? []).some((p) => p.port === port);
    const byAddress = (rule.destinationAddresses ?? []).some((d) => addressEntry(d, destination) === true && d.trim() !== "*");
    return byFqdn || byPort || byAddress;
}

/** The firewall's answer for TCP `port` to the address: the network rule that decides, or none. */
export function evaluateFirewall(
    firewall: AzureFirewallFacts,
    destination: Ipv4Prefix,
    host: string,
    port: number,
    source: Ipv4Prefix | undefined,
): { access: "allow" | "deny" | "unknown" | "none"; rule?: OrderedFirewallRule; applicationRule?: OrderedFirewallRule } {
    const rules = orderedRules(firewall);
    const network = rules.filter((r) => r.rule.ruleType.toLowerCase() === "networkrule");
    const ctx: FirewallContext = { dnsProxy: firewall.dnsProxy, ipGroups: firewall.ipGroups };
    const decided = firstMatch(network, (r) => networkRuleMatches(r.rule, destination, host, port, source, ctx), (r) => r.action, { access: "none" });
    const access = decided.access.toLowerCase();
    const applicationRule = rules.find((r) => r.rule.ruleType.toLowerCase() === "applicationrule" && applicationRuleAimsAtKms(r.rule, destination, host, port));
    return {
        access: access === "allow" ? "allow" : access === "deny" ? "deny" : access === "none" ? "none" : "unknown",
        rule: decided.rule,
        applicationRule,
    };
}
