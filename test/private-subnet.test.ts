import * as pulumi from "@pulumi/pulumi";
import { anyOf, emptyRouteTablesAndNsgs, InvokeMock, mockedPackage, SUBSCRIPTION } from "./harness";

const subnetId = (vnet: string, subnet: string) =>
    `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-spoke/providers/Microsoft.Network/virtualNetworks/${vnet}/subnets/${subnet}`;

// Subnets named "nat-*" have a NAT gateway; every other subnet is private with no way out.
const subnets: InvokeMock = (token, inputs) => {
    if (token !== "azure-native:network:getSubnet") {
        return undefined;
    }
    const name = String(inputs.subnetName);
    return name.startsWith("nat-")
        ? { name, defaultOutboundAccess: false, natGateway: { id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/natGateways/n" } }
        : { name, defaultOutboundAccess: false };
};

const t = mockedPackage(anyOf(subnets, emptyRouteTablesAndNsgs));
// These VMs' activation results are not read back: the invokes and warnings counted here are the subnet check's.
const CREDENTIALS = { adminUsername: "kmsadmin", adminPassword: "Correct-Horse-7-Battery", readActivationResult: false };
const WARNING =
    'subnet "private-a" (virtual network "spoke-vnet", resource group "rg-spoke") is private (defaultOutboundAccess: false) and has no NAT gateway: ' +
    "Windows VMs in it cannot activate, because Azure KMS accepts requests only from an Azure public IP and the /32 Internet routes do not help without one. " +
    "Fix one of: attach a NAT gateway to the subnet (Microsoft's recommendation; KmsNetwork does it by default), give the VM's NIC a public IP, " +
    "add load-balancer outbound rules, or send 0.0.0.0/0 to a hub firewall or NVA that SNATs to a public IP and allows TCP 1688 with a network rule " +
    "(then leave routeTableName out of KmsEgressRules). Set privateSubnetCheck: Off to silence this.";

let warn: jest.SpyInstance;
beforeEach(() => {
    warn = jest.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
});
afterEach(() => warn.mockRestore());

describe("private subnets without explicit outbound", () => {
    test("KmsWindowsVm: warns once per subnet, naming it, why, and the fixes; the deployment goes on", async () => {
        for (const name of ["vm-a", "vm-b"]) {
            new t.m.KmsWindowsVm(name, { resourceGroupName: "rg-spoke", subnetId: subnetId("spoke-vnet", "private-a"), ...CREDENTIALS });
        }
        await t.h.settle();
        expect(warn.mock.calls.map((c) => c[0])).toEqual([WARNING]);
        expect(t.h.invokes.map((i) => i.inputs)).toEqual([{ resourceGroupName: "rg-spoke", virtualNetworkName: "spoke-vnet", subnetName: "private-a" }]);
        expect(t.h.ofType("azure-native:compute:VirtualMachine")).toHaveLength(2);
        expect(t.h.ofType("azure-native:compute:VirtualMachineExtension")).toHaveLength(2);
    });

    test("a subnet with a NAT gateway: no warning", async () => {
        new t.m.KmsWindowsVm("vm-c", { resourceGroupName: "rg-spoke", subnetId: subnetId("spoke-vnet", "nat-a"), ...CREDENTIALS });
        await t.h.settle();
        expect(t.h.invokes).toHaveLength(1);
        expect(warn).not.toHaveBeenCalled();
    });

    test("privateSubnetCheck Off: the subnet is not even read", async () => {
        new t.m.KmsWindowsVm("vm-d", { resourceGroupName: "rg-spoke", subnetId: subnetId("spoke-vnet", "private-d"), privateSubnetCheck: t.m.PrivateSubnetCheck.Off, ...CREDENTIALS });
        await t.h.settle();
        expect(t.h.invokes).toEqual([]);
        expect(warn).not.toHaveBeenCalled();
    });

    test("an on-premises KMS is reached privately: the subnet is not read", async () => {
        const customKmsServer = { host: "kms01.corp.contoso.com", addressPrefixes: ["10.50.0.10/32"] };
        new t.m.KmsWindowsVm("vm-g", { resourceGroupName: "rg-spoke", subnetId: subnetId("spoke-vnet", "private-g"), customKmsServer, ...CREDENTIALS });
        new t.m.KmsEgressRules("spoke-g", { resourceGroupName: "rg-spoke", networkSecurityGroupName: "nsg", subnetId: subnetId("spoke-vnet", "private-g"), customKmsServer });
        await t.h.settle();
        // Only the NSG the rule goes into is read (its priorities), never the subnet.
        expect(t.h.invokes.map((i) => i.token)).toEqual(["azure-native:network:getNetworkSecurityGroup"]);
        expect(warn).not.toHaveBeenCalled();
    });

    test("KmsEgressRules with subnetId: the same check for brownfield spokes", async () => {
        new t.m.KmsEgressRules("spoke-b", { resourceGroupName: "rg-spoke", routeTableName: "rt", networkSecurityGroupName: "nsg", subnetId: subnetId("spoke-b-vnet", "private-b") });
        await t.h.settle();
        expect(warn).toHaveBeenCalledTimes(1);
        expect(warn.mock.calls[0][0]).toMatch(/^subnet "private-b" \(virtual network "spoke-b-vnet", resource group "rg-spoke"\) is private/);
        expect(t.h.ofType("azure-native:network:Route")).toHaveLength(3);
    });

    test("KmsEgressRules without subnetId reads no subnet, only the NSG it adds to", async () => {
        new t.m.KmsEgressRules("spoke-c", { resourceGroupName: "rg-spoke", networkSecurityGroupName: "nsg" });
        await t.h.settle();
        expect(t.h.invokes).toEqual([{ token: "azure-native:network:getNetworkSecurityGroup", inputs: { resourceGroupName: "rg-spoke", networkSecurityGroupName: "nsg" } }]);
    });

    test("privateSubnetCheck Error: the check fails with the message instead of warning", async () => {
        const { checkSubnetOutbound } = await import("../src/network/subnetOutbound");
        const owner = new pulumi.ComponentResource("test:index:Owner", "owner");
        const { checkDestination } = await import("../src/network/subnetOutbound");
        const check = checkSubnetOutbound(subnetId("spoke-vnet", "private-e"), t.m.PrivateSubnetCheck.Error, owner, checkDestination({}));
        const internals = check as unknown as { promise(): Promise<unknown>; isKnown: Promise<boolean>; isSecret: Promise<boolean> };
        internals.isKnown.catch(() => undefined);
        internals.isSecret.catch(() => undefined);
        await expect(internals.promise()).rejects.toThrow(
            /^subnet "private-e" \(virtual network "spoke-vnet", resource group "rg-spoke"\) is private .* \(privateSubnetCheck: Error\)$/,
        );
        expect(warn).not.toHaveBeenCalled();
        await t.h.settle();
    });

    test("an unknown check mode is refused by name", () => {
        expect(() => new t.m.KmsWindowsVm("vm-f", { resourceGroupName: "rg", subnetId: subnetId("v", "s"), privateSubnetCheck: "Maybe" as never, ...CREDENTIALS })).toThrow(
            'KmsWindowsVm "vm-f": privateSubnetCheck: "Maybe" is not allowed; use one of Warn, Error, Off',
        );
    });
});
