/**
 * kms-subnet-reachability: platform teams keep the hub-and-spoke network in one stack and the VMs in others, so a
 * network stack holds no Windows VM for kms-reachability to judge. This policy judges every subnet of the stack that
 * holds no Windows VM of the stack as a Windows VM placed there with a plain NIC would be judged: its route table, NSG,
 * NAT gateway, private flag and any hub firewall (section 6 of the facts file, through the one engine).
 */
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { decideReachability } from "../reachability/engine";
import { KmsActivationPolicyOptions, KmsPolicyNames, configOf, enforcementLevelOf, kmsPolicyConfigSchema, resolveTarget, subnetsWithoutWindowsOf } from "./config";
import { Candidate, StackPaths } from "./paths";
import { blockedLines, destinationOf, kmsText } from "./reachability";
import { unverifiedHops, unverifiedMessage } from "./unverified";
import { isWindows } from "./vm";

const NAME = KmsPolicyNames.SubnetReachability;
const VM = "azure-native:compute:VirtualMachine";

/**
 * Subnets Azure reserves for a service, where no VM goes (virtual-network-gateway, firewall, Bastion and Route Server
 * documentation name them exactly; Azure matches them case-insensitively).
 */
export const SERVICE_SUBNETS: readonly string[] = ["GatewaySubnet", "AzureFirewallSubnet", "AzureFirewallManagementSubnet", "AzureBastionSubnet", "RouteServerSubnet"];
const SERVICE = new Set(SERVICE_SUBNETS.map((s) => s.toLowerCase()));

/** Advisory by default: a subnet may be meant for Linux or PaaS; `subnetsWithoutWindows` says so. */
export function subnetReachabilityPolicy(options: KmsActivationPolicyOptions): StackValidationPolicy {
    return {
        name: NAME,
        description:
            "Every subnet of the stack that holds no Windows VM of the stack lets a Windows VM placed in it reach every KMS address on TCP 1688 (network-only stacks): routes, NSG, NAT gateway, private flag and hub firewall judged together.",
        enforcementLevel: enforcementLevelOf(NAME, options),
        configSchema: kmsPolicyConfigSchema,
        remediationSteps:
            "apply the fix the message names for the subnet (a /32 route with next hop Internet per KMS IP on a forced-tunnelled route table, an outbound Allow " +
            "for TCP 1688 before the NSG's deny, a NAT gateway on a private subnet: KmsEgressRules, KmsNetwork), or list the subnet in the policy config's " +
            "subnetsWithoutWindows when no Windows VM will use it.",
        validateStack: (args, reportViolation) => {
            const config = configOf(args);
            const destination = destinationOf(resolveTarget(NAME, options, config));
            const skipped = subnetsWithoutWindowsOf(NAME, options, config);
            const resources = args.resources ?? [];
            const paths = new StackPaths(resources);
            const subnets = paths.subnetsOfStack();
            if (subnets.length === 0) return;
            // Subnets kms-reachability already judges through a Windows VM of the stack.
            const withWindows = new Set<Candidate>();
            for (const vm of resources.filter((r: PolicyResource) => r.type === VM && isWindows(r.props))) {
                const subnet = paths.subnetOfVm(vm);
                if (subnet) withWindows.add(subnet);
            }
            for (const subnet of subnets) {
                const name = subnet.name.toLowerCase();
                // A delegated subnet belongs to a service; one whose delegations are not known yet is not judged either.
                if (withWindows.has(subnet.candidate) || SERVICE.has(name) || skipped.has(name) || subnet.delegated !== false) continue;
                const facts = paths.pathOfSubnet(subnet);
                const result = decideReachability(facts, destination);
                const subject = `Subnet "${subnet.name}" (no Windows VM of this stack; judged as one placed there)`;
                const blocked = result.addresses.filter((a) => a.verdict === "blocked");
                if (blocked.length > 0) {
                    reportViolation(`${subject} cannot reach ${kmsText(destination)} on TCP ${destination.port}: ${blockedLines(blocked)}`, subnet.candidate.resource.urn);
                    continue;
                }
                const hops = unverifiedHops(facts, result);
                if (hops.length > 0) reportViolation(unverifiedMessage(subject, hops, destination), subnet.candidate.resource.urn);
            }
        },
    };
}
