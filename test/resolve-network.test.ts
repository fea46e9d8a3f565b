// The network resolvers on their own, without the mock engine (issue 29): `resolveKmsEgressRules`,
// `resolveKmsFirewallRules` and `resolveKmsNetwork`. Properties (fast-check): a refused plain value is refused with
// the component's message and nothing is registered or read; the plan is a pure function of its args; the defaults
// are the README's tables.
import fc from "fast-check";
import { DEFAULT_SECURITY_RULE_PRIORITY, KmsEgressRulesArgs, resolveKmsEgressRules } from "../src/network/kmsEgressRules";
import { DEFAULT_RULE_COLLECTION_GROUP_NAME, DEFAULT_RULE_COLLECTION_GROUP_PRIORITY, DEFAULT_RULE_COLLECTION_PRIORITY, KmsFirewallRulesArgs, resolveKmsFirewallRules } from "../src/network/kmsFirewallRules";
import { KmsNetworkArgs, resolveKmsNetwork } from "../src/network/kmsNetwork";
import { AzureCloud, CustomKmsServer, ExplicitOutbound, KmsHostForm, PrivateSubnetCheck } from "../src/types";
import { deepFreeze, shape, watchResources } from "./resolve-helpers";

const resources = watchResources();
const SUBNET = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default";
const PUBLIC_KMS = ["20.118.99.224", "40.83.235.53", "23.102.135.246"];
const fieldPattern = (component: string, name: string, field: string) => new RegExp(`^${component} "${name}": ${field.replace(/[[\]]/g, "\\$&")}: `);
const cloud = fc.constantFrom(AzureCloud.AzurePublic, AzureCloud.AzureUSGovernment, AzureCloud.AzureChina);
const custom = fc.constantFrom<CustomKmsServer>({ host: "kms.corp.example", port: 1689, addressPrefixes: ["10.50.0.10/32"] });

/** Refuses `bad` on top of any valid options, with a message naming a field, and leaves nothing registered or read. */
function refusalProperty<A>(resolve: (args: A) => unknown, component: string, base: A, options: fc.Arbitrary<Partial<A>>, refused: [string, Partial<A>][]): void {
    fc.assert(
        fc.property(options, fc.constantFrom(...refused), (opts, [, bad]) => {
            // Another refusal may come first (the order is the component's): the message names a field.
            expect(() => resolve({ ...base, ...opts, ...bad })).toThrow(new RegExp(`^${component} "n": [\\w.[\\], ]+: `));
            resources.none();
        }),
        { numRuns: 100 },
    );
}

function purityProperty<A>(resolve: (args: A) => unknown, base: A, options: fc.Arbitrary<Partial<A>>): void {
    fc.assert(
        fc.property(options, (opts) => {
            const args = deepFreeze({ ...base, ...opts });
            const before = JSON.stringify(args);
            expect(shape(resolve(args))).toEqual(shape(resolve(args)));
            expect(JSON.stringify(args)).toBe(before);
            resources.none();
        }),
        { numRuns: 60 },
    );
}

