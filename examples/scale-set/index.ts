// A Flexible scale set whose instances activate against Azure KMS: a KmsNetwork (private subnet, NAT gateway, the
// KMS routes and NSG rule) and a KmsActivation on the scale set, which adds the CustomScriptExtension to its model.
import * as compute from "@pulumi/azure-native/compute";
import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";
import { KmsActivation, KmsNetwork } from "azure-kms-activation";

const config = new pulumi.Config();
const location = config.get("location") ?? "westeurope";
const capacity = config.getNumber("capacity") ?? 2;
const IMAGE_SKU = "2022-datacenter-azure-edition";

const group = new resources.ResourceGroup("kms-scale-set", { location });

const network = new KmsNetwork("kms-net", {
    resourceGroupName: group.name,
    location: group.location,
    addressPrefixes: ["10.40.0.0/16"],
    subnetAddressPrefix: "10.40.1.0/24",
});

const scaleSet = new compute.VirtualMachineScaleSet("web", {
    resourceGroupName: group.name,
    location: group.location,
    vmScaleSetName: "vmss-web",
    orchestrationMode: compute.OrchestrationMode.Flexible,
    // Flexible orchestration: fault domains are spread by the platform (1), no single placement group.
    platformFaultDomainCount: 1,
    singlePlacementGroup: false,
    sku: { name: "Standard_D2s_v5", capacity },
    // The KmsActivation extension is added to the scale set's model after the instances exist: with Automatic the
    // instances take the model change (Flexible scale sets support Automatic, Manual and Rolling upgrade policies;
    // with Manual only instances created later would get the extension).
    upgradePolicy: { mode: compute.UpgradeMode.Automatic },
    virtualMachineProfile: {
        osProfile: {
            // Windows computer names are at most 15 characters; a Flexible scale set appends 6.
            computerNamePrefix: "web",
            adminUsername: config.get("adminUsername") ?? "kmsadmin",
            adminPassword: config.requireSecret("adminPassword"),
            windowsConfiguration: { provisionVMAgent: true, enableAutomaticUpdates: true },
        },
        storageProfile: {
            imageReference: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: IMAGE_SKU, version: "latest" },
            osDisk: {
                createOption: compute.DiskCreateOptionTypes.FromImage,
                caching: compute.CachingTypes.ReadWrite,
                managedDisk: { storageAccountType: compute.StorageAccountTypes.StandardSSD_LRS },
            },
        },
        // The Azure Edition image is Generation 2: Trusted Launch, as for a single VM.
        securityProfile: { securityType: compute.SecurityTypes.TrustedLaunch, uefiSettings: { secureBootEnabled: true, vTpmEnabled: true } },
        networkProfile: {
            // Flexible scale sets create their NICs themselves and need this API version for it.
            networkApiVersion: compute.NetworkApiVersion.NetworkApiVersion_2020_11_01,
            networkInterfaceConfigurations: [
                {
                    name: "web-nic",
                    primary: true,
                    ipConfigurations: [{ name: "ipconfig", primary: true, subnet: { id: network.subnetId } }],
                },
            ],
        },
        // No extensionProfile: the scale set's extensions are standalone (KmsActivation's); an inline list would
        // remove them on the next update.
    },
});

const activation = new KmsActivation("web-activation", {
    resourceGroupName: group.name,
    vmScaleSetName: scaleSet.name,
    imageSku: IMAGE_SKU,
    activationWaitsFor: network.egressRuleIds,
});

export const resourceGroupName = group.name;
export const scaleSetName = scaleSet.name;
export const subnetId = network.subnetId;
export const kmsEndpoint = activation.kmsEndpoint;
