import * as network from "@pulumi/azure-native/network";
import * as pulumi from "@pulumi/pulumi";
import { AzureCloud, CustomKmsServer } from "../types";
import * as validate from "../validate";
import { AzureFirewallFacts } from "../reachability";
import { kmsDestination } from "./kmsEgressRules";
import { claimFirewallRuleCollectionGroup } from "./ownership";
import { planFirewall } from "./programEgress";
import { componentOptions } from "../versionAliases";

/** Arguments of `KmsFirewallRules`. */
export interface KmsFirewallRulesArgs {
    /** Resource group of the Azure Firewall policy. */
    resourceGroupName: pulumi.Input<string>;
    /** Existing Azure Firewall policy (the hub firewall's) to add the KMS rule collection group to. */
    firewallPolicyName: pulumi.Input<string>;
    /** IPv4 addresses or CIDR prefixes the rule lets out: the spokes whose Windows VMs activate, such as `["10.20.0.0/16"]`. */
    sourceAddresses: pulumi.Input<string[]>;
    /** Name of the rule collection group this component owns. Default `kms-activation`. */
    ruleCollectionGroupName?: pulumi.Input<string>;
    /** Priority of the rule collection group, 100 to 65000: lower than any group whose network rules deny the KMS addresses. Default 150. */
    ruleCollectionGroupPriority?: pulumi.Input<number>;
    /** Priority of the rule collection inside the group, 100 to 65000. Default 100. */
    ruleCollectionPriority?: pulumi.Input<number>;
    /** Cloud whose KMS addresses are allowed. Default `AzurePublic`. */
    cloud?: AzureCloud;
    /** Override the cloud's KMS IP addresses (they moved once, in 2023). */
    kmsIpAddresses?: string[];
    /** An on-premises KMS reached through the hub: the rule allows its prefixes and port instead of Azure's KMS. */
    customKmsServer?: CustomKmsServer;
    /**
     * Private IP of the Azure Firewall that uses the policy: the spokes' `0.0.0.0/0` next hop. When given, the subnet
     * checks of `KmsWindowsVm` and `KmsEgressRules` in the same program know that this next hop is an Azure Firewall
     * with this rule, and stay quiet instead of reporting an appliance they cannot see.
     */
    firewallPrivateIpAddress?: pulumi.Input<string>;
    /**
     * Leave the rule collection group in the policy when it leaves the program or the stack is destroyed (Pulumi
     * forgets it instead of deleting it): for a policy another stack owns and whose spokes rely on the rule. Default false.
     */
    retainOnDelete?: boolean;
}

/** The group's dependsOn: the group before it on the policy, plus the component's own `dependsOn`. */
function groupDependsOn(previous: pulumi.Output<pulumi.Resource[]>, own: pulumi.ComponentResourceOptions["dependsOn"]): pulumi.Input<pulumi.Resource[]> {
    if (own === undefined) {
        return previous;
    }
    // pulumi.output leaves Resources as they are (it unwraps only Outputs and promises around them).
    return pulumi.all([previous, pulumi.output(own)]).apply(([before, given]) => [...before, ...(Array.isArray(given) ? given : [given])] as pulumi.Resource[]);
}

/** Default rule collection group name. */
export const DEFAULT_RULE_COLLECTION_GROUP_NAME = "kms-activation";
/**
 * Default rule collection group priority: after the portal's default DNAT group (100) and before its default network
 * group (200), so the allow is matched before network denies kept there, without taking one of those preset numbers.
 */
export const DEFAULT_RULE_COLLECTION_GROUP_PRIORITY = 150;
/** Default priority of the one rule collection inside the group. */
export const DEFAULT_RULE_COLLECTION_PRIORITY = 100;

/**
 * Hub and spoke: lets the spokes' Windows VMs reach KMS through the hub's Azure Firewall. Adds one rule collection
 * group to an existing firewall policy, holding one Allow collection with one **network** rule: TCP from the spokes to
 * the KMS addresses on port 1688 (KMS is not HTTP, so an application rule cannot carry it). The firewall SNATs to its
 * public IP, which is what Azure KMS requires. It never edits the policy itself or its other rule collection groups.
 */
