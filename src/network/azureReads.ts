import * as network from "@pulumi/azure-native/network";
import * as pulumi from "@pulumi/pulumi";
import { KmsInputError } from "../validate";

// Reads of the Azure network objects the components add to or judge: each subnet, route table and NSG once per
// program, however many VMs, rule sets and checks ask for it. The cache holds promises, so concurrent askers share
// one invoke. Keys are the resource group and name, lower-cased (Azure compares names case-insensitively; the
// invokes read in the provider's subscription, so the subscription is not part of the key).
const reads = new Map<string, Promise<unknown>>();

/** Forgets every read: for tests that run many programs in one process. */
export function forgetReads(): void {
    reads.clear();
}

function cached(key: string, read: () => Promise<unknown>): Promise<unknown> {
    const k = key.toLowerCase();
    let found = reads.get(k);
    if (!found) {
        found = read();
        reads.set(k, found);
    }
    return found;
}

/** Where a subnet lives, from its ID. */
export interface SubnetAddress {
    resourceGroupName: string;
    virtualNetworkName: string;
    subnetName: string;
}

const SUBNET_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/virtualNetworks\/([^/]+)\/subnets\/([^/]+)$/i;

/** The parts of a subnet ID, or undefined when it is not one. */
export function parseSubnetId(id: string): SubnetAddress | undefined {
    const match = SUBNET_ID.exec(id);
    return match ? { resourceGroupName: match[1], virtualNetworkName: match[2], subnetName: match[3] } : undefined;
}

/** Resource group and name of a route table or NSG from the ID a subnet names. */
export function parseChildId(id: string | undefined, kind: "routeTables" | "networkSecurityGroups"): { resourceGroupName: string; name: string } | undefined {
    if (!id) return undefined;
    const match = new RegExp(`/resourceGroups/([^/]+)/providers/Microsoft\\.Network/${kind}/([^/]+)$`, "i").exec(id);
    return match ? { resourceGroupName: match[1], name: match[2] } : undefined;
}

function failure(what: string, field: string | undefined, error: unknown): KmsInputError {
    const details = (error as { details?: unknown } | undefined)?.details;
    const reason = (error instanceof Error && error.message) || (typeof details === "string" && details) || String(error);
    return new KmsInputError(`${field ? `${field}: ` : ""}${what} could not be read (${reason}); check that it exists and that the program's identity may read it`);
}

/** `network.getSubnet`, once per subnet. */
export function readSubnet(address: SubnetAddress, owner: pulumi.Resource): Promise<unknown> {
    return cached(`subnet:${address.resourceGroupName}/${address.virtualNetworkName}/${address.subnetName}`, () =>
        network.getSubnet(address, { parent: owner }).catch((e) => {
            throw failure(`subnet "${address.subnetName}" (virtual network "${address.virtualNetworkName}", resource group "${address.resourceGroupName}")`, "subnetId", e);
        }),
    );
}

/** `network.getRouteTable`, once per route table. */
export function readRouteTable(resourceGroupName: string, routeTableName: string, owner: pulumi.Resource, field?: string): Promise<unknown> {
    return cached(`routeTable:${resourceGroupName}/${routeTableName}`, () =>
        network.getRouteTable({ resourceGroupName, routeTableName }, { parent: owner }).catch((e) => {
            throw failure(`route table "${routeTableName}" in resource group "${resourceGroupName}"`, field, e);
        }),
    );
}

/** `network.getNetworkSecurityGroup`, once per NSG. */
export function readNetworkSecurityGroup(resourceGroupName: string, networkSecurityGroupName: string, owner: pulumi.Resource, field?: string): Promise<unknown> {
    return cached(`nsg:${resourceGroupName}/${networkSecurityGroupName}`, () =>
        network.getNetworkSecurityGroup({ resourceGroupName, networkSecurityGroupName }, { parent: owner }).catch((e) => {
            throw failure(`NSG "${networkSecurityGroupName}" in resource group "${resourceGroupName}"`, field, e);
        }),
    );
}
