import * as pulumi from "@pulumi/pulumi";
import { emptyRouteTablesAndNsgs, errorOf, mockedPackage, valueOf } from "./harness";

const t = mockedPackage(emptyRouteTablesAndNsgs);

const GROUP = "azure-native:network:FirewallPolicyRuleCollectionGroup";
const COMPONENT = "azure-kms-activation:index:KmsFirewallRules";
const SPOKE = ["10.20.0.0/16"];

/** The group's inputs with the one network rule it must hold. */
function expectedGroup(destinations: string[], port: number, sources: string[], overrides: { name?: string; priority?: number; collectionPriority?: number } = {}) {
    return {
        resourceGroupName: "rg-hub",
        firewallPolicyName: "fwp-hub",
        ruleCollectionGroupName: overrides.name ?? "kms-activation",
        priority: overrides.priority ?? 150,
        ruleCollections: [
            {
                ruleCollectionType: "FirewallPolicyFilterRuleCollection",
                name: "allow-kms-activation",
                priority: overrides.collectionPriority ?? 100,
                action: { type: "Allow" },
                rules: [
                    {
                        ruleType: "NetworkRule",
                        name: `allow-kms-tcp-${port}`,
                        description: "Windows activation: TCP to the KMS (azure-kms-activation)",
                        ipProtocols: ["TCP"],
                        sourceAddresses: sources,
                        destinationAddresses: destinations,
                        destinationPorts: [String(port)],
                    },
                ],
            },
        ],
    };
}

describe("KmsFirewallRules", () => {
    test("adds one rule collection group with one Allow network rule for TCP 1688, and nothing else", async () => {
        const rules = new t.m.KmsFirewallRules("hub", { resourceGroupName: "rg-hub", firewallPolicyName: "fwp-hub", sourceAddresses: ["10.20.0.0/16", "10.30.1.0/24"] });
        await t.h.settle();
        expect(t.h.summary()).toEqual([`${COMPONENT} hub`, `${GROUP} hub-rules`]);
        const component = t.h.one(COMPONENT);
        expect(t.h.one(GROUP).parentUrn).toBe(component.urn);
        expect(t.h.one(GROUP).inputs).toEqual(expectedGroup(["20.118.99.224", "40.83.235.53", "23.102.135.246"], 1688, ["10.20.0.0/16", "10.30.1.0/24"]));
        const id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-hub/providers/Microsoft.Network/firewallPolicies/fwp-hub/ruleCollectionGroups/kms-activation";
        expect(await valueOf(rules.egressRuleIds)).toEqual([id]);
        expect(await valueOf(rules.ruleCollectionGroupId)).toBe(id);
        expect(await valueOf(rules.ruleCollectionGroupName)).toBe("kms-activation");
        expect(await valueOf(rules.kmsAddressPrefixes)).toEqual(["20.118.99.224", "40.83.235.53", "23.102.135.246"]);
        expect(t.h.componentOutputs.get(component.urn)).toMatchObject({ egressRuleIds: [id], ruleCollectionGroupId: id });
    });

    test.each([
        ["AzurePublic", ["20.118.99.224", "40.83.235.53", "23.102.135.246"]],
        ["AzureUSGovernment", ["52.126.105.2", "23.97.0.13"]],
        ["AzureChina", ["159.27.28.100", "163.228.64.161", "42.159.7.249"]],
    ])("%s: the rule allows exactly that cloud's KMS IPs on 1688", async (cloud, ips) => {
        new t.m.KmsFirewallRules("fw", { resourceGroupName: "rg-hub", firewallPolicyName: "fwp-hub", sourceAddresses: SPOKE, cloud: cloud as never });
        await t.h.settle();
        expect(t.h.one(GROUP).inputs).toEqual(expectedGroup(ips, 1688, SPOKE));
    });

    test("custom KMS server: the rule allows its prefixes on its port, nothing of Azure's KMS", async () => {
        const rules = new t.m.KmsFirewallRules("fw", {
            resourceGroupName: "rg-hub",
            firewallPolicyName: "fwp-hub",
            sourceAddresses: SPOKE,
            customKmsServer: { host: "kms01.corp.contoso.com", port: 1700, addressPrefixes: ["10.50.0.10/32", "10.60.0.10"] },
        });
        await t.h.settle();
        expect(t.h.one(GROUP).inputs).toEqual(expectedGroup(["10.50.0.10/32", "10.60.0.10"], 1700, SPOKE));
        expect(await valueOf(rules.kmsAddressPrefixes)).toEqual(["10.50.0.10/32", "10.60.0.10"]);
    });

    test("kmsIpAddresses overrides the cloud's list; name and both priorities are honoured", async () => {
        new t.m.KmsFirewallRules("fw", {
            resourceGroupName: "rg-hub",
            firewallPolicyName: "fwp-hub",
            sourceAddresses: ["10.20.1.4"],
            kmsIpAddresses: ["20.118.99.224"],
            ruleCollectionGroupName: "rcg-windows-activation",
            ruleCollectionGroupPriority: 65000,
            ruleCollectionPriority: 4000,
        });
        await t.h.settle();
        expect(t.h.one(GROUP).inputs).toEqual(expectedGroup(["20.118.99.224"], 1688, ["10.20.1.4"], { name: "rcg-windows-activation", priority: 65000, collectionPriority: 4000 }));
    });

    test("standalone: never creates, replaces or reads the firewall policy or the firewall", async () => {
        new t.m.KmsFirewallRules("fw", { resourceGroupName: "rg-hub", firewallPolicyName: "fwp-hub", sourceAddresses: SPOKE });
        await t.h.settle();
        expect(t.h.custom().map((r) => r.type)).toEqual([GROUP]);
        expect(t.h.invokes).toEqual([]);
    });

    test("Output-wrapped inputs give the same rule collection group as plain ones", async () => {
        const plain = { resourceGroupName: "rg-hub", firewallPolicyName: "fwp-hub", sourceAddresses: ["10.20.0.0/16"], ruleCollectionGroupName: "kms", ruleCollectionGroupPriority: 300, ruleCollectionPriority: 200 };
        new t.m.KmsFirewallRules("fw", plain);
        await t.h.settle();
        const fromPlain = t.h.one(GROUP).inputs;
        t.h.reset();
        (await import("../src/network/ownership")).forgetEgressClaims();
        const wrapped = Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, pulumi.output(v)])) as never;
        const rules = new t.m.KmsFirewallRules("fw", wrapped);
        await t.h.settle();
        expect(t.h.one(GROUP).inputs).toEqual(fromPlain);
        expect(await valueOf(rules.ruleCollectionGroupName)).toBe("kms");
    });
});

