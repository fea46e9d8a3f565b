import * as pulumi from "@pulumi/pulumi";
import { mockedPackage, subnetWithNatGateway, SUBSCRIPTION } from "./harness";
import * as validate from "../src/validate";

const t = mockedPackage(subnetWithNatGateway);

const SUBNET_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/vms`;
const CREDENTIALS = { adminUsername: "kmsadmin", adminPassword: "Correct-Horse-7-Battery" };
// The form of a product key, but no KMS client key: what a MAK or retail key looks like.
const NOT_A_GVLK = "ABCDE-FGHJK-MNPQR-STVWX-YZ234";
const NOT_GVLK_MESSAGE =
    "productKey: is not a KMS client setup key (GVLK); a MAK or retail key activates against Microsoft, not KMS, and would be written into the guest's logs; " +
    'leave productKey out (the key follows imageSku or the edition the guest detects), or give the edition\'s KMS client key from Microsoft\'s "KMS client activation keys" page';

// Every KMS client setup key of facts §3 (Microsoft's page, 2024-10-01; multi-session from third-party lists).
const FACTS_KEYS: [string, string][] = [
    ["TVRH6-WHNXV-R9WG3-9XRFY-MY832", "Windows Server 2025 Standard"],
    ["D764K-2NDRG-47T6Q-P8T8W-YP6DF", "Windows Server 2025 Datacenter"],
    ["XGN3F-F394H-FD2MY-PP6FD-8MCRC", "Windows Server 2025 Datacenter: Azure Edition"],
    ["VDYBN-27WPP-V4HQT-9VMD4-VMK7H", "Windows Server 2022 Standard"],
    ["WX4NM-KYWYW-QJJR4-XV3QB-6VM33", "Windows Server 2022 Datacenter"],
    ["NTBV8-9K7Q8-V27C6-M2BTV-KHMXV", "Windows Server 2022 Datacenter: Azure Edition"],
    ["N69G4-B89J2-4G8F4-WWYCC-J464C", "Windows Server 2019 Standard"],
    ["WMDGN-G9PQG-XVVXX-R3X43-63DFG", "Windows Server 2019 Datacenter"],
    ["WVDHN-86M7X-466P6-VHXV7-YY726", "Windows Server 2019 Essentials"],
    ["WC2BQ-8NRM3-FDDYY-2BFGV-KHKQY", "Windows Server 2016 Standard"],
    ["CB7KF-BWN84-R7R2Y-793K2-8XDDG", "Windows Server 2016 Datacenter"],
    ["JCKRF-N37P4-C2D82-9YXRT-4M63B", "Windows Server 2016 Essentials"],
    ["D2N9P-3P6X9-2R39C-7RTCD-MDVJX", "Windows Server 2012 R2 Standard"],
    ["W3GGN-FT8W3-Y4M27-J84CP-Q3VJ9", "Windows Server 2012 R2 Datacenter"],
    ["KNC87-3J2TX-XB4WP-VCPJV-M4FWM", "Windows Server 2012 R2 Essentials"],
    ["XC9B7-NBPP2-83J2H-RHMBY-92BT4", "Windows Server 2012 Standard"],
    ["48HP8-DN98B-MYWDG-T2DCC-8W83P", "Windows Server 2012 Datacenter"],
    ["HTDQM-NBMMG-KGYDT-2DTKT-J2MPV", "Windows Server 2012 Essentials"],
    ["YC6KT-GKW9T-YTKYR-T4X34-R7VHC", "Windows Server 2008 R2 Standard"],
    ["74YFP-3QFB3-KQT8W-PMXWJ-7M648", "Windows Server 2008 R2 Datacenter"],
    ["489J6-VHDMP-X63PK-3K798-CPX3Y", "Windows Server 2008 R2 Enterprise"],
    ["NPPR9-FWDCX-D2C8J-H872K-2YT43", "Windows 10/11 Enterprise"],
    ["W269N-WFGWX-YVC9B-4J6C9-T83GX", "Windows 10/11 Pro"],
    ["NW6C2-QMPVW-D7KKK-3GKT6-VCFB2", "Windows 10/11 Education"],
    ["M7XTQ-FN8P6-TTKYV-9D4CC-J462D", "Windows 10/11 Enterprise LTSC 2019/2021/2024"],
    ["CPWHC-NT2C7-VYW78-DHDB2-PG3GK", "Windows 10/11 Enterprise multi-session"],
];

describe("productKey: only a KMS client setup key reaches the guest", () => {
    test.each(FACTS_KEYS)("%s is the KMS client key of %s", (key, product) => {
        expect(t.m.kmsClientKeyProduct(key)).toBe(product);
        expect(() => validate.kmsClientKey("productKey", key)).not.toThrow();
    });

    test("the key table holds exactly the keys of the facts file", () => {
        const inTable = [...t.m.windowsServerReleases.flatMap((r) => Object.values(r.keys)), ...Object.values(t.m.windowsClientKeys)].sort();
        expect(inTable).toEqual(FACTS_KEYS.map(([k]) => k).sort());
    });

    test.each<[string, () => unknown, string]>([
        ["KmsActivation, a MAK or retail key", () => new t.m.KmsActivation("a", { resourceGroupName: "rg", vmName: "vm-01", productKey: NOT_A_GVLK }), `KmsActivation "a": ${NOT_GVLK_MESSAGE}`],
        ["KmsWindowsVm, a MAK or retail key", () => new t.m.KmsWindowsVm("w", { resourceGroupName: "rg", subnetId: SUBNET_ID, ...CREDENTIALS, productKey: NOT_A_GVLK }), `KmsWindowsVm "w": ${NOT_GVLK_MESSAGE}`],
        [
            "KmsActivation, another edition's KMS client key than imageSku",
            () => new t.m.KmsActivation("a", { resourceGroupName: "rg", vmName: "vm-01", imageSku: "2022-datacenter-g2", productKey: "WMDGN-G9PQG-XVVXX-R3X43-63DFG" }),
            'KmsActivation "a": productKey: is the KMS client key of Windows Server 2019 Datacenter, but imageSku "2022-datacenter-g2" is Windows Server 2022 Datacenter; ' +
                "leave productKey out (imageSku picks the right key) or give that edition's KMS client key",
        ],
        [
            "KmsWindowsVm, the image's SKU decides (default image: 2022 Datacenter: Azure Edition)",
            () => new t.m.KmsWindowsVm("w", { resourceGroupName: "rg", subnetId: SUBNET_ID, ...CREDENTIALS, productKey: "WX4NM-KYWYW-QJJR4-XV3QB-6VM33" }),
            'KmsWindowsVm "w": productKey: is the KMS client key of Windows Server 2022 Datacenter, but imageSku "2022-datacenter-azure-edition" is Windows Server 2022 Datacenter: Azure Edition; ' +
                "leave productKey out (imageSku picks the right key) or give that edition's KMS client key",
        ],
    ])("refused: %s (the key is never echoed)", (_label, make, message) => {
        let error: unknown;
        try {
            make();
        } catch (err) {
            error = err;
        }
        expect(error).toBeInstanceOf(t.m.KmsInputError);
        expect((error as Error).message).toBe(message);
        expect((error as Error).message).not.toMatch(/ABCDE-FGHJK|WMDGN-G9PQG|WX4NM-KYWYW/);
    });

    test.each<[string, object]>([
        ["the image SKU's own key", { imageSku: "2019-datacenter-core-smalldisk", productKey: "WMDGN-G9PQG-XVVXX-R3X43-63DFG" }],
        ["any KMS client key when the SKU names no edition the table knows", { imageSku: "win11-24h2-avd", productKey: "CPWHC-NT2C7-VYW78-DHDB2-PG3GK" }],
        ["a client edition's key without a SKU", { productKey: "NPPR9-FWDCX-D2C8J-H872K-2YT43" }],
        ["a secret key that matches", { imageSku: "2025-datacenter-azure-edition", productKey: pulumi.secret("XGN3F-F394H-FD2MY-PP6FD-8MCRC") }],
    ])("accepted: %s", async (_label, options) => {
        new t.m.KmsActivation("a", { resourceGroupName: "rg", vmName: "vm-01", readActivationResult: false, ...options });
        await t.h.settle();
        expect(t.h.ofType("azure-native:compute:VirtualMachineExtension")).toHaveLength(1);
    });

    test("KmsWindowsVm: the image's SKU picks which key is right; a custom image takes any KMS client key", async () => {
        new t.m.KmsWindowsVm("ws2019", {
            resourceGroupName: "rg",
            subnetId: SUBNET_ID,
            ...CREDENTIALS,
            image: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2019-datacenter-gensecond" },
            productKey: "WMDGN-G9PQG-XVVXX-R3X43-63DFG",
            readActivationResult: false,
        });
        new t.m.KmsWindowsVm("avd", {
            resourceGroupName: "rg",
            subnetId: SUBNET_ID,
            ...CREDENTIALS,
            customImageId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/img/providers/Microsoft.Compute/galleries/g/images/avd/versions/1.0.0`,
            productKey: "CPWHC-NT2C7-VYW78-DHDB2-PG3GK",
            readActivationResult: false,
        });
        await t.h.settle();
        expect(t.h.ofType("azure-native:compute:VirtualMachineExtension")).toHaveLength(2);
    });
});

