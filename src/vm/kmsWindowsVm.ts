import * as compute from "@pulumi/azure-native/compute";
import * as network from "@pulumi/azure-native/network";
import * as pulumi from "@pulumi/pulumi";
import { afterSubnetCheck, checkDestination, checkSubnetOutbound, privateSubnetCheckMode } from "../network/subnetOutbound";
import { ActivationResult } from "../guest/result";
import { claimActivationTarget } from "../network/ownership";
import { ActivationStatus, DataDiskCaching, DataDiskStorageType, PrivateSubnetCheck, VmSecurityType, WindowsLicenseType } from "../types";
import * as validate from "../validate";
import { activationArgsFor, ActivationGuestPlan, checkActivationOptions, KmsActivation, KmsActivationOptions, resolveActivationGuest } from "./kmsActivation";
import { componentOptions } from "../versionAliases";
import { Baseline, OsSource, refuseLeavingTrustedLaunch, vmBaseline } from "./vmBaseline";
import { KmsDestination } from "../reachability";

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

/**
 * A VHD (for example brought from on-premises) in a storage account, imported as the VM's managed OS disk and
 * attached as it is. Only a **specialized** VHD works this way (not sysprepped: it boots to its own accounts); a
 * generalized one sits in Windows setup (OOBE), the VM agent never reports and the activation times out. For a
 * generalized VHD build an image from it (`compute.Image` or a gallery image version) and use `customImageId`.
 */
export interface VhdImport {
    /** URL of the page-blob VHD. */
    sourceUri: pulumi.Input<string>;
    /** ID of the storage account that holds it. */
    storageAccountId: pulumi.Input<string>;
    /** Hyper-V generation of the VHD: `V1` (default) or `V2`. */
    hyperVGeneration?: pulumi.Input<string>;
    /**
     * Set true when the VHD is generalized (sysprepped): it is then refused, with the fix (an image from it and
     * `customImageId`), because an attached generalized disk never finishes Windows setup. Default false (specialized).
     */
    generalized?: pulumi.Input<boolean>;
}

/**
 * An empty managed data disk, created with the VM and deleted with it (`deleteOption: Delete`): destroying the
 * stack leaves no disk behind. Keep data you must outlive the VM on a disk you manage yourself.
 */
