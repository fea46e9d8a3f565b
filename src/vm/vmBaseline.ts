// The platform baseline of a KmsWindowsVm: security type, data disks and user-assigned identities, checked once
// and turned into the `compute.VirtualMachine` (and imported `compute.Disk`) inputs they become.
import * as compute from "@pulumi/azure-native/compute";
import * as pulumi from "@pulumi/pulumi";
import { DataDiskCaching, DataDiskStorageType, VmSecurityType } from "../types";
import * as validate from "../validate";

type Context = { component: string; name: string };

/** The data disk fields the baseline reads (`DataDisk` of `KmsWindowsVmArgs`). */
export interface DataDiskInput {
    sizeGb: pulumi.Input<number>;
    lun?: number;
    storageAccountType?: pulumi.Input<DataDiskStorageType>;
    caching?: pulumi.Input<DataDiskCaching>;
}

/** Where the OS comes from, as far as its Hyper-V generation can be told. */
export type OsSource =
    | { kind: "marketplace"; publisher: pulumi.Input<string>; sku: pulumi.Input<string> }
    | { kind: "customImage"; id: pulumi.Input<string> }
    | { kind: "vhd"; hyperVGeneration: pulumi.Input<string> };

export interface BaselineArgs {
    securityType?: pulumi.Input<VmSecurityType>;
    dataDisks?: DataDiskInput[];
    userAssignedIdentityIds?: pulumi.Input<pulumi.Input<string>[]>;
    zone?: pulumi.Input<string>;
}

export interface TrustedLaunchProfile {
    securityType: "TrustedLaunch";
    uefiSettings: { secureBootEnabled: true; vTpmEnabled: true };
}

export interface DataDiskInputs {
    lun: number;
    createOption: "Empty";
    diskSizeGB: pulumi.Input<number>;
    managedDisk: { storageAccountType: pulumi.Input<DataDiskStorageType> };
    caching?: pulumi.Input<DataDiskCaching | undefined>;
    deleteOption: "Delete";
}

/** The checked baseline: the VM inputs it becomes, plus the security profile an imported OS disk needs. */
export interface Baseline {
    securityProfile: pulumi.Input<TrustedLaunchProfile | undefined>;
    importedDiskSecurityProfile: pulumi.Input<{ securityType: "TrustedLaunch" } | undefined>;
    dataDisks?: DataDiskInputs[];
    additionalCapabilities?: pulumi.Input<{ ultraSSDEnabled: true } | undefined>;
    identity?: { type: "UserAssigned"; userAssignedIdentities: pulumi.Input<string[]> };
}

export const TRUSTED_LAUNCH: TrustedLaunchProfile = { securityType: "TrustedLaunch", uefiSettings: { secureBootEnabled: true, vTpmEnabled: true } };
const DATA_ONLY_TYPES: string[] = [DataDiskStorageType.PremiumV2_LRS, DataDiskStorageType.UltraSSD_LRS];
/** Largest data disk in GiB: 32 TiB - 1 GiB for HDD/SSD/Premium, 64 TiB for Premium SSD v2 and Ultra Disk. */
const MAX_DISK_GB = 32767;
const MAX_DATA_ONLY_DISK_GB = 65536;
const MAX_LUN = 63;
// Identity names: 3 to 128 letters, digits, hyphens and underscores, starting with a letter or digit.
const IDENTITY_ID = /^\/subscriptions\/[A-Za-z0-9][A-Za-z0-9._()-]*\/resourceGroups\/[A-Za-z0-9][A-Za-z0-9._()-]*\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[A-Za-z0-9][A-Za-z0-9_-]{2,127}$/i;

const isPlain = <T>(value: pulumi.Input<T> | undefined): value is T | undefined => !pulumi.Output.isInstance(value) && !(value instanceof Promise);

/** Resolves `values` and runs `build` now when all are plain, else once they resolve (inside `apply`). */
function whenKnown<T extends unknown[], R>(values: { [K in keyof T]: pulumi.Input<T[K]> | undefined }, build: (...v: T) => R): pulumi.Input<R> {
    if (values.every((v) => isPlain(v))) {
        return build(...(values as unknown as T));
    }
    return pulumi.all(values as pulumi.Input<unknown>[]).apply((resolved) => build(...(resolved as unknown as T))) as pulumi.Output<R>;
}

