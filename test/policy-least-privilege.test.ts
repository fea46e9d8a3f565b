import { kmsEndpoint } from "../src/kms/endpoints";
import { createKmsActivationPolicies, KmsActivationPolicy } from "../src/policy";
import { AzureCloud } from "../src/types";
import { UNKNOWN_VALUE, preview, runResource } from "./policy-args";

const NSG = "azure-native:network:NetworkSecurityGroup";
const RULE = "azure-native:network:SecurityRule";
const NAME = "kms-nsg-allow-least-privilege";
// Opt-in: the hygiene policy is not in the default pack.
const policy = createKmsActivationPolicies({ hygiene: true }).find((p) => p.name === NAME) as KmsActivationPolicy;
const PUBLIC = kmsEndpoint(AzureCloud.AzurePublic).ipAddresses;

const allow = (extra: Record<string, unknown> = {}) => ({
    name: "allow-kms",
    priority: 100,
    direction: "Outbound",
    access: "Allow",
    protocol: "Tcp",
    destinationPortRange: "1688",
    destinationAddressPrefix: "*",
    ...extra,
});
const rule = (extra: Record<string, unknown> = {}) => {
    const { name, ...rest } = allow(extra);
    return { resourceGroupName: "rg", networkSecurityGroupName: "nsg-spoke", securityRuleName: name, ...rest };
};

function message(wider: string, { name = "allow-kms", priority = " (priority 100)", owner = ' of NSG "nsg-spoke"', addresses = PUBLIC as readonly string[], source = "AzurePublic", port = 1688 } = {}): string {
    return (
        `Outbound Allow rule "${name}"${priority}${owner} allows port ${port} to ${wider}, wider than the KMS addresses ` +
        `${addresses.join(", ")} (${source}). Remediation: set its destination to the KMS addresses only ` +
        `(destinationAddressPrefixes: ${addresses.join(", ")}), so port ${port} is not open to other hosts.`
    );
}