describe("KmsFirewallRules: one rule collection group write per policy at a time", () => {
    // Azure Firewall takes one write to a policy's rule collection groups at a time and answers a second one in
    // parallel with 409 AnotherOperationInProgress: each group on a policy waits for the one the program registered
    // before it on that policy.
    const base = { resourceGroupName: "rg-hub", sourceAddresses: SPOKE };
    const groupNamed = (name: string) => t.h.ofType(GROUP).find((r) => r.name === name)!;
    // The groups a group waits for (its other dependencies are the resources its inputs come from).
    const groupDeps = (name: string) => groupNamed(name).dependencies.filter((urn) => urn.includes(`${GROUP}::`));

    test("each group on a policy waits for the previous one on that policy (names compare case-insensitively); other policies are not chained", async () => {
        new t.m.KmsFirewallRules("a", { ...base, firewallPolicyName: "fwp-hub" });
        new t.m.KmsFirewallRules("b", { ...base, resourceGroupName: "RG-Hub", firewallPolicyName: "FWP-HUB", ruleCollectionGroupName: "kms-2", ruleCollectionGroupPriority: 160 });
        new t.m.KmsFirewallRules("other", { ...base, firewallPolicyName: "fwp-other" });
        new t.m.KmsFirewallRules("c", { ...base, firewallPolicyName: "fwp-hub", ruleCollectionGroupName: "kms-3", ruleCollectionGroupPriority: 170 });
        await t.h.settle();
        expect(groupDeps("a-rules")).toEqual([]);
        expect(groupDeps("b-rules")).toEqual([groupNamed("a-rules").urn]);
        expect(groupDeps("other-rules")).toEqual([]);
        expect(groupDeps("c-rules")).toEqual([groupNamed("b-rules").urn]);
    });

    test("names that are Outputs: a group joins the chain when its names resolve, after the groups already registered", async () => {
        new t.m.KmsFirewallRules("late", { ...base, firewallPolicyName: pulumi.output("fwp-hub"), ruleCollectionGroupName: pulumi.output("kms-late") });
        new t.m.KmsFirewallRules("early", { ...base, firewallPolicyName: "fwp-hub" });
        await t.h.settle();
        expect(groupDeps("early-rules")).toEqual([]);
        expect(groupDeps("late-rules")).toEqual([groupNamed("early-rules").urn]);
    });

    test("groups made by other code: the component's dependsOn reaches its group, and dependsOn on the component waits for its group", async () => {
        const network = await import("@pulumi/azure-native/network");
        const theirs = new network.FirewallPolicyRuleCollectionGroup("theirs", { resourceGroupName: "rg-hub", firewallPolicyName: "fwp-hub", priority: 300 });
        const rules = new t.m.KmsFirewallRules("kms", { ...base, firewallPolicyName: "fwp-hub" }, { dependsOn: [theirs] });
        new network.FirewallPolicyRuleCollectionGroup("after", { resourceGroupName: "rg-hub", firewallPolicyName: "fwp-hub", priority: 400 }, { dependsOn: [rules] });
        await t.h.settle();
        expect(groupDeps("kms-rules")).toEqual([groupNamed("theirs").urn]);
        expect(groupDeps("after")).toEqual([groupNamed("kms-rules").urn]);
    });
});

