import { Ipv4Prefix, parseIpv4Prefix, prefixContains, prefixesOverlap } from "./cidr";
import { PathFacts, RouteFact, RouteTableFacts } from "./types";

/** The system routes every subnet has (R2): VNet space local, 0/0 to the Internet, private ranges dropped. */
export function systemRoutes(vnetAddressPrefixes: readonly string[] = []): RouteFact[] {
    return [
        ...(vnetAddressPrefixes.length > 0 ? [{ source: "Default", addressPrefixes: [...vnetAddressPrefixes], nextHopType: "VnetLocal" }] : []),
        { source: "Default", addressPrefixes: ["0.0.0.0/0"], nextHopType: "Internet" },
        { source: "Default", addressPrefixes: ["10.0.0.0/8"], nextHopType: "None" },
        { source: "Default", addressPrefixes: ["100.64.0.0/10"], nextHopType: "None" },
        { source: "Default", addressPrefixes: ["172.16.0.0/12"], nextHopType: "None" },
        { source: "Default", addressPrefixes: ["192.168.0.0/16"], nextHopType: "None" },
    ];
}

/**
 * The effective routes of a subnet from its route table (R1, R2, R3): system defaults, BGP routes unless the
 * table disables their propagation, and the user routes. States are left to the engine, which applies R1.
 * `undefined` when the routes are not known.
 */
export function deriveEffectiveRoutes(facts: Pick<PathFacts, "effectiveRoutes" | "routeTable" | "vnetAddressPrefixes" | "bgpRoutes">): RouteFact[] | undefined {
    if (facts.effectiveRoutes) {
        return facts.effectiveRoutes;
    }
    if (facts.routeTable === undefined) {
        return undefined;
    }
    // Many VMs share one table: derive once per table object when nothing else differs.
    const cacheable = facts.routeTable !== null && !facts.bgpRoutes;
    const key = (facts.vnetAddressPrefixes ?? []).join(",");
    const cached = cacheable ? derived.get(facts.routeTable as RouteTableFacts)?.get(key) : undefined;
    if (cached) {
        return cached;
    }
    const result = derive(facts);
    if (cacheable) {
        const byKey = derived.get(facts.routeTable as RouteTableFacts) ?? new Map<string, RouteFact[]>();
        byKey.set(key, result);
        derived.set(facts.routeTable as RouteTableFacts, byKey);
    }
    return result;
}

const derived = new WeakMap<RouteTableFacts, Map<string, RouteFact[]>>();

function derive(facts: Pick<PathFacts, "routeTable" | "vnetAddressPrefixes" | "bgpRoutes">): RouteFact[] {
    const table: RouteTableFacts | null = facts.routeTable ?? null;
    const bgp = table?.disableBgpRoutePropagation ? [] : (facts.bgpRoutes ?? []);
    const user: RouteFact[] = (table?.routes ?? []).map((r) => ({
        name: r.name,
        routeTable: table?.name,
        source: "User",
        addressPrefixes: [r.addressPrefix],
        nextHopType: r.nextHopType,
        ...(r.nextHopIpAddress ? { nextHopIpAddress: r.nextHopIpAddress } : {}),
    }));
    return [...systemRoutes(facts.vnetAddressPrefixes), ...bgp, ...user];
}

/** R1's order on an equal prefix: user, then BGP, then system. */
export function sourceRank(source: string): number {
    const s = source.toLowerCase();
    return s === "user" ? 0 : s === "virtualnetworkgateway" ? 1 : 2;
}

/** A route that carries part of a destination prefix: more specific than the one chosen for all of it. */
export interface RouteSelection {
    route: RouteFact;
    prefix: Ipv4Prefix;
    prefixText: string;
    /** Routes beaten on an equal prefix (R1), for the explanation. */
    beaten: RouteFact[];
    /** A more specific route that covers only part of the destination (the answer then differs inside it). */
    partial?: RouteFact;
}

const parsed = new WeakMap<RouteFact, (Ipv4Prefix | undefined)[]>();

function prefixesOf(route: RouteFact): (Ipv4Prefix | undefined)[] {
    let p = parsed.get(route);
    if (!p) {
        p = route.addressPrefixes.map(parseIpv4Prefix);
        parsed.set(route, p);
    }
    return p;
}

function usable(route: RouteFact): boolean {
    return (route.state ?? "Active").toLowerCase() !== "invalid";
}

/** The route R1 picks for `destination`, or `undefined` when no route covers it. */
export function selectRoute(routes: readonly RouteFact[], destination: Ipv4Prefix): RouteSelection | undefined {
    let best: { route: RouteFact; prefix: Ipv4Prefix; text: string } | undefined;
    const equal: RouteFact[] = [];
    let partial: RouteFact | undefined;
    for (const route of routes.filter(usable)) {
        const prefixes = prefixesOf(route);
        for (let i = 0; i < prefixes.length; i++) {
            const text = route.addressPrefixes[i];
            const prefix = prefixes[i];
            if (!prefix) {
                continue;
            }
            if (!prefixContains(prefix, destination)) {
                if (prefixesOverlap(prefix, destination)) {
                    partial = partial ?? route;
                }
                continue;
            }
            if (!best || prefix.bits > best.prefix.bits) {
                if (best) equal.length = 0;
                best = { route, prefix, text };
            } else if (prefix.bits === best.prefix.bits) {
                if (sourceRank(route.source) < sourceRank(best.route.source)) {
                    equal.push(best.route);
                    best = { route, prefix, text };
                } else {
                    equal.push(route);
                }
            }
        }
    }
    if (!best) {
        return undefined;
    }
    return { route: best.route, prefix: best.prefix, prefixText: best.text, beaten: equal.filter((r) => r !== best?.route), partial };
}

/** True for a 0/0 route written by a user or learned over BGP: it turns the KMS platform rule off (N2). */
export function isConfiguredDefaultRoute(route: RouteFact): boolean {
    return usable(route) && sourceRank(route.source) < 2 && route.addressPrefixes.some((p) => parseIpv4Prefix(p)?.bits === 0);
}

/** How a route is named in messages. */
export function describeRoute(route: RouteFact): string {
    const prefixes = route.addressPrefixes.join(", ");
    const s = route.source.toLowerCase();
    if (s === "user") {
        const table = route.routeTable ? ` of route table "${route.routeTable}"` : "";
        return `user route "${route.name ?? prefixes}"${table} (${prefixes} -> ${route.nextHopType}${route.nextHopIpAddress ? ` ${route.nextHopIpAddress}` : ""})`;
    }
    if (s === "virtualnetworkgateway") {
        return `BGP route ${prefixes} -> ${route.nextHopType}${route.nextHopIpAddress ? ` ${route.nextHopIpAddress}` : ""} (learned from the gateway)`;
    }
    return `system route ${prefixes} -> ${route.nextHopType}`;
}
