import * as compute from "@pulumi/azure-native/compute";
import * as network from "@pulumi/azure-native/network";
import * as pulumi from "@pulumi/pulumi";
import { afterSubnetCheck, checkDestination, checkSubnetOutbound, privateSubnetCheckMode } from "../network/subnetOutbound";
import { PrivateSubnetCheck } from "../types";
import * as validate from "../validate";
import { checkActivationOptions, KmsActivation, KmsActivationOptions } from "./kmsActivation";
import { componentOptions } from "../versionAliases";

/** A marketplace image. */
export interface MarketplaceImage {
    /** Publisher, such as `MicrosoftWindowsServer`. */
    publisher: pulumi.Input<string>;
    /** Offer, such as `WindowsServer`. */
    offer: pulumi.Input<string>;
    /** SKU, such as `2022-datacenter-azure-edition`; picks the KMS client key for Windows Server images. */
    sku: pulumi.Input<string>;
    /** Version. Default `latest`. */
    version?: pulumi.Input<string>;
}

/** A VHD (for example brought from on-premises) in a storage account, imported as the VM's managed OS disk. */
export interface VhdImport {
    /** URL of the page-blob VHD. */
    sourceUri: pulumi.Input<string>;
    /** ID of the storage account that holds it. */
    storageAccountId: pulumi.Input<string>;
    /** Hyper-V generation of the VHD: `V1` (default) or `V2`. */
    hyperVGeneration?: pulumi.Input<string>;
}

/** Arguments of `KmsWindowsVm`. */
export interface KmsWindowsVmArgs extends KmsActivationOptions {
    /** Resource group for the NIC, the VM and (for a VHD) its disk. */
    resourceGroupName: pulumi.Input<string>;
    /** Azure region. Default: the resource group's region. */
    location?: pulumi.Input<string>;
    /** Subnet for the NIC, such as `KmsNetwork.subnetId`. */
    subnetId: pulumi.Input<string>;
    /** Name of the VM in Azure. Default: the component name. */
    vmName?: pulumi.Input<string>;
    /** Windows computer name (at most 15 characters). Default: the VM name. */
    computerName?: pulumi.Input<string>;
    /** VM size. Default `Standard_D2s_v5`. */
    vmSize?: pulumi.Input<string>;
    /** Marketplace image. Default Windows Server 2022 Datacenter: Azure Edition, latest. */
    image?: MarketplaceImage;
    /** ID of a custom image or gallery image version, instead of `image`. */
    customImageId?: pulumi.Input<string>;
    /** A VHD to import as the OS disk, instead of `image`: its accounts and VM agent come with it. */
    vhd?: VhdImport;
    /** Storage type of the OS disk. Default `StandardSSD_LRS`. */
    osDiskType?: pulumi.Input<string>;
    /** Local administrator name (not with `vhd`). */
    adminUsername?: pulumi.Input<string>;
    /** Local administrator password (not with `vhd`); kept secret. */
    adminPassword?: pulumi.Input<string>;
    /** Tags for every resource the VM creates. */
    tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
    /** Warn (default), fail, or skip when the reachability engine finds the path from `subnetId` to KMS blocked (the VM could not activate). */
    privateSubnetCheck?: PrivateSubnetCheck;
}

/** The image `KmsWindowsVm` uses when none is given. */
export const DEFAULT_IMAGE = {
    publisher: "MicrosoftWindowsServer",
    offer: "WindowsServer",
    sku: "2022-datacenter-azure-edition",
    version: "latest",
} as const;

/**
 * A Windows VM that activates against KMS: a NIC in `subnetId`, the VM (marketplace image, custom image
 * or imported VHD) and its `KmsActivation`. It adds no routes or rules: those belong to the route table
 * and NSG (`KmsNetwork`, `KmsEgressRules`), shared by every VM of the subnet.
 */
export class KmsWindowsVm extends pulumi.ComponentResource {
    /** ID of the VM. */
    public readonly virtualMachineId: pulumi.Output<string>;
    /** Name of the VM. */
    public readonly virtualMachineName: pulumi.Output<string>;
    /** ID of the NIC. */
    public readonly networkInterfaceId: pulumi.Output<string>;
    /** Private IP address of the NIC. */
    public readonly privateIpAddress: pulumi.Output<string | undefined>;
    /** `host:port` the guest was pointed at. */
    public readonly kmsEndpoint: pulumi.Output<string>;

