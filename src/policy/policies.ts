import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy/policy";
import { KmsActivationPolicyOptions, checkOptions } from "./config";
import { nsgLeastPrivilegePolicy } from "./leastPrivilege";
import { reachabilityPolicy } from "./reachability";
import { subnetReachabilityPolicy } from "./subnetReachability";
import { reachabilityUnverifiedPolicy } from "./unverified";
import { windowsVmActivationPolicy } from "./vm";

/** One policy of the pack: what `PolicyPackArgs.policies` holds. */
export type KmsActivationPolicy = ResourceValidationPolicy | StackValidationPolicy;

/**
 * The pack's policies for a given KMS and enforcement levels, ready for
 * `new PolicyPack(name, { policies })`. Throws a `KmsInputError` naming the bad option.
 */
export function createKmsActivationPolicies(options: KmsActivationPolicyOptions = {}): KmsActivationPolicy[] {
    checkOptions(options);
    // A copy: the policies read the KMS options on every run, so a caller's later changes must not reach them.
    const fixed: KmsActivationPolicyOptions = {
        ...options,
        kmsIpAddresses: options.kmsIpAddresses && [...options.kmsIpAddresses],
        customKmsServer: options.customKmsServer && { ...options.customKmsServer, addressPrefixes: [...options.customKmsServer.addressPrefixes] },
        subnetsWithoutWindows: options.subnetsWithoutWindows && [...options.subnetsWithoutWindows],
    };
    // Network judgement is the engine's alone (kms-reachability); the per-object route, NSG and subnet checks it
    // replaced flagged designs Azure lets through (a hub firewall, the KMS platform rule, a NIC public IP).
    // kms-reachability-unverified says what the engine cannot decide (an appliance outside the stack); kms-subnet-reachability
    // judges the subnets of network-only stacks. Both advisory unless enforcementLevels says otherwise.
    return [
        reachabilityPolicy(fixed),
        reachabilityUnverifiedPolicy(fixed),
        subnetReachabilityPolicy(fixed),
        windowsVmActivationPolicy(fixed),
        ...(options.hygiene ? [nsgLeastPrivilegePolicy(fixed)] : []),
    ];
}

/** The pack's policies with the defaults: Azure public cloud, every policy advisory, no hygiene policy; each reads its policy config. */
export const kmsActivationPolicies: KmsActivationPolicy[] = createKmsActivationPolicies();