/**
 * A Windows Server marketplace SKU names its Generation 2 form: `-g2`, `-gensecond`, `-gen2`, or the Azure Edition
 * (Generation 2 only). Windows 11 is Generation 2 only. Any other SKU is taken as Generation 1.
 */
export function isGen2Sku(sku: string): boolean {
    return /(?:^|-)(?:g2|gen2|gensecond)(?:-|$)|azure-edition|^win11-/i.test(sku);
}

// A managed image (`Microsoft.Compute/images`), not a gallery image version (`.../galleries/<g>/images/<d>/versions/<v>`).
const MANAGED_IMAGE_ID = /\/providers\/Microsoft\.Compute\/images\/([^/]+)$/i;

function securityTypeFor(context: Context, securityType: VmSecurityType | undefined, os: { kind: OsSource["kind"]; publisher?: string; sku?: string; hyperVGeneration?: string; id?: string }): VmSecurityType {
    return validate.inComponent(context.component, context.name, () => {
        validate.enumValue("securityType", securityType, VmSecurityType as unknown as Record<string, string>);
        if (os.kind === "vhd") {
            if (securityType === VmSecurityType.TrustedLaunch && os.hyperVGeneration !== "V2") {
                throw new validate.KmsInputError(
                    `securityType: TrustedLaunch needs a Generation 2 OS disk, but vhd.hyperVGeneration is ${JSON.stringify(os.hyperVGeneration)}; ` +
                        "set vhd.hyperVGeneration to V2 if the VHD boots with UEFI, or securityType to Standard",
                );
            }
            // An existing disk may boot a loader secure boot would stop: Trusted Launch only when asked.
            return securityType ?? VmSecurityType.Standard;
        }
        if (os.kind === "customImage") {
            // Trusted Launch boots gallery images only: a managed image is not supported (Microsoft Learn, "Trusted
            // launch for Azure virtual machines", unsupported features: managed images; Azure refuses the VM).
            const managed = typeof os.id === "string" ? MANAGED_IMAGE_ID.exec(os.id) : null;
            if (securityType === VmSecurityType.TrustedLaunch && managed) {
                throw new validate.KmsInputError(
                    `securityType: TrustedLaunch cannot boot a managed image, and customImageId ".../images/${managed[1]}" is one (Microsoft.Compute/images); ` +
                        "publish it as an Azure Compute Gallery image version (a Trusted Launch capable Generation 2 image definition) and pass that version's ID as customImageId, or set securityType Standard",
                );
            }
            // A gallery image's generation is in its image definition, which the package does not read; Azure checks it.
            return securityType ?? VmSecurityType.Standard;
        }
        const gen2 = isGen2Sku(os.sku ?? "");
        const windowsServer = (os.publisher ?? "").toLowerCase() === "microsoftwindowsserver";
        if (securityType === VmSecurityType.TrustedLaunch && windowsServer && !gen2) {
            throw new validate.KmsInputError(
                `securityType: TrustedLaunch needs a Generation 2 image, but image.sku ${JSON.stringify(os.sku)} is Generation 1; ` +
                    "use its Generation 2 SKU (such as 2019-datacenter-gensecond, 2022-datacenter-g2 or an -azure-edition SKU), or securityType Standard",
            );
        }
        return securityType ?? (gen2 ? VmSecurityType.TrustedLaunch : VmSecurityType.Standard);
    });
}

