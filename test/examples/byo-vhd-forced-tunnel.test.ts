import { runExample } from "../../scripts/examples";
import { secretValue, guestArguments, guestSettings } from "../harness";

test("byo-vhd-forced-tunnel: the spoke's own table and NSG get standalone KMS routes and rule; the VHD VM detects its key", async () => {
    const { harness: h, unreadSubnets } = await runExample("byo-vhd-forced-tunnel");
    expect(h.summary((r) => r.custom)).toEqual([
        "azure-native:compute:Disk legacy-app-01-os-disk",
        "azure-native:compute:VirtualMachine legacy-app-01-vm",
        "azure-native:compute:VirtualMachineExtension legacy-app-01-activation-extension",
        "azure-native:network:NatGateway spoke-nat",
        "azure-native:network:NetworkInterface legacy-app-01-nic",
        "azure-native:network:NetworkSecurityGroup spoke-nsg",
        "azure-native:network:PublicIPAddress spoke-nat-ip",
        "azure-native:network:Route spoke-default-to-nva",
        "azure-native:network:Route spoke-kms-route-20-118-99-224",
        "azure-native:network:Route spoke-kms-route-23-102-135-246",
        "azure-native:network:Route spoke-kms-route-40-83-235-53",
        "azure-native:network:RouteTable spoke-routes",
        "azure-native:network:SecurityRule spoke-deny-internet-out",
        "azure-native:network:SecurityRule spoke-kms-rule",
        "azure-native:network:Subnet spoke-workloads",
        "azure-native:network:VirtualNetwork spoke-vnet",
        "azure-native:resources:ResourceGroup spoke",
    ]);
    // No inline children on what the spoke owns: the package's routes and rule cannot be wiped.
    expect(h.one("azure-native:network:RouteTable").inputs.routes).toBeUndefined();
    expect(h.one("azure-native:network:NetworkSecurityGroup").inputs.securityRules).toBeUndefined();
    const kmsRule = h.registrations.find((r) => r.name === "spoke-kms-rule")!;
    expect(kmsRule.inputs.priority).toBe(200);
    expect((kmsRule.inputs.priority as number) < (h.registrations.find((r) => r.name === "spoke-deny-internet-out")!.inputs.priority as number)).toBe(true);
    const vm = h.one("azure-native:compute:VirtualMachine").inputs as any;
    expect(vm.storageProfile.osDisk.createOption).toBe("Attach");
    const command = secretValue(h.one("azure-native:compute:VirtualMachineExtension").inputs.protectedSettings).commandToExecute;
    expect(guestSettings(command).kmsHosts[0]).toBe("20.118.99.224");
    expect(guestArguments(command)).not.toContain("ProductKey=");
    expect(guestSettings(command).detectionTable[0]).toMatch(/^26100:Standard:/);
    expect(unreadSubnets).toEqual([]);
});
