/**
 * Stale KMS routes and rules. Azure moved its KMS in 2022–2023 (facts §1: `kms.core.windows.net` 23.102.135.246 gave
 * way to `azkms.core.windows.net` 20.118.99.224 and 40.83.235.53; Microsoft's "custom routes to enable KMS activation"
 * article now lists all three). A route table, NSG or firewall rule collection group written for one address and
 * never updated routes or allows some KMS addresses but not all: listed here with what to add. One that names none
 * is not listed (it was never about KMS; `--paths` judges whether KMS gets through anyway).
 */
import { promises as dns } from "dns";
import { kmsEndpoint } from "../kms/endpoints";
import { nameFromId, nsgFromArm, routeTableFromArm, ruleCollectionGroupFromArm } from "../reachability/arm";
import { Ipv4Prefix, parseIpv4, parseIpv4Prefix, prefixContains } from "../reachability/cidr";
import { portsMatch } from "../reachability/match";
import { AzureCloud } from "../types";
import { KmsDrift, StaleKmsRule } from "./types";

/** Subscription and resource group of an ARM ID. */
export function scopeOfId(id: string | undefined): { subscriptionId: string; resourceGroup: string } {
    const m = /\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)/i.exec(id ?? "");
    return { subscriptionId: m?.[1] ?? "", resourceGroup: m?.[2] ?? "" };
}

// Only specific prefixes count as being "about KMS": a 0.0.0.0/0 (or any prefix wider than /8) covers every address
// and is a default route or a blanket rule, not a KMS route that went stale.
const SPECIFIC_BITS = 8;

function kmsCovered(prefixes: readonly string[], addresses: readonly string[]): string[] {
    const parsed = prefixes.map((p) => parseIpv4Prefix(p)).filter((p): p is Ipv4Prefix => p !== undefined && p.bits > SPECIFIC_BITS);
    return addresses.filter((a) => parsed.some((p) => prefixContains(p, { network: parseIpv4(a) as number, bits: 32 })));
}

function finding(kind: StaleKmsRule["kind"], id: string, name: string, rules: string[], covers: string[], all: readonly string[], fix: (missing: string[]) => string): StaleKmsRule | undefined {
    const unique = [...new Set(covers)];
    if (unique.length === 0 || unique.length === all.length) return undefined;
    const missing = all.filter((a) => !unique.includes(a));
    return { kind, id, name, ...scopeOfId(id), rules: [...new Set(rules)], covers: all.filter((a) => unique.includes(a)), missing, fix: fix(missing) };
}

/**
 * A route table whose user routes with next hop `Internet` (the documented KMS fix, facts §2) cover some current KMS
 * addresses but not all.
 */
export function staleRouteTable(table: unknown, cloud: AzureCloud): StaleKmsRule | undefined {
    const all = kmsEndpoint(cloud).ipAddresses;
    const facts = routeTableFromArm(table);
    const id = String((table as { id?: unknown }).id ?? "");
    const kmsRoutes = facts.routes.filter((r) => r.nextHopType.toLowerCase() === "internet" && kmsCovered([r.addressPrefix], all).length > 0);
    const covers = kmsRoutes.flatMap((r) => kmsCovered([r.addressPrefix], all));
    return finding("route-table", id, facts.name, kmsRoutes.map((r) => `${r.name} ${r.addressPrefix} → Internet`), covers, all, (missing) =>
        `add a route per missing address to route table "${facts.name}": ${missing.map((a) => `${a}/32 next hop Internet`).join(", ")} (or deploy KmsEgressRules on it)`,
    );
}