function checkSecurity(context: Context, args: BaselineArgs, os: OsSource): Pick<Baseline, "securityProfile" | "importedDiskSecurityProfile"> {
    // What the choice depends on, and how it is made once they are known (each Output resolved once per input built).
    const [inputs, choose]: [pulumi.Input<unknown>[], (...values: any[]) => VmSecurityType] =
        os.kind === "marketplace"
            ? [[args.securityType, os.publisher, os.sku], (type, publisher, sku) => securityTypeFor(context, type, { kind: os.kind, publisher, sku })]
            : os.kind === "vhd"
              ? [[args.securityType, os.hyperVGeneration], (type, hyperVGeneration) => securityTypeFor(context, type, { kind: os.kind, hyperVGeneration })]
              : [[args.securityType, os.id], (type, id) => securityTypeFor(context, type, { kind: os.kind, id })];
    const trusted = (...values: unknown[]) => choose(...values) === VmSecurityType.TrustedLaunch;
    return {
        // Standard is sent as no securityProfile: API 2024-11-01 has no "Standard" value, and unset means Standard there.
        securityProfile: whenKnown(inputs, (...values: unknown[]) => (trusted(...values) ? TRUSTED_LAUNCH : undefined)),
        // A Trusted Launch VM attaches only an OS disk created for Trusted Launch.
        importedDiskSecurityProfile:
            os.kind === "vhd" ? whenKnown(inputs, (...values: unknown[]) => (trusted(...values) ? { securityType: "TrustedLaunch" as const } : undefined)) : undefined,
    };
}

function checkDataDisks(context: Context, disks: DataDiskInput[], zoned: boolean): Pick<Baseline, "dataDisks" | "additionalCapabilities"> {
    validate.inComponent(context.component, context.name, () => {
        if (!Array.isArray(disks)) {
            throw new validate.KmsInputError(`dataDisks: ${JSON.stringify(disks)?.slice(0, 60)} is not a list; give a list of { sizeGb, lun?, storageAccountType?, caching? }`);
        }
        if (disks.length > MAX_LUN + 1) {
            throw new validate.KmsInputError(`dataDisks: ${disks.length} disks, more than the ${MAX_LUN + 1} LUNs a VM has; give at most ${MAX_LUN + 1} (the VM size may allow fewer)`);
        }
        const given = new Map<number, number>();
        disks.forEach((disk, i) => {
            if (disk === null || typeof disk !== "object") {
                throw new validate.KmsInputError(`dataDisks[${i}]: ${JSON.stringify(disk)} is not a data disk; give { sizeGb, lun?, storageAccountType?, caching? }`);
            }
            validate.required(`dataDisks[${i}].sizeGb`, disk.sizeGb);
            if (disk.lun === undefined) {
                return;
            }
            if (!Number.isInteger(disk.lun) || disk.lun < 0 || disk.lun > MAX_LUN) {
                throw new validate.KmsInputError(`dataDisks[${i}].lun: ${JSON.stringify(disk.lun)} is not a LUN; give a whole number from 0 to ${MAX_LUN}, or leave it out for the lowest free one`);
            }
            const other = given.get(disk.lun);
            if (other !== undefined) {
                throw new validate.KmsInputError(`dataDisks[${i}].lun: ${disk.lun} is already dataDisks[${other}].lun; give each disk its own LUN, or leave lun out for the lowest free one`);
            }
            given.set(disk.lun, i);
        });
    });
    const taken = new Set(disks.map((d) => d.lun).filter((lun): lun is number => lun !== undefined));
    let next = 0;
    const lunOf = (disk: DataDiskInput) => {
        if (disk.lun !== undefined) {
            return disk.lun;
        }
        while (taken.has(next)) {
            next++;
        }
        taken.add(next);
        return next;
    };
    const typeOf = (disk: DataDiskInput) => disk.storageAccountType ?? DataDiskStorageType.StandardSSD_LRS;
    const dataDisks = disks.map((disk, i): DataDiskInputs => {
        const field = `dataDisks[${i}]`;
        const storageAccountType = validate.checkedInput(context, `${field}.storageAccountType`, typeOf(disk), (f, v: DataDiskStorageType) => checkStorageType(f, v, zoned));
        const diskSizeGB = whenKnown([disk.sizeGb, typeOf(disk)], (size: number, type: DataDiskStorageType) => {
            validate.inComponent(context.component, context.name, () => checkSize(`${field}.sizeGb`, size, type));
            return size;
        });
        const caching =
            disk.caching === undefined
                ? defaultCaching(typeOf(disk))
                : whenKnown([disk.caching, typeOf(disk)], (value: DataDiskCaching, type: DataDiskStorageType) => {
                      validate.inComponent(context.component, context.name, () => checkCaching(`${field}.caching`, value, type));
                      return value;
                  });
        return {
            lun: lunOf(disk),
            createOption: compute.DiskCreateOptionTypes.Empty,
            diskSizeGB,
            managedDisk: { storageAccountType },
            ...(caching === undefined ? {} : { caching }),
            // Destroying the VM deletes its data disks too: nothing is left behind to pay for.
            deleteOption: compute.DiskDeleteOptionTypes.Delete,
        };
    });
    // An Ultra Disk attaches only to a VM with the Ultra SSD capability on.
    const types = disks.map(typeOf);
    const additionalCapabilities = whenKnown(types, (...resolved: DataDiskStorageType[]) =>
        resolved.includes(DataDiskStorageType.UltraSSD_LRS) ? { ultraSSDEnabled: true as const } : undefined,
    );
    return { dataDisks, additionalCapabilities };
}

