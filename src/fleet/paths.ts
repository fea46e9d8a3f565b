/**
 * `--paths`: a NIC's effective routes and NSGs, as Azure computes them (the long-running `effectiveRouteTable` and
 * `effectiveNetworkSecurityGroups` operations, what `az network nic show-effective-route-table` and `list-effective-nsg`
 * print), with the NIC and its subnet, judged by the same parsing and engine `audit` uses.
 */
import { pathFactsFromAzureCli } from "../reachability/azureJson";
import { decideReachability } from "../reachability/engine";
import type { KmsDestination, Reachability } from "../reachability/types";
import { FleetPath } from "./types";

/** What Azure returned for one NIC. */
export interface NicReads {
    /** NIC name, for messages. */
    nic: string;
    /** The effective route list (`{ value: [...] }`). */
    routes: unknown;
    /** The effective NSG list (`{ value: [...] }`). */
    nsgs: unknown;
    /** The NIC itself. */
    nicBody?: unknown;
    /** Its subnet. */
    subnet?: unknown;
}

/** The engine's verdict on a NIC's reads, in the report's form. */
export function judgePath(reads: NicReads, destination: KmsDestination): FleetPath {
    const where = `NIC ${reads.nic}`;
    const facts = pathFactsFromAzureCli({
        routes: { json: reads.routes, file: `effective routes of ${where}` },
        nsgs: { json: reads.nsgs, file: `effective NSGs of ${where}` },
        ...(reads.subnet ? { subnet: { json: reads.subnet, file: `subnet of ${where}` } } : {}),
        ...(reads.nicBody ? { nic: { json: reads.nicBody, file: where } } : {}),
    });
    return fleetPath(reads.nic, decideReachability(facts, destination));
}

/** The report's form of an engine answer. */
export function fleetPath(nic: string, result: Reachability): FleetPath {
    return {
        nic,
        verdict: result.verdict,
        addresses: result.addresses.map((a) => ({
            address: a.address,
            verdict: a.verdict,
            steps: a.steps.map((s) => `[${s.rule}] ${s.outcome} ${s.element}: ${s.detail}`),
            ...(a.route ? { route: `${a.route.prefix} → ${a.route.route.nextHopType}${a.route.route.nextHopIpAddress ? ` ${a.route.route.nextHopIpAddress}` : ""} (${a.route.route.source}${a.route.route.routeTable ? `, route table "${a.route.route.routeTable}"` : ""})` } : {}),
            ...(a.egress ? { egress: a.egress } : {}),
            ...(a.blame ? { blame: { rule: a.blame.rule, element: a.blame.element, fix: a.blame.fix } } : {}),
        })),
    };
}
