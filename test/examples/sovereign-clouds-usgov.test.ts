import { runExample } from "../../scripts/examples";
import { guestSettings, secretValue } from "../harness";

test("sovereign-clouds: routes, rule and guest use that cloud's KMS (2 routes: 13 Azure resources)", async () => {
    const { harness: h } = await runExample("sovereign-clouds");
    expect(h.ofType("azure-native:network:Route").map((r) => r.inputs.addressPrefix)).toEqual(["52.126.105.2/32", "23.97.0.13/32"]);
    expect(h.one("azure-native:network:SecurityRule").inputs.destinationAddressPrefixes).toEqual(["52.126.105.2/32", "23.97.0.13/32"].map((p) => p.replace("/32", "")));
    const command = secretValue(h.one("azure-native:compute:VirtualMachineExtension").inputs.protectedSettings).commandToExecute;
    expect(guestSettings(command).kmsHosts).toEqual(["azkms.core.usgovcloudapi.net"]);
    expect(h.custom()).toHaveLength(13);
});