describe("resolveKmsEgressRules", () => {
    const BASE: KmsEgressRulesArgs = { resourceGroupName: "rg-hub", routeTableName: "rt-spoke", networkSecurityGroupName: "nsg-spoke" };
    const options: fc.Arbitrary<Partial<KmsEgressRulesArgs>> = fc.record(
        {
            cloud,
            kmsIpAddresses: fc.constantFrom(["20.118.99.224"], ["1.2.3.4", "5.6.7.8"]),
            customKmsServer: custom,
            securityRulePriority: fc.integer({ min: 100, max: 4096 }),
            sourceAddressPrefix: fc.constantFrom("VirtualNetwork", "10.20.0.0/16"),
            subnetId: fc.constant(SUBNET),
            privateSubnetCheck: fc.constantFrom(PrivateSubnetCheck.Warn, PrivateSubnetCheck.Error, PrivateSubnetCheck.Off),
            retainOnDelete: fc.boolean(),
        },
        { requiredKeys: [] },
    );
    const REFUSED: [string, Partial<KmsEgressRulesArgs>][] = [
        ["resourceGroupName", { resourceGroupName: "" }],
        ["routeTableName, networkSecurityGroupName", { routeTableName: undefined, networkSecurityGroupName: undefined }],
        ["routeTableName", { routeTableName: "rt spoke" }],
        ["networkSecurityGroupName", { networkSecurityGroupName: "-nsg" }],
        ["cloud", { cloud: "AzureMars" as AzureCloud }],
        ["kmsIpAddresses[0]", { kmsIpAddresses: ["1.2.3"] }],
        ["securityRulePriority", { securityRulePriority: 99 }],
        ["sourceAddressPrefix", { sourceAddressPrefix: "anywhere!" }],
        ["subnetId", { subnetId: "default" }],
        ["privateSubnetCheck", { privateSubnetCheck: "Maybe" as PrivateSubnetCheck }],
    ];

    test.each(REFUSED)("refuses %s as the component always did", (field, bad) => {
        expect(() => resolveKmsEgressRules("n", { ...BASE, ...bad })).toThrow(fieldPattern("KmsEgressRules", "n", field));
        resources.none();
    });
    test("property: one refused plain value among valid options is refused, nothing registered", () =>
        refusalProperty((a) => resolveKmsEgressRules("n", a), "KmsEgressRules", BASE, options, REFUSED));
    test("property: the plan is a pure function of the args", () => purityProperty((a) => resolveKmsEgressRules("n", a), BASE, options));

    test("the defaults are the README's: one /32 Internet route per KMS IP, the rule at priority 100 from VirtualNetwork, no subnet check", () => {
        const plan = resolveKmsEgressRules("n", BASE);
        expect(plan.routeTable).toEqual({
            name: "rt-spoke",
            routes: PUBLIC_KMS.map((ip) => ({ name: `kms-${ip.replace(/\./g, "-")}`, addressPrefix: `${ip}/32`, nextHopType: "Internet" })),
        });
        expect(plan.nsg).toMatchObject({ name: "nsg-spoke", ruleName: "allow-kms-tcp-1688-out", priority: DEFAULT_SECURITY_RULE_PRIORITY, source: "VirtualNetwork" });
        expect(DEFAULT_SECURITY_RULE_PRIORITY).toBe(100);
        expect(plan.destination).toEqual({ routedIps: PUBLIC_KMS, allowedPrefixes: PUBLIC_KMS, port: 1688 });
        expect(plan.subnetCheck).toBeUndefined();
        expect(plan.lifecycle).toEqual({ deleteBeforeReplace: true, retainOnDelete: false });
        // A custom KMS server: no routes (it is reached privately), the rule allows its prefixes and port.
        const onPrem = resolveKmsEgressRules("n", { ...BASE, customKmsServer: { host: "kms.corp.example", port: 1689, addressPrefixes: ["10.50.0.10/32"] }, subnetId: SUBNET });
        expect(onPrem.routeTable?.routes).toEqual([]);
        expect(onPrem.destination).toEqual({ routedIps: [], allowedPrefixes: ["10.50.0.10/32"], port: 1689 });
        expect(onPrem.subnetCheck?.mode).toBe(PrivateSubnetCheck.Off);
    });
});

describe("resolveKmsFirewallRules", () => {
    const BASE: KmsFirewallRulesArgs = { resourceGroupName: "rg-hub", firewallPolicyName: "fwp-hub", sourceAddresses: ["10.20.0.0/16"] };
    const options: fc.Arbitrary<Partial<KmsFirewallRulesArgs>> = fc.record(
        {
            cloud,
            customKmsServer: custom,
            ruleCollectionGroupName: fc.constantFrom("kms", "rcg-windows-activation"),
            ruleCollectionGroupPriority: fc.integer({ min: 100, max: 65000 }),
            ruleCollectionPriority: fc.integer({ min: 100, max: 65000 }),
            firewallPrivateIpAddress: fc.constantFrom("10.100.0.4"),
            retainOnDelete: fc.boolean(),
        },
        { requiredKeys: [] },
    );
    const REFUSED: [string, Partial<KmsFirewallRulesArgs>][] = [
        ["resourceGroupName", { resourceGroupName: "rg." }],
        ["firewallPolicyName", { firewallPolicyName: "" }],
        ["sourceAddresses", { sourceAddresses: [] }],
        ["ruleCollectionGroupName", { ruleCollectionGroupName: "kms activation" }],
        ["ruleCollectionGroupPriority", { ruleCollectionGroupPriority: 70000 }],
        ["ruleCollectionPriority", { ruleCollectionPriority: 1.5 }],
        ["firewallPrivateIpAddress", { firewallPrivateIpAddress: "10.100.0" }],
        ["cloud", { cloud: "AzureMars" as AzureCloud }],
    ];

    test.each(REFUSED)("refuses %s as the component always did", (field, bad) => {
        expect(() => resolveKmsFirewallRules("n", { ...BASE, ...bad })).toThrow(fieldPattern("KmsFirewallRules", "n", field));
        resources.none();
    });
    test("property: one refused plain value among valid options is refused, nothing registered", () =>
        refusalProperty((a) => resolveKmsFirewallRules("n", a), "KmsFirewallRules", BASE, options, REFUSED));
    test("property: the plan is a pure function of the args", () => purityProperty((a) => resolveKmsFirewallRules("n", a), BASE, options));

    test("the defaults are the README's: group kms-activation at 150, its collection at 100, TCP 1688 to the cloud's KMS", () => {
        const plan = resolveKmsFirewallRules("n", BASE);
        expect([plan.groupName, plan.groupPriority, plan.collectionPriority]).toEqual([DEFAULT_RULE_COLLECTION_GROUP_NAME, DEFAULT_RULE_COLLECTION_GROUP_PRIORITY, DEFAULT_RULE_COLLECTION_PRIORITY]);
        expect([DEFAULT_RULE_COLLECTION_GROUP_NAME, DEFAULT_RULE_COLLECTION_GROUP_PRIORITY, DEFAULT_RULE_COLLECTION_PRIORITY]).toEqual(["kms-activation", 150, 100]);
        expect([plan.collectionName, plan.networkRuleName]).toEqual(["allow-kms-activation", "allow-kms-tcp-1688"]);
        expect(plan.destination.allowedPrefixes).toEqual(PUBLIC_KMS);
        expect(plan.firewall).toBeUndefined();
    });
});