export interface DataDisk {
    /** Size in GiB: 1 to 32767 (to 65536 for `PremiumV2_LRS` and `UltraSSD_LRS`). */
    sizeGb: pulumi.Input<number>;
    /**
     * LUN, 0 to 63, unique on the VM; plain, because the LUNs of all disks are checked together. Default: the
     * lowest LUN no other disk of the list takes, in list order.
     */
    lun?: number;
    /**
     * Storage type. Default `StandardSSD_LRS`. `PremiumV2_LRS` and `UltraSSD_LRS` need `zone` on the VM and host
     * caching `None`; an Ultra Disk also turns on the VM's Ultra SSD capability.
     */
    storageAccountType?: pulumi.Input<DataDiskStorageType>;
    /**
     * Host caching. Default: `None` for `PremiumV2_LRS` and `UltraSSD_LRS` (they support no other; Azure's own default
     * for premium storage, ReadOnly, would be refused), else Azure's (`None` on Standard disks, `ReadOnly` on Premium).
     */
    caching?: pulumi.Input<DataDiskCaching>;
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
    /** A specialized VHD to import and attach as the OS disk, instead of `image`: its accounts and VM agent come with it. */
    vhd?: VhdImport;
    /** Storage type of the OS disk. Default `StandardSSD_LRS`. `PremiumV2_LRS` and `UltraSSD_LRS` are data-disk only: refused. */
    osDiskType?: pulumi.Input<string>;
    /** Local administrator name (not with `vhd`). */
    adminUsername?: pulumi.Input<string>;
    /** Local administrator password (not with `vhd`); kept secret. */
    adminPassword?: pulumi.Input<string>;
    /** Tags for every resource the VM creates. */
    tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
    /** Warn (default), fail, or skip when the reachability engine finds the path from `subnetId` to KMS blocked (the VM could not activate). */
    privateSubnetCheck?: PrivateSubnetCheck;
    /** Azure Hybrid Benefit: `Windows_Server` or `Windows_Client` licences you bring. Default: none (pay as you go). */
    licenseType?: pulumi.Input<WindowsLicenseType>;
    /** Availability zone (`1`, `2` or `3`) for the VM and, for `vhd`, its imported disk. Default: no zone. */
    zone?: pulumi.Input<string>;
    /**
     * Trusted Launch (secure boot and vTPM on) or Standard. Default: `TrustedLaunch` for a Generation 2 marketplace
     * image (the default image, an `-azure-edition`, `-g2`, `-gen2` or `-gensecond` SKU, Windows 11), the way Azure
     * creates new Gen2 VMs today ("Trusted launch as default", Microsoft Learn); `Standard` for a Generation 1 SKU
     * (such as `2019-datacenter`), a `customImageId` (its generation is not known here; set it for a Trusted Launch
     * capable gallery image) and a `vhd` (an existing disk may boot a loader secure boot would stop). The
     * default is always sent, never left to the API version. `TrustedLaunch` is refused with a
     * Generation 1 `MicrosoftWindowsServer` SKU, with a `vhd` whose `hyperVGeneration` is not `V2`, and with a
     * managed image (`Microsoft.Compute/images`) as `customImageId`: Trusted Launch needs a gallery image version.
     * `Standard` sends no `securityProfile`, which Azure takes as "keep what the VM has": a preview reads the VM and
     * refuses Standard for one that exists as Trusted Launch, with the way to switch it.
     */
    securityType?: pulumi.Input<VmSecurityType>;
    /** Empty managed data disks, created and deleted with the VM. Default: none. */
    dataDisks?: DataDisk[];
    /**
     * User-assigned managed identities for the VM: full IDs,
     * `/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>`.
     * Default: no identity.
     */
    userAssignedIdentityIds?: pulumi.Input<pulumi.Input<string>[]>;
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
    /** Where the key came from: `explicit`, `imageSku` or `detected` (in the guest). */
    public readonly keySource: pulumi.Output<string>;
    /** ID of the extension or run command that activates the guest. */
    public readonly activationResourceId: pulumi.Output<string>;
    /** `activated`, `licensed`, `pending`, `error`, or `unknown` (not read, or no result line): see `KmsActivation`. */
    public readonly activationStatus: pulumi.Output<ActivationStatus>;
    /** The guest's parsed `KMS_ACTIVATION_RESULT` line (it never holds the key), or undefined when none was read. */
    public readonly activationResult: pulumi.Output<ActivationResult | undefined>;

