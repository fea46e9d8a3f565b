import { runExample } from "../../scripts/examples";
import { guestArguments, guestSettings, secretValue } from "../harness";

test("sovereign-clouds: routes, rule and guest use that cloud's KMS (2 routes: 13 Azure resources)", async () => {
    const { harness: h } = await runExample("sovereign-clouds");
    expect(h.ofType("azure-native:network:Route").map((r) => r.inputs.addressPrefix)).toEqual(["52.126.105.2/32", "23.97.0.13/32"]);
    expect(h.one("azure-native:network:SecurityRule").inputs.destinationAddressPrefixes).toEqual(["52.126.105.2/32", "23.97.0.13/32"].map((p) => p.replace("/32", "")));
    const command = secretValue(h.one("azure-native:compute:VirtualMachineExtension").inputs.protectedSettings).commandToExecute;
    expect(guestSettings(command).kmsHosts).toEqual(["azkms.core.usgovcloudapi.net"]);
    // Azure Edition images are not a safe default outside the public cloud: a plain Datacenter Gen2 image, a size of
    // that cloud (see examples/sovereign-clouds/README.md for the sources and what is unverified).
    const vm = h.one("azure-native:compute:VirtualMachine").inputs as any;
    expect(vm.storageProfile.imageReference).toEqual({ publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter-g2", version: "latest" });
    expect(vm.hardwareProfile.vmSize).toBe("Standard_D2s_v3");
    // The image's KMS client key: Windows Server 2022 Datacenter's, not Azure Edition's.
    expect(guestArguments(command)).toContain("ProductKey='WX4NM-KYWYW-QJJR4-XV3QB-6VM33'");
    expect(h.custom()).toHaveLength(13);
});
