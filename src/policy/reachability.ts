import { PolicyResource, StackValidationPolicy } from "@pulumi/policy/policy";
import { decideReachability } from "../reachability/engine";
import { AddressReachability, KmsDestination } from "../reachability/types";
import { KmsActivationPolicyOptions, KmsPolicyNames, KmsTarget, configOf, enforcementLevelOf, kmsPolicyConfigSchema, resolveTarget } from "./config";
import { StackPaths } from "./paths";
import { firstDefined, textAt } from "./props";
import { isWindows } from "./vm";

const NAME = KmsPolicyNames.Reachability;
const VM = "azure-native:compute:VirtualMachine";

const REMEDIATION =
    "follow the fix the message names for each blocked KMS address: a /32 route with next hop Internet per KMS IP on a forced-tunnelled " +
    "route table (KmsEgressRules), an outbound Allow for TCP 1688 before the NSG's deny, explicit outbound on a private subnet (NAT gateway), " +
    "or a network rule for TCP 1688 on the hub's Azure Firewall (KmsFirewallRules).";

export function destinationOf(target: KmsTarget): KmsDestination {
    const host = target.endpoint.slice(0, target.endpoint.lastIndexOf(":"));
    return { host, port: target.port, addressPrefixes: [...target.addresses], custom: target.custom, source: target.source };
}

/** How the KMS is named in messages. */
export function kmsText(destination: KmsDestination): string {
    return destination.custom ? `the on-premises KMS ${destination.host}` : `Azure KMS (${destination.source})`;
}

/** Per blocked address: the element, the rule, why, and the fix. */
export function blockedLines(blocked: readonly AddressReachability[]): string {
    return blocked.map((a) => `${a.address}:${a.port} is blocked by ${a.blame?.element} [${a.blame?.rule}]: ${a.blame?.reason} Fix: ${a.blame?.fix}`).join(" | ");
}

function violation(vm: string, blocked: AddressReachability[], destination: KmsDestination): string {
    return `Windows VM "${vm}" cannot reach ${kmsText(destination)} on TCP ${destination.port}: ${blockedLines(blocked)}`;
}

export function vmNameOf(vm: PolicyResource): string {
    const name = firstDefined(textAt(vm.props, "vmName"), textAt(vm.props, "name"));
    return typeof name === "string" ? name : vm.name;
}

/**
 * Per Windows VM in the stack: does TCP 1688 to every KMS address leave from an Azure public IP (or reach the
 * on-premises KMS)? Judged by the reachability engine on the VM's whole path; only a `blocked` address is reported.
 */
export function reachabilityPolicy(options: KmsActivationPolicyOptions): StackValidationPolicy {
    return {
        name: NAME,
        description:
            "Every Windows VM reaches every KMS address on TCP 1688 from an Azure public IP: its routes, NIC and subnet NSGs, egress and any hub firewall, judged together.",
        enforcementLevel: enforcementLevelOf(NAME, options),
        configSchema: kmsPolicyConfigSchema,
        remediationSteps: REMEDIATION,
        validateStack: (args, reportViolation) => {
            const destination = destinationOf(resolveTarget(NAME, options, configOf(args)));
            const resources = args.resources ?? [];
            const vms = resources.filter((r) => r.type === VM && isWindows(r.props));
            if (vms.length === 0) {
                return;
            }
            const paths = new StackPaths(resources);
            for (const vm of vms) {
                const name = vmNameOf(vm);
                const facts = paths.pathOf(vm, name);
                if (!facts) {
                    continue; // NIC or subnet not in the stack or not known yet: nothing to judge.
                }
                const result = decideReachability(facts, destination);
                const blocked = result.addresses.filter((a) => a.verdict === "blocked");
                if (blocked.length > 0) {
                    reportViolation(violation(name, blocked, destination), vm.urn);
                }
            }
        },
    };
}
