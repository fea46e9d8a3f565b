import * as pulumi from "@pulumi/pulumi";
import { InvokeMock, mockedPackage, SUBSCRIPTION } from "./harness";

// The brownfield subnet check on the reachability engine: the subnet, its route table and its NSG are read (once
// each per program), what the program adds is merged in, and the engine's verdict decides what is said.
const RG = "rg-spoke";
const NET = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RG}/providers/Microsoft.Network`;
const subnetId = (subnet: string) => `${NET}/virtualNetworks/vnet-spoke/subnets/${subnet}`;

type Route = { name: string; addressPrefix: string; nextHopType: string; nextHopIpAddress?: string };
type Rule = { name: string; priority: number; direction: string; access: string; protocol: string; destinationAddressPrefix: string; destinationPortRange: string; sourceAddressPrefix: string; sourcePortRange: string };

// Each subnet names its route table and NSG by ID, as getSubnet returns them; the tables and NSGs are answered
// as getRouteTable / getNetworkSecurityGroup return them (azure-native's flattened shape).
interface Spoke {
    subnet: Record<string, unknown>;
    routes?: Route[];
    rules?: Rule[];
}

const denyInternet: Rule = {
    name: "deny-internet-out",
    priority: 4000,
    direction: "Outbound",
    access: "Deny",
    protocol: "*",
    destinationAddressPrefix: "Internet",
    destinationPortRange: "*",
    sourceAddressPrefix: "*",
    sourcePortRange: "*",
};

const spokes: Record<string, Spoke> = {
    // 0/0 to an appliance nothing in the program describes.
    "nva-spoke": { subnet: { addressPrefix: "10.30.1.0/24", defaultOutboundAccess: false }, routes: [{ name: "default-to-nva", addressPrefix: "0.0.0.0/0", nextHopType: "VirtualAppliance", nextHopIpAddress: "10.100.0.10" }] },
    // A hand-made /32 for one KMS IP that drops it.
    "none-spoke": { subnet: { addressPrefix: "10.31.1.0/24", natGateway: { id: `${NET}/natGateways/nat` } }, routes: [{ name: "block-kms", addressPrefix: "20.118.99.224/32", nextHopType: "None" }] },
    // Forced tunnel to the VPN gateway, no /32 routes, and an NSG that denies the Internet.
    "tunnel-spoke": { subnet: { addressPrefix: "10.32.1.0/24" }, routes: [{ name: "default-to-vpn", addressPrefix: "0.0.0.0/0", nextHopType: "VirtualNetworkGateway" }], rules: [denyInternet] },
    // The same forced tunnel, fixed by KmsEgressRules in the program (its routes and rule are merged in).
    "fixed-spoke": { subnet: { addressPrefix: "10.33.1.0/24", natGateway: { id: `${NET}/natGateways/nat` } }, routes: [{ name: "default-to-vpn", addressPrefix: "0.0.0.0/0", nextHopType: "VirtualNetworkGateway" }], rules: [denyInternet] },
};

const azure: InvokeMock = (token, inputs) => {
    const name = String(inputs.subnetName ?? inputs.routeTableName ?? inputs.networkSecurityGroupName);
    const spoke = spokes[name.replace(/^(rt|nsg)-/, "")];
    if (!spoke) return undefined;
    switch (token) {
        case "azure-native:network:getSubnet":
            return {
                name,
                ...spoke.subnet,
                ...(spoke.routes ? { routeTable: { id: `${NET}/routeTables/rt-${name}` } } : {}),
                ...(spoke.rules ? { networkSecurityGroup: { id: `${NET}/networkSecurityGroups/nsg-${name}` } } : {}),
            };
        case "azure-native:network:getRouteTable":
            return { name, routes: spoke.routes ?? [] };
        case "azure-native:network:getNetworkSecurityGroup":
            return { name, securityRules: spoke.rules ?? [] };
        default:
            return undefined;
    }
};

const t = mockedPackage(azure);
// These VMs' activation results are not read back: the invokes and warnings counted here are the subnet check's.
const CREDENTIALS = { adminUsername: "kmsadmin", adminPassword: "Correct-Horse-7-Battery", readActivationResult: false };

let warn: jest.SpyInstance;
let info: jest.SpyInstance;
beforeEach(() => {
    warn = jest.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    info = jest.spyOn(pulumi.log, "info").mockImplementation(() => Promise.resolve());
});
afterEach(() => {
    warn.mockRestore();
    info.mockRestore();
});

const tokens = () => t.h.invokes.map((i) => i.token.replace("azure-native:network:", "")).sort();

describe("the subnet check asks the reachability engine", () => {
    test("a fleet of VMs on one subnet: one read each of the subnet, its route table and its NSG, one warning", async () => {
        const egress = new t.m.KmsEgressRules("tunnel", { resourceGroupName: RG, networkSecurityGroupName: "nsg-tunnel-spoke", securityRulePriority: 300, subnetId: subnetId("tunnel-spoke") });
        for (const vm of ["vm-1", "vm-2", "vm-3", "vm-4", "vm-5"]) {
            new t.m.KmsWindowsVm(vm, { resourceGroupName: RG, subnetId: subnetId("tunnel-spoke"), activationWaitsFor: egress.egressRuleIds, ...CREDENTIALS });
        }
        await t.h.settle();
        expect(tokens()).toEqual(["getNetworkSecurityGroup", "getRouteTable", "getSubnet"]);
        expect(t.h.ofType("azure-native:compute:VirtualMachine")).toHaveLength(5);
        // The rule is merged in (it allows TCP 1688 before the deny), but the route still sends KMS to the gateway.
        expect(warn.mock.calls.map((c) => c[0])).toEqual([
            'subnet "tunnel-spoke" (virtual network "vnet-spoke", resource group "rg-spoke"): Windows VMs in it cannot activate: TCP 1688 to 20.118.99.224, 40.83.235.53, ' +
                '23.102.135.246 (azkms.core.windows.net) is blocked (rule R3): user route "default-to-vpn" of route table "rt-tunnel-spoke" (0.0.0.0/0 -> VirtualNetworkGateway) carries 20.118.99.224: ' +
                "equal prefix /0: a user route beats BGP and system routes. The gateway sends it on-premises, so it does not leave from an Azure public IP and Azure KMS refuses it. " +
                'Fix: add a route 20.118.99.224/32 with next hop type Internet to route table "rt-tunnel-spoke" (the longest prefix beats the 0.0.0.0/0; KmsEgressRules adds one per KMS IP). ' +
                "Set privateSubnetCheck: Off to silence this.",
        ]);
    });

    test("KmsEgressRules on the same table and NSG fixes the forced tunnel: its routes and rule are merged in, the check is quiet", async () => {
        const egress = new t.m.KmsEgressRules("fixed", {
            resourceGroupName: RG,
            routeTableName: "rt-fixed-spoke",
            networkSecurityGroupName: "nsg-fixed-spoke",
            securityRulePriority: 300,
            subnetId: subnetId("fixed-spoke"),
        });
        new t.m.KmsWindowsVm("vm-fixed", { resourceGroupName: RG, subnetId: subnetId("fixed-spoke"), activationWaitsFor: egress.egressRuleIds, ...CREDENTIALS });
        await t.h.settle();
        expect(tokens()).toEqual(["getNetworkSecurityGroup", "getRouteTable", "getSubnet"]);
        expect(warn).not.toHaveBeenCalled();
        expect(info).not.toHaveBeenCalled();
        expect(t.h.ofType("azure-native:network:Route")).toHaveLength(3);
    });

    test("a /32 route with next hop None: the warning names the route and the fix", async () => {
        new t.m.KmsWindowsVm("vm-none", { resourceGroupName: RG, subnetId: subnetId("none-spoke"), ...CREDENTIALS });
        await t.h.settle();
        expect(warn).toHaveBeenCalledTimes(1);
        expect(warn.mock.calls[0][0]).toBe(
            'subnet "none-spoke" (virtual network "vnet-spoke", resource group "rg-spoke"): Windows VMs in it cannot activate: TCP 1688 to 20.118.99.224 (azkms.core.windows.net) ' +
                'is blocked (rule R2): user route "block-kms" of route table "rt-none-spoke" (20.118.99.224/32 -> None) carries 20.118.99.224: longest matching prefix (/32). ' +
                'Next hop None drops the packet. Fix: change route "block-kms"\'s next hop type to Internet (or delete it) so 20.118.99.224 is not dropped. Set privateSubnetCheck: Off to silence this.',
        );
    });

    test("0/0 to an appliance the program cannot see: no warning, one line on what it must do", async () => {
        new t.m.KmsWindowsVm("vm-nva", { resourceGroupName: RG, subnetId: subnetId("nva-spoke"), ...CREDENTIALS });
        await t.h.settle();
        expect(warn).not.toHaveBeenCalled();
        expect(info.mock.calls.map((c) => c[0])).toEqual([
            'subnet "nva-spoke" (virtual network "vnet-spoke", resource group "rg-spoke"): whether TCP 1688 to 20.118.99.224, 40.83.235.53, 23.102.135.246 (azkms.core.windows.net) ' +
                "gets out is decided by appliance at 10.100.0.10, which this program cannot see: the appliance at 10.100.0.10 is outside what is known: it must SNAT to a public IP of its own " +
                'and allow TCP 1688 to 20.118.99.224. To activate, make sure the appliance at 10.100.0.10 SNAT to a public IP of its own and allow TCP 1688 to 20.118.99.224 or bypass it: ' +
                'add a route 20.118.99.224/32 with next hop type Internet to route table "rt-nva-spoke" (the longest prefix beats the 0.0.0.0/0; KmsEgressRules adds one per KMS IP).',
        ]);
    });

    test("privateSubnetCheck Error: the VM is not created and the message names the element", async () => {
        const { checkSubnetOutbound, checkDestination } = await import("../src/network/subnetOutbound");
        const owner = new pulumi.ComponentResource("test:index:Owner", "owner");
        const check = checkSubnetOutbound(subnetId("none-spoke"), t.m.PrivateSubnetCheck.Error, owner, checkDestination({}));
        const internals = check as unknown as { promise(): Promise<unknown>; isKnown: Promise<boolean>; isSecret: Promise<boolean> };
        internals.isKnown.catch(() => undefined);
        internals.isSecret.catch(() => undefined);
        await expect(internals.promise()).rejects.toThrow(/is blocked \(rule R2\): user route "block-kms" of route table "rt-none-spoke" .* \(privateSubnetCheck: Error\)$/);
        expect(warn).not.toHaveBeenCalled();
        await t.h.settle();
    });

    test("a route table or NSG that cannot be read is named, with the component and the field", async () => {
        const { readRouteTable, readNetworkSecurityGroup } = await import("../src/network/azureReads");
        const owner = new pulumi.ComponentResource("test:index:Owner", "owner-missing");
        await expect(readRouteTable(RG, "rt-gone", owner, 'KmsEgressRules "spoke": routeTableName')).rejects.toThrow(
            /^KmsEgressRules "spoke": routeTableName: route table "rt-gone" in resource group "rg-spoke" could not be read \(.+\); check that it exists and that the program's identity may read it$/,
        );
        await expect(readNetworkSecurityGroup(RG, "nsg-gone", owner)).rejects.toThrow(/^NSG "nsg-gone" in resource group "rg-spoke" could not be read/);
        await t.h.settle();
    });

    test("a subnet not known yet (preview of a new one) is not read", async () => {
        // What the SDK gives in preview for the ID of a subnet still to be created: an Output whose value is not known.
        const OutputImpl = (pulumi.Output as unknown as { new (...a: unknown[]): pulumi.Output<string> });
        const unknown = new OutputImpl(new Set(), Promise.resolve(undefined), Promise.resolve(false), Promise.resolve(false), Promise.resolve(new Set()));
        const { checkSubnetOutbound, checkDestination } = await import("../src/network/subnetOutbound");
        const owner = new pulumi.ComponentResource("test:index:Owner", "owner-preview");
        checkSubnetOutbound(unknown, t.m.PrivateSubnetCheck.Warn, owner, checkDestination({}));
        await t.h.settle();
        expect(t.h.invokes).toEqual([]);
    });
});
