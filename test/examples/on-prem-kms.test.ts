import { ExampleRun, runExample } from "../../scripts/examples";
import { secretValue, guestSettings } from "../harness";

// The program runs once per process (require caches it): both tests read the same run.
let run: ExampleRun;
beforeAll(async () => {
    run = await runExample("on-prem-kms");
});

test("on-prem-kms: no Internet routes, no NAT gateway, the rule and the guest point at the on-premises KMS", async () => {
    const h = run.harness;
    expect(h.summary((r) => r.custom)).toEqual([
        "azure-native:compute:VirtualMachine app-01-vm",
        "azure-native:compute:VirtualMachineExtension app-01-activation-extension",
        "azure-native:network:NetworkInterface app-01-nic",
        "azure-native:network:NetworkSecurityGroup spoke-nsg",
        "azure-native:network:RouteTable spoke-routes",
        "azure-native:network:SecurityRule spoke-kms-rule",
        "azure-native:network:Subnet spoke-subnet",
        "azure-native:network:VirtualNetwork spoke-vnet",
        "azure-native:network:VirtualNetworkPeering spoke-to-hub",
        "azure-native:resources:ResourceGroup onprem-kms",
    ]);
    expect(h.one("azure-native:network:SecurityRule").inputs).toMatchObject({
        destinationAddressPrefixes: ["10.50.0.10/32", "10.50.0.11/32"],
        destinationPortRange: "1688",
    });
    expect(h.one("azure-native:network:VirtualNetworkPeering").inputs).toMatchObject({ useRemoteGateways: true });
    const command = secretValue(h.one("azure-native:compute:VirtualMachineExtension").inputs.protectedSettings).commandToExecute;
    expect(guestSettings(command)).toMatchObject({ kmsHosts: ["kms01.corp.contoso.com"], kmsAddresses: ["10.50.0.10/32", "10.50.0.11/32"] });
    // An on-premises KMS is reached privately: the private subnet without NAT is not a problem, so it is not read;
    // only the NSG the rule goes into is read once (its priorities), from the program's own declaration.
    expect(h.invokes).toEqual([{ token: "azure-native:network:getNetworkSecurityGroup", inputs: { resourceGroupName: "onprem-kms", networkSecurityGroupName: "spoke-nsg" } }]);
});

test("on-prem-kms: the activation waits for the hub peering (the only path to the on-premises KMS) and the NSG rule", async () => {
    const h = run.harness;
    const extension = h.one("azure-native:compute:VirtualMachineExtension");
    expect(extension.dependencies).toEqual(
        expect.arrayContaining([h.one("azure-native:network:VirtualNetworkPeering").urn, h.one("azure-native:network:SecurityRule").urn]),
    );
});
