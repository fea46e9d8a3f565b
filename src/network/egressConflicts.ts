import { NsgFacts, RouteTableFacts, UserRouteFact } from "../reachability";
import { parseIpv4Prefix, samePrefix } from "../reachability/cidr";

/** Lowest and highest priority of a user security rule. */
export const MIN_PRIORITY = 100;
export const MAX_PRIORITY = 4096;

// A rule the package added under an older name (the name carries the port): it is this component's own rule, which
// the update replaces (delete first), not someone else's at the same priority.
const OWN_RULE = /^allow-kms-tcp-\d+-out$/i;

/** What a route table already holds for the KMS prefixes: routes to leave alone (warnings) and conflicts (errors). */
export interface RouteReview {
    /** Our routes still to add. */
    add: UserRouteFact[];
    /** Routes left alone because an existing route under another name already sends the prefix to the Internet. */
    warnings: string[];
    /** Existing routes for a KMS prefix that send it elsewhere: Azure would refuse ours (RouteConflict). */
    errors: string[];
}

/**
 * Compares the routes to add with the table as read. A route of the same name is ours (a later `up`); a route of
 * another name for the same prefix either does the job already (next hop Internet: ours is not added) or keeps KMS
 * from an Azure public IP (any other next hop: refused, naming it and the fix).
 */
export function reviewRoutes(component: string, table: RouteTableFacts, wanted: UserRouteFact[], canLeaveAlone: boolean): RouteReview {
    const review: RouteReview = { add: [], warnings: [], errors: [] };
    for (const route of wanted) {
        const prefix = parseIpv4Prefix(route.addressPrefix)!;
        const other = table.routes.find((r) => {
            const p = parseIpv4Prefix(r.addressPrefix);
            return p !== undefined && samePrefix(p, prefix) && r.name.toLowerCase() !== route.name.toLowerCase();
        });
        if (!other) {
            review.add.push(route);
            continue;
        }
        const where = `route table "${table.name}" already has route "${other.name}" for ${route.addressPrefix}`;
        if (other.nextHopType.toLowerCase() === "internet") {
            if (canLeaveAlone) {
                review.warnings.push(
                    `${component}: routeTableName: ${where} with next hop Internet: it already does the job, so route "${route.name}" is not added and ` +
                        `"${other.name}" is left alone (it is not this stack's: if its owner deletes it, the next pulumi up adds "${route.name}").`,
                );
            } else {
                review.errors.push(
                    `${component}: routeTableName: ${where} with next hop Internet, and Azure refuses a second route for one prefix (RouteConflict). ` +
                        `Fix: delete route "${other.name}" (this component adds "${route.name}" in its place), or give routeTableName as a plain string so the component can leave it alone.`,
                );
            }
            continue;
        }
        const hop = `${other.nextHopType}${other.nextHopIpAddress ? ` ${other.nextHopIpAddress}` : ""}`;
        review.errors.push(
            `${component}: routeTableName: ${where} with next hop ${hop}: Azure refuses a second route for one prefix (RouteConflict), and this one keeps ` +
                `the KMS traffic from leaving from an Azure public IP. Fix: change route "${other.name}"'s next hop type to Internet (it then does the job and ` +
                `is left alone), or delete it so this component adds "${route.name}".`,
        );
    }
    return review;
}

/** The free outbound priority nearest to `wanted`, the lower one on a tie (a lower number keeps the allow ahead of denies). */
export function nearestFreePriority(used: ReadonlySet<number>, wanted: number): number | undefined {
    for (let d = 1; d <= MAX_PRIORITY - MIN_PRIORITY; d++) {
        for (const p of [wanted - d, wanted + d]) {
            if (p >= MIN_PRIORITY && p <= MAX_PRIORITY && !used.has(p)) return p;
        }
    }
    return undefined;
}

/**
 * The refusal when another outbound rule of the NSG holds the priority (Azure rejects two rules of one direction at
 * one priority), naming that rule and the nearest free priority; undefined when the priority is free or ours.
 */
export function priorityConflict(component: string, nsg: NsgFacts, ruleName: string, priority: number): string | undefined {
    const others = nsg.rules.filter((r) => r.direction.toLowerCase() === "outbound" && r.name.toLowerCase() !== ruleName.toLowerCase() && !OWN_RULE.test(r.name));
    const taken = others.find((r) => r.priority === priority);
    if (!taken) return undefined;
    const free = nearestFreePriority(new Set(others.map((r) => r.priority)), priority);
    return (
        `${component}: securityRulePriority: ${priority} is taken in NSG "${nsg.name}" by outbound rule "${taken.name}" (${taken.access}), and Azure refuses ` +
        `two rules of one direction at one priority. Fix: ${free === undefined ? "free a priority" : `use ${free}, the nearest free outbound priority`}` +
        ` (lower numbers win: keep it below the outbound denies that cover the KMS addresses).`
    );
}
