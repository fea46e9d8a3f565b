import { StackValidationPolicy } from "@pulumi/policy";
import { parseIpv4Prefix, samePrefix } from "./cidr";
import { Child, Group, ROUTE_TABLES, groupChildren } from "./children";
import { KmsActivationPolicyOptions, KmsPolicyNames, KmsTarget, configOf, enforcementLevelOf, kmsPolicyConfigSchema, resolveTarget } from "./config";
import { UNKNOWN, textAt, textIs } from "./props";

const NAME = KmsPolicyNames.RouteTableInternetRoutes;

const REMEDIATION =
    "add one route per missing KMS IP with address prefix <ip>/32 and next hop type Internet to this route table " +
    "(KmsEgressRules from azure-kms-activation adds them as standalone routes; do not mix inline and standalone routes); " +
    "the longest prefix wins over the 0.0.0.0/0 route, so activation leaves from an Azure public IP as Azure KMS requires.";

interface Hop {
    prefix: string | typeof UNKNOWN | undefined;
    nextHopType: string | typeof UNKNOWN | undefined;
}

function hopOf(child: Child): Hop {
    return { prefix: textAt(child.props, "addressPrefix"), nextHopType: textAt(child.props, "nextHopType") };
}

function isForcedTunnel(hop: Hop): boolean {
    const prefix = typeof hop.prefix === "string" ? parseIpv4Prefix(hop.prefix) : undefined;
    return prefix?.bits === 0 && textIs(hop.nextHopType, "VirtualAppliance", "VirtualNetworkGateway") === true;
}

/** The KMS IPs the group has no `/32` Internet route for; `undefined` when that cannot be told yet. */
function missingKmsRoutes(hops: readonly Hop[], target: KmsTarget): string[] | undefined {
    if (hops.some((h) => h.prefix === UNKNOWN || h.nextHopType === UNKNOWN)) {
        return undefined;
    }
    const internet = hops
        .filter((h) => textIs(h.nextHopType, "Internet") === true && typeof h.prefix === "string")
        .map((h) => parseIpv4Prefix(h.prefix as string))
        .filter((p) => p !== undefined);
    return target.addresses.filter((_, i) => !internet.some((p) => samePrefix(p, target.prefixes[i])));
}

function violation(group: Group, tunnel: Child, missing: string[], target: KmsTarget): string {
    const hop = textAt(tunnel.props, "nextHopType") as string;
    return (
        `Route table "${group.displayName}" sends 0.0.0.0/0 to ${hop} (route "${tunnel.name}") but has no /32 route with next hop ` +
        `Internet to the KMS at ${missing.join(", ")} (${target.source}): Windows VMs on its subnets cannot activate, because Azure KMS ` +
        `accepts requests only from an Azure public IP. Remediation: add routes with next hop type Internet for ` +
        `${missing.map((ip) => `${ip}/32`).join(", ")} to this route table (KmsEgressRules from azure-kms-activation adds them as ` +
        "standalone routes; do not mix inline and standalone routes); the longest prefix wins over the 0.0.0.0/0 route."
    );
}

/** Route tables that force-tunnel 0.0.0.0/0 must route every KMS IP to the Internet. */
export function routeTablePolicy(options: KmsActivationPolicyOptions): StackValidationPolicy {
    return {
        name: NAME,
        description:
            "A route table that sends 0.0.0.0/0 to a virtual appliance or a virtual network gateway has a /32 route with next hop Internet for every KMS IP.",
        enforcementLevel: enforcementLevelOf(NAME, options),
        configSchema: kmsPolicyConfigSchema,
        remediationSteps: REMEDIATION,
        validateStack: (args, reportViolation) => {
            const target = resolveTarget(NAME, options, configOf(args));
            // An on-premises KMS is reached through the tunnel: Internet routes are exactly what is not wanted.
            if (target.custom) {
                return;
            }
            const { groups, unplaced } = groupChildren(args.resources ?? [], ROUTE_TABLES);
            if (unplaced.length > 0) {
                return; // A route whose table is not known yet may be the missing one: nothing can be concluded.
            }
            for (const group of groups) {
                const tunnel = group.children.find((c) => isForcedTunnel(hopOf(c)));
                if (!tunnel || group.incomplete) {
                    continue;
                }
                const missing = missingKmsRoutes(group.children.map(hopOf), target);
                if (missing && missing.length > 0) {
                    reportViolation(violation(group, tunnel, missing, target), (group.resource ?? tunnel.resource).urn);
                }
            }
        },
    };
}