function checkStorageType(field: string, value: DataDiskStorageType, zoned: boolean): void {
    validate.enumValue(field, value, DataDiskStorageType as unknown as Record<string, string>);
    if (DATA_ONLY_TYPES.includes(value) && !zoned) {
        throw new validate.KmsInputError(`${field}: ${value} disks are zonal and the VM has no zone; set zone ("1", "2" or "3") on the VM, or use Premium_LRS or Premium_ZRS`);
    }
}

function checkSize(field: string, value: number, type: DataDiskStorageType): void {
    const max = DATA_ONLY_TYPES.includes(type) ? MAX_DATA_ONLY_DISK_GB : MAX_DISK_GB;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
        throw new validate.KmsInputError(`${field}: ${JSON.stringify(value)} is not a disk size; give whole GiB from 1 to ${max} for ${type}`);
    }
}

/**
 * Premium SSD v2 and Ultra Disk support no host caching, and an unset `caching` is not "none" to Azure: it applies its
 * premium-storage default, ReadOnly, and refuses the VM ("... is not supported with caching type ReadOnly"; Microsoft
 * Learn, "Deploy a Premium SSD v2" and "Ultra disks": host caching None only). So None is sent for them; other types
 * keep Azure's default (None on Standard, ReadOnly on Premium). Undefined leaves the field out.
 */
function defaultCaching(type: pulumi.Input<DataDiskStorageType>): pulumi.Input<DataDiskCaching | undefined> | undefined {
    return whenKnown([type], (t: DataDiskStorageType) => (DATA_ONLY_TYPES.includes(t) ? DataDiskCaching.None : undefined));
}

function checkCaching(field: string, value: DataDiskCaching, type: DataDiskStorageType): void {
    validate.enumValue(field, value, DataDiskCaching as unknown as Record<string, string>);
    if (DATA_ONLY_TYPES.includes(type) && value !== DataDiskCaching.None) {
        throw new validate.KmsInputError(`${field}: ${value} host caching is not available on ${type} disks; use None or leave caching out`);
    }
}

function checkIdentityIds(field: string, value: string[]): void {
    if (!Array.isArray(value) || value.length === 0) {
        throw new validate.KmsInputError(`${field}: must be a non-empty list; give at least one user-assigned identity ID, or leave it out`);
    }
    value.forEach((id, i) => {
        if (typeof id !== "string" || id.length > 1024 || !IDENTITY_ID.test(id)) {
            const text = JSON.stringify(id) ?? String(id);
            const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
            throw new validate.KmsInputError(
                `${field}[${i}]: ${shown} is not a user-assigned identity ID; give /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>`,
            );
        }
    });
    const lower = value.map((id) => id.toLowerCase());
    const dup = lower.findIndex((id, i) => lower.indexOf(id) !== i);
    if (dup >= 0) {
        throw new validate.KmsInputError(`${field}[${dup}]: is listed twice (Azure compares IDs case-insensitively); list each identity once`);
    }
}

function checkIdentities(context: Context, ids: pulumi.Input<pulumi.Input<string>[]>): Baseline["identity"] {
    // A plain list of plain IDs is checked now; any Output in it, or around it, when it resolves.
    const plain = isPlain(ids) && (!Array.isArray(ids) || ids.every((id) => isPlain(id)));
    const list = plain ? (ids as string[]) : (pulumi.output(ids) as pulumi.Output<string[]>);
    return { type: compute.ResourceIdentityType.UserAssigned, userAssignedIdentities: validate.checkedInput(context, "userAssignedIdentityIds", list, checkIdentityIds) };
}