describe("one activation per VM in a program", () => {
    const refusal = (make: () => unknown) => {
        try {
            make();
        } catch (err) {
            return (err as Error).message;
        }
        return undefined;
    };

    test("a second KmsActivation on the same VM (names compare case-insensitively) is refused with the name of the first", () => {
        new t.m.KmsActivation("first", { resourceGroupName: "rg-app", vmName: "app-01" });
        expect(refusal(() => new t.m.KmsActivation("second", { resourceGroupName: "RG-App", vmName: "APP-01", mechanism: t.m.ActivationMechanism.RunCommand }))).toBe(
            'KmsActivation "second": vmName: VM "APP-01" in resource group "RG-App" is already activated by KmsActivation "first" ' +
                "(Azure allows one CustomScriptExtension per VM, and two activations would race in the guest); keep one activation per VM",
        );
    });

    test("a KmsActivation aimed at a KmsWindowsVm's VM is refused with the VM component's name; and the other way round", async () => {
        new t.m.KmsWindowsVm("app-01", { resourceGroupName: "rg", subnetId: SUBNET_ID, ...CREDENTIALS });
        expect(refusal(() => new t.m.KmsActivation("again", { resourceGroupName: "rg", vmName: "app-01" }))).toMatch(
            /^KmsActivation "again": vmName: VM "app-01" in resource group "rg" is already activated by KmsWindowsVm "app-01" /,
        );
        new t.m.KmsActivation("existing", { resourceGroupName: "rg", vmName: "app-02" });
        expect(refusal(() => new t.m.KmsWindowsVm("app-02", { resourceGroupName: "rg", subnetId: SUBNET_ID, ...CREDENTIALS }))).toMatch(
            /^KmsWindowsVm "app-02": vmName: VM "app-02" in resource group "rg" is already activated by KmsActivation "existing" /,
        );
        // The KmsWindowsVm's own activation claims its VM once the VM's name resolves: no conflict with its parent.
        await t.h.settle();
    });

    test("the same VM name in another resource group, and a KmsWindowsVm with its own activation, are fine", async () => {
        new t.m.KmsActivation("a", { resourceGroupName: "rg-a", vmName: "app-01", readActivationResult: false });
        new t.m.KmsActivation("b", { resourceGroupName: "rg-b", vmName: "app-01", readActivationResult: false });
        new t.m.KmsWindowsVm("app-01", { resourceGroupName: "rg", subnetId: SUBNET_ID, ...CREDENTIALS, readActivationResult: false });
        await t.h.settle();
        expect(t.h.ofType("azure-native:compute:VirtualMachineExtension")).toHaveLength(3);
    });
});
