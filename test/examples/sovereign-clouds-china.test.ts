import { runExample } from "../../scripts/examples";
import { guestSettings, secretValue } from "../harness";

test("sovereign-clouds:china: routes, rule and guest use that cloud's KMS (3 routes: 14 Azure resources)", async () => {
    const { harness: h } = await runExample("sovereign-clouds:china");
    expect(h.ofType("azure-native:network:Route").map((r) => r.inputs.addressPrefix)).toEqual(["159.27.28.100/32", "163.228.64.161/32", "42.159.7.249/32"]);
    expect(h.one("azure-native:network:SecurityRule").inputs.destinationAddressPrefixes).toEqual(["159.27.28.100/32", "163.228.64.161/32", "42.159.7.249/32"].map((p) => p.replace("/32", "")));
    const command = secretValue(h.one("azure-native:compute:VirtualMachineExtension").inputs.protectedSettings).commandToExecute;
    expect(guestSettings(command).kmsHosts).toEqual(["azkms.core.chinacloudapi.cn"]);
    expect(h.custom()).toHaveLength(14);
});
