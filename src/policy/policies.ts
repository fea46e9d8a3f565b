import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { KmsActivationPolicyOptions, checkOptions } from "./config";
import { nsgLeastPrivilegePolicy } from "./leastPrivilege";
import { nsgAllowBeforeDenyPolicy } from "./nsg";
import { routeTablePolicy } from "./routes";
import { privateSubnetPolicy } from "./subnet";
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
    };
    return [
        routeTablePolicy(fixed),
        nsgAllowBeforeDenyPolicy(fixed),
        nsgLeastPrivilegePolicy(fixed),
        windowsVmActivationPolicy(fixed),
        privateSubnetPolicy(fixed),
    ];
}

/** The pack's policies with the defaults: Azure public cloud, every policy advisory; each reads its policy config. */
export const kmsActivationPolicies: KmsActivationPolicy[] = createKmsActivationPolicies();
