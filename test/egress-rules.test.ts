import { emptyRouteTablesAndNsgs, mockedPackage, valueOf } from "./harness";

const t = mockedPackage(emptyRouteTablesAndNsgs);

const ROUTE = "azure-native:network:Route";
const RULE = "azure-native:network:SecurityRule";

describe("KmsEgressRules", () => {
    test("adds one /32 Internet route per KMS IP and one outbound allow, and nothing else", async () => {
        const egress = new t.m.KmsEgressRules("hub", { resourceGroupName: "rg-hub", routeTableName: "rt-spoke", networkSecurityGroupName: "nsg-spoke" });
        await t.h.settle();
        expect(t.h.summary()).toEqual([
            "azure-kms-activation:index:KmsEgressRules hub",
            `${ROUTE} hub-route-20-118-99-224`,
            `${ROUTE} hub-route-23-102-135-246`,
            `${ROUTE} hub-route-40-83-235-53`,
            `${RULE} hub-rule`,
        ]);
        const component = t.h.registrations.find((r) => !r.custom)!;
        expect(t.h.custom().every((r) => r.parentUrn === component.urn)).toBe(true);
        expect(t.h.ofType(ROUTE).map((r) => r.inputs)).toEqual([
            { resourceGroupName: "rg-hub", routeTableName: "rt-spoke", routeName: "kms-20-118-99-224", addressPrefix: "20.118.99.224/32", nextHopType: "Internet" },
            { resourceGroupName: "rg-hub", routeTableName: "rt-spoke", routeName: "kms-40-83-235-53", addressPrefix: "40.83.235.53/32", nextHopType: "Internet" },
            { resourceGroupName: "rg-hub", routeTableName: "rt-spoke", routeName: "kms-23-102-135-246", addressPrefix: "23.102.135.246/32", nextHopType: "Internet" },
        ]);
        expect(t.h.one(RULE).inputs).toEqual({
            resourceGroupName: "rg-hub",
            networkSecurityGroupName: "nsg-spoke",
            securityRuleName: "allow-kms-tcp-1688-out",
            description: "Windows activation: outbound TCP to the KMS (azure-kms-activation)",
            direction: "Outbound",
            access: "Allow",
            protocol: "Tcp",
            priority: 100,
            sourceAddressPrefix: "VirtualNetwork",
            sourcePortRange: "*",
            destinationAddressPrefixes: ["20.118.99.224", "40.83.235.53", "23.102.135.246"],
            destinationPortRange: "1688",
        });
        expect(await valueOf(egress.egressRuleIds)).toHaveLength(4);
        expect(await valueOf(egress.routeIds)).toHaveLength(3);
        expect(await valueOf(egress.securityRuleId)).toMatch(/securityRules\/allow-kms-tcp-1688-out$/);
    });

    test.each([
        ["AzurePublic", ["20.118.99.224/32", "40.83.235.53/32", "23.102.135.246/32"]],
        ["AzureUSGovernment", ["52.126.105.2/32", "23.97.0.13/32"]],
        ["AzureChina", ["159.27.28.100/32", "163.228.64.161/32", "42.159.7.249/32"]],
    ])("%s: routes and rule cover exactly that cloud's KMS IPs", async (cloud, prefixes) => {
        new t.m.KmsEgressRules("e", { resourceGroupName: "rg", routeTableName: "rt", networkSecurityGroupName: "nsg", cloud: cloud as never });
        await t.h.settle();
        expect(t.h.ofType(ROUTE).map((r) => r.inputs.addressPrefix)).toEqual(prefixes);
        expect(t.h.one(RULE).inputs.destinationAddressPrefixes).toEqual(prefixes.map((p) => p.replace("/32", "")));
    });

    test("brownfield: never creates, replaces or edits the route table or the NSG", async () => {
        new t.m.KmsEgressRules("e", { resourceGroupName: "rg", routeTableName: "rt", networkSecurityGroupName: "nsg" });
        await t.h.settle();
        const types = new Set(t.h.custom().map((r) => r.type));
        expect([...types].sort()).toEqual([ROUTE, RULE]);
        expect(t.h.registrations.some((r) => /RouteTable|NetworkSecurityGroup$/.test(r.type))).toBe(false);
    });

    test("route table only: routes, no rule", async () => {
        const egress = new t.m.KmsEgressRules("e", { resourceGroupName: "rg", routeTableName: "rt" });
        await t.h.settle();
        expect(t.h.custom().map((r) => r.type)).toEqual([ROUTE, ROUTE, ROUTE]);
        expect(await valueOf(egress.securityRuleId)).toBeUndefined();
    });

    test("NSG only: the rule, no routes", async () => {
        new t.m.KmsEgressRules("e", { resourceGroupName: "rg", networkSecurityGroupName: "nsg", securityRulePriority: 310 });
        await t.h.settle();
        expect(t.h.summary((r) => r.custom)).toEqual([`${RULE} e-rule`]);
        expect(t.h.one(RULE).inputs.priority).toBe(310);
    });

    test("custom KMS server: no Internet routes, the rule targets its prefixes and port", async () => {
        const egress = new t.m.KmsEgressRules("e", {
            resourceGroupName: "rg",
            routeTableName: "rt",
            networkSecurityGroupName: "nsg",
            customKmsServer: { host: "kms01.corp.contoso.com", port: 1700, addressPrefixes: ["10.50.0.10/32", "10.60.0.10"] },
        });
        await t.h.settle();
        expect(t.h.summary((r) => r.custom)).toEqual([`${RULE} e-rule`]);
        expect(t.h.one(RULE).inputs).toMatchObject({
            securityRuleName: "allow-kms-tcp-1700-out",
            destinationAddressPrefixes: ["10.50.0.10/32", "10.60.0.10"],
            destinationPortRange: "1700",
        });
        expect(await valueOf(egress.routeIds)).toEqual([]);
    });

    test("kmsIpAddresses overrides the cloud's list", async () => {
        new t.m.KmsEgressRules("e", { resourceGroupName: "rg", routeTableName: "rt", networkSecurityGroupName: "nsg", kmsIpAddresses: ["20.118.99.224"] });
        await t.h.settle();
        expect(t.h.ofType(ROUTE).map((r) => r.inputs.addressPrefix)).toEqual(["20.118.99.224/32"]);
        expect(t.h.one(RULE).inputs.destinationAddressPrefixes).toEqual(["20.118.99.224"]);
    });

    test("refuses to do nothing", () => {
        expect(() => new t.m.KmsEgressRules("e", { resourceGroupName: "rg" })).toThrow(
            'KmsEgressRules "e": routeTableName, networkSecurityGroupName: neither is set, so there is nothing to add; set one or both',
        );
    });
});