describe("KmsFirewallRules refusals (plain values: at construction, before any child)", () => {
    const base = { resourceGroupName: "rg-hub", firewallPolicyName: "fwp-hub", sourceAddresses: SPOKE };
    test.each<[string, object, string]>([
        ["missing sourceAddresses", { sourceAddresses: undefined }, 'KmsFirewallRules "fw": sourceAddresses: is required; list the address prefixes of the spokes whose VMs activate, such as ["10.20.0.0/16"]'],
        ["empty sourceAddresses", { sourceAddresses: [] }, 'KmsFirewallRules "fw": sourceAddresses: must be a non-empty list; list the address prefixes'],
        ["a service tag as source", { sourceAddresses: ["VirtualNetwork"] }, 'KmsFirewallRules "fw": sourceAddresses[0]: "VirtualNetwork" is not an IPv4 CIDR prefix; give address/bits such as 10.0.0.0/24'],
        ["'*' as source", { sourceAddresses: ["10.20.0.0/16", "*"] }, 'KmsFirewallRules "fw": sourceAddresses[1]: "*" is not an IPv4 CIDR prefix'],
        ["a bad prefix", { sourceAddresses: ["10.20.0.0/33"] }, 'KmsFirewallRules "fw": sourceAddresses[0]: "10.20.0.0/33" is not an IPv4 CIDR prefix'],
        ["an injected prefix", { sourceAddresses: ["10.20.0.0/16;calc"] }, 'KmsFirewallRules "fw": sourceAddresses[0]: "10.20.0.0/16;calc" is not an IPv4 CIDR prefix'],
        ["duplicate sources", { sourceAddresses: ["10.20.0.0/16", "10.20.0.0/16"] }, 'KmsFirewallRules "fw": sourceAddresses: has duplicate entries'],
        ["too many sources", { sourceAddresses: Array.from({ length: 65 }, (_, i) => `10.${i}.0.0/16`) }, 'KmsFirewallRules "fw": sourceAddresses: has 65 entries, more than 64; give at most 64'],
        ["group priority 99", { ruleCollectionGroupPriority: 99 }, 'KmsFirewallRules "fw": ruleCollectionGroupPriority: 99 is not an Azure Firewall policy priority; give a whole number from 100 to 65000'],
        ["group priority 65001", { ruleCollectionGroupPriority: 65001 }, 'KmsFirewallRules "fw": ruleCollectionGroupPriority: 65001 is not an Azure Firewall policy priority'],
        ["group priority 150.5", { ruleCollectionGroupPriority: 150.5 }, 'KmsFirewallRules "fw": ruleCollectionGroupPriority: 150.5 is not an Azure Firewall policy priority'],
        ["collection priority 0", { ruleCollectionPriority: 0 }, 'KmsFirewallRules "fw": ruleCollectionPriority: 0 is not an Azure Firewall policy priority'],
        ["collection priority 70000", { ruleCollectionPriority: 70000 }, 'KmsFirewallRules "fw": ruleCollectionPriority: 70000 is not an Azure Firewall policy priority'],
        ["empty policy name", { firewallPolicyName: "" }, 'KmsFirewallRules "fw": firewallPolicyName: is empty; give firewallPolicyName a value'],
        ["bad policy name", { firewallPolicyName: "fwp;calc" }, 'KmsFirewallRules "fw": firewallPolicyName: "fwp;calc" is not a valid Azure resource name'],
        ["bad group name", { ruleCollectionGroupName: "kms-" }, 'KmsFirewallRules "fw": ruleCollectionGroupName: "kms-" is not a valid Azure resource name'],
        ["bad resource group", { resourceGroupName: "rg." }, 'KmsFirewallRules "fw": resourceGroupName: "rg." is not a resource group name'],
        ["unknown cloud", { cloud: "AzureGermany" }, 'KmsFirewallRules "fw": cloud: "AzureGermany" is not allowed; use one of AzurePublic, AzureUSGovernment, AzureChina'],
        ["bad KMS IP", { kmsIpAddresses: ["20.118.99.224/32"] }, 'KmsFirewallRules "fw": kmsIpAddresses[0]: "20.118.99.224/32" is not an IPv4 address'],
        ["custom KMS without prefixes", { customKmsServer: { host: "kms.contoso.com" } }, 'KmsFirewallRules "fw": customKmsServer.addressPrefixes: is required'],
    ])("%s", (_label, patch, message) => {
        const error = errorOf(() => new t.m.KmsFirewallRules("fw", { ...base, ...patch } as never));
        expect(error.name).toBe("KmsInputError");
        expect(error.message.startsWith(message)).toBe(true);
        expect(t.h.custom()).toEqual([]);
    });

    test("a second KmsFirewallRules on the same policy and group is refused with the first's name (names compare case-insensitively)", async () => {
        new t.m.KmsFirewallRules("spokes-a", { ...base });
        expect(() => new t.m.KmsFirewallRules("spokes-b", { resourceGroupName: "RG-HUB", firewallPolicyName: "FWP-Hub", sourceAddresses: ["10.30.0.0/16"], ruleCollectionGroupName: "KMS-Activation" })).toThrow(
            'KmsFirewallRules "spokes-b": ruleCollectionGroupName: rule collection group "KMS-Activation" of firewall policy "FWP-Hub" in resource group "RG-HUB" already belongs to KmsFirewallRules "spokes-a" ' +
                "(both would write the same Azure resource and replace each other's rules); keep one KmsFirewallRules per rule collection group and list every spoke in its sourceAddresses, " +
                "or give this one another ruleCollectionGroupName (the package writes its groups on one policy one after another; give a group your own code adds to the policy dependsOn: [this component])",
        );
        await t.h.settle();
        expect(t.h.summary((r) => r.custom)).toEqual([`${GROUP} spokes-a-rules`]);
    });

    test("other groups, policies and resource groups are fine, and a KmsEgressRules never collides with it", async () => {
        new t.m.KmsFirewallRules("a", { ...base });
        new t.m.KmsFirewallRules("b", { ...base, ruleCollectionGroupName: "kms-activation-2", ruleCollectionGroupPriority: 160 });
        new t.m.KmsFirewallRules("c", { ...base, firewallPolicyName: "fwp-other" });
        new t.m.KmsFirewallRules("d", { ...base, resourceGroupName: "rg-other" });
        new t.m.KmsEgressRules("e", { resourceGroupName: "rg-hub", routeTableName: "kms-activation", networkSecurityGroupName: "fwp-hub" });
        await t.h.settle();
        expect(t.h.ofType(GROUP)).toHaveLength(4);
    });
});
