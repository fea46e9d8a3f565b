import * as pulumi from "@pulumi/pulumi";
import { KmsInputError } from "../validate";

// Which component added the KMS egress to which Azure object in this program. Azure rejects a second route with the
// same prefix (RouteConflict) and a second rule at the same priority, and a second rule collection group of the same
// name is the same Azure resource written twice, so a second owner is a mistake the program can name before Azure does.
// Azure names compare case-insensitively, and so do the keys.
const owners = new Map<string, string>();

function claim(key: string, owner: string, conflict: (earlier: string) => string): void {
    const earlier = owners.get(key.toLowerCase());
    if (earlier !== undefined && earlier !== owner) {
        throw new KmsInputError(conflict(earlier));
    }
    owners.set(key.toLowerCase(), owner);
}

// Claims at once when every name is plain, else once they resolve. Returns an empty resource list for `dependsOn`, so
// a late conflict fails the resources that take it, with the message.
function claimWhenKnown(names: pulumi.Input<string>[], claimNames: (names: string[]) => void): pulumi.Output<pulumi.Resource[]> {
    if (names.every((n) => typeof n === "string")) {
        claimNames(names as string[]);
        return pulumi.output([]);
    }
    return pulumi.all(names).apply((resolved) => {
        claimNames(resolved);
        return [] as pulumi.Resource[];
    });
}

/**
 * Claims a route table or NSG for one `KmsEgressRules`: at once when the names are plain, else when they resolve.
 * Returns an empty resource list for `dependsOn`, so a late conflict fails the routes and rule with the message.
 */
export function claimEgressTarget(
    kind: "route table" | "NSG",
    field: string,
    resourceGroupName: pulumi.Input<string>,
    objectName: pulumi.Input<string>,
    owner: string,
): pulumi.Output<pulumi.Resource[]> {
    return claimWhenKnown([resourceGroupName, objectName], ([rg, object]) =>
        claim(
            `${kind}:${rg}/${object}`,
            owner,
            (earlier) =>
                `KmsEgressRules "${owner}": ${field}: ${kind} "${object}" in resource group "${rg}" already gets the KMS egress from ` +
                `KmsEgressRules "${earlier}" (Azure rejects the same route prefix twice); keep one KmsEgressRules per ${kind}`,
        ),
    );
}

// The rule collection groups the program's components write, per firewall policy, in the order their names became
// known. Azure Firewall takes one write to a policy's rule collection groups at a time and answers another one in
// parallel with 409 AnotherOperationInProgress (the policy is "Updating" until the first finishes), so each group
// waits for the one registered before it on the same policy. A slot's group is set once the component created it.
const groupsByPolicy = new Map<string, { group?: pulumi.Resource }[]>();

/** A claimed rule collection group: what it waits for, and where its resource goes once created. */
export interface RuleCollectionGroupClaim {
    /**
     * For `dependsOn`: the group registered before it on the same policy (none for the first), once the names are
     * known; a conflict fails it with the message.
     */
    waitFor: pulumi.Output<pulumi.Resource[]>;
    /** Records the created group, for the groups that come after it on the policy. */
    created(group: pulumi.Resource): void;
}

/**
 * Claims a rule collection group of a firewall policy for one `KmsFirewallRules`, like `claimEgressTarget`: two
 * components writing the same group would replace each other's rules on every update. It also puts the group in
 * its policy's queue: `waitFor` is the group before it.
 */
export function claimFirewallRuleCollectionGroup(
    resourceGroupName: pulumi.Input<string>,
    firewallPolicyName: pulumi.Input<string>,
    ruleCollectionGroupName: pulumi.Input<string>,
    owner: string,
): RuleCollectionGroupClaim {
    const slot: { group?: pulumi.Resource } = {};
    let previous: pulumi.Resource | undefined;
    const claimed = claimWhenKnown([resourceGroupName, firewallPolicyName, ruleCollectionGroupName], ([rg, policy, group]) => {
        claim(
            `firewall rule collection group:${rg}/${policy}/${group}`,
            owner,
            (earlier) =>
                `KmsFirewallRules "${owner}": ruleCollectionGroupName: rule collection group "${group}" of firewall policy "${policy}" in resource group "${rg}" ` +
                `already belongs to KmsFirewallRules "${earlier}" (both would write the same Azure resource and replace each other's rules); ` +
                `keep one KmsFirewallRules per rule collection group and list every spoke in its sourceAddresses, or give this one another ruleCollectionGroupName ` +
                `(the package writes its groups on one policy one after another; give a group your own code adds to the policy dependsOn: [this component])`,
        );
        const key = `${rg}/${policy}`.toLowerCase();
        const queue = groupsByPolicy.get(key) ?? [];
        // A component that failed after its claim created no group: the one before it is the last that exists.
        previous = [...queue].reverse().find((s) => s.group !== undefined)?.group;
        queue.push(slot);
        groupsByPolicy.set(key, queue);
    });
    return {
        // Plain names were claimed just now, Output names when they resolved: either way `previous` is set by then.
        waitFor: claimed.apply(() => (previous ? [previous] : [])),
        created: (group) => {
            slot.group = group;
        },
    };
}

// Which component activates which VM (or scale set) in this program. Azure allows one CustomScriptExtension per VM,
// and two activations of one guest would race over its key and KMS host.
const activators = new Map<string, { label: string; resource: pulumi.Resource; parent: pulumi.Resource | undefined }>();

function claimVm(kind: string, field: string, resourceGroupName: string, vmName: string, label: string, resource: pulumi.Resource, parent: pulumi.Resource | undefined): void {
    const key = `${kind}:${resourceGroupName.toLowerCase()}/${vmName.toLowerCase()}`;
    const earlier = activators.get(key);
    // A KmsWindowsVm claims its VM first and then builds the KmsActivation that does the work: that one is not a second owner.
    const related = earlier !== undefined && (earlier.resource === resource || earlier.resource === parent || earlier.parent === resource);
    if (earlier !== undefined && !related) {
        throw new KmsInputError(
            `${label}: ${field}: ${kind} "${vmName}" in resource group "${resourceGroupName}" is already activated by ${earlier.label} ` +
                `(Azure allows one CustomScriptExtension per VM, and two activations would race in the guest); keep one activation per ${kind}`,
        );
    }
    // The outer component's name is the one a user knows.
    if (earlier === undefined || earlier.parent === resource) {
        activators.set(key, { label, resource, parent });
    }
}

/**
 * Claims a VM or scale set for one activation (`label` such as `KmsActivation "app-01"`): at once when the names are
 * plain, else when they resolve. Returns an empty resource list for `dependsOn`, so a late conflict fails the
 * extension or run command with the message.
 */
export function claimActivationTarget(
    kind: "VM" | "scale set",
    field: string,
    resourceGroupName: pulumi.Input<string>,
    vmName: pulumi.Input<string>,
    label: string,
    resource: pulumi.Resource,
    parent: pulumi.Resource | undefined,
): pulumi.Output<pulumi.Resource[]> | undefined {
    if (typeof resourceGroupName === "string" && typeof vmName === "string") {
        claimVm(kind, field, resourceGroupName, vmName, label, resource, parent);
        return undefined;
    }
    return pulumi.all([resourceGroupName, vmName]).apply(([rg, vm]) => {
        claimVm(kind, field, rg, vm, label, resource, parent);
        return [] as pulumi.Resource[];
    });
}

/** Forgets every claim (egress and activation): for tests that run many programs in one process. */
export function forgetEgressClaims(): void {
    owners.clear();
    groupsByPolicy.clear();
    activators.clear();
}
