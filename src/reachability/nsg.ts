import { Ipv4Prefix, isPrivatePrefix, parseIpv4Prefix, prefixContains, prefixesOverlap } from "./cidr";
import { Tri, allPorts, allTri, anyTri, firstMatch, portsMatch } from "./match";
import { NsgFacts, SecurityRuleFact } from "./types";

/** The three default outbound rules every NSG has (N1). */
export const DEFAULT_OUTBOUND_RULES: readonly SecurityRuleFact[] = [
    rule("AllowVnetOutBound", 65000, "Allow", "VirtualNetwork"),
    rule("AllowInternetOutBound", 65001, "Allow", "Internet"),
    rule("DenyAllOutBound", 65500, "Deny", "*"),
];

function rule(name: string, priority: number, access: string, destination: string): SecurityRuleFact {
    return {
        name,
        priority,
        direction: "Outbound",
        access,
        protocol: "*",
        sourceAddressPrefixes: ["*"],
        sourcePortRanges: ["*"],
        destinationAddressPrefixes: [destination],
        destinationPortRanges: ["*"],
    };
}

/** What a destination tag means for one KMS address. */
export interface TagContext {
    /** The address or prefix. */
    destination: Ipv4Prefix;
    /** The address is the cloud's KMS (so `AzurePlatformLKM` covers it). */
    cloudKms: boolean;
    /** The winning route keeps the traffic private (VNet, peering, gateway): the `VirtualNetwork` tag covers it. */
    privatePath: boolean;
    /** The VM's private IP, when known. */
    source?: Ipv4Prefix;
    /** The prefixes of the subnet's user routes (N5: they are part of the `VirtualNetwork` tag); `undefined`: routes not known. */
    userRoutePrefixes?: readonly Ipv4Prefix[];
    /** The NIC's application security groups, as lower-case names (N4); `undefined`: not known. */
    applicationSecurityGroups?: ReadonlySet<string>;
}

/** The lower-case name an application security group is matched by: the last segment of its ID, or the name itself. */
export function asgKey(reference: string): string {
    return (reference.split("/").filter(Boolean).pop() ?? reference).trim().toLowerCase();
}

/**
 * N5: `VirtualNetwork` holds the VNet, peered and on-premises spaces (a private path) "and address prefixes used on
 * user-defined routes" (service-tags-overview.md): a user route's prefix that holds the address puts it in the tag.
 */
function inVirtualNetworkTag(ctx: TagContext): Tri {
    if (ctx.privatePath) return true;
    if (!ctx.userRoutePrefixes) return undefined;
    return anyTri(ctx.userRoutePrefixes.map((p) => (prefixContains(p, ctx.destination) ? true : prefixesOverlap(p, ctx.destination) ? undefined : false)));
}

/**
 * Whether one destination entry covers the address. Known tags by their meaning (the `Internet` tag holds every
 * public address, Azure's included); unknown tags by Azure's expansion when given, else not known.
 */
function destinationEntry(entry: string, ctx: TagContext, expanded: readonly string[] | undefined): Tri {
    const e = entry.trim();
    const tag = e.toLowerCase();
    if (tag === "*" || tag === "any") return true;
    if (tag === "internet") return !isPrivatePrefix(ctx.destination);
    if (tag === "virtualnetwork") return inVirtualNetworkTag(ctx);
    if (tag === "azureplatformlkm") return ctx.cloudKms;
    // N6: AzureCloud is every Azure datacenter public range; the cloud's KMS addresses are Azure public IPs. An
    // on-premises KMS at a private address is in none of them; a public one cannot be told.
    if (tag === "azurecloud") return ctx.cloudKms ? true : isPrivatePrefix(ctx.destination) ? false : undefined;
    const prefix = parseIpv4Prefix(e);
    if (prefix) {
        if (prefixContains(prefix, ctx.destination)) return true;
        return prefixesOverlap(prefix, ctx.destination) ? undefined : false;
    }
    if (expanded && expanded.length > 0) {
        return anyTri(expanded.map((x) => destinationEntry(x, ctx, undefined)));
    }
    return undefined;
}

function sourceEntry(entry: string, ctx: TagContext): Tri {
    const tag = entry.trim().toLowerCase();
    if (tag === "*" || tag === "any" || tag === "virtualnetwork") return true;
    const prefix = parseIpv4Prefix(entry);
    if (!prefix) return false; // Internet, AzureLoadBalancer, …: a VM's private address is in none of them.
    if (!ctx.source) return prefix.bits === 0 ? true : undefined;
    // The source may be the NIC's subnet (its address not assigned yet): a prefix covering part of it decides nothing.
    if (prefixContains(prefix, ctx.source)) return true;
    return prefixesOverlap(prefix, ctx.source) ? undefined : false;
}

