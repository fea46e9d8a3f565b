/**
 * kms-reachability-unverified: "unknown is said, not swallowed". A Windows VM whose KMS traffic the stack's own user
 * route sends to a `VirtualAppliance` next hop the stack does not define (an NVA, or a hub firewall owned by another
 * stack) gets no verdict from the engine (rule E3: the appliance must SNAT to a public IP and allow TCP 1688); this
 * policy names the route, the appliance and the two ways to make activation certain.
 */
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { decideReachability } from "../reachability/engine";
import { describeRoute } from "../reachability/routes";
import { KmsDestination, PathFacts, Reachability, RouteFact } from "../reachability/types";
import { KmsActivationPolicyOptions, KmsPolicyNames, configOf, enforcementLevelOf, kmsPolicyConfigSchema, resolveTarget } from "./config";
import { StackPaths } from "./paths";
import { destinationOf, kmsText, vmNameOf } from "./reachability";
import { isWindows } from "./vm";

const NAME = KmsPolicyNames.ReachabilityUnverified;
const VM = "azure-native:compute:VirtualMachine";

/** One appliance outside the stack, the user route that sends KMS traffic to it, and the addresses it carries. */
export interface UnverifiedHop {
    route: RouteFact;
    ip: string;
    addresses: string[];
}

/**
 * The addresses whose only open question is an appliance the stack does not define, reached by one of the stack's
 * own user routes (R3/E3). Addresses blocked elsewhere are kms-reachability's; other unknowns are not the stack's.
 */
export function unverifiedHops(facts: PathFacts, result: Reachability): UnverifiedHop[] {
    const hops: UnverifiedHop[] = [];
    for (const a of result.addresses) {
        const route = a.route?.route;
        if (a.verdict !== "unknown" || !route || route.source.toLowerCase() !== "user" || route.nextHopType.toLowerCase() !== "virtualappliance") continue;
        const ip = route.nextHopIpAddress ?? "";
        const known = (facts.nextHops ?? []).some((h) => h.ipAddress === ip);
        const applianceUnknown = a.steps.some((s) => s.kind === "appliance" && s.outcome === "unknown");
        if (known || !applianceUnknown) continue;
        const same = hops.find((h) => h.route === route && h.ip === ip);
        if (same) same.addresses.push(a.address);
        else hops.push({ route, ip, addresses: [a.address] });
    }
    return hops;
}

/** The report: the subject, the route, the appliance address, the KMS addresses it carries, and both fixes. */
export function unverifiedMessage(subject: string, hops: readonly UnverifiedHop[], destination: KmsDestination): string {
    const port = destination.port;
    return hops
        .map((h) => {
            const list = h.addresses.join(", ");
            const table = h.route.routeTable ? `route table "${h.route.routeTable}"` : "the subnet's route table";
            const head =
                `${subject}: ${describeRoute(h.route)} sends the traffic for the KMS addresses ${list} (TCP ${port}, ${kmsText(destination)}) to the appliance at ${h.ip}, ` +
                `which this stack does not define, so whether it activates cannot be verified.`;
            if (destination.custom) {
                return `${head} Fix: make sure the appliance at ${h.ip} allows TCP ${port} to ${list} and forwards it to the on-premises network.`;
            }
            const routes = h.addresses.map((a) => (a.includes("/") ? a : `${a}/32`)).join(", ");
            return (
                `${head} Fix one of: (1) make the appliance at ${h.ip} allow TCP ${port} to ${list} and SNAT that traffic to a public IP of its own ` +
                `(an Azure Firewall: a network rule, as KmsFirewallRules writes); or (2) bypass it: add routes ${routes} with next hop type Internet to ${table} ` +
                `(KmsEgressRules adds them, with the NSG allow for TCP ${port}).`
            );
        })
        .join(" | ");
}

/** Advisory by default: the stack is not wrong, only not provable from what it holds. */
export function reachabilityUnverifiedPolicy(options: KmsActivationPolicyOptions): StackValidationPolicy {
    return {
        name: NAME,
        description:
            "A Windows VM whose KMS traffic the stack's own routes send to an appliance or firewall the stack does not define: its activation cannot be verified from the stack.",
        enforcementLevel: enforcementLevelOf(NAME, options),
        configSchema: kmsPolicyConfigSchema,
        remediationSteps:
            "either make the appliance allow TCP 1688 to the KMS addresses and SNAT that traffic to a public IP of its own (on an Azure Firewall, a network rule: KmsFirewallRules), " +
            "or bypass it with a /32 route per KMS address with next hop Internet (KmsEgressRules); the message names the route and the appliance.",
        validateStack: (args, reportViolation) => {
            const destination = destinationOf(resolveTarget(NAME, options, configOf(args)));
            const resources = args.resources ?? [];
            const vms = resources.filter((r: PolicyResource) => r.type === VM && isWindows(r.props));
            if (vms.length === 0) return;
            const paths = new StackPaths(resources);
            for (const vm of vms) {
                const name = vmNameOf(vm);
                const facts = paths.pathOf(vm, name);
                if (!facts) continue; // NIC or subnet outside the stack: nothing of the path is the stack's to judge.
                const hops = unverifiedHops(facts, decideReachability(facts, destination));
                if (hops.length > 0) reportViolation(unverifiedMessage(`Windows VM "${name}"`, hops, destination), vm.urn);
            }
        },
    };
}