/** An NSG whose outbound Allow rules for TCP 1688 name some current KMS addresses but not all. */
export function staleNsg(nsg: unknown, cloud: AzureCloud): StaleKmsRule | undefined {
    const endpoint = kmsEndpoint(cloud);
    const all = endpoint.ipAddresses;
    const facts = nsgFromArm(nsg);
    const id = String((nsg as { id?: unknown }).id ?? "");
    const rules = facts.rules.filter(
        (r) =>
            r.direction.toLowerCase() === "outbound" &&
            r.access.toLowerCase() === "allow" &&
            ["tcp", "*", "all"].includes(r.protocol.toLowerCase()) &&
            portsMatch(r.destinationPortRanges, endpoint.port) === true &&
            kmsCovered(r.destinationAddressPrefixes, all).length > 0,
    );
    const covers = rules.flatMap((r) => kmsCovered(r.destinationAddressPrefixes, all));
    return finding("nsg", id, facts.name, rules.map((r) => `${r.name} (priority ${r.priority}) → ${r.destinationAddressPrefixes.join(", ")}:${r.destinationPortRanges.join(",") || "*"}`), covers, all, (missing) =>
        `add ${missing.join(", ")} to the destination of rule "${rules[0]?.name}" in NSG "${facts.name}" (TCP ${endpoint.port}, outbound Allow)`,
    );
}

/** A firewall policy rule collection group whose Allow network rules for TCP 1688 name some current KMS addresses but not all. */
export function staleRuleCollectionGroup(group: unknown, cloud: AzureCloud): StaleKmsRule | undefined {
    const endpoint = kmsEndpoint(cloud);
    const all = endpoint.ipAddresses;
    const facts = ruleCollectionGroupFromArm(group);
    const id = String((group as { id?: unknown }).id ?? "");
    const policy = nameFromId(id, "firewallPolicies") ?? "?";
    const hits = facts.ruleCollections
        .filter((c) => c.action.toLowerCase() === "allow")
        .flatMap((c) =>
            c.rules
                .filter(
                    (r) =>
                        r.ruleType === "NetworkRule" &&
                        (r.ipProtocols ?? []).some((p) => ["tcp", "any"].includes(p.toLowerCase())) &&
                        portsMatch(r.destinationPorts, endpoint.port) === true &&
                        kmsCovered(r.destinationAddresses ?? [], all).length > 0,
                )
                .map((r) => ({ collection: c.name, rule: r })),
        );
    const covers = hits.flatMap((h) => kmsCovered(h.rule.destinationAddresses ?? [], all));
    return finding("firewall-policy", id, `${policy}/${facts.name}`, hits.map((h) => `${h.collection}/${h.rule.name} → ${(h.rule.destinationAddresses ?? []).join(", ")}:${(h.rule.destinationPorts ?? []).join(",")}`), covers, all, (missing) =>
        `add ${missing.join(", ")} to the destination addresses of network rule "${hits[0]?.rule.name}" (collection "${hits[0]?.collection}") in firewall policy "${policy}", group "${facts.name}" (or deploy KmsFirewallRules)`,
    );
}

/** Resolves a name to IPv4 addresses (injected in tests). */
export type Resolve4 = (host: string) => Promise<string[]>;

/** The system resolver. */
export const systemResolve4: Resolve4 = (host) => dns.resolve4(host);

/**
 * `--resolve`: the cloud's KMS names resolved from where the command runs; an address not in the package's table
 * (src/kms/endpoints.ts) may mean Azure moved the KMS again (azkms is a Traffic Manager name whose answer depends on
 * geography, facts §1), so routes and rules built from the table would miss it.
 */
export async function kmsDrift(cloud: AzureCloud, resolve4: Resolve4 = systemResolve4): Promise<KmsDrift[]> {
    const endpoint = kmsEndpoint(cloud);
    return Promise.all(
        [endpoint.host, endpoint.legacyHost].map(async (host): Promise<KmsDrift> => {
            try {
                const addresses = await resolve4(host);
                return { host, addresses, unknown: addresses.filter((a) => !endpoint.ipAddresses.includes(a)) };
            } catch (err) {
                return { host, addresses: [], unknown: [], error: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
            }
        }),
    );
}
