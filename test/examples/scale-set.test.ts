import { runExample } from "../../scripts/examples";
import { guestSettings, isSecretValue, secretValue } from "../harness";

test("scale-set: KMS network, a Flexible scale set of Azure Edition instances, KmsActivation's extension on its model", async () => {
    const { harness: h } = await runExample("scale-set");
    expect(h.summary((r) => r.custom)).toEqual([
        "azure-native:compute:VirtualMachineScaleSet web",
        "azure-native:compute:VirtualMachineScaleSetExtension web-activation-scale-set-extension",
        "azure-native:network:NatGateway kms-net-nat",
        "azure-native:network:NetworkSecurityGroup kms-net-nsg",
        "azure-native:network:PublicIPAddress kms-net-nat-ip",
        "azure-native:network:Route kms-net-kms-route-20-118-99-224",
        "azure-native:network:Route kms-net-kms-route-23-102-135-246",
        "azure-native:network:Route kms-net-kms-route-40-83-235-53",
        "azure-native:network:RouteTable kms-net-routes",
        "azure-native:network:SecurityRule kms-net-kms-rule",
        "azure-native:network:Subnet kms-net-subnet",
        "azure-native:network:VirtualNetwork kms-net-vnet",
        "azure-native:resources:ResourceGroup kms-scale-set",
    ]);
    const vmss = h.one("azure-native:compute:VirtualMachineScaleSet").inputs as any;
    expect(vmss).toMatchObject({
        vmScaleSetName: "vmss-web",
        orchestrationMode: "Flexible",
        platformFaultDomainCount: 1,
        singlePlacementGroup: false,
        sku: { name: "Standard_D2s_v5", capacity: 2 },
        upgradePolicy: { mode: "Automatic" },
    });
    const profile = vmss.virtualMachineProfile;
    expect(profile.osProfile).toMatchObject({ computerNamePrefix: "web", adminUsername: "kmsadmin", windowsConfiguration: { provisionVMAgent: true } });
    expect(isSecretValue(profile.osProfile.adminPassword)).toBe(true);
    expect(profile.storageProfile.imageReference).toEqual({ publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter-azure-edition", version: "latest" });
    expect(profile.networkProfile.networkApiVersion).toBe("2020-11-01");
    expect(profile.networkProfile.networkInterfaceConfigurations[0].ipConfigurations[0].subnet.id).toMatch(/\/virtualNetworks\/kms-net-vnet\/subnets\/kms-net-subnet$/);
    expect(profile.securityProfile).toEqual({ securityType: "TrustedLaunch", uefiSettings: { secureBootEnabled: true, vTpmEnabled: true } });
    // The scale set's extensions stay standalone: no inline list that would remove KmsActivation's on the next update.
    expect(profile.extensionProfile).toBeUndefined();

    const ext = h.one("azure-native:compute:VirtualMachineScaleSetExtension");
    expect(ext.inputs).toMatchObject({ vmScaleSetName: "vmss-web", vmssExtensionName: "KmsActivation", publisher: "Microsoft.Compute", type: "CustomScriptExtension", typeHandlerVersion: "1.10" });
    const settings = guestSettings(secretValue(ext.inputs.protectedSettings).commandToExecute);
    expect(settings).toMatchObject({ kmsHosts: ["azkms.core.windows.net"], kmsPort: 1688, keySource: "imageSku" });
    // The extension waits for the KMS routes and rule (activationWaitsFor) and for the scale set it goes on.
    const waited = h.registrations.filter((r) => /Route$|SecurityRule$|VirtualMachineScaleSet$/.test(r.type)).map((r) => r.urn);
    expect(waited.every((u) => ext.dependencies.includes(u))).toBe(true);
});