// What azure-native's invoke reports when the VM (or its resource group) does not exist: ARM's 404 ResourceNotFound
// / ResourceGroupNotFound, which the provider's error text carries ("Code=\"ResourceNotFound\"", "RESPONSE 404").
const NOT_FOUND = /NotFound|\b404\b/;

/** The VM as it is in Azure, or undefined when there is none yet. Read once per VM, with the owner as parent. */
async function readExistingVm(resourceGroupName: string, vmName: string, owner: pulumi.Resource): Promise<{ securityProfile?: { securityType?: string } } | undefined> {
    try {
        return (await compute.getVirtualMachine({ resourceGroupName, vmName }, { parent: owner })) as { securityProfile?: { securityType?: string } };
    } catch (err) {
        const reason = (err instanceof Error && err.message) || String(err);
        if (NOT_FOUND.test(reason)) {
            return undefined;
        }
        throw new validate.KmsInputError(
            `securityType: VM "${vmName}" in resource group "${resourceGroupName}" could not be read to see whether it is Trusted Launch (${reason}); ` +
                "check that the program's identity may read it",
        );
    }
}

/**
 * `Standard` is sent as no `securityProfile` (API 2024-11-01 has no "Standard" value), and a PUT that leaves
 * `securityProfile` out keeps what the VM has: a VM that exists as Trusted Launch would silently stay so, every
 * `pulumi up` reporting success. Pulumi gives a program no access to the state of its earlier runs, and the VM may
 * also have been switched outside Pulumi, so the VM itself is what tells: in a preview (`pulumi preview`, and the
 * preview `pulumi up` runs first), when Standard is to be sent, the VM is read once; one that is Trusted Launch fails
 * the VM's input with the documented way to switch it (Microsoft Learn, "Enable Trusted launch on existing Azure VMs",
 * roll back: security type Standard while the VM is deallocated). A VM that does not exist yet is created Standard.
 * Not in `pulumi up --skip-preview` (no preview runs) and not for names a preview does not know yet.
 */
export function refuseLeavingTrustedLaunch(
    context: Context,
    securityProfile: pulumi.Input<TrustedLaunchProfile | undefined>,
    resourceGroupName: pulumi.Input<string>,
    vmName: pulumi.Input<string>,
    owner: pulumi.Resource,
): pulumi.Input<TrustedLaunchProfile | undefined> {
    if (!pulumi.runtime.isDryRun() || (isPlain(securityProfile) && securityProfile !== undefined)) {
        return securityProfile;
    }
    return pulumi.all([securityProfile, resourceGroupName, vmName]).apply(async ([profile, rg, vm]) => {
        if (profile !== undefined) {
            return profile;
        }
        const existing = await readExistingVm(rg, vm, owner).catch((err: unknown) =>
            validate.inComponent(context.component, context.name, () => {
                throw err;
            }),
        );
        if (existing?.securityProfile?.securityType?.toLowerCase() === "trustedlaunch") {
            validate.inComponent(context.component, context.name, () => {
                throw new validate.KmsInputError(
                    `securityType: Standard would not switch VM "${vm}" in resource group "${rg}" from Trusted Launch (Azure keeps a securityProfile the update leaves out); ` +
                        `keep securityType TrustedLaunch, or switch the VM first: deallocate it, set its security type to Standard (az vm update -g ${rg} -n ${vm} --security-type Standard), ` +
                        "start it, then run pulumi up",
                );
            });
        }
        return undefined;
    });
}

/** Checks the baseline args (plain values now, Outputs when they resolve) and returns the inputs they become. */
export function vmBaseline(context: Context, args: BaselineArgs, os: OsSource): Baseline {
    const disks = args.dataDisks === undefined ? {} : checkDataDisks(context, args.dataDisks, args.zone !== undefined);
    const identity = args.userAssignedIdentityIds === undefined ? undefined : checkIdentities(context, args.userAssignedIdentityIds);
    return { ...checkSecurity(context, args, os), ...disks, identity };
}