    constructor(name: string, args: KmsWindowsVmArgs, opts?: pulumi.ComponentResourceOptions) {
        super("azure-kms-activation:index:KmsWindowsVm", name, {}, componentOptions(opts));
        const context = { component: "KmsWindowsVm", name };
        validate.inComponent(context.component, name, () => {
            checkImageChoice(args);
            checkActivationOptions(args);
            validate.enumValue("privateSubnetCheck", args.privateSubnetCheck, PrivateSubnetCheck);
        });
        // Every plain value is checked before the first child exists, so a refusal leaves nothing half-built.
        const checked = <T>(field: string, value: pulumi.Input<T>, check: (field: string, value: T) => void) =>
            validate.checkedInput(context, field, value, check);
        const resourceGroupName = checked("resourceGroupName", args.resourceGroupName, validate.resourceGroupName);
        const location = args.location === undefined ? undefined : checked("location", args.location, validate.location);
        const vmName = checked("vmName", args.vmName ?? name, (f, v: string) => validate.azureName(f, v, 64));
        const subnetId = checked("subnetId", args.subnetId, validate.subnetId);
        const vmSize = checked("vmSize", args.vmSize ?? "Standard_D2s_v5", validate.vmSize);
        const osDiskType = checked("osDiskType", args.osDiskType ?? "StandardSSD_LRS", checkDiskType);
        const customImageId = args.customImageId === undefined ? undefined : checked("customImageId", args.customImageId, checkImageId);
        const osProfile = args.vhd
            ? undefined
            : {
                  // The default comes from the plain VM name when there is one, so a long name is refused at once.
                  computerName: checked("computerName", args.computerName ?? args.vmName ?? name, validate.computerName),
                  adminUsername: checked("adminUsername", args.adminUsername as pulumi.Input<string>, validate.adminUsername),
                  adminPassword: pulumi.secret(checked("adminPassword", args.adminPassword as pulumi.Input<string>, validate.adminPassword)),
                  windowsConfiguration: { provisionVMAgent: true, enableAutomaticUpdates: true },
              };
        const vhdSource = args.vhd
            ? {
                  sourceUri: checked("vhd.sourceUri", args.vhd.sourceUri, validate.vhdUri),
                  storageAccountId: checked("vhd.storageAccountId", args.vhd.storageAccountId, (f, v: string) => validate.resourceId(f, v, "Microsoft.Storage/storageAccounts")),
                  hyperVGeneration: checked("vhd.hyperVGeneration", args.vhd.hyperVGeneration ?? "V1", checkHyperVGeneration),
              }
            : undefined;
        const common = { resourceGroupName, location, tags: args.tags };
        // The brownfield subnet check (src/network/subnetOutbound.ts): it reads once the path the activation waits for
        // exists; a warning holds back only the activation, a failure in strict mode also the VM.
        const subnetCheckMode = privateSubnetCheckMode(args);
        const subnetCheck = checkSubnetOutbound(subnetId, subnetCheckMode, this, checkDestination(args), args.activationWaitsFor);

        const nic = new network.NetworkInterface(
            `${name}-nic`,
            {
                ...common,
                ipConfigurations: [{ name: "ipconfig1", subnet: { id: subnetId }, privateIPAllocationMethod: network.IPAllocationMethod.Dynamic, primary: true }],
            },
            { parent: this },
        );
        const importedDisk = vhdSource ? this.importVhd(name, vhdSource, common, osDiskType) : undefined;

        const vm = new compute.VirtualMachine(
            `${name}-vm`,
            {
                ...common,
                vmName,
                hardwareProfile: { vmSize },
                storageProfile: importedDisk
                    ? { osDisk: { createOption: compute.DiskCreateOptionTypes.Attach, osType: compute.OperatingSystemTypes.Windows, managedDisk: { id: importedDisk.id } } }
                    : {
                          imageReference: customImageId ? { id: customImageId } : { ...DEFAULT_IMAGE, ...args.image },
                          osDisk: {
                              createOption: compute.DiskCreateOptionTypes.FromImage,
                              managedDisk: { storageAccountType: osDiskType },
                              deleteOption: compute.DiskDeleteOptionTypes.Delete,
                          },
                      },
                osProfile,
                networkProfile: { networkInterfaces: [{ id: nic.id, primary: true }] },
                // Boot diagnostics (managed storage) give the serial log and screenshot when activation or boot goes wrong.
                diagnosticsProfile: { bootDiagnostics: { enabled: true } },
            },
            // In strict mode a VM that could not activate is not created; the check is a read, not a resource.
            { parent: this, dependsOn: subnetCheckMode === PrivateSubnetCheck.Error ? subnetCheck : undefined },
        );

        const activation = new KmsActivation(
            `${name}-activation`,
            {
                resourceGroupName,
                vmName: vm.name,
                location: vm.location,
                tags: args.tags,
                cloud: args.cloud,
                customKmsServer: args.customKmsServer,
                kmsIpAddresses: args.kmsIpAddresses,
                kmsHostForm: args.kmsHostForm,
                imageSku: args.imageSku ?? windowsServerSku(args),
                productKey: args.productKey,
                configureGuestFirewall: args.configureGuestFirewall,
                failOnActivationError: args.failOnActivationError,
                mechanism: args.mechanism,
                rerunToken: args.rerunToken,
                activationWaitsFor: afterSubnetCheck(args.activationWaitsFor, subnetCheck, subnetCheckMode),
            },
            // vmName: vm.name already makes the activation wait for the VM.
            { parent: this },
        );

        this.virtualMachineId = vm.id;
        this.virtualMachineName = vm.name;
        this.networkInterfaceId = nic.id;
        this.privateIpAddress = nic.ipConfigurations.apply((configs) => configs?.[0]?.privateIPAddress);
        this.kmsEndpoint = activation.kmsEndpoint;
        this.registerOutputs({
            virtualMachineId: this.virtualMachineId,
            virtualMachineName: this.virtualMachineName,
            networkInterfaceId: this.networkInterfaceId,
            privateIpAddress: this.privateIpAddress,
            kmsEndpoint: this.kmsEndpoint,
        });
    }