/** N4: a source ASG matches only a NIC that is a member; membership not known decides nothing. */
function sourceAsgMatches(asgs: readonly string[], ctx: TagContext): Tri {
    if (!ctx.applicationSecurityGroups) return undefined;
    const member = ctx.applicationSecurityGroups;
    return asgs.some((a) => member.has(asgKey(a)));
}

/** N4: an ASG holds NICs of the virtual network, never Azure's KMS; an on-premises KMS's membership cannot be told. */
function destinationAsgMatches(ctx: TagContext): Tri {
    return ctx.cloudKms ? false : undefined;
}

function carriesTcp(protocol: string): boolean {
    return ["tcp", "*", "all", "any"].includes(protocol.trim().toLowerCase());
}

/** Whether an outbound rule applies to TCP `port` toward the address. */
export function ruleMatches(r: SecurityRuleFact, port: number, ctx: TagContext): Tri {
    if (r.direction.toLowerCase() !== "outbound" || !carriesTcp(r.protocol)) return false;
    // A rule names either prefixes/tags or ASGs on each side (ARM takes one or the other): an empty prefix list
    // beside ASGs is not `*`.
    const srcAsgs = r.sourceApplicationSecurityGroups ?? [];
    const dstAsgs = r.destinationApplicationSecurityGroups ?? [];
    const dests = r.destinationAddressPrefixes.length > 0 ? r.destinationAddressPrefixes : dstAsgs.length > 0 ? [] : ["*"];
    const sources = r.sourceAddressPrefixes.length > 0 ? r.sourceAddressPrefixes : srcAsgs.length > 0 ? [] : ["*"];
    return allTri([
        portsMatch(r.destinationPortRanges, port),
        allPorts(r.sourcePortRanges) ? true : undefined,
        ...(sources.length > 0 ? [anyTri(sources.map((s) => sourceEntry(s, ctx)))] : []),
        ...(srcAsgs.length > 0 ? [sourceAsgMatches(srcAsgs, ctx)] : []),
        ...(dests.length > 0 ? [anyTri(dests.map((d) => destinationEntry(d, ctx, r.expandedDestinationAddressPrefixes)))] : []),
        ...(dstAsgs.length > 0 ? [destinationAsgMatches(ctx)] : []),
    ]);
}

/** True when the rule names the `AzurePlatformLKM` tag: a deny to it switches the KMS platform rule off (N3). */
export function namesLicensingTag(r: SecurityRuleFact): boolean {
    return r.destinationAddressPrefixes.some((d) => d.trim().toLowerCase() === "azureplatformlkm");
}

function baseName(name: string): string {
    return name.replace(/^(default)?securityRules\//i, "");
}

/** The NSG's outbound rules in evaluation order, its default rules included once. */
export function outboundRules(nsg: NsgFacts): SecurityRuleFact[] {
    let rules = ordered.get(nsg);
    if (!rules) {
        rules = order(nsg);
        ordered.set(nsg, rules);
    }
    return rules;
}

// One NSG often guards many VMs: order its rules once.
const ordered = new WeakMap<NsgFacts, SecurityRuleFact[]>();

function order(nsg: NsgFacts): SecurityRuleFact[] {
    const names = new Set(nsg.rules.map((r) => baseName(r.name).toLowerCase()));
    const defaults = DEFAULT_OUTBOUND_RULES.filter((d) => !names.has(d.name.toLowerCase()));
    return [...nsg.rules, ...defaults].filter((r) => r.direction.toLowerCase() === "outbound").sort((a, b) => a.priority - b.priority);
}

/** The outcome of one NSG layer for TCP `port` to the address (N1): first match by priority. */
export function evaluateNsg(nsg: NsgFacts, port: number, ctx: TagContext): { access: "allow" | "deny" | "unknown"; rule?: SecurityRuleFact } {
    const decided = firstMatch(outboundRules(nsg), (r) => ruleMatches(r, port, ctx), (r) => r.access, { access: "Deny" });
    const access = decided.access.toLowerCase();
    return { access: access === "allow" ? "allow" : access === "deny" ? "deny" : "unknown", rule: decided.rule };
}

/** How a rule is named in messages: without the `securityRules/` prefix of the effective list. */
export function ruleName(r: SecurityRuleFact): string {
    return baseName(r.name);
}
