import { mockedPackage, valueOf } from "./harness";

const t = mockedPackage();

const N = "azure-native:network:";

describe("KmsNetwork", () => {
    test("creates the network, its NAT gateway and the KMS egress, all standalone", async () => {
        const net = new t.m.KmsNetwork("net", { resourceGroupName: "rg", location: "westeurope", tags: { owner: "platform" } });
        await t.h.settle();
        expect(t.h.summary()).toEqual([
            "azure-kms-activation:index:KmsEgressRules net-kms",
            "azure-kms-activation:index:KmsNetwork net",
            `${N}NatGateway net-nat`,
            `${N}NetworkSecurityGroup net-nsg`,
            `${N}PublicIPAddress net-nat-ip`,
            `${N}Route net-kms-route-20-118-99-224`,
            `${N}Route net-kms-route-23-102-135-246`,
            `${N}Route net-kms-route-40-83-235-53`,
            `${N}RouteTable net-routes`,
            `${N}SecurityRule net-kms-rule`,
            `${N}Subnet net-subnet`,
            `${N}VirtualNetwork net-vnet`,
        ]);
        // No inline children: they would fight the standalone subnet, routes and rule.
        const vnet = t.h.one(`${N}VirtualNetwork`).inputs;
        expect(vnet).toMatchObject({ resourceGroupName: "rg", location: "westeurope", tags: { owner: "platform" }, addressSpace: { addressPrefixes: ["10.0.0.0/16"] } });
        expect(Object.keys(vnet)).not.toContain("subnets");
        expect(t.h.one(`${N}RouteTable`).inputs).toEqual({ resourceGroupName: "rg", location: "westeurope", tags: { owner: "platform" } });
        expect(t.h.one(`${N}NetworkSecurityGroup`).inputs).toEqual({ resourceGroupName: "rg", location: "westeurope", tags: { owner: "platform" } });
        const subnet = t.h.one(`${N}Subnet`).inputs;
        expect(subnet).toMatchObject({
            resourceGroupName: "rg",
            virtualNetworkName: "net-vnet",
            addressPrefix: "10.0.0.0/24",
            defaultOutboundAccess: false,
        });
        expect(subnet.routeTable).toEqual({ id: expect.stringMatching(/routeTables\/net-routes$/) });
        expect(subnet.networkSecurityGroup).toEqual({ id: expect.stringMatching(/networkSecurityGroups\/net-nsg$/) });
        expect(subnet.natGateway).toEqual({ id: expect.stringMatching(/natGateways\/net-nat$/) });
        expect(t.h.one(`${N}PublicIPAddress`).inputs).toMatchObject({
            sku: { name: "Standard", tier: "Regional" },
            publicIPAllocationMethod: "Static",
            publicIPAddressVersion: "IPv4",
        });
        expect(t.h.one(`${N}NatGateway`).inputs).toMatchObject({
            sku: { name: "Standard" },
            publicIpAddresses: [{ id: expect.stringMatching(/publicIPAddresss\/net-nat-ip$/) }],
        });
        expect(t.h.ofType(`${N}Route`).every((r) => r.inputs.routeTableName === "net-routes")).toBe(true);
        expect(t.h.one(`${N}SecurityRule`).inputs.networkSecurityGroupName).toBe("net-nsg");
        expect(await valueOf(net.subnetId)).toMatch(/virtualNetworks\/net-vnet\/subnets\/net-subnet$/);
        expect(await valueOf(net.natGatewayId)).toMatch(/natGateways\/net-nat$/);
        expect(await valueOf(net.kmsHostForm)).toBe("DnsName");
        expect(await valueOf(net.egressRuleIds)).toHaveLength(4);
    });

    test("the subnet does not wait for the KMS routes and rule", async () => {
        new t.m.KmsNetwork("net", { resourceGroupName: "rg" });
        await t.h.settle();
        const subnet = t.h.one(`${N}Subnet`);
        const deps = subnet.dependencies.map((u) => t.h.byUrn(u)?.name).sort();
        expect(deps).toEqual(["net-nat", "net-nsg", "net-routes", "net-vnet"]);
    });

    test("outbound None: no NAT gateway or public IP, the subnet stays private", async () => {
        const net = new t.m.KmsNetwork("net", { resourceGroupName: "rg", outbound: t.m.ExplicitOutbound.None });
        await t.h.settle();
        expect(t.h.registrations.some((r) => /NatGateway|PublicIPAddress/.test(r.type))).toBe(false);
        const subnet = t.h.one(`${N}Subnet`).inputs;
        expect(subnet.natGateway).toBeUndefined();
        expect(subnet.defaultOutboundAccess).toBe(false);
        expect(await valueOf(net.natGatewayId)).toBeUndefined();
    });

    test("custom DNS servers: set on the virtual network, and VMs should use the IP host form", async () => {
        const net = new t.m.KmsNetwork("net", { resourceGroupName: "rg", dnsServers: ["10.1.0.4", "10.1.0.5"], addressPrefixes: ["10.20.0.0/16"], subnetAddressPrefix: "10.20.1.0/24" });
        await t.h.settle();
        expect(t.h.one(`${N}VirtualNetwork`).inputs).toMatchObject({
            addressSpace: { addressPrefixes: ["10.20.0.0/16"] },
            dhcpOptions: { dnsServers: ["10.1.0.4", "10.1.0.5"] },
        });
        expect(t.h.one(`${N}Subnet`).inputs.addressPrefix).toBe("10.20.1.0/24");
        expect(await valueOf(net.kmsHostForm)).toBe("IpAddress");
    });

    test.each([
        ["AzurePublic", 3],
        ["AzureUSGovernment", 2],
        ["AzureChina", 3],
    ])("%s: %i routes, one rule", async (cloud, routes) => {
        new t.m.KmsNetwork("net", { resourceGroupName: "rg", cloud: cloud as never });
        await t.h.settle();
        expect(t.h.ofType(`${N}Route`)).toHaveLength(routes as number);
        expect(t.h.ofType(`${N}SecurityRule`)).toHaveLength(1);
    });

    test("custom KMS server: the table gets no Internet routes", async () => {
        new t.m.KmsNetwork("net", { resourceGroupName: "rg", customKmsServer: { host: "10.50.0.10", addressPrefixes: ["10.50.0.10/32"] } });
        await t.h.settle();
        expect(t.h.ofType(`${N}Route`)).toHaveLength(0);
        expect(t.h.one(`${N}SecurityRule`).inputs.destinationAddressPrefixes).toEqual(["10.50.0.10/32"]);
    });
});

describe("azure-native's version aliases", () => {
    test("children of the package's components carry none (they cost most of a fleet's evaluation time)", async () => {
        const network = await import("@pulumi/azure-native/network");
        new network.Route("raw-route", { resourceGroupName: "rg", routeTableName: "rt", addressPrefix: "1.2.3.4/32", nextHopType: "Internet" });
        new t.m.KmsNetwork("net", { resourceGroupName: "rg" });
        await t.h.settle();
        expect(t.h.registrations.find((r) => r.name === "raw-route")!.aliases).toBeGreaterThan(10);
        const children = t.h.custom().filter((r) => r.name !== "raw-route");
        expect(children).toHaveLength(10);
        expect(children.map((r) => `${r.name}:${r.aliases}`).filter((s) => !s.endsWith(":0"))).toEqual([]);
    });
});
