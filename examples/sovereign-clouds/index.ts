// Azure US Government and Azure China (21Vianet): the same program, a stack per cloud. The stack's
// `azure-native:environment` picks the cloud's Resource Manager; `cloud` picks its KMS names and IPs.
import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";
import { AzureCloud, KmsNetwork, KmsWindowsVm } from "../../src";

const config = new pulumi.Config();
const cloud = config.require("cloud") as AzureCloud;
if (!Object.values(AzureCloud).includes(cloud)) {
    throw new Error(`cloud: "${cloud}" is not an Azure cloud; use one of ${Object.values(AzureCloud).join(", ")}`);
}
const location = config.require("location");

const group = new resources.ResourceGroup("kms-sovereign", { location });
const network = new KmsNetwork("kms-net", { resourceGroupName: group.name, location, cloud });
const vm = new KmsWindowsVm("kms-vm-01", {
    resourceGroupName: group.name,
    location,
    subnetId: network.subnetId,
    cloud,
    adminUsername: config.get("adminUsername") ?? "kmsadmin",
    adminPassword: config.requireSecret("adminPassword"),
    activationWaitsFor: network.egressRuleIds,
});

export const kmsEndpoint = vm.kmsEndpoint;
export const activationStatus = vm.activationStatus;
export const egressRuleIds = network.egressRuleIds;
