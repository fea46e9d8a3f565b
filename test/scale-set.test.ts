import * as pulumi from "@pulumi/pulumi";
import { guestSettings, mockedPackage, refusal, secretValue, valueOf } from "./harness";

const t = mockedPackage();

const VMSS_EXT = "azure-native:compute:VirtualMachineScaleSetExtension";

describe("KmsActivation on a scale set", () => {
    test("vmScaleSetName: one VirtualMachineScaleSetExtension named KmsActivation, the same secret command and forceUpdateTag as for a VM", async () => {
        const activation = new t.m.KmsActivation("web", { resourceGroupName: "rg", vmScaleSetName: "vmss-web", imageSku: "2022-datacenter-azure-edition" });
        await t.h.settle();
        expect(t.h.summary()).toEqual(["azure-kms-activation:index:KmsActivation web", `${VMSS_EXT} web-scale-set-extension`]);
        const inputs = t.h.one(VMSS_EXT).inputs;
        expect(inputs).toMatchObject({
            resourceGroupName: "rg",
            vmScaleSetName: "vmss-web",
            vmssExtensionName: "KmsActivation",
            publisher: "Microsoft.Compute",
            type: "CustomScriptExtension",
            typeHandlerVersion: "1.10",
            autoUpgradeMinorVersion: true,
        });
        const expected = t.m.renderActivationScript({ imageSku: "2022-datacenter-azure-edition" });
        expect(secretValue(inputs.protectedSettings).commandToExecute).toBe(expected.commandToExecute);
        expect(inputs.forceUpdateTag).toBe(expected.fingerprint);
        expect(inputs.settings).toBeUndefined();
        // The result is per instance: nothing is read, the status says unknown.
        expect(await valueOf(activation.activationStatus)).toBe("unknown");
        expect(t.h.invokes).toEqual([]);
    });

    test.each<[string, object, string]>([
        ["both targets", { vmName: "vm-01", vmScaleSetName: "vmss-web" }, 'KmsActivation "web": vmName, vmScaleSetName: both are set; give vmName for a VM or vmScaleSetName for a scale set, not both'],
        ["no target", {}, 'KmsActivation "web": vmName, vmScaleSetName: neither is set; give vmName for a VM or vmScaleSetName for a scale set'],
        [
            "RunCommand on a scale set",
            { vmScaleSetName: "vmss-web", mechanism: "RunCommand" },
            'KmsActivation "web": mechanism: RunCommand cannot target a scale set (a managed Run Command runs on one VM); leave mechanism out, a scale set gets the CustomScriptExtension',
        ],
    ])("refused: %s", async (_label, patch, message) => {
        expect(refusal(() => new t.m.KmsActivation("web", { resourceGroupName: "rg", ...patch } as any))).toBe(message);
        await t.h.settle();
        expect(t.h.custom()).toEqual([]);
    });

    test("one activation per scale set, and a scale set does not collide with a VM of the same name", async () => {
        new t.m.KmsActivation("a", { resourceGroupName: "rg", vmScaleSetName: "web" });
        new t.m.KmsActivation("vm", { resourceGroupName: "rg", vmName: "web", readActivationResult: false });
        expect(refusal(() => new t.m.KmsActivation("b", { resourceGroupName: "RG", vmScaleSetName: "WEB" }))).toMatch(
            /^KmsActivation "b": vmScaleSetName: scale set "WEB" in resource group "RG" is already activated by KmsActivation "a" /,
        );
        await t.h.settle();
    });

    test("kmsActivationScaleSetExtension: the entry for an inline extensionProfile, with the same command and checks", async () => {
        const entry = t.m.kmsActivationScaleSetExtension({ imageSku: "2019-datacenter", kmsHostForm: t.m.KmsHostForm.IpAddress });
        const expected = t.m.renderActivationScript({ imageSku: "2019-datacenter", kmsHostForm: t.m.KmsHostForm.IpAddress });
        expect({ ...entry, protectedSettings: undefined }).toEqual({
            name: "KmsActivation",
            publisher: "Microsoft.Compute",
            type: "CustomScriptExtension",
            typeHandlerVersion: "1.10",
            autoUpgradeMinorVersion: true,
            forceUpdateTag: expected.fingerprint,
            protectedSettings: undefined,
        });
        expect(pulumi.Output.isInstance(entry.protectedSettings)).toBe(true);
        expect(await pulumi.isSecret(entry.protectedSettings)).toBe(true);
        // IpAddress host form: the guest tries every KMS address of the cloud, the first one first.
        expect(guestSettings(((await valueOf(entry.protectedSettings)) as { commandToExecute: string }).commandToExecute).kmsHosts).toEqual(["20.118.99.224", "40.83.235.53", "23.102.135.246"]);
        expect(refusal(() => t.m.kmsActivationScaleSetExtension({ productKey: "ABCDE-FGHJK-MNPQR-STVWX-YZ234" }))).toMatch(/^productKey: is not a KMS client setup key \(GVLK\)/);
    });
});