export class KmsFirewallRules extends pulumi.ComponentResource {
    /** ID of the rule collection group added to the policy. */
    public readonly ruleCollectionGroupId: pulumi.Output<string>;
    /** Name of the rule collection group added to the policy. */
    public readonly ruleCollectionGroupName: pulumi.Output<string>;
    /** IDs of the firewall rules added (the rule collection group): pass to `activationWaitsFor` so the guest activates after them. */
    public readonly egressRuleIds: pulumi.Output<string[]>;
    /** The destinations the rule allows: the cloud's KMS IPs or the custom KMS server's prefixes. */
    public readonly kmsAddressPrefixes: pulumi.Output<string[]>;

    constructor(name: string, args: KmsFirewallRulesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("azure-kms-activation:index:KmsFirewallRules", name, {}, componentOptions(opts));
        // Every plain value is checked before the one child exists; an Output is checked when it resolves.
        const plan = resolveKmsFirewallRules(name, args);
        const { resourceGroupName, firewallPolicyName, groupName, destination, collectionName, networkRuleName, sourceAddresses } = plan;
        const owned = claimFirewallRuleCollectionGroup(args.resourceGroupName, args.firewallPolicyName, plan.groupNameInput, name);
        if (plan.firewall !== undefined) {
            // What this program adds to the firewall, for every subnet check in it.
            planFirewall(plan.firewall.privateIpAddress, plan.firewall.facts);
        }

        const group = new network.FirewallPolicyRuleCollectionGroup(
            `${name}-rules`,
            {
                resourceGroupName,
                firewallPolicyName,
                ruleCollectionGroupName: groupName,
                priority: plan.groupPriority,
                ruleCollections: [
                    {
                        ruleCollectionType: "FirewallPolicyFilterRuleCollection",
                        name: collectionName,
                        priority: plan.collectionPriority,
                        action: { type: network.FirewallPolicyFilterRuleCollectionActionType.Allow },
                        rules: [
                            {
                                ruleType: "NetworkRule",
                                name: networkRuleName,
                                description: "Windows activation: TCP to the KMS (azure-kms-activation)",
                                ipProtocols: [network.FirewallPolicyRuleNetworkProtocol.TCP],
                                sourceAddresses,
                                destinationAddresses: destination.allowedPrefixes,
                                destinationPorts: [String(destination.port)],
                            },
                        ],
                    },
                ],
            },
            // The group's name is fixed and Azure holds one group per name in a policy: a replacement deletes first.
            // It waits for the group before it on the policy (Azure takes one group write per policy at a time), and
            // for what the component's own dependsOn names: Pulumi does not pass a component's dependsOn to its
            // children, and a user chaining a group of their own code before this one expects it to hold.
            { parent: this, dependsOn: groupDependsOn(owned.waitFor, opts?.dependsOn), deleteBeforeReplace: true, retainOnDelete: args.retainOnDelete === true },
        );
        owned.created(group);

        this.ruleCollectionGroupId = group.id;
        this.ruleCollectionGroupName = pulumi.output(groupName);
        this.egressRuleIds = pulumi.all([group.id]);
        this.kmsAddressPrefixes = pulumi.output(destination.allowedPrefixes);
        this.registerOutputs({
            ruleCollectionGroupId: this.ruleCollectionGroupId,
            ruleCollectionGroupName: this.ruleCollectionGroupName,
            egressRuleIds: this.egressRuleIds,
            kmsAddressPrefixes: this.kmsAddressPrefixes,
        });
    }
}

/** Everything `KmsFirewallRules` builds, decided from its args by `resolveKmsFirewallRules`. */
export interface KmsFirewallRulesPlan {
    context: { component: string; name: string };
    resourceGroupName: pulumi.Input<string>;
    firewallPolicyName: pulumi.Input<string>;
    sourceAddresses: pulumi.Input<string[]>;
    /** The group's name as given (or the default), for the per-policy claim; `groupName` carries its check. */
    groupNameInput: pulumi.Input<string>;
    groupName: pulumi.Input<string>;
    groupPriority: pulumi.Input<number>;
    collectionPriority: pulumi.Input<number>;
    collectionName: string;
    networkRuleName: string;
    destination: ReturnType<typeof kmsDestination>;
    /** With `firewallPrivateIpAddress`: the firewall as the program's subnet checks see it (the engine names it by its IP). */
    firewall?: { privateIpAddress: pulumi.Input<string>; facts: pulumi.Output<AzureFirewallFacts> };
}