describe("kms-nsg-allow-least-privilege", () => {
    test("the exact message, for an allow of 1688 to *", async () => {
        expect(await runResource(policy, RULE, rule())).toEqual([
            'Outbound Allow rule "allow-kms" (priority 100) of NSG "nsg-spoke" allows port 1688 to *, wider than the KMS addresses ' +
                "20.118.99.224, 40.83.235.53, 23.102.135.246 (AzurePublic). Remediation: set its destination to the KMS addresses only " +
                "(destinationAddressPrefixes: 20.118.99.224, 40.83.235.53, 23.102.135.246), so port 1688 is not open to other hosts.",
        ]);
    });

    test.each([
        ["Internet", { destinationAddressPrefix: "Internet" }, "Internet"],
        ["0.0.0.0/0", { destinationAddressPrefix: "0.0.0.0/0" }, "0.0.0.0/0"],
        ["a prefix holding a KMS IP", { destinationAddressPrefix: "20.118.99.0/24" }, "20.118.99.0/24"],
        ["an unrelated host", { destinationAddressPrefix: "8.8.8.8/32" }, "8.8.8.8/32"],
        ["VirtualNetwork", { destinationAddressPrefix: "VirtualNetwork" }, "VirtualNetwork"],
        ["the KMS IPs plus one more", { destinationAddressPrefix: undefined, destinationAddressPrefixes: [...PUBLIC, "1.1.1.1"] }, "1.1.1.1"],
        ["two wide entries", { destinationAddressPrefix: undefined, destinationAddressPrefixes: ["Internet", PUBLIC[0], "10.0.0.0/8"] }, "Internet, 10.0.0.0/8"],
        ["a port range holding 1688", { destinationPortRange: "1600-1700" }, "*"],
        ["a port list holding 1688", { destinationPortRange: undefined, destinationPortRanges: ["443", "1688"] }, "*"],
        ["any protocol", { protocol: "*" }, "*"],
    ])("1688 to %s is flagged, naming the wide destination", async (_, extra, wider) => {
        expect(await runResource(policy, RULE, rule(extra))).toEqual([message(wider)]);
    });

    test.each([
        ["the KMS IPs", { destinationAddressPrefix: undefined, destinationAddressPrefixes: [...PUBLIC] }],
        ["the KMS /32s", { destinationAddressPrefix: undefined, destinationAddressPrefixes: PUBLIC.map((ip) => `${ip}/32`) }],
        ["one KMS IP", { destinationAddressPrefix: PUBLIC[1] }],
        ["the KMS service tag", { destinationAddressPrefix: "AzurePlatformLKM" }],
        ["port * (not named explicitly)", { destinationPortRange: "*" }],
        ["another port", { destinationPortRange: "443" }],
        ["a range without 1688", { destinationPortRange: "1689-2000" }],
        ["an inbound rule", { direction: "Inbound" }],
        ["a deny", { access: "Deny" }],
        ["no destination prefix (application security groups)", { destinationAddressPrefix: undefined }],
    ])("1688 to %s passes", async (_, extra) => {
        expect(await runResource(policy, RULE, rule(extra))).toEqual([]);
    });

    test("inline rules of an NSG: each offending rule is reported", async () => {
        const props = {
            resourceGroupName: "rg",
            networkSecurityGroupName: "nsg-spoke",
            securityRules: [
                allow({ name: "wide-any", priority: 100 }),
                allow({ name: "exact", priority: 110, destinationAddressPrefix: undefined, destinationAddressPrefixes: [...PUBLIC] }),
                allow({ name: "wide-internet", priority: 120, destinationAddressPrefix: "Internet" }),
                allow({ name: undefined, priority: 130 }),
            ],
        };
        expect(await runResource(policy, NSG, props)).toEqual([
            message("*", { name: "wide-any" }),
            message("Internet", { name: "wide-internet", priority: " (priority 120)" }),
            message("*", { name: "(unnamed)", priority: " (priority 130)" }),
        ]);
    });

    test("the NSG is named by its outputs' name, else its resource name; a standalone rule by its resource name", async () => {
        expect(await runResource(policy, NSG, { name: "nsg-out", securityRules: [allow()] })).toEqual([message("*", { owner: ' of NSG "nsg-out"' })]);
        expect(await runResource(policy, NSG, { securityRules: [allow()] }, {}, "nsg-resource")).toEqual([message("*", { owner: ' of NSG "nsg-resource"' })]);
        const { securityRuleName: _, networkSecurityGroupName: __, priority: ___, ...bare } = rule();
        expect(await runResource(policy, RULE, bare, {}, "rule-resource")).toEqual([message("*", { name: "rule-resource", priority: "", owner: "" })]);
    });

    test.each(Object.values(AzureCloud))("%s: the allowed destinations are that cloud's KMS IPs", async (cloud) => {
        const ips = kmsEndpoint(cloud).ipAddresses;
        expect(await runResource(policy, RULE, rule({ destinationAddressPrefix: undefined, destinationAddressPrefixes: [...ips] }), { cloud })).toEqual([]);
        const others = Object.values(AzureCloud).filter((c) => c !== cloud).flatMap((c) => kmsEndpoint(c).ipAddresses);
        expect(await runResource(policy, RULE, rule({ destinationAddressPrefix: others[0] }), { cloud })).toEqual([
            message(others[0], { addresses: ips, source: cloud }),
        ]);
    });

    test("a custom KMS server: its prefixes (or narrower) on its port pass; its wider neighbours do not", async () => {
        const customKmsServer = { host: "10.50.0.5", port: 1700, addressPrefixes: ["10.50.0.0/28"] };
        const coded = createKmsActivationPolicies({ customKmsServer, hygiene: true }).find((p) => p.name === NAME) as KmsActivationPolicy;
        const custom = { addresses: ["10.50.0.0/28"], source: "customKmsServer", port: 1700 };
        expect(await runResource(coded, RULE, rule({ destinationPortRange: "1700", destinationAddressPrefix: "10.50.0.0/28" }))).toEqual([]);
        expect(await runResource(coded, RULE, rule({ destinationPortRange: "1700", destinationAddressPrefix: "10.50.0.5" }))).toEqual([]);
        expect(await runResource(coded, RULE, rule({ destinationPortRange: "1700", destinationAddressPrefix: "10.50.0.0/16" }))).toEqual([message("10.50.0.0/16", custom)]);
        expect(await runResource(coded, RULE, rule({ destinationPortRange: "1700", destinationAddressPrefix: "AzurePlatformLKM" }))).toEqual([message("AzurePlatformLKM", custom)]);
        // 1688 is not the KMS port here: a rule for it is not a KMS rule.
        expect(await runResource(coded, RULE, rule({ destinationPortRange: "1688" }))).toEqual([]);
    });

    test("other resource types are not looked at", async () => {
        expect(await runResource(policy, "azure-native:network:RouteTable", rule())).toEqual([]);
    });

    test("missing properties never throw", async () => {
        expect(await runResource(policy, RULE, {})).toEqual([]);
        expect(await runResource(policy, NSG, {})).toEqual([]);
        expect(await runResource(policy, NSG, { securityRules: [null, 3, {}] })).toEqual([]);
        expect(await runResource(policy, RULE, rule({ destinationPortRange: "not-a-port" }))).toEqual([]);
    });

    test("preview: an unknown destination, port, access or rule list is skipped", async () => {
        expect(await runResource(policy, RULE, preview(rule({ destinationAddressPrefix: UNKNOWN_VALUE })))).toEqual([]);
        expect(await runResource(policy, RULE, preview(rule({ destinationPortRange: UNKNOWN_VALUE })))).toEqual([]);
        expect(await runResource(policy, RULE, preview(rule({ access: UNKNOWN_VALUE })))).toEqual([]);
        expect(await runResource(policy, NSG, preview({ securityRules: UNKNOWN_VALUE }))).toEqual([]);
        expect(await runResource(policy, RULE, preview(rule({ networkSecurityGroupName: UNKNOWN_VALUE })))).toEqual([message("*", { owner: "" })]);
    });
});
