import { runExample } from "../../scripts/examples";
import { guestSettings, isSecretValue, secretValue } from "../harness";

test("quickstart: resource group, KMS network with NAT gateway, one activated Azure Edition VM", async () => {
    const { harness: h } = await runExample("quickstart");
    expect(h.summary((r) => r.custom)).toEqual([
        "azure-native:compute:VirtualMachine kms-vm-01-vm",
        "azure-native:compute:VirtualMachineExtension kms-vm-01-activation-extension",
        "azure-native:network:NatGateway kms-net-nat",
        "azure-native:network:NetworkInterface kms-vm-01-nic",
        "azure-native:network:NetworkSecurityGroup kms-net-nsg",
        "azure-native:network:PublicIPAddress kms-net-nat-ip",
        "azure-native:network:Route kms-net-kms-route-20-118-99-224",
        "azure-native:network:Route kms-net-kms-route-23-102-135-246",
        "azure-native:network:Route kms-net-kms-route-40-83-235-53",
        "azure-native:network:RouteTable kms-net-routes",
        "azure-native:network:SecurityRule kms-net-kms-rule",
        "azure-native:network:Subnet kms-net-subnet",
        "azure-native:network:VirtualNetwork kms-net-vnet",
        "azure-native:resources:ResourceGroup kms-quickstart",
    ]);
    const vm = h.one("azure-native:compute:VirtualMachine").inputs as any;
    expect(vm.storageProfile.imageReference.sku).toBe("2022-datacenter-azure-edition");
    expect(isSecretValue(vm.osProfile.adminPassword)).toBe(true);
    const ext = h.one("azure-native:compute:VirtualMachineExtension");
    expect(guestSettings(secretValue(ext.inputs.protectedSettings).commandToExecute).kmsHosts).toEqual(["azkms.core.windows.net"]);
    const rules = h.registrations.filter((r) => /Route$|SecurityRule$/.test(r.type)).map((r) => r.urn);
    expect(rules.every((u) => ext.dependencies.includes(u))).toBe(true);
    // The subnet, route table and NSG the program declares are read offline from their own registrations, once each
    // (the egress rules' reads and the VM's subnet check share them): private, with the NAT gateway.
    expect(h.invokes.map((i) => i.token).sort()).toEqual(["azure-native:network:getNetworkSecurityGroup", "azure-native:network:getRouteTable", "azure-native:network:getSubnet"]);
});