/**
 * Checks `KmsFirewallRules`'s args (plain values now, with the same refusals as ever; Outputs once they resolve) and
 * decides the rule collection group. Pure: it creates and reads nothing.
 */
export function resolveKmsFirewallRules(name: string, args: KmsFirewallRulesArgs, context = { component: "KmsFirewallRules", name }): KmsFirewallRulesPlan {
    validate.inComponent(context.component, context.name, () => {
        validate.required("resourceGroupName", args.resourceGroupName);
        validate.required("firewallPolicyName", args.firewallPolicyName);
        validate.enumValue("cloud", args.cloud, AzureCloud);
        validate.kmsIpAddresses("kmsIpAddresses", args.kmsIpAddresses);
        validate.customKmsServer("customKmsServer", args.customKmsServer);
    });
    // Without `cloud`, the KMS of the cloud the stack's azure-native provider deploys to.
    const cloud = validate.inComponent(context.component, context.name, () => validate.effectiveCloud(args.cloud));
    const checked = <T>(field: string, value: pulumi.Input<T>, check: (field: string, value: T) => void) => validate.checkedInput(context, field, value, check);
    const resourceGroupName = checked("resourceGroupName", args.resourceGroupName, validate.resourceGroupName);
    const firewallPolicyName = checked("firewallPolicyName", args.firewallPolicyName, validate.azureName);
    const sourceAddresses = checked("sourceAddresses", args.sourceAddresses, validate.sourceAddresses);
    const groupNameInput = args.ruleCollectionGroupName ?? DEFAULT_RULE_COLLECTION_GROUP_NAME;
    const groupName = checked("ruleCollectionGroupName", groupNameInput, validate.azureName);
    const groupPriority = checked("ruleCollectionGroupPriority", args.ruleCollectionGroupPriority ?? DEFAULT_RULE_COLLECTION_GROUP_PRIORITY, validate.firewallPriority);
    const collectionPriority = checked("ruleCollectionPriority", args.ruleCollectionPriority ?? DEFAULT_RULE_COLLECTION_PRIORITY, validate.firewallPriority);
    const destination = kmsDestination({ ...args, cloud });
    const collectionName = "allow-kms-activation";
    const networkRuleName = `allow-kms-tcp-${destination.port}`;
    const plan: KmsFirewallRulesPlan = {
        context,
        resourceGroupName,
        firewallPolicyName,
        sourceAddresses,
        groupNameInput,
        groupName,
        groupPriority,
        collectionPriority,
        collectionName,
        networkRuleName,
        destination,
    };
    if (args.firewallPrivateIpAddress === undefined) {
        return plan;
    }
    const firewallIp = checked("firewallPrivateIpAddress", args.firewallPrivateIpAddress, validate.ipv4);
    const facts = pulumi.all([firewallIp, firewallPolicyName, groupName, groupPriority, collectionPriority, sourceAddresses]).apply(
        ([ip, policy, group, gp, cp, sources]): AzureFirewallFacts => ({
            name: ip,
            policyName: policy,
            ruleCollectionGroups: [
                {
                    name: group,
                    priority: gp,
                    ruleCollections: [
                        {
                            name: collectionName,
                            priority: cp,
                            ruleCollectionType: "FirewallPolicyFilterRuleCollection",
                            action: "Allow",
                            rules: [
                                {
                                    name: networkRuleName,
                                    ruleType: "NetworkRule",
                                    ipProtocols: ["TCP"],
                                    sourceAddresses: sources,
                                    destinationAddresses: destination.allowedPrefixes,
                                    destinationPorts: [String(destination.port)],
                                },
                            ],
                        },
                    ],
                },
            ],
        }),
    );
    return { ...plan, firewall: { privateIpAddress: firewallIp, facts } };
}
