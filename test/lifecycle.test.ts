import * as pulumi from "@pulumi/pulumi";
import { InvokeMock, mockedPackage, Registration, secretValue } from "./harness";

// A stack's whole life, row by row of docs/lifecycle.md. A real diff needs the Pulumi CLI and Azure; under mocks
// each row registers the program twice (before and after the change) and compares what decides the diff: the
// child URNs (same URN: update or replace; URN gone: delete; new URN: create), the Azure names and inputs, and the
// resource options (deleteBeforeReplace, retainOnDelete). What the provider and Azure do with them is cited there.

// What Azure holds in the brownfield table and NSG, per test.
let existingRoutes: Record<string, unknown>[] = [];
let existingRules: Record<string, unknown>[] = [];
const azure: InvokeMock = (token, inputs) => {
    switch (token) {
        case "azure-native:network:getRouteTable":
            return { name: inputs.routeTableName, routes: existingRoutes };
        case "azure-native:network:getNetworkSecurityGroup":
            return { name: inputs.networkSecurityGroupName, securityRules: existingRules };
        case "azure-native:network:getSubnet":
            return { name: inputs.subnetName, natGateway: { id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/natGateways/nat" } };
        default:
            return undefined;
    }
};

const t = mockedPackage(azure);
const ROUTE = "azure-native:network:Route";
const RULE = "azure-native:network:SecurityRule";
const CSE = "azure-native:compute:VirtualMachineExtension";
const RUN = "azure-native:compute:VirtualMachineRunCommandByVirtualMachine";
const NIC = "azure-native:network:NetworkInterface";
const CREDENTIALS = { adminUsername: "kmsadmin", adminPassword: "Correct-Horse-7-Battery" };
const BROWNFIELD = { resourceGroupName: "rg-spoke", routeTableName: "rt-spoke", networkSecurityGroupName: "nsg-spoke" };

let warn: jest.SpyInstance;
beforeEach(() => {
    existingRoutes = [];
    existingRules = [];
    warn = jest.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
});
afterEach(() => warn.mockRestore());

/** An Output's value as a promise that rejects when the Output fails (its three promises all awaited). */
function rejection<T>(output: pulumi.Output<T>): Promise<T> {
    const internals = output as unknown as { promise(): Promise<T>; isKnown: Promise<boolean>; isSecret: Promise<boolean> };
    internals.isKnown.catch(() => undefined);
    internals.isSecret.catch(() => undefined);
    return internals.promise();
}

/** Runs one program from scratch and returns its registrations. */
async function program(build: () => void): Promise<Registration[]> {
    // The harness's reset forgets the earlier program's claims, reads and egress too.
    t.h.reset();
    build();
    await t.h.settle();
    return [...t.h.registrations];
}

const ofType = (regs: Registration[], type: string) => regs.filter((r) => r.type === type);
const urns = (regs: Registration[], type: string) => ofType(regs, type).map((r) => r.urn).sort();
const one = (regs: Registration[], type: string) => {
    const found = ofType(regs, type);
    expect(found).toHaveLength(1);
    return found[0];
};
const options = (regs: Registration[]) =>
    Object.fromEntries(regs.filter((r) => r.custom).map((r) => [r.name, r.options]));

const fixedName = { deleteBeforeReplace: true, retainOnDelete: false, protect: false, replaceOnChanges: [], ignoreChanges: [] };
const retained = { ...fixedName, retainOnDelete: true };
const autoNamed = { deleteBeforeReplace: false, retainOnDelete: false, protect: false, replaceOnChanges: [], ignoreChanges: [] };

describe("resource options of every child the network components own", () => {
    test("KmsEgressRules: routes and rule delete before they replace; retainOnDelete passes through", async () => {
        const regs = await program(() => new t.m.KmsEgressRules("spoke", BROWNFIELD));
        expect(options(regs)).toEqual({
            "spoke-route-20-118-99-224": fixedName,
            "spoke-route-40-83-235-53": fixedName,
            "spoke-route-23-102-135-246": fixedName,
            "spoke-rule": fixedName,
        });
        const kept = await program(() => new t.m.KmsEgressRules("spoke", { ...BROWNFIELD, retainOnDelete: true }));
        expect(Object.values(options(kept))).toEqual([retained, retained, retained, retained]);
    });

    test("KmsFirewallRules: the rule collection group deletes before it replaces; retainOnDelete passes through", async () => {
        const fw = { resourceGroupName: "rg-hub", firewallPolicyName: "fwp-hub", sourceAddresses: ["10.20.0.0/16"] };
        expect(options(await program(() => new t.m.KmsFirewallRules("hub", fw)))).toEqual({ "hub-rules": fixedName });
        expect(options(await program(() => new t.m.KmsFirewallRules("hub", { ...fw, retainOnDelete: true })))).toEqual({ "hub-rules": retained });
    });

    test("KmsNetwork: auto-named network objects keep Pulumi's defaults, its egress is fixed-name", async () => {
        const regs = await program(() => new t.m.KmsNetwork("net", { resourceGroupName: "rg" }));
        expect(options(regs)).toEqual({
            "net-vnet": autoNamed,
            "net-routes": autoNamed,
            "net-nsg": autoNamed,
            "net-nat-ip": autoNamed,
            "net-nat": autoNamed,
            "net-subnet": autoNamed,
            "net-kms-route-20-118-99-224": fixedName,
            "net-kms-route-40-83-235-53": fixedName,
            "net-kms-route-23-102-135-246": fixedName,
            "net-kms-rule": fixedName,
        });
    });
});

describe("resource options of the activation children (always named KmsActivation on their VM or scale set)", () => {
    test.each<[string, Record<string, unknown>, string]>([
        ["CustomScriptExtension", { vmName: "vm-01" }, "act-extension"],
        ["RunCommand", { vmName: "vm-01", mechanism: "RunCommand" }, "act-run-command"],
        ["scale set", { vmScaleSetName: "vmss-01" }, "act-scale-set-extension"],
    ])("%s: deletes before it replaces, never retained (deleting it leaves the guest activated)", async (_kind, target, child) => {
        const regs = await program(() => new t.m.KmsActivation("act", { resourceGroupName: "rg", readActivationResult: false, ...target } as never));
        expect(options(regs)).toEqual({ [child]: fixedName });
    });
});

describe("changes over a stack's life (docs/lifecycle.md)", () => {
    test("port of a custom KMS server: same rule URN, new name: a replacement, delete first", async () => {
        const server = (port: number) => ({ host: "kms01.corp.contoso.com", port, addressPrefixes: ["10.50.0.10/32"] });
        const before = one(await program(() => new t.m.KmsEgressRules("spoke", { ...BROWNFIELD, customKmsServer: server(1688) })), RULE);
        existingRules = [{ name: "allow-kms-tcp-1688-out", priority: 100, direction: "Outbound", access: "Allow", protocol: "Tcp" }];
        const after = one(await program(() => new t.m.KmsEgressRules("spoke", { ...BROWNFIELD, customKmsServer: server(1700) })), RULE);
        expect(after.urn).toBe(before.urn);
        expect([before.inputs.securityRuleName, after.inputs.securityRuleName]).toEqual(["allow-kms-tcp-1688-out", "allow-kms-tcp-1700-out"]);
        expect([before.inputs.priority, after.inputs.priority]).toEqual([100, 100]);
        expect(after.options.deleteBeforeReplace).toBe(true);
        // The old rule (ours, under its old name) at the same priority is not taken for someone else's: the new rule registered.
    });

    test("addresses of a custom KMS server: same URN and name, new destinations: an update in place", async () => {
        const server = (prefix: string) => ({ host: "kms01.corp.contoso.com", addressPrefixes: [prefix] });
        const before = one(await program(() => new t.m.KmsEgressRules("spoke", { ...BROWNFIELD, customKmsServer: server("10.50.0.10/32") })), RULE);
        const after = one(await program(() => new t.m.KmsEgressRules("spoke", { ...BROWNFIELD, customKmsServer: server("10.60.0.10/32") })), RULE);
        expect(after.urn).toBe(before.urn);
        expect(after.inputs.securityRuleName).toBe(before.inputs.securityRuleName);
        expect([before.inputs.destinationAddressPrefixes, after.inputs.destinationAddressPrefixes]).toEqual([["10.50.0.10/32"], ["10.60.0.10/32"]]);
    });

    test("cloud: the old cloud's routes go, the new cloud's come (other URNs and prefixes), the rule is updated", async () => {
        const before = await program(() => new t.m.KmsEgressRules("spoke", BROWNFIELD));
        const after = await program(() => new t.m.KmsEgressRules("spoke", { ...BROWNFIELD, cloud: t.m.AzureCloud.AzureUSGovernment }));
        const shared = urns(after, ROUTE).filter((u) => urns(before, ROUTE).includes(u));
        expect(shared).toEqual([]);
        expect(ofType(after, ROUTE).map((r) => r.inputs.addressPrefix)).toEqual(["52.126.105.2/32", "23.97.0.13/32"]);
        expect(one(after, RULE).urn).toBe(one(before, RULE).urn);
        expect(one(after, RULE).inputs.securityRuleName).toBe("allow-kms-tcp-1688-out");
    });

    test("KMS IP list: a removed IP's route is deleted, the others are untouched", async () => {
        const before = await program(() => new t.m.KmsEgressRules("spoke", { ...BROWNFIELD, kmsIpAddresses: ["20.118.99.224", "40.83.235.53", "23.102.135.246"] }));
        const after = await program(() => new t.m.KmsEgressRules("spoke", { ...BROWNFIELD, kmsIpAddresses: ["20.118.99.224", "40.83.235.53"] }));
        expect(urns(before, ROUTE).filter((u) => !urns(after, ROUTE).includes(u)).map((u) => u.split("::").pop())).toEqual(["spoke-route-23-102-135-246"]);
        for (const r of ofType(after, ROUTE)) {
            expect(r.inputs).toEqual(ofType(before, ROUTE).find((b) => b.urn === r.urn)!.inputs);
        }
    });

    test("priority: same URN and name, new priority: an update in place; our own rule at the old priority is no conflict", async () => {
        const before = one(await program(() => new t.m.KmsEgressRules("spoke", { ...BROWNFIELD, securityRulePriority: 100 })), RULE);
        existingRules = [{ name: "allow-kms-tcp-1688-out", priority: 100, direction: "Outbound", access: "Allow", protocol: "Tcp" }];
        const again = one(await program(() => new t.m.KmsEgressRules("spoke", { ...BROWNFIELD, securityRulePriority: 100 })), RULE);
        const after = one(await program(() => new t.m.KmsEgressRules("spoke", { ...BROWNFIELD, securityRulePriority: 200 })), RULE);
        expect([again.urn, after.urn]).toEqual([before.urn, before.urn]);
        expect(after.inputs).toEqual({ ...before.inputs, priority: 200 });
    });

    test("a priority another outbound rule holds is refused before deploy, naming the rule and the nearest free priority", async () => {
        existingRules = [
            { name: "allow-monitoring", priority: 100, direction: "Outbound", access: "Allow", protocol: "Tcp" },
            { name: "allow-backup", priority: 101, direction: "Outbound", access: "Allow", protocol: "Tcp" },
            { name: "allow-rdp-in", priority: 102, direction: "Inbound", access: "Allow", protocol: "Tcp" },
        ];
        // The check the rule waits for (a refused program stops the mock runtime, so the check is run on its own here;
        // test/examples/fleet-remediation-priority.test.ts runs a whole refused program in its own process).
        const { checkPriority } = await import("../src/network/kmsEgressRules");
        const owner = new pulumi.ComponentResource("test:index:Owner", "owner-priority");
        await expect(rejection(checkPriority('KmsEgressRules "spoke"', "rg-spoke", "nsg-spoke", "allow-kms-tcp-1688-out", 100, owner))).rejects.toThrow(
            'KmsEgressRules "spoke": securityRulePriority: 100 is taken in NSG "nsg-spoke" by outbound rule "allow-monitoring" (Allow), and Azure refuses two rules of one ' +
                "direction at one priority. Fix: use 102, the nearest free outbound priority (lower numbers win: keep it below the outbound denies that cover the KMS addresses).",
        );
        // Free at 102 (the inbound rule there is another direction), and our own rule's name at 100 is no conflict.
        await expect(rejection(checkPriority('KmsEgressRules "spoke"', "rg-spoke", "nsg-spoke", "allow-kms-tcp-1688-out", 102, owner))).resolves.toEqual([]);
        existingRules = [{ name: "allow-kms-tcp-1688-out", priority: 100, direction: "Outbound", access: "Allow", protocol: "Tcp" }];
        (await import("../src/network/azureReads")).forgetReads();
        await expect(rejection(checkPriority('KmsEgressRules "spoke"', "rg-spoke", "nsg-spoke", "allow-kms-tcp-1688-out", 100, owner))).resolves.toEqual([]);
        await t.h.settle();
        expect(t.h.invokes.map((i) => i.token)).toEqual(["azure-native:network:getNetworkSecurityGroup", "azure-native:network:getNetworkSecurityGroup"]);
    });

    test("a hand-made route for a KMS prefix with next hop Internet is left alone and named; ours is not added", async () => {
        existingRoutes = [{ name: "KMS01", addressPrefix: "20.118.99.224/32", nextHopType: "Internet" }];
        const regs = await program(() => new t.m.KmsEgressRules("spoke", BROWNFIELD));
        expect(ofType(regs, ROUTE).map((r) => r.inputs.addressPrefix)).toEqual(["40.83.235.53/32", "23.102.135.246/32"]);
        expect(warn.mock.calls.map((c) => c[0])).toEqual([
            'KmsEgressRules "spoke": routeTableName: route table "rt-spoke" already has route "KMS01" for 20.118.99.224/32 with next hop Internet: it already does the job, ' +
                'so route "kms-20-118-99-224" is not added and "KMS01" is left alone (it is not this stack\'s: if its owner deletes it, the next pulumi up adds "kms-20-118-99-224").',
        ]);
    });

    test("a hand-made route for a KMS prefix to an appliance is refused with the fix", async () => {
        existingRoutes = [{ name: "KMS01", addressPrefix: "20.118.99.224/32", nextHopType: "VirtualAppliance", nextHopIpAddress: "10.0.0.4" }];
        const { routesToAdd } = await import("../src/network/kmsEgressRules");
        const owner = new pulumi.ComponentResource("test:index:Owner", "owner-routes");
        const wanted = [{ name: "kms-20-118-99-224", addressPrefix: "20.118.99.224/32", nextHopType: "Internet" }];
        await expect(routesToAdd('KmsEgressRules "spoke"', "rg-spoke", "rt-spoke", wanted, owner, true)).rejects.toThrow(
            'KmsEgressRules "spoke": routeTableName: route table "rt-spoke" already has route "KMS01" for 20.118.99.224/32 with next hop VirtualAppliance 10.0.0.4: ' +
                "Azure refuses a second route for one prefix (RouteConflict), and this one keeps the KMS traffic from leaving from an Azure public IP. " +
                'Fix: change route "KMS01"\'s next hop type to Internet (it then does the job and is left alone), or delete it so this component adds "kms-20-118-99-224".',
        );
        await t.h.settle();
    });

    test("a second up: our own routes (same names) are no conflict, the same routes are declared", async () => {
        const first = await program(() => new t.m.KmsEgressRules("spoke", BROWNFIELD));
        existingRoutes = ofType(first, ROUTE).map((r) => ({ name: r.inputs.routeName, addressPrefix: r.inputs.addressPrefix, nextHopType: "Internet" }));
        const second = await program(() => new t.m.KmsEgressRules("spoke", BROWNFIELD));
        expect(second.map((r) => [r.urn, r.inputs])).toEqual(first.map((r) => [r.urn, r.inputs]));
        expect(warn).not.toHaveBeenCalled();
    });

    test("renaming the component with aliases: the component carries the alias, every child's name starts with the component's", async () => {
        const before = await program(() => new t.m.KmsEgressRules("spoke-a", BROWNFIELD));
        const after = await program(() => new t.m.KmsEgressRules("spoke-b", BROWNFIELD, { aliases: [{ name: "spoke-a" }] }));
        expect(one(before, "azure-kms-activation:index:KmsEgressRules").aliases).toBe(0);
        expect(one(after, "azure-kms-activation:index:KmsEgressRules").aliases).toBe(1);
        // The engine gives each child the parent's alias with the name prefix swapped (spoke-b-rule <- spoke-a-rule),
        // which holds because every child is named `${name}-<role>`: same Azure names, no replacement.
        const custom = (regs: Registration[]) => regs.filter((r) => r.custom);
        expect(custom(after).map((r) => r.name.replace(/^spoke-b-/, "spoke-a-"))).toEqual(custom(before).map((r) => r.name));
        expect(custom(after).map((r) => r.inputs)).toEqual(custom(before).map((r) => r.inputs));
        // Without aliases the URNs are new: Pulumi creates before it deletes, and the create of the same Azure name fails.
        const renamed = await program(() => new t.m.KmsEgressRules("spoke-b", BROWNFIELD));
        expect(renamed.filter((r) => r.custom).every((r) => r.aliases === 0)).toBe(true);
        expect(urns(renamed, ROUTE).some((u) => urns(before, ROUTE).includes(u))).toBe(false);
    });

    test("activation: kmsHostForm, productKey and rerunToken update the one extension in place (same URN, same name)", async () => {
        const base = { resourceGroupName: "rg", vmName: "vm-01", location: "westeurope" };
        const runs = [
            await program(() => new t.m.KmsActivation("act", base)),
            await program(() => new t.m.KmsActivation("act", { ...base, kmsHostForm: t.m.KmsHostForm.IpAddress })),
            await program(() => new t.m.KmsActivation("act", { ...base, productKey: "WX4NM-KYWYW-QJJR4-XV3QB-6VM33" })),
            await program(() => new t.m.KmsActivation("act", { ...base, rerunToken: "2" })),
        ].map((regs) => one(regs, CSE));
        expect(new Set(runs.map((r) => r.urn)).size).toBe(1);
        expect(runs.map((r) => r.inputs.vmExtensionName)).toEqual(["KmsActivation", "KmsActivation", "KmsActivation", "KmsActivation"]);
        const commands = runs.map((r) => secretValue(r.inputs.protectedSettings).commandToExecute);
        expect(new Set(commands).size).toBe(4);
        expect(new Set(runs.map((r) => r.inputs.forceUpdateTag)).size).toBe(4);
    });

    test("mechanism CustomScriptExtension -> RunCommand: the extension's URN goes, the run command's comes (other types)", async () => {
        const base = { resourceGroupName: "rg", vmName: "vm-01" };
        const before = await program(() => new t.m.KmsActivation("act", base));
        const after = await program(() => new t.m.KmsActivation("act", { ...base, mechanism: t.m.ActivationMechanism.RunCommand }));
        expect([ofType(before, CSE).length, ofType(before, RUN).length, ofType(after, CSE).length, ofType(after, RUN).length]).toEqual([1, 0, 0, 1]);
        expect([one(before, CSE).inputs.vmExtensionName, one(after, RUN).inputs.runCommandName]).toEqual(["KmsActivation", "KmsActivation"]);
    });

    test("a VM -> a scale set (vmName -> vmScaleSetName): the VM extension's URN goes, the scale-set extension's comes (other types)", async () => {
        const before = await program(() => new t.m.KmsActivation("act", { resourceGroupName: "rg", vmName: "vm-01", readActivationResult: false }));
        const after = await program(() => new t.m.KmsActivation("act", { resourceGroupName: "rg", vmScaleSetName: "vmss-01" }));
        const VMSS = "azure-native:compute:VirtualMachineScaleSetExtension";
        expect([ofType(before, CSE).length, ofType(before, VMSS).length, ofType(after, CSE).length, ofType(after, VMSS).length]).toEqual([1, 0, 0, 1]);
        expect(one(after, VMSS).inputs.vmssExtensionName).toBe("KmsActivation");
    });

    test("moving a VM to another subnet: the same NIC, a new subnet: an update in place", async () => {
        const subnet = (s: string) => `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/${s}`;
        const before = one(await program(() => new t.m.KmsWindowsVm("app", { resourceGroupName: "rg", subnetId: subnet("a"), ...CREDENTIALS })), NIC);
        const after = one(await program(() => new t.m.KmsWindowsVm("app", { resourceGroupName: "rg", subnetId: subnet("b"), ...CREDENTIALS })), NIC);
        expect(after.urn).toBe(before.urn);
        expect((after.inputs.ipConfigurations as { subnet: { id: string } }[])[0].subnet.id).toBe(subnet("b"));
    });
});

describe("teardown", () => {
    test("pulumi destroy removes exactly the children without retainOnDelete; retainOnDelete keeps routes, rule and group", async () => {
        const build = (retainOnDelete?: boolean) => () => {
            new t.m.KmsEgressRules("spoke", { ...BROWNFIELD, retainOnDelete });
            new t.m.KmsFirewallRules("hub", { resourceGroupName: "rg-hub", firewallPolicyName: "fwp-hub", sourceAddresses: ["10.20.0.0/16"], retainOnDelete });
            new t.m.KmsActivation("act", { resourceGroupName: "rg", vmName: "vm-01" });
        };
        const deleted = (regs: Registration[]) => regs.filter((r) => r.custom && !r.options.retainOnDelete).map((r) => r.name).sort();
        expect(deleted(await program(build()))).toEqual([
            "act-extension",
            "hub-rules",
            "spoke-route-20-118-99-224",
            "spoke-route-23-102-135-246",
            "spoke-route-40-83-235-53",
            "spoke-rule",
        ]);
        // The activation is not retained: deleting the extension does not touch the guest, which stays activated.
        expect(deleted(await program(build(true)))).toEqual(["act-extension"]);
    });
});
