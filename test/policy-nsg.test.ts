import { kmsEndpoint } from "../src/kms/endpoints";
import { createKmsActivationPolicies, kmsActivationPolicies, KmsActivationPolicy } from "../src/policy";
import { AzureCloud } from "../src/types";
import { UNKNOWN_VALUE, preview, resource, runStack } from "./policy-args";

const NSG = "azure-native:network:NetworkSecurityGroup";
const RULE = "azure-native:network:SecurityRule";
const NAME = "kms-nsg-allow-before-deny";
const policy = kmsActivationPolicies.find((p) => p.name === NAME) as KmsActivationPolicy;
const PUBLIC = kmsEndpoint(AzureCloud.AzurePublic).ipAddresses;
const [P1, P2, P3] = PUBLIC;

interface Rule {
    name: string;
    priority?: unknown;
    direction?: unknown;
    access?: unknown;
    protocol?: unknown;
    destinationAddressPrefix?: unknown;
    destinationAddressPrefixes?: unknown;
    destinationPortRange?: unknown;
    destinationPortRanges?: unknown;
}

const deny = (name: string, priority: number, extra: Partial<Rule> = {}): Rule => ({
    name,
    priority,
    direction: "Outbound",
    access: "Deny",
    protocol: "*",
    destinationAddressPrefix: "Internet",
    destinationPortRange: "*",
    ...extra,
});
const allowKms = (priority: number, ips: readonly string[] = PUBLIC, extra: Partial<Rule> = {}): Rule => ({
    name: "allow-kms-tcp-1688-out",
    priority,
    direction: "Outbound",
    access: "Allow",
    protocol: "Tcp",
    destinationAddressPrefixes: [...ips],
    destinationPortRange: "1688",
    ...extra,
});
const nsg = (name: string, securityRules?: Rule[]) =>
    resource(NSG, name, { resourceGroupName: "rg", networkSecurityGroupName: name, ...(securityRules ? { securityRules } : {}) });
const standalone = (nsgName: string, rule: Rule) =>
    resource(RULE, rule.name, { resourceGroupName: "rg", networkSecurityGroupName: nsgName, securityRuleName: rule.name, ...rule, name: undefined });

function message(nsgName: string, denyName: string, priority: number, blocked: readonly string[], source = "AzurePublic", port = 1688): string {
    return (
        `NSG "${nsgName}": outbound Deny rule "${denyName}" (priority ${priority}) blocks TCP ${port} to the KMS at ${blocked.join(", ")} ` +
        `(${source}), and no outbound Allow for TCP ${port} to them comes before it: Windows VMs behind it cannot activate. ` +
        `Remediation: add an outbound Allow rule for protocol Tcp, destination port ${port}, destination ${blocked.join(", ")}, ` +
        `with a priority number lower than ${priority} (KmsEgressRules from azure-kms-activation adds one, priority 100 by default).`
    );
}

