// Azure US Government and Azure China (21Vianet): the same program, a stack per cloud. The stack's
// `azure-native:environment` picks the cloud's Resource Manager; `cloud` picks its KMS names and IPs.
import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";
import { AzureCloud, KmsNetwork, KmsWindowsVm } from "azure-kms-activation";

const config = new pulumi.Config();
const cloud = config.require("cloud") as AzureCloud;
if (!Object.values(AzureCloud).includes(cloud)) {
    throw new Error(`cloud: "${cloud}" is not an Azure cloud; use one of ${Object.values(AzureCloud).join(", ")}`);
}
const location = config.require("location");

// The package's VM defaults (Windows Server 2022 Datacenter: Azure Edition, Standard_D2s_v5) are public-cloud choices.
// Azure Edition images are not a safe assumption in the sovereign clouds, so this example asks for the plain Datacenter
// Gen2 image, and for a size family of that cloud's example region. Neither is checked against a published list (see
// README.md): `imageSku` and `vmSize` in the stack config override them.
const SOVEREIGN_VM: Record<AzureCloud, { imageSku: string; vmSize: string }> = {
    [AzureCloud.AzurePublic]: { imageSku: "2022-datacenter-azure-edition", vmSize: "Standard_D2s_v5" },
    [AzureCloud.AzureUSGovernment]: { imageSku: "2022-datacenter-g2", vmSize: "Standard_D2s_v3" },
    [AzureCloud.AzureChina]: { imageSku: "2022-datacenter-g2", vmSize: "Standard_D2s_v5" },
};
const imageSku = config.get("imageSku") ?? SOVEREIGN_VM[cloud].imageSku;
const vmSize = config.get("vmSize") ?? SOVEREIGN_VM[cloud].vmSize;

const group = new resources.ResourceGroup("kms-sovereign", { location });
const network = new KmsNetwork("kms-net", { resourceGroupName: group.name, location, cloud });
const vm = new KmsWindowsVm("kms-vm-01", {
    resourceGroupName: group.name,
    location,
    subnetId: network.subnetId,
    cloud,
    image: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: imageSku, version: "latest" },
    vmSize,
    adminUsername: config.get("adminUsername") ?? "kmsadmin",
    adminPassword: config.requireSecret("adminPassword"),
    activationWaitsFor: network.egressRuleIds,
});

export const kmsEndpoint = vm.kmsEndpoint;
export const activationStatus = vm.activationStatus;
export const egressRuleIds = network.egressRuleIds;
