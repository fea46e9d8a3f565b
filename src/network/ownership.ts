import * as pulumi from "@pulumi/pulumi";
import { KmsInputError } from "../validate";

// Which KmsEgressRules added the KMS egress to which route table or NSG in this program. Azure rejects a second
// route with the same prefix (RouteConflict) and a second rule at the same priority, so a second owner is a mistake
// the program can name before Azure does.
const owners = new Map<string, string>();

function claim(kind: string, resourceGroupName: string, objectName: string, owner: string, field: string): void {
    const key = `${kind}:${resourceGroupName.toLowerCase()}/${objectName.toLowerCase()}`;
    const earlier = owners.get(key);
    if (earlier !== undefined && earlier !== owner) {
        throw new KmsInputError(
            `KmsEgressRules "${owner}": ${field}: ${kind} "${objectName}" in resource group "${resourceGroupName}" already gets the KMS egress from ` +
                `KmsEgressRules "${earlier}" (Azure rejects the same route prefix twice); keep one KmsEgressRules per ${kind}`,
        );
    }
    owners.set(key, owner);
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
    if (typeof resourceGroupName === "string" && typeof objectName === "string") {
        claim(kind, resourceGroupName, objectName, owner, field);
        return pulumi.output([]);
    }
    return pulumi.all([resourceGroupName, objectName]).apply(([rg, object]) => {
        claim(kind, rg, object, owner, field);
        return [] as pulumi.Resource[];
    });
}

/** Forgets every claim: for tests that run many programs in one process. */
export function forgetEgressClaims(): void {
    owners.clear();
}