describe("kms-nsg-allow-before-deny", () => {
    test("the exact message, for a deny on Internet with the KMS allow after it", async () => {
        const group = nsg("nsg-spoke", [deny("deny-internet-out", 4000), allowKms(4010)]);
        expect(await runStack(policy, [group])).toEqual([
            {
                message:
                    'NSG "nsg-spoke": outbound Deny rule "deny-internet-out" (priority 4000) blocks TCP 1688 to the KMS at 20.118.99.224, ' +
                    "40.83.235.53, 23.102.135.246 (AzurePublic), and no outbound Allow for TCP 1688 to them comes before it: Windows VMs " +
                    "behind it cannot activate. Remediation: add an outbound Allow rule for protocol Tcp, destination port 1688, destination " +
                    "20.118.99.224, 40.83.235.53, 23.102.135.246, with a priority number lower than 4000 (KmsEgressRules from " +
                    "azure-kms-activation adds one, priority 100 by default).",
                urn: group.urn,
            },
        ]);
    });

    test("the KMS allow at a lower priority number than the deny passes", async () => {
        expect(await runStack(policy, [nsg("nsg", [allowKms(100), deny("deny-all", 4096, { destinationAddressPrefix: "*" })])])).toEqual([]);
    });

    test.each([
        ["*", { destinationAddressPrefix: "*" }],
        ["Internet", { destinationAddressPrefix: "Internet" }],
        ["0.0.0.0/0", { destinationAddressPrefix: "0.0.0.0/0" }],
        ["AzurePlatformLKM", { destinationAddressPrefix: "AzurePlatformLKM" }],
        ["a prefix list", { destinationAddressPrefix: undefined, destinationAddressPrefixes: ["10.0.0.0/8", "0.0.0.0/0"] }],
        ["protocol Tcp", { protocol: "Tcp" }],
        ["port 1688", { destinationPortRange: "1688" }],
        ["a port range", { destinationPortRange: "1000-2000" }],
        ["a port list", { destinationPortRange: undefined, destinationPortRanges: ["443", "1600-1700"] }],
        ["lower-case values", { direction: "outbound", access: "deny", protocol: "tcp", destinationAddressPrefix: "internet" }],
    ])("a deny on %s catches KMS traffic", async (_, extra) => {
        expect(await runStack(policy, [nsg("nsg", [deny("d", 300, extra)])])).toEqual([{ message: message("nsg", "d", 300, PUBLIC), urn: nsg("nsg").urn }]);
    });

    test.each([
        ["UDP only", { protocol: "Udp" }],
        ["ICMP only", { protocol: "Icmp" }],
        ["another port", { destinationPortRange: "443" }],
        ["a range without 1688", { destinationPortRange: "1000-1687" }],
        ["inbound", { direction: "Inbound" }],
        ["VirtualNetwork", { destinationAddressPrefix: "VirtualNetwork" }],
        ["a private prefix", { destinationAddressPrefix: "10.0.0.0/8" }],
        ["an IPv6 prefix", { destinationAddressPrefix: "::/0" }],
        ["no destination", { destinationAddressPrefix: undefined }],
    ])("a deny on %s does not touch KMS traffic", async (_, extra) => {
        expect(await runStack(policy, [nsg("nsg", [deny("d", 300, extra)])])).toEqual([]);
    });

    test("a deny on a prefix holding one KMS IP names only that IP", async () => {
        expect(await runStack(policy, [nsg("nsg", [deny("d", 300, { destinationAddressPrefix: "20.0.0.0/8" })])])).toEqual([
            { message: message("nsg", "d", 300, [P1]), urn: nsg("nsg").urn },
        ]);
    });

    test("an allow before the deny that covers only some KMS IPs leaves the others named", async () => {
        const group = nsg("nsg", [allowKms(200, [P1, P3]), deny("deny-out", 300)]);
        expect(await runStack(policy, [group])).toEqual([{ message: message("nsg", "deny-out", 300, [P2]), urn: group.urn }]);
    });

    test.each([
        ["port * and protocol *", { protocol: "*", destinationPortRange: "*" }],
        ["destination Internet", { destinationAddressPrefixes: undefined, destinationAddressPrefix: "Internet" }],
        ["destination AzurePlatformLKM", { destinationAddressPrefixes: undefined, destinationAddressPrefix: "AzurePlatformLKM" }],
        ["a prefix containing every KMS IP", { destinationAddressPrefixes: ["0.0.0.0/1", "128.0.0.0/1"] }],
        ["the /32 form", { destinationAddressPrefixes: PUBLIC.map((ip) => `${ip}/32`) }],
        ["a port list", { destinationPortRange: undefined, destinationPortRanges: ["443", "1688"] }],
    ])("an allow with %s before the deny covers the KMS", async (_, extra) => {
        expect(await runStack(policy, [nsg("nsg", [allowKms(200, PUBLIC, extra as Partial<Rule>), deny("d", 300)])])).toEqual([]);
    });

    test.each([
        ["UDP", { protocol: "Udp" }],
        ["another port", { destinationPortRange: "443" }],
        ["inbound", { direction: "Inbound" }],
    ])("an allow for %s does not help", async (_, extra) => {
        expect(await runStack(policy, [nsg("nsg", [allowKms(200, PUBLIC, extra), deny("d", 300)])])).toEqual([
            { message: message("nsg", "d", 300, PUBLIC), urn: nsg("nsg").urn },
        ]);
    });

    test("the first deny that catches each address is the one named; later denies are not repeated", async () => {
        const group = nsg("nsg", [deny("deny-one", 150, { destinationAddressPrefix: `${P2}/32` }), allowKms(200), deny("deny-all", 4000, { destinationAddressPrefix: "*" })]);
        expect(await runStack(policy, [group])).toEqual([{ message: message("nsg", "deny-one", 150, [P2]), urn: group.urn }]);
    });

    test("two denies each blocking part of the KMS give one violation each", async () => {
        const group = nsg("nsg", [deny("deny-a", 150, { destinationAddressPrefix: `${P1}/32` }), deny("deny-b", 160, { destinationAddressPrefix: "Internet" })]);
        expect(await runStack(policy, [group])).toEqual([
            { message: message("nsg", "deny-a", 150, [P1]), urn: group.urn },
            { message: message("nsg", "deny-b", 160, [P2, P3]), urn: group.urn },
        ]);
    });

    test("priorities given as strings are ordered as numbers", async () => {
        expect(await runStack(policy, [nsg("nsg", [allowKms("900" as never), deny("d", "1000" as never)])])).toEqual([]);
    });

    test("standalone rules of the same NSG count like inline ones; a standalone deny is reported on itself", async () => {
        const group = nsg("nsg-app", [deny("deny-internet", 4000)]);
        const allow = standalone("nsg-app", allowKms(100));
        expect(await runStack(policy, [group, allow])).toEqual([]);

        const standaloneDeny = standalone("nsg-app", deny("deny-standalone", 300));
        expect(await runStack(policy, [nsg("nsg-app"), allow, standaloneDeny])).toEqual([]);
        const lateAllow = standalone("nsg-app", allowKms(400));
        expect(await runStack(policy, [nsg("nsg-app"), lateAllow, standaloneDeny])).toEqual([
            { message: message("nsg-app", "deny-standalone", 300, PUBLIC), urn: standaloneDeny.urn },
        ]);
    });

    test("an NSG owned by another stack: rules added here are judged together", async () => {
        const d = standalone("nsg-shared", deny("deny-out", 500));
        expect(await runStack(policy, [d])).toEqual([{ message: message("nsg-shared", "deny-out", 500, PUBLIC), urn: d.urn }]);
        expect(await runStack(policy, [d, standalone("nsg-shared", allowKms(120))])).toEqual([]);
    });

    test("several NSGs in one stack: an allow in one does not help another", async () => {
        const a = nsg("nsg-a", [allowKms(100), deny("deny", 4000)]);
        const b = nsg("nsg-b", [deny("deny", 4000)]);
        const c = nsg("nsg-c", [deny("deny-kms", 200, { destinationAddressPrefix: "AzurePlatformLKM" })]);
        const d = nsg("nsg-d", []);
        expect(await runStack(policy, [a, b, c, d])).toEqual([
            { message: message("nsg-b", "deny", 4000, PUBLIC), urn: b.urn },
            { message: message("nsg-c", "deny-kms", 200, PUBLIC), urn: c.urn },
        ]);
    });

    test("the platform's default rules in deployed outputs are not judged (AllowInternetOutBound precedes DenyAllOutBound)", async () => {
        const deployed = resource(NSG, "nsg", {
            name: "nsg",
            securityRules: [],
            defaultSecurityRules: [deny("DenyAllOutBound", 65500, { destinationAddressPrefix: "*" })],
        });
        expect(await runStack(policy, [deployed])).toEqual([]);
    });

    test.each(Object.values(AzureCloud))("%s: the allow must cover that cloud's KMS IPs", async (cloud) => {
        const ips = kmsEndpoint(cloud).ipAddresses;
        expect(ips.length).toBe(cloud === AzureCloud.AzureUSGovernment ? 2 : 3);
        expect(await runStack(policy, [nsg("nsg", [allowKms(100, ips), deny("d", 200)])], { cloud })).toEqual([]);
        expect(await runStack(policy, [nsg("nsg", [allowKms(100, ips.slice(1)), deny("d", 200)])], { cloud })).toEqual([
            { message: message("nsg", "d", 200, ips.slice(0, 1), cloud), urn: nsg("nsg").urn },
        ]);
    });

    describe("custom KMS server", () => {
        const customKmsServer = { host: "kms.contoso.com", port: 1700, addressPrefixes: ["10.50.0.0/28", "10.60.0.5"] };
        const coded = createKmsActivationPolicies({ customKmsServer }).find((p) => p.name === NAME) as KmsActivationPolicy;
        const allowCustom = (priority: number, extra: Partial<Rule> = {}) =>
            allowKms(priority, customKmsServer.addressPrefixes, { destinationPortRange: "1700", ...extra });

        test("a deny on VirtualNetwork or an overlapping prefix blocks it; the message uses its prefixes and port", async () => {
            const vnet = nsg("nsg", [deny("deny-vnet", 300, { destinationAddressPrefix: "VirtualNetwork" })]);
            expect(await runStack(coded, [vnet])).toEqual([{ message: message("nsg", "deny-vnet", 300, customKmsServer.addressPrefixes, "customKmsServer", 1700), urn: vnet.urn }]);
            const part = nsg("nsg", [deny("deny-host", 300, { destinationAddressPrefix: "10.50.0.8/30" })]);
            expect(await runStack(coded, [part])).toEqual([{ message: message("nsg", "deny-host", 300, ["10.50.0.0/28"], "customKmsServer", 1700), urn: part.urn }]);
        });

        test("an Internet deny does not touch an on-premises KMS; the KMS port is the custom one", async () => {
            expect(await runStack(coded, [nsg("nsg", [deny("d", 300)])])).toEqual([]);
            expect(await runStack(coded, [nsg("nsg", [deny("d", 300, { destinationAddressPrefix: "*", destinationPortRange: "1688" })])])).toEqual([]);
        });

        test("an allow to its prefixes, or a wider prefix, on its port passes; one that only overlaps does not", async () => {
            expect(await runStack(coded, [nsg("nsg", [allowCustom(100), deny("d", 300, { destinationAddressPrefix: "*" })])])).toEqual([]);
            expect(await runStack(coded, [nsg("nsg", [allowCustom(100, { destinationAddressPrefixes: ["10.0.0.0/8"] }), deny("d", 300, { destinationAddressPrefix: "*" })])])).toEqual([]);
            const partial = nsg("nsg", [allowCustom(100, { destinationAddressPrefixes: ["10.50.0.0/29", "10.60.0.5/32"] }), deny("d", 300, { destinationAddressPrefix: "*" })]);
            expect(await runStack(coded, [partial])).toEqual([{ message: message("nsg", "d", 300, ["10.50.0.0/28"], "customKmsServer", 1700), urn: partial.urn }]);
        });

        test("the same through the policy config", async () => {
            expect(await runStack(policy, [nsg("nsg", [deny("d", 300, { destinationAddressPrefix: "*" })])], { customKmsServer })).toEqual([
                { message: message("nsg", "d", 300, customKmsServer.addressPrefixes, "customKmsServer", 1700), urn: nsg("nsg").urn },
            ]);
        });
    });

    test("missing properties never throw", async () => {
        const resources = [
            resource(NSG, "empty", {}),
            resource(NSG, "odd", { securityRules: { not: "a list" } }),
            resource(NSG, "holes", { securityRules: [null, "x", { name: "half", access: "Deny" }] }),
            resource(RULE, "bare", { networkSecurityGroupName: "empty" }),
            resource(RULE, "no-priority", { networkSecurityGroupName: "empty", ...deny("np", 0), priority: undefined }),
        ];
        expect(await runStack(policy, resources)).toEqual([]);
    });

    test("a rule without a priority cannot be ordered and is left out", async () => {
        expect(await runStack(policy, [nsg("nsg", [allowKms(undefined as never), deny("d", 300)])])).toEqual([
            { message: message("nsg", "d", 300, PUBLIC), urn: nsg("nsg").urn },
        ]);
    });

    describe("preview: values not known yet", () => {
        test.each([
            ["the rule list", { securityRules: UNKNOWN_VALUE }],
            ["a priority", { securityRules: [allowKms(UNKNOWN_VALUE as never), deny("d", 300)] }],
            ["a destination", { securityRules: [allowKms(100, [UNKNOWN_VALUE]), deny("d", 300)] }],
            ["a port", { securityRules: [allowKms(100, PUBLIC, { destinationPortRange: UNKNOWN_VALUE }), deny("d", 300)] }],
            ["a direction", { securityRules: [allowKms(100, PUBLIC, { direction: UNKNOWN_VALUE }), deny("d", 300)] }],
        ])("an NSG with an unknown %s is skipped", async (_, props) => {
            expect(await runStack(policy, [resource(NSG, "nsg", preview({ networkSecurityGroupName: "nsg", ...props }))])).toEqual([]);
        });

        test("an unknown NSG name on a standalone rule is resolved through the engine's property dependency", async () => {
            const group = resource(NSG, "nsg", preview({ networkSecurityGroupName: UNKNOWN_VALUE, securityRules: [deny("d", 300)] }));
            const allow = resource(RULE, "allow", preview({ networkSecurityGroupName: UNKNOWN_VALUE, ...allowKms(400) }), { propertyDependencies: { networkSecurityGroupName: [group] } });
            expect(await runStack(policy, [group, allow])).toEqual([{ message: message("nsg", "d", 300, PUBLIC), urn: group.urn }]);
        });

        test("a rule whose NSG cannot be told may be the missing allow: nothing is reported", async () => {
            const unplaced = resource(RULE, "allow", preview({ networkSecurityGroupName: UNKNOWN_VALUE, ...allowKms(100) }));
            expect(await runStack(policy, [nsg("nsg", [deny("d", 300)]), unplaced])).toEqual([]);
        });
    });
});