describe("resolveKmsNetwork", () => {
    const BASE: KmsNetworkArgs = { resourceGroupName: "rg-net" };
    const options: fc.Arbitrary<Partial<KmsNetworkArgs>> = fc.record(
        {
            location: fc.constantFrom("westeurope", "eastus"),
            addressPrefixes: fc.constantFrom(["10.1.0.0/16"], ["10.1.0.0/16", "10.2.0.0/16"]),
            subnetAddressPrefix: fc.constantFrom("10.1.0.0/24", "10.1.1.0/26"),
            dnsServers: fc.constantFrom(["10.0.0.4"], ["10.0.0.4", "10.0.0.5"]),
            outbound: fc.constantFrom(ExplicitOutbound.NatGateway, ExplicitOutbound.None),
            cloud,
            kmsIpAddresses: fc.constantFrom(["20.118.99.224"]),
            customKmsServer: custom,
            securityRulePriority: fc.integer({ min: 100, max: 4096 }),
            tags: fc.constantFrom<Record<string, string>>({ env: "prod" }),
        },
        { requiredKeys: [] },
    );
    const REFUSED: [string, Partial<KmsNetworkArgs>][] = [
        ["resourceGroupName", { resourceGroupName: "" }],
        ["outbound", { outbound: "Carrier" as ExplicitOutbound }],
        ["cloud", { cloud: "AzureMars" as AzureCloud }],
        ["location", { location: "west-europe!" }],
        ["addressPrefixes[0]", { addressPrefixes: ["10.0.0.0/33"] }],
        ["subnetAddressPrefix", { subnetAddressPrefix: "10.0.0.0" }],
        ["dnsServers[0]", { dnsServers: ["dns.example"] }],
        ["kmsIpAddresses", { kmsIpAddresses: [] }],
        ["securityRulePriority", { securityRulePriority: 5000 }],
        ["tags", { tags: { "a?b": "c" } }],
    ];

    test.each(REFUSED)("refuses %s as the component always did", (field, bad) => {
        expect(() => resolveKmsNetwork("n", { ...BASE, ...bad })).toThrow(fieldPattern("KmsNetwork", "n", field));
        resources.none();
    });
    test("property: one refused plain value among valid options is refused, nothing registered", () => refusalProperty((a) => resolveKmsNetwork("n", a), "KmsNetwork", BASE, options, REFUSED));
    test("property: the plan is a pure function of the args", () => purityProperty((a) => resolveKmsNetwork("n", a), BASE, options));

    test("the defaults are the README's: 10.0.0.0/16 with one 10.0.0.0/24 subnet, Azure DNS (DnsName), a NAT gateway, the provider's cloud", () => {
        const plan = resolveKmsNetwork("n", BASE);
        expect([plan.addressPrefixes, plan.subnetAddressPrefix, plan.dnsServers, plan.location, plan.tags]).toEqual([["10.0.0.0/16"], "10.0.0.0/24", undefined, undefined, undefined]);
        expect(plan.natGateway).toBe(true);
        expect(plan.kmsHostForm).toBe(KmsHostForm.DnsName);
        expect(plan.cloud).toBe(AzureCloud.AzurePublic);
        expect(resolveKmsNetwork("n", { ...BASE, dnsServers: ["10.0.0.4"], outbound: ExplicitOutbound.None })).toMatchObject({ kmsHostForm: KmsHostForm.IpAddress, natGateway: false });
    });
});
