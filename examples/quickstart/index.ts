// Quickstart: a new network where Windows can activate, and one Windows Server 2022 Datacenter: Azure Edition VM.
import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";
import { KmsNetwork, KmsWindowsVm } from "azure-kms-activation";

const config = new pulumi.Config();
const location = config.get("location") ?? "westeurope";
const adminUsername = config.get("adminUsername") ?? "kmsadmin";
const adminPassword = config.requireSecret("adminPassword");

const group = new resources.ResourceGroup("kms-quickstart", { location });

const network = new KmsNetwork("kms-net", {
    resourceGroupName: group.name,
    location: group.location,
    tags: { purpose: "kms-quickstart" },
});

const vm = new KmsWindowsVm("kms-vm-01", {
    resourceGroupName: group.name,
    location: group.location,
    subnetId: network.subnetId,
    image: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter-azure-edition", version: "latest" },
    adminUsername,
    adminPassword,
    kmsHostForm: network.kmsHostForm,
    // The guest activates only once the KMS routes and NSG rule exist.
    activationWaitsFor: network.egressRuleIds,
    tags: { purpose: "kms-quickstart" },
});

export const resourceGroupName = group.name;
export const subnetId = network.subnetId;
export const natGatewayId = network.natGatewayId;
export const vmName = vm.virtualMachineName;
export const privateIpAddress = vm.privateIpAddress;
export const kmsEndpoint = vm.kmsEndpoint;
// activated, licensed, pending (Windows retries by itself; activationResult.diagnosis says why), error or unknown.
export const activationStatus = vm.activationStatus;