    constructor(name: string, args: KmsWindowsVmArgs, opts?: pulumi.ComponentResourceOptions) {
        super("azure-kms-activation:index:KmsWindowsVm", name, {}, componentOptions(opts));
        // Every plain value is checked, and every choice made, before the first child exists: a refusal leaves nothing half-built.
        const plan = resolveKmsWindowsVm(name, args);
        const { resourceGroupName, vmName, zones, os } = plan;
        const common = { resourceGroupName, location: plan.location, tags: plan.tags };
        const claim = claimActivationTarget("VM", "vmName", resourceGroupName, vmName, `KmsWindowsVm "${name}"`, this, opts?.parent);
        // The brownfield subnet check (src/network/subnetOutbound.ts): it reads once the path the activation waits for
        // exists; a warning holds back only the activation, a failure in strict mode also the VM.
        const subnetCheck = checkSubnetOutbound(plan.subnetId, plan.subnetCheck.mode, this, plan.subnetCheck.destination, plan.activationWaitsFor);
        const vmWaitsFor = [claim, plan.subnetCheck.mode === PrivateSubnetCheck.Error ? subnetCheck : undefined].filter(
            (check): check is pulumi.Output<pulumi.Resource[]> => check !== undefined,
        );

        const nic = new network.NetworkInterface(
            `${name}-nic`,
            {
                ...common,
                ipConfigurations: [{ name: "ipconfig1", subnet: { id: plan.subnetId }, privateIPAllocationMethod: network.IPAllocationMethod.Dynamic, primary: true }],
            },
            { parent: this },
        );
        // An attached disk must sit in the VM's zone.
        const importedDisk =
            os.kind === "vhd" ? this.importVhd(name, os.source, { ...common, zones, securityProfile: plan.baseline.importedDiskSecurityProfile }, plan.osDiskType) : undefined;

        const vm = new compute.VirtualMachine(
            `${name}-vm`,
            {
                ...common,
                vmName,
                zones,
                licenseType: plan.licenseType,
                hardwareProfile: { vmSize: plan.vmSize },
                securityProfile: refuseLeavingTrustedLaunch(plan.context, plan.baseline.securityProfile, resourceGroupName, vmName, this),
                identity: plan.baseline.identity,
                additionalCapabilities: plan.baseline.additionalCapabilities,
                storageProfile: {
                    ...(importedDisk
                        ? { osDisk: { createOption: compute.DiskCreateOptionTypes.Attach, osType: compute.OperatingSystemTypes.Windows, managedDisk: { id: importedDisk.id } } }
                        : {
                              imageReference: os.kind === "customImage" ? { id: os.id } : os.kind === "marketplace" ? os.image : undefined,
                              osDisk: {
                                  createOption: compute.DiskCreateOptionTypes.FromImage,
                                  managedDisk: { storageAccountType: plan.osDiskType },
                                  deleteOption: compute.DiskDeleteOptionTypes.Delete,
                              },
                          }),
                    ...(plan.baseline.dataDisks ? { dataDisks: plan.baseline.dataDisks } : {}),
                },
                osProfile: plan.osProfile,
                networkProfile: { networkInterfaces: [{ id: nic.id, primary: true }] },
                // Boot diagnostics (managed storage) give the serial log and screenshot when activation or boot goes wrong.
                diagnosticsProfile: { bootDiagnostics: { enabled: true } },
            },
            // In strict mode a VM that could not activate is not created; the check is a read, not a resource.
            { parent: this, dependsOn: vmWaitsFor.length === 0 ? undefined : pulumi.all(vmWaitsFor).apply((lists) => lists.flat()) },
        );

        // The guest plan was resolved with the VM's: the activation builds from it and checks nothing again.
        const activation = new KmsActivation(
            `${name}-activation`,
            activationArgsFor(plan.activation, {
                resourceGroupName,
                vmName: vm.name,
                location: vm.location,
                tags: plan.tags,
                activationWaitsFor: afterSubnetCheck(plan.activationWaitsFor, subnetCheck, plan.subnetCheck.mode),
            }),
            // vmName: vm.name already makes the activation wait for the VM.
            { parent: this },
        );

        this.virtualMachineId = vm.id;
        this.virtualMachineName = vm.name;
        this.networkInterfaceId = nic.id;
        this.privateIpAddress = nic.ipConfigurations.apply((configs) => configs?.[0]?.privateIPAddress);
        this.kmsEndpoint = activation.kmsEndpoint;
        this.keySource = activation.keySource;
        this.activationResourceId = activation.activationResourceId;
        this.activationStatus = activation.activationStatus;
        this.activationResult = activation.activationResult;
        this.registerOutputs({
            virtualMachineId: this.virtualMachineId,
            virtualMachineName: this.virtualMachineName,
            networkInterfaceId: this.networkInterfaceId,
            privateIpAddress: this.privateIpAddress,
            kmsEndpoint: this.kmsEndpoint,
            keySource: this.keySource,
            activationResourceId: this.activationResourceId,
            activationStatus: this.activationStatus,
            activationResult: this.activationResult,
        });
    }

    private importVhd(
        name: string,
        source: { sourceUri: pulumi.Input<string>; storageAccountId: pulumi.Input<string>; hyperVGeneration: pulumi.Input<string>; generalized?: pulumi.Input<boolean> },
        common: {
            resourceGroupName: pulumi.Input<string>;
            location?: pulumi.Input<string>;
            tags?: KmsWindowsVmArgs["tags"];
            zones?: pulumi.Input<string>[];
            securityProfile?: pulumi.Input<{ securityType: "TrustedLaunch" } | undefined>;
        },
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
            // A `generalized` that arrives as an Output is checked when it resolves: the import fails with the message.
            { parent: this, dependsOn: pulumi.Output.isInstance(source.generalized) ? source.generalized.apply(() => [] as pulumi.Resource[]) : undefined },
        );
    }
}

