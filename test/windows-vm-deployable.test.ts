import { mockedPackage, subnetWithNatGateway, SUBSCRIPTION } from "./harness";

// Inputs Azure accepts in the API but that cannot deploy a working Windows VM: refused before anything is created.
const t = mockedPackage(subnetWithNatGateway);

const SUBNET_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/vms`;
const STORAGE = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/vhds`;
const VHD = "https://vhds.blob.core.windows.net/vhds/legacy-01.vhd";
const CREDENTIALS = { adminUsername: "kmsadmin", adminPassword: "Correct-Horse-7-Battery" };

function refusal(make: () => unknown): string | undefined {
    try {
        make();
    } catch (err) {
        return (err as Error).message;
    }
    return undefined;
}

describe("KmsWindowsVm refuses what Azure cannot boot", () => {
    test.each(["PremiumV2_LRS", "UltraSSD_LRS"])("osDiskType %s: data disks only", async (osDiskType) => {
        expect(refusal(() => new t.m.KmsWindowsVm("app-01", { resourceGroupName: "rg", subnetId: SUBNET_ID, ...CREDENTIALS, osDiskType }))).toBe(
            `KmsWindowsVm "app-01": osDiskType: "${osDiskType}" cannot hold an OS disk (Azure supports it for data disks only); use Premium_LRS or Premium_ZRS for a fast OS disk`,
        );
        await t.h.settle();
        expect(t.h.custom()).toEqual([]);
    });

    test.each(["Standard_LRS", "StandardSSD_LRS", "Premium_LRS", "StandardSSD_ZRS", "Premium_ZRS"])("osDiskType %s is an OS disk type", async (osDiskType) => {
        new t.m.KmsWindowsVm("app-01", { resourceGroupName: "rg", subnetId: SUBNET_ID, ...CREDENTIALS, osDiskType, readActivationResult: false });
        await t.h.settle();
        expect((t.h.one("azure-native:compute:VirtualMachine").inputs as any).storageProfile.osDisk.managedDisk.storageAccountType).toBe(osDiskType);
    });

    test("a generalized VHD (vhd.generalized: true) is refused with the fix, before the disk is imported", async () => {
        const message = refusal(
            () => new t.m.KmsWindowsVm("legacy-01", { resourceGroupName: "rg", subnetId: SUBNET_ID, vhd: { sourceUri: VHD, storageAccountId: STORAGE, generalized: true } }),
        );
        expect(message).toBe(
            'KmsWindowsVm "legacy-01": vhd.generalized: a generalized (sysprepped) VHD cannot be attached as an OS disk: the VM stops in Windows setup (OOBE), ' +
                "its VM agent never reports and the activation extension times out; build an image from the VHD (compute.Image with osState Generalized, " +
                "or a gallery image version) and pass its ID as customImageId, with adminUsername and adminPassword",
        );
        await t.h.settle();
        expect(t.h.custom()).toEqual([]);
    });

    test("a specialized VHD (generalized: false, or left out) is imported and attached", async () => {
        new t.m.KmsWindowsVm("legacy-01", { resourceGroupName: "rg", subnetId: SUBNET_ID, vhd: { sourceUri: VHD, storageAccountId: STORAGE, generalized: false }, readActivationResult: false });
        await t.h.settle();
        expect(t.h.one("azure-native:compute:Disk").inputs).toMatchObject({ creationData: { createOption: "Import", sourceUri: VHD } });
        expect((t.h.one("azure-native:compute:VirtualMachine").inputs as any).storageProfile.osDisk.createOption).toBe("Attach");
    });
});