    private importVhd(
        name: string,
        source: { sourceUri: pulumi.Input<string>; storageAccountId: pulumi.Input<string>; hyperVGeneration: pulumi.Input<string> },
        common: { resourceGroupName: pulumi.Input<string>; location?: pulumi.Input<string>; tags?: KmsWindowsVmArgs["tags"] },
        osDiskType: pulumi.Input<string>,
    ): compute.Disk {
        return new compute.Disk(
            `${name}-os-disk`,
            {
                ...common,
                creationData: { createOption: compute.DiskCreateOption.Import, sourceUri: source.sourceUri, storageAccountId: source.storageAccountId },
                osType: compute.OperatingSystemTypes.Windows,
                hyperVGeneration: source.hyperVGeneration,
                sku: { name: osDiskType },
            },
            { parent: this },
        );
    }
}

// The SKU picks a key only for Microsoft's Windows Server images; other publishers reuse SKU words freely.
function windowsServerSku(args: KmsWindowsVmArgs): pulumi.Input<string> | undefined {
    if (args.vhd || args.customImageId) {
        return undefined;
    }
    const image = args.image ?? DEFAULT_IMAGE;
    const skuOf = (publisher: string, sku: string) => (publisher.toLowerCase() === "microsoftwindowsserver" ? sku : undefined);
    if (typeof image.publisher === "string" && typeof image.sku === "string") {
        return skuOf(image.publisher, image.sku);
    }
    return pulumi.all([image.publisher, image.sku]).apply(([publisher, sku]) => skuOf(publisher, sku)) as pulumi.Output<string>;
}

function checkImageChoice(args: KmsWindowsVmArgs): void {
    validate.required("resourceGroupName", args.resourceGroupName);
    validate.required("subnetId", args.subnetId);
    const sources = [["image", args.image], ["customImageId", args.customImageId], ["vhd", args.vhd]].filter(([, v]) => v !== undefined);
    if (sources.length > 1) {
        throw new validate.KmsInputError(
            `${sources.map(([k]) => k).join(", ")}: only one image source may be set; keep one of image, customImageId and vhd`,
        );
    }
    if (args.vhd) {
        if (args.adminUsername !== undefined || args.adminPassword !== undefined) {
            throw new validate.KmsInputError(
                "adminUsername, adminPassword: an imported VHD keeps its own accounts, Azure cannot set them; remove both",
            );
        }
        validate.required("vhd.sourceUri", args.vhd.sourceUri);
        validate.required("vhd.storageAccountId", args.vhd.storageAccountId);
    } else {
        validate.required("adminUsername", args.adminUsername);
        validate.required("adminPassword", args.adminPassword);
    }
}

function checkImageId(field: string, value: string): void {
    validate.resourceId(field, value, "Microsoft.Compute");
}

function checkDiskType(field: string, value: string): void {
    const allowed = ["Standard_LRS", "StandardSSD_LRS", "Premium_LRS", "StandardSSD_ZRS", "Premium_ZRS", "PremiumV2_LRS"];
    if (!allowed.includes(value)) {
        throw new validate.KmsInputError(`${field}: ${JSON.stringify(value)} is not an OS disk type; use one of ${allowed.join(", ")}`);
    }
}

function checkHyperVGeneration(field: string, value: string): void {
    if (value !== "V1" && value !== "V2") {
        throw new validate.KmsInputError(`${field}: ${JSON.stringify(value)} is not a Hyper-V generation; use V1 or V2 (V2 for UEFI/Gen2 VHDs)`);
    }
}
