import { mockedPackage, refusal, subnetWithNatGateway, SUBSCRIPTION } from "./harness";

// Inputs Azure accepts in the API but that cannot deploy a working Windows VM: refused before anything is created.
const t = mockedPackage(subnetWithNatGateway);

const SUBNET_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/vms`;
const STORAGE = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/vhds`;
const VHD = "https://vhds.blob.core.windows.net/vhds/legacy-01.vhd";
const CREDENTIALS = { adminUsername: "kmsadmin", adminPassword: "Correct-Horse-7-Battery" };

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

describe("KmsWindowsVm baseline: licence and zone", () => {
    test("licenseType and zone reach the VM; an imported disk sits in the same zone", async () => {
        new t.m.KmsWindowsVm("app-01", {
            resourceGroupName: "rg",
            subnetId: SUBNET_ID,
            ...CREDENTIALS,
            licenseType: t.m.WindowsLicenseType.Windows_Server,
            zone: "2",
            readActivationResult: false,
        });
        new t.m.KmsWindowsVm("legacy-01", { resourceGroupName: "rg", subnetId: SUBNET_ID, vhd: { sourceUri: VHD, storageAccountId: STORAGE }, zone: "3", readActivationResult: false });
        await t.h.settle();
        const vms = t.h.ofType("azure-native:compute:VirtualMachine").map((r) => [r.name, r.inputs.licenseType, r.inputs.zones]);
        expect(vms.sort()).toEqual([
            ["app-01-vm", "Windows_Server", ["2"]],
            ["legacy-01-vm", undefined, ["3"]],
        ]);
        expect(t.h.one("azure-native:compute:Disk").inputs.zones).toEqual(["3"]);
    });

    test("without them the VM has no licence type and no zone (pay as you go, regional)", async () => {
        new t.m.KmsWindowsVm("app-01", { resourceGroupName: "rg", subnetId: SUBNET_ID, ...CREDENTIALS, readActivationResult: false });
        await t.h.settle();
        const inputs = t.h.one("azure-native:compute:VirtualMachine").inputs;
        expect("licenseType" in inputs || "zones" in inputs).toBe(false);
    });

    test.each<[string, object, string]>([
        ["licenseType", { licenseType: "Windows_Enterprise" }, 'KmsWindowsVm "app-01": licenseType: "Windows_Enterprise" is not allowed; use one of Windows_Server, Windows_Client'],
        ["zone", { zone: "4" }, 'KmsWindowsVm "app-01": zone: "4" is not an availability zone; give "1", "2" or "3" (a zone number as a string), or leave it out'],
        ["zone", { zone: "westeurope-1" }, 'KmsWindowsVm "app-01": zone: "westeurope-1" is not an availability zone; give "1", "2" or "3" (a zone number as a string), or leave it out'],
    ])("%s refused: %j", async (_field, patch, message) => {
        expect(refusal(() => new t.m.KmsWindowsVm("app-01", { resourceGroupName: "rg", subnetId: SUBNET_ID, ...CREDENTIALS, ...patch }))).toBe(message);
        await t.h.settle();
        expect(t.h.custom()).toEqual([]);
    });
});

describe("KmsWindowsVm: anything else through transformations", () => {
    test("a transformation in the component's options edits the VirtualMachine (Trusted Launch, as the README shows)", async () => {
        const securityProfile = { securityType: "TrustedLaunch", uefiSettings: { secureBootEnabled: true, vTpmEnabled: true } };
        new t.m.KmsWindowsVm(
            "app-01",
            { resourceGroupName: "rg", subnetId: SUBNET_ID, ...CREDENTIALS, readActivationResult: false },
            {
                transformations: [({ type, props, opts }) => (type === "azure-native:compute:VirtualMachine" ? { props: { ...props, securityProfile }, opts } : undefined)],
            },
        );
        await t.h.settle();
        expect(t.h.one("azure-native:compute:VirtualMachine").inputs.securityProfile).toEqual(securityProfile);
        // The components' own transformation still drops azure-native's version aliases after the user's ran.
        expect(t.h.one("azure-native:compute:VirtualMachine").aliases).toBe(0);
    });
});
