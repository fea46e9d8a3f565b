import * as pulumi from "@pulumi/pulumi";
import { mockedPackage, outputRefusal, refusal, subnetWithNatGateway, SUBSCRIPTION, valueOf } from "./harness";

const t = mockedPackage(subnetWithNatGateway);

const C = "azure-native:compute:";
const SUBNET_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/vms`;
const STORAGE = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/vhds`;
const VHD = "https://vhds.blob.core.windows.net/vhds/legacy-01.vhd";
const BASE = { resourceGroupName: "rg", subnetId: SUBNET_ID, adminUsername: "kmsadmin", adminPassword: "Correct-Horse-7-Battery" };
const TRUSTED_LAUNCH = { securityType: "TrustedLaunch", uefiSettings: { secureBootEnabled: true, vTpmEnabled: true } };
const identityId = (name: string, group = "identities") =>
    `/subscriptions/${SUBSCRIPTION}/resourceGroups/${group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;

const vmInputs = () => t.h.one(`${C}VirtualMachine`).inputs as any;

describe("KmsWindowsVm securityType", () => {
    test.each([
        ["the default image (2022 Azure Edition)", {}, TRUSTED_LAUNCH],
        ["a -g2 SKU", { image: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2025-datacenter-g2" } }, TRUSTED_LAUNCH],
        ["a -gensecond SKU", { image: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2019-datacenter-gensecond" } }, TRUSTED_LAUNCH],
        ["a Gen1 SKU (2019-datacenter)", { image: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2019-datacenter" } }, undefined],
        ["Windows 11", { image: { publisher: "MicrosoftWindowsDesktop", offer: "windows-11", sku: "win11-24h2-ent" } }, TRUSTED_LAUNCH],
        ["another publisher's -gen2 SKU", { image: { publisher: "MicrosoftSQLServer", offer: "sql2022-ws2022", sku: "enterprise-gen2" } }, TRUSTED_LAUNCH],
        ["a custom image", { customImageId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/img/providers/Microsoft.Compute/galleries/g/images/ws/versions/1.0.0` }, undefined],
        ["Standard asked for on a Gen2 image", { securityType: "Standard" }, undefined],
        ["TrustedLaunch asked for on a gallery image version", { securityType: "TrustedLaunch", customImageId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/img/providers/Microsoft.Compute/galleries/g/images/ws/versions/1.0.0` }, TRUSTED_LAUNCH],
        ["a managed image (Standard by default)", { customImageId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/img/providers/Microsoft.Compute/images/ws` }, undefined],
    ])("default and choice: %s", async (_label, extra, expected) => {
        new t.m.KmsWindowsVm("app-01", { ...BASE, ...(extra as object) });
        await t.h.settle();
        expect(vmInputs().securityProfile).toEqual(expected);
    });

    test("a VHD: Standard by default; TrustedLaunch on a V2 VHD marks the imported disk for Trusted Launch too", async () => {
        new t.m.KmsWindowsVm("legacy-01", { resourceGroupName: "rg", subnetId: SUBNET_ID, vhd: { sourceUri: VHD, storageAccountId: STORAGE, hyperVGeneration: "V2" } });
        await t.h.settle();
        expect(vmInputs().securityProfile).toBeUndefined();
        expect(t.h.one(`${C}Disk`).inputs.securityProfile).toBeUndefined();
        t.h.reset();
        new t.m.KmsWindowsVm("legacy-02", {
            resourceGroupName: "rg",
            subnetId: SUBNET_ID,
            vhd: { sourceUri: VHD, storageAccountId: STORAGE, hyperVGeneration: "V2" },
            securityType: t.m.VmSecurityType.TrustedLaunch,
        });
        await t.h.settle();
        expect(vmInputs().securityProfile).toEqual(TRUSTED_LAUNCH);
        expect(t.h.one(`${C}Disk`).inputs.securityProfile).toEqual({ securityType: "TrustedLaunch" });
    });

    test.each([
        [
            "a Gen1 Windows Server SKU",
            { image: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2019-datacenter" } },
            'KmsWindowsVm "h": securityType: TrustedLaunch needs a Generation 2 image, but image.sku "2019-datacenter" is Generation 1; use its Generation 2 SKU',
        ],
        [
            "a V1 VHD (the default generation)",
            { adminUsername: undefined, adminPassword: undefined, vhd: { sourceUri: VHD, storageAccountId: STORAGE } },
            'KmsWindowsVm "h": securityType: TrustedLaunch needs a Generation 2 OS disk, but vhd.hyperVGeneration is "V1"; set vhd.hyperVGeneration to V2',
        ],
        [
            "a managed image (Microsoft.Compute/images)",
            { customImageId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/img/providers/Microsoft.Compute/images/ws2022-golden` },
            'KmsWindowsVm "h": securityType: TrustedLaunch cannot boot a managed image, and customImageId ".../images/ws2022-golden" is one (Microsoft.Compute/images); ' +
                "publish it as an Azure Compute Gallery image version (a Trusted Launch capable Generation 2 image definition) and pass that version's ID as customImageId, or set securityType Standard",
        ],
    ])("TrustedLaunch refused on %s, naming both fields, before any resource", async (_label, extra, message) => {
        expect(refusal(() => new t.m.KmsWindowsVm("h", { ...BASE, ...(extra as object), securityType: t.m.VmSecurityType.TrustedLaunch }))).toContain(message);
        expect(refusal(() => new t.m.KmsWindowsVm("h2", { ...BASE, securityType: "Secure" as any }))).toBe(
            'KmsWindowsVm "h2": securityType: "Secure" is not allowed; use one of TrustedLaunch, Standard',
        );
        await t.h.settle();
        expect(t.h.custom()).toEqual([]);
    });

    test("Outputs: the default follows the SKU once it resolves; a Gen1 SKU with TrustedLaunch fails when it resolves", async () => {
        const { vmBaseline } = await import("../src/vm/vmBaseline");
        const context = { component: "KmsWindowsVm", name: "o" };
        const gen2 = vmBaseline(context, {}, { kind: "marketplace", publisher: "MicrosoftWindowsServer", sku: pulumi.output("2022-datacenter-azure-edition") });
        expect(await valueOf(pulumi.output(gen2.securityProfile))).toEqual(TRUSTED_LAUNCH);
        const gen1 = vmBaseline(context, { securityType: pulumi.output(t.m.VmSecurityType.TrustedLaunch) }, { kind: "marketplace", publisher: "MicrosoftWindowsServer", sku: "2016-datacenter" });
        expect(await outputRefusal(gen1.securityProfile!)).toMatch(/^KmsWindowsVm "o": securityType: TrustedLaunch needs a Generation 2 image, but image\.sku "2016-datacenter"/);
        const v1 = vmBaseline(context, { securityType: t.m.VmSecurityType.TrustedLaunch }, { kind: "vhd", hyperVGeneration: pulumi.output("V1") });
        expect(await outputRefusal(v1.securityProfile!)).toMatch(/^KmsWindowsVm "o": securityType: TrustedLaunch needs a Generation 2 OS disk, but vhd\.hyperVGeneration is "V1"/);
        const managed = vmBaseline(context, { securityType: t.m.VmSecurityType.TrustedLaunch }, { kind: "customImage", id: pulumi.output(`/subscriptions/${SUBSCRIPTION}/resourceGroups/img/providers/Microsoft.Compute/images/ws`) });
        expect(await outputRefusal(managed.securityProfile!)).toMatch(/^KmsWindowsVm "o": securityType: TrustedLaunch cannot boot a managed image, and customImageId "\.\.\.\/images\/ws" is one/);
        // The imported disk's profile is refused the same way, so the disk is not created either.
        expect(await outputRefusal(v1.importedDiskSecurityProfile!)).toMatch(/^KmsWindowsVm "o": securityType: TrustedLaunch needs a Generation 2 OS disk/);
    });
});

describe("KmsWindowsVm dataDisks", () => {
    test("empty disks, deleted with the VM; LUNs fill the lowest free ones; Azure's caching unless given", async () => {
        new t.m.KmsWindowsVm("sql-01", {
            ...BASE,
            dataDisks: [
                { sizeGb: 256, storageAccountType: t.m.DataDiskStorageType.Premium_LRS, caching: t.m.DataDiskCaching.ReadOnly },
                { sizeGb: 128, lun: 0 },
                { sizeGb: 64, lun: 5, storageAccountType: t.m.DataDiskStorageType.Standard_LRS },
                { sizeGb: pulumi.output(32) },
            ],
        });
        await t.h.settle();
        const inputs = vmInputs();
        expect(inputs.storageProfile.dataDisks).toEqual([
            { lun: 1, createOption: "Empty", diskSizeGB: 256, managedDisk: { storageAccountType: "Premium_LRS" }, caching: "ReadOnly", deleteOption: "Delete" },
            { lun: 0, createOption: "Empty", diskSizeGB: 128, managedDisk: { storageAccountType: "StandardSSD_LRS" }, deleteOption: "Delete" },
            { lun: 5, createOption: "Empty", diskSizeGB: 64, managedDisk: { storageAccountType: "Standard_LRS" }, deleteOption: "Delete" },
            { lun: 2, createOption: "Empty", diskSizeGB: 32, managedDisk: { storageAccountType: "StandardSSD_LRS" }, deleteOption: "Delete" },
        ]);
        // The OS disk is untouched, and no Ultra capability without an Ultra Disk.
        expect(inputs.storageProfile.osDisk).toEqual({ createOption: "FromImage", managedDisk: { storageAccountType: "StandardSSD_LRS" }, deleteOption: "Delete" });
        expect(inputs.additionalCapabilities).toBeUndefined();
    });

    test("PremiumV2_LRS and UltraSSD_LRS in a zone: up to 64 TiB, caching None sent even when not given, the Ultra capability on", async () => {
        new t.m.KmsWindowsVm("db-01", {
            ...BASE,
            zone: "2",
            dataDisks: [
                { sizeGb: 65536, storageAccountType: t.m.DataDiskStorageType.PremiumV2_LRS, caching: t.m.DataDiskCaching.None },
                { sizeGb: 1024, storageAccountType: t.m.DataDiskStorageType.UltraSSD_LRS },
                { sizeGb: 512, storageAccountType: t.m.DataDiskStorageType.PremiumV2_LRS },
                { sizeGb: 256, storageAccountType: pulumi.output(t.m.DataDiskStorageType.UltraSSD_LRS) },
                { sizeGb: 128, storageAccountType: pulumi.output(t.m.DataDiskStorageType.Premium_LRS) },
            ],
        });
        await t.h.settle();
        const inputs = vmInputs();
        expect(inputs.zones).toEqual(["2"]);
        // Neither supports host caching, and left unset Azure picks ReadOnly for premium storage and refuses the disk
        // ("... is not supported with caching type ReadOnly"): None is always sent for them. Other types keep Azure's.
        expect(inputs.storageProfile.dataDisks).toEqual([
            { lun: 0, createOption: "Empty", diskSizeGB: 65536, managedDisk: { storageAccountType: "PremiumV2_LRS" }, caching: "None", deleteOption: "Delete" },
            { lun: 1, createOption: "Empty", diskSizeGB: 1024, managedDisk: { storageAccountType: "UltraSSD_LRS" }, caching: "None", deleteOption: "Delete" },
            { lun: 2, createOption: "Empty", diskSizeGB: 512, managedDisk: { storageAccountType: "PremiumV2_LRS" }, caching: "None", deleteOption: "Delete" },
            { lun: 3, createOption: "Empty", diskSizeGB: 256, managedDisk: { storageAccountType: "UltraSSD_LRS" }, caching: "None", deleteOption: "Delete" },
            { lun: 4, createOption: "Empty", diskSizeGB: 128, managedDisk: { storageAccountType: "Premium_LRS" }, deleteOption: "Delete" },
        ]);
        expect(inputs.additionalCapabilities).toEqual({ ultraSSDEnabled: true });
    });

    test.each([
        ["a LUN taken twice", [{ sizeGb: 8, lun: 3 }, { sizeGb: 8, lun: 3 }], "dataDisks[1].lun: 3 is already dataDisks[0].lun; give each disk its own LUN"],
        ["a LUN above 63", [{ sizeGb: 8, lun: 64 }], "dataDisks[0].lun: 64 is not a LUN; give a whole number from 0 to 63"],
        ["a negative LUN", [{ sizeGb: 8, lun: -1 }], "dataDisks[0].lun: -1 is not a LUN"],
        ["a fractional LUN", [{ sizeGb: 8, lun: 1.5 }], "dataDisks[0].lun: 1.5 is not a LUN"],
        ["65 disks", Array.from({ length: 65 }, () => ({ sizeGb: 8 })), "dataDisks: 65 disks, more than the 64 LUNs a VM has"],
        ["size 0", [{ sizeGb: 0 }], "dataDisks[0].sizeGb: 0 is not a disk size; give whole GiB from 1 to 32767 for StandardSSD_LRS"],
        ["size 32768 on Premium_LRS", [{ sizeGb: 32768, storageAccountType: "Premium_LRS" }], "dataDisks[0].sizeGb: 32768 is not a disk size; give whole GiB from 1 to 32767 for Premium_LRS"],
        ["a fractional size", [{ sizeGb: 10.5 }], "dataDisks[0].sizeGb: 10.5 is not a disk size"],
        ["no size", [{}], "dataDisks[0].sizeGb: is required; set dataDisks[0].sizeGb"],
        ["an unknown type", [{ sizeGb: 8, storageAccountType: "Ultra" }], 'dataDisks[0].storageAccountType: "Ultra" is not allowed; use one of Standard_LRS'],
        ["PremiumV2_LRS without a zone", [{ sizeGb: 8, storageAccountType: "PremiumV2_LRS" }], 'dataDisks[0].storageAccountType: PremiumV2_LRS disks are zonal and the VM has no zone; set zone ("1", "2" or "3")'],
        ["UltraSSD_LRS without a zone", [{ sizeGb: 8, storageAccountType: "UltraSSD_LRS" }], "dataDisks[0].storageAccountType: UltraSSD_LRS disks are zonal and the VM has no zone; set zone"],
        ["ReadWrite caching on PremiumV2_LRS", [{ sizeGb: 8, storageAccountType: "PremiumV2_LRS", caching: "ReadWrite" }], "dataDisks[0].caching: ReadWrite host caching is not available on PremiumV2_LRS disks; use None"],
        ["ReadOnly caching on UltraSSD_LRS", [{ sizeGb: 8, storageAccountType: "UltraSSD_LRS", caching: "ReadOnly" }], "dataDisks[0].caching: ReadOnly host caching is not available on UltraSSD_LRS disks; use None or leave caching out"],
        ["an unknown caching", [{ sizeGb: 8, caching: "WriteBack" }], 'dataDisks[0].caching: "WriteBack" is not allowed; use one of None, ReadOnly, ReadWrite'],
    ])("refused at construction: %s", async (label, dataDisks, message) => {
        const zone = /caching on (PremiumV2|Ultra)/.test(label) ? { zone: "1" } : {};
        expect(refusal(() => new t.m.KmsWindowsVm("h", { ...BASE, ...zone, dataDisks: dataDisks as any }))).toContain(`KmsWindowsVm "h": ${message}`);
        await t.h.settle();
        expect(t.h.custom()).toEqual([]);
    });

    test("Outputs: a size or type that resolves to a refused value fails the VM's input with the same message", async () => {
        const { vmBaseline } = await import("../src/vm/vmBaseline");
        const context = { component: "KmsWindowsVm", name: "o" };
        const size = vmBaseline(context, { dataDisks: [{ sizeGb: pulumi.output(40000) }] }, { kind: "customImage", id: "/subscriptions/x/resourceGroups/img/providers/Microsoft.Compute/galleries/g/images/d/versions/1.0.0" });
        expect(await outputRefusal(size.dataDisks![0].diskSizeGB)).toMatch(/^KmsWindowsVm "o": dataDisks\[0\]\.sizeGb: 40000 is not a disk size/);
        const type = vmBaseline(context, { dataDisks: [{ sizeGb: 8, storageAccountType: pulumi.output(t.m.DataDiskStorageType.UltraSSD_LRS) }] }, { kind: "customImage", id: "/subscriptions/x/resourceGroups/img/providers/Microsoft.Compute/galleries/g/images/d/versions/1.0.0" });
        expect(await outputRefusal(type.dataDisks![0].managedDisk.storageAccountType)).toMatch(/^KmsWindowsVm "o": dataDisks\[0\]\.storageAccountType: UltraSSD_LRS disks are zonal/);
        const zoned = vmBaseline(context, { zone: "3", dataDisks: [{ sizeGb: 8, storageAccountType: pulumi.output(t.m.DataDiskStorageType.UltraSSD_LRS) }] }, { kind: "customImage", id: "/subscriptions/x/resourceGroups/img/providers/Microsoft.Compute/galleries/g/images/d/versions/1.0.0" });
        expect(await valueOf(pulumi.output(zoned.additionalCapabilities))).toEqual({ ultraSSDEnabled: true });
        const cached = vmBaseline(context, { zone: "3", dataDisks: [{ sizeGb: 8, storageAccountType: "PremiumV2_LRS" as never, caching: pulumi.output(t.m.DataDiskCaching.ReadWrite) }] }, { kind: "customImage", id: "/subscriptions/x/resourceGroups/img/providers/Microsoft.Compute/galleries/g/images/d/versions/1.0.0" });
        expect(await outputRefusal(cached.dataDisks![0].caching!)).toMatch(/^KmsWindowsVm "o": dataDisks\[0\]\.caching: ReadWrite host caching is not available on PremiumV2_LRS disks; use None or leave caching out$/);
    });
});

describe("KmsWindowsVm userAssignedIdentityIds", () => {
    test("user-assigned identities as azure-native v3 takes them: a list of IDs", async () => {
        const ids = [identityId("id-app"), identityId("id-backup", "shared")];
        new t.m.KmsWindowsVm("app-01", { ...BASE, userAssignedIdentityIds: [ids[0], pulumi.output(ids[1])] });
        await t.h.settle();
        expect(vmInputs().identity).toEqual({ type: "UserAssigned", userAssignedIdentities: ids });
    });

    test("no identity unless asked for", async () => {
        new t.m.KmsWindowsVm("app-01", BASE);
        await t.h.settle();
        expect(vmInputs().identity).toBeUndefined();
    });

    test.each([
        ["an empty list", [], "userAssignedIdentityIds: must be a non-empty list"],
        ["a name, not an ID", ["id-app"], 'userAssignedIdentityIds[0]: "id-app" is not a user-assigned identity ID; give /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>'],
        ["another resource type", [STORAGE], "userAssignedIdentityIds[0]: "],
        ["a trailing segment", [`${identityId("id-app")}/extra`], "userAssignedIdentityIds[0]: "],
        ["a metacharacter", [`${identityId("id-app")};calc`], "userAssignedIdentityIds[0]: "],
        ["the same ID twice, differently cased", [identityId("id-app"), identityId("ID-APP")], "userAssignedIdentityIds[1]: is listed twice (Azure compares IDs case-insensitively)"],
    ])("refused at construction: %s", async (_label, ids, message) => {
        expect(refusal(() => new t.m.KmsWindowsVm("h", { ...BASE, userAssignedIdentityIds: ids as string[] }))).toContain(`KmsWindowsVm "h": ${message}`);
        await t.h.settle();
        expect(t.h.custom()).toEqual([]);
    });

    test("an ID inside an Output is checked when it resolves", async () => {
        const { vmBaseline } = await import("../src/vm/vmBaseline");
        const baseline = vmBaseline({ component: "KmsWindowsVm", name: "o" }, { userAssignedIdentityIds: [identityId("id-ok"), pulumi.output("not-an-id")] }, { kind: "customImage", id: "/subscriptions/x/resourceGroups/img/providers/Microsoft.Compute/galleries/g/images/d/versions/1.0.0" });
        expect(await outputRefusal(baseline.identity!.userAssignedIdentities)).toMatch(/^KmsWindowsVm "o": userAssignedIdentityIds\[1\]: "not-an-id" is not a user-assigned identity ID/);
    });
});

describe("KmsWindowsVm: anything else through transformations", () => {
    test("a transformation that merges into props keeps what securityType, dataDisks and userAssignedIdentityIds built", async () => {
        const availabilitySet = { id: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Compute/availabilitySets/app` };
        new t.m.KmsWindowsVm(
            "app-01",
            { ...BASE, dataDisks: [{ sizeGb: 16 }], userAssignedIdentityIds: [identityId("id-app")] },
            { transformations: [({ type, props, opts }) => (type === `${C}VirtualMachine` ? { props: { ...props, availabilitySet }, opts } : undefined)] },
        );
        await t.h.settle();
        expect(vmInputs()).toMatchObject({
            availabilitySet,
            securityProfile: TRUSTED_LAUNCH,
            identity: { type: "UserAssigned", userAssignedIdentities: [identityId("id-app")] },
            storageProfile: { dataDisks: [{ lun: 0, createOption: "Empty", diskSizeGB: 16, deleteOption: "Delete" }] },
        });
    });
});