type Context = { component: string; name: string };

/** The imported VHD, checked: what the `-os-disk` child is built from. */
interface VhdSource {
    sourceUri: pulumi.Input<string>;
    storageAccountId: pulumi.Input<string>;
    hyperVGeneration: pulumi.Input<string>;
    /** Only a refusal (an Output one fails when it resolves): the disk is attached the same way either way. */
    generalized?: pulumi.Input<boolean>;
}

/**
 * Everything `KmsWindowsVm` builds, decided from its args by `resolveKmsWindowsVm`: every plain value checked, the
 * defaults applied, every Output carrying its check. The constructor only builds children from it.
 */
export interface KmsWindowsVmPlan {
    context: Context;
    resourceGroupName: pulumi.Input<string>;
    location?: pulumi.Input<string>;
    vmName: pulumi.Input<string>;
    subnetId: pulumi.Input<string>;
    vmSize: pulumi.Input<string>;
    osDiskType: pulumi.Input<string>;
    tags?: KmsWindowsVmArgs["tags"];
    licenseType?: pulumi.Input<WindowsLicenseType>;
    zones?: pulumi.Input<string>[];
    /** Where the OS disk comes from: the image reference, or the VHD to import and attach. */
    os:
        | { kind: "marketplace"; image: MarketplaceImage }
        | { kind: "customImage"; id: pulumi.Input<string> }
        | { kind: "vhd"; source: VhdSource };
    /** The OS profile (none for a VHD, which keeps its own accounts); the password is a secret. */
    osProfile?: {
        computerName: pulumi.Input<string>;
        adminUsername: pulumi.Input<string>;
        adminPassword: pulumi.Output<string>;
        windowsConfiguration: { provisionVMAgent: true; enableAutomaticUpdates: true };
    };
    /** Security type, data disks and identities (src/vm/vmBaseline.ts). */
    baseline: Baseline;
    /** The brownfield subnet check: its mode and the KMS it judges the path to. */
    subnetCheck: { mode: PrivateSubnetCheck; destination: KmsDestination };
    activationWaitsFor?: pulumi.Input<string[]>;
    /** The guest plan the `-activation` child builds from, named after that child as its refusals always were. */
    activation: ActivationGuestPlan;
}

/**
 * Checks `KmsWindowsVm`'s args and decides what it builds, in the order the refusals have always come: the choice of
 * image and the activation options, the cloud, each field, the baseline, the tags, then the activation's own (the
 * image's SKU as the activation's `imageSku`). Pure: it creates no resource, so a refusal leaves nothing registered.
 */
export function resolveKmsWindowsVm(name: string, args: KmsWindowsVmArgs, context: Context = { component: "KmsWindowsVm", name }): KmsWindowsVmPlan {
    const imageSku = args.imageSku ?? windowsServerSku(args);
    validate.inComponent(context.component, context.name, () => {
        checkImageChoice(args);
        checkActivationOptions(args, imageSku);
        validate.enumValue("privateSubnetCheck", args.privateSubnetCheck, PrivateSubnetCheck);
    });
    // Without `cloud`, the KMS of the cloud the stack's azure-native provider deploys to.
    const cloud = validate.inComponent(context.component, context.name, () => validate.effectiveCloud(args.cloud));
    const checked = <T>(field: string, value: pulumi.Input<T>, check: (field: string, value: T) => void) => validate.checkedInput(context, field, value, check);
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
              windowsConfiguration: { provisionVMAgent: true as const, enableAutomaticUpdates: true as const },
          };
    const vhdSource: VhdSource | undefined = args.vhd
        ? {
              sourceUri: checked("vhd.sourceUri", args.vhd.sourceUri, validate.vhdUri),
              storageAccountId: checked("vhd.storageAccountId", args.vhd.storageAccountId, (f, v: string) => validate.resourceId(f, v, "Microsoft.Storage/storageAccounts")),
              hyperVGeneration: checked("vhd.hyperVGeneration", args.vhd.hyperVGeneration ?? "V1", checkHyperVGeneration),
              generalized: args.vhd.generalized === undefined ? undefined : checked("vhd.generalized", args.vhd.generalized, checkSpecialized),
          }
        : undefined;
    const licenseType = args.licenseType === undefined ? undefined : checked("licenseType", args.licenseType, (f, v: WindowsLicenseType) => validate.enumValue(f, v, WindowsLicenseType));
    const zones = args.zone === undefined ? undefined : [checked("zone", args.zone, checkZone)];
    const image = args.image ?? DEFAULT_IMAGE;
    const osSource: OsSource = vhdSource
        ? { kind: "vhd", hyperVGeneration: vhdSource.hyperVGeneration }
        : customImageId
          ? { kind: "customImage", id: customImageId }
          : { kind: "marketplace", publisher: image.publisher, sku: image.sku };
    const baseline = vmBaseline(context, args, osSource);
    const tags = args.tags === undefined ? undefined : checked("tags", args.tags, validate.tags);
    // The activation child's refusals name it, as they did when it checked its args itself. Of its options only the
    // image's SKU (its imageSku when none is given) is new to it: the rest were checked above.
    const activationContext = { component: "KmsActivation", name: `${name}-activation` };
    if (args.imageSku === undefined) {
        validate.inComponent(activationContext.component, activationContext.name, () => validate.ifPlain(imageSku, (v) => validate.imageSku("imageSku", v)));
    }
    const activation = resolveActivationGuest(activationContext, { ...args, cloud }, imageSku);
    return {
        context,
        resourceGroupName,
        location,
        vmName,
        subnetId,
        vmSize,
        osDiskType,
        tags,
        licenseType,
        zones,
        os: vhdSource ? { kind: "vhd", source: vhdSource } : customImageId ? { kind: "customImage", id: customImageId } : { kind: "marketplace", image: { ...DEFAULT_IMAGE, ...args.image } },
        osProfile,
        baseline,
        subnetCheck: { mode: privateSubnetCheckMode(args), destination: checkDestination({ ...args, cloud }) },
        activationWaitsFor: args.activationWaitsFor,
        activation,
    };
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
    const allowed = ["Standard_LRS", "StandardSSD_LRS", "Premium_LRS", "StandardSSD_ZRS", "Premium_ZRS"];
    if (value === "PremiumV2_LRS" || value === "UltraSSD_LRS") {
        throw new validate.KmsInputError(
            `${field}: ${JSON.stringify(value)} cannot hold an OS disk (Azure supports it for data disks only); use Premium_LRS or Premium_ZRS for a fast OS disk`,
        );
    }
    if (!allowed.includes(value)) {
        throw new validate.KmsInputError(`${field}: ${JSON.stringify(value)} is not an OS disk type; use one of ${allowed.join(", ")}`);
    }
}

function checkZone(field: string, value: string): void {
    if (typeof value !== "string" || !/^[1-3]$/.test(value)) {
        throw new validate.KmsInputError(`${field}: ${JSON.stringify(value)} is not an availability zone; give "1", "2" or "3" (a zone number as a string), or leave it out`);
    }
}

function checkSpecialized(field: string, value: boolean): void {
    if (value === true) {
        throw new validate.KmsInputError(
            `${field}: a generalized (sysprepped) VHD cannot be attached as an OS disk: the VM stops in Windows setup (OOBE), ` +
                "its VM agent never reports and the activation extension times out; build an image from the VHD (compute.Image with " +
                "osState Generalized, or a gallery image version) and pass its ID as customImageId, with adminUsername and adminPassword",
        );
    }
    if (typeof value !== "boolean") {
        throw new validate.KmsInputError(`${field}: ${JSON.stringify(value)} is not true or false; set true only for a generalized VHD`);
    }
}

function checkHyperVGeneration(field: string, value: string): void {
    if (value !== "V1" && value !== "V2") {
        throw new validate.KmsInputError(`${field}: ${JSON.stringify(value)} is not a Hyper-V generation; use V1 or V2 (V2 for UEFI/Gen2 VHDs)`);
    }
}
