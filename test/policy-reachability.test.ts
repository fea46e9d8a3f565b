import { PolicyResource } from "@pulumi/policy";
import { createKmsActivationPolicies, kmsActivationPolicies, KmsActivationPolicy } from "../src/policy";
import { decideReachability } from "../src/reachability";
import { UNKNOWN_VALUE, preview, resource, runStack } from "./policy-args";
import { CASES, FW_IP, K1, K2, K3, applicationRule, base, denyInternet, destinationOf, firewall, allowKms, hubFirewall, kmsRoutes, natGateway, networkRule, nsg, rule, table, tunnel } from "./reachability-cases";
import { T, activation, expressible, ids, nicFor, stackOf, windowsVm } from "./reachability-stack";

const NAME = "kms-reachability";
const policy = kmsActivationPolicies.find((p) => p.name === NAME) as KmsActivationPolicy;
const configOf = (c: (typeof CASES)[number]) => (c.destination?.custom ? { customKmsServer: { host: c.destination.host, addressPrefixes: c.destination.addressPrefixes } } : {});

const stackCases = CASES.filter((c) => expressible(c.facts));

describe("kms-reachability agrees with the engine on every case a stack can express", () => {
    test("most of the table can be written as a stack", () => {
        expect(stackCases.length).toBeGreaterThanOrEqual(40);
    });

    test.each(stackCases.map((c) => [`${c.rule}: ${c.name}`, c] as const))("%s", async (_, c) => {
        const verdict = decideReachability(c.facts, destinationOf(c)).verdict;
        for (const standalone of [false, true]) {
            const reported = await runStack(policy, stackOf(c.facts, { standalone }), configOf(c));
            expect(reported.length).toBe(verdict === "blocked" ? 1 : 0);
            if (c.blame && verdict === "blocked") {
                expect(reported[0].message).toContain(c.blame);
                expect(reported[0].message).toMatch(/^Windows VM "vm1" cannot reach /);
            }
        }
    });
});

describe("no contradiction left: no policy of the pack flags a design the engine proves reachable", () => {
    const reachable = stackCases.filter((c) => decideReachability(c.facts, destinationOf(c)).verdict === "reachable");

    test("the reachable designs include the ones the old per-object policies flagged", () => {
        const names = reachable.map((c) => c.name);
        expect(names).toContain("hub firewall: 0/0 to Azure Firewall with a network rule for 1688, NSG denies Internet");
        expect(names).toContain("NSG denies Internet, no 0/0 route: the platform rule lets 1688 through");
        expect(names).toContain("private subnet with a public IP on the NIC");
        expect(reachable.length).toBeGreaterThanOrEqual(20);
    });

    test.each(reachable.map((c) => [c.name, c] as const))("%s", async (_, c) => {
        for (const p of kmsActivationPolicies) {
            for (const standalone of [false, true]) {
                expect(await runStack(p, stackOf(c.facts, { standalone }), configOf(c))).toEqual([]);
            }
        }
    });

    test("the opt-in hygiene policy is the one exception, by design: it flags a wide 1688 allow even where KMS is reachable", async () => {
        const facts = base({ routeTable: table(tunnel("VirtualNetworkGateway"), ...kmsRoutes()), subnetNsg: nsg("nsg-app", allowKms(100, ["Internet"]), denyInternet) });
        expect(decideReachability(facts, destinationOf(CASES[0])).verdict).toBe("reachable");
        const hygiene = createKmsActivationPolicies({ hygiene: true });
        expect(hygiene.map((p) => p.name)).toEqual(["kms-reachability", "kms-reachability-unverified", "kms-subnet-reachability", "kms-windows-vm-activation", "kms-nsg-allow-least-privilege"]);
        const leastPrivilege = hygiene[4] as { validateResource: (args: object, report: (m: string) => void) => void };
        const reported: string[] = [];
        const nsgResource = stackOf(facts).find((r) => r.type === T.nsg) as PolicyResource;
        leastPrivilege.validateResource({ type: T.nsg, name: "nsg-app", urn: nsgResource.urn, props: nsgResource.props, getConfig: () => ({}) }, (m) => reported.push(m));
        expect(reported).toHaveLength(1);
        for (const p of kmsActivationPolicies) {
            expect(await runStack(p, stackOf(facts))).toEqual([]);
        }
    });
});

describe("the hub-firewall design (Microsoft's hub and spoke)", () => {
    const spoke = (rules: Parameters<typeof hubFirewall>[0]) => base({ routeTable: table(tunnel()), subnetNsg: nsg("nsg-app", allowKms(100), denyInternet), nextHops: hubFirewall(rules) });

    test("a network rule for TCP 1688: no violation", async () => {
        expect(await runStack(policy, stackOf(spoke([networkRule("allow-kms")])))).toEqual([]);
    });

    test("only an application rule: one violation naming the VM, each address and the firewall", async () => {
        const resources = stackOf(spoke([applicationRule("kms-https")]));
        const reported = await runStack(policy, resources);
        const vm = resources.find((r) => r.type === T.vm) as PolicyResource;
        expect(reported).toHaveLength(1);
        expect(reported[0].urn).toBe(vm.urn);
        const fw = 'Azure Firewall "fw-hub" (policy "fwp-hub") rule "kms-https" (collection "kms", group "rcg-kms")';
        expect(reported[0].message).toBe(
            'Windows VM "vm1" cannot reach Azure KMS (AzurePublic) on TCP 1688: ' +
                [K1, K2, K3]
                    .map(
                        (ip) =>
                            `${ip}:1688 is blocked by ${fw} [E3]: ${fw.replace(/ rule .*/, "")} at ${FW_IP}: only application rule "kms-https" (collection "kms", group "rcg-kms") is written for the KMS, ` +
                            `and application rules carry HTTP, HTTPS and MSSQL only; no network rule allows TCP 1688 to ${ip}, so the firewall denies it. ` +
                            `Fix: add a network rule (not an application rule) allowing TCP 1688 to ${ip} from the VM's subnet to a rule collection group of policy "fwp-hub" (KmsFirewallRules adds one) ` +
                            `or bypass it: add a route ${ip}/32 with next hop type Internet to route table "rt-spoke" (the longest prefix beats the 0.0.0.0/0; KmsEgressRules adds one per KMS IP).`,
                    )
                    .join(" | "),
        );
    });

    test("preview: the route's next hop is the firewall's unknown private IP, the rule group's policy name an unknown output", async () => {
        const resources = stackOf(spoke([networkRule("allow-kms")]));
        const fw = resources.find((r) => r.type === T.firewall) as PolicyResource;
        const fwPolicy = resources.find((r) => r.type === T.firewallPolicy) as PolicyResource;
        const rt = resources.find((r) => r.type === T.routeTable) as PolicyResource;
        const rcg = resources.find((r) => r.type === T.rcg) as PolicyResource;
        const swapped = resources.map((r) => {
            if (r === fw) return resource(T.firewall, "fw-hub", preview({ azureFirewallName: "fw-hub", firewallPolicy: { id: UNKNOWN_VALUE } }), { propertyDependencies: { firewallPolicy: [fwPolicy] } });
            if (r === rt) return resource(T.routeTable, "rt-spoke", preview({ ...rt.props, routes: [{ name: "default", addressPrefix: "0.0.0.0/0", nextHopType: "VirtualAppliance", nextHopIpAddress: UNKNOWN_VALUE }] }), { propertyDependencies: { routes: [fw] } });
            if (r === rcg) return resource(T.rcg, "rcg-kms", preview({ ...rcg.props, firewallPolicyName: UNKNOWN_VALUE }), { propertyDependencies: { firewallPolicyName: [fwPolicy] } });
            return r;
        });
        const fixed = swapped.map((r) => (r.type === T.firewall ? { ...r, propertyDependencies: { firewallPolicy: [fwPolicy] } } : r));
        expect(await runStack(policy, fixed)).toEqual([]);
        const appOnly = stackOf(spoke([applicationRule("kms-https")])).find((r) => r.type === T.rcg) as PolicyResource;
        const blocked = fixed.map((r) => (r.type === T.rcg ? resource(T.rcg, "rcg-kms", preview({ ...appOnly.props, firewallPolicyName: UNKNOWN_VALUE }), { propertyDependencies: { firewallPolicyName: [fwPolicy] } }) : r));
        const reported = await runStack(policy, blocked);
        expect(reported).toHaveLength(1);
        expect(reported[0].message).toContain('Azure Firewall "fw-hub"');
    });
});

describe("resolving the path from the stack", () => {
    const forced = base({ routeTable: table(tunnel("VirtualNetworkGateway")) });

    test("a subnet written inline in its VirtualNetwork counts like a standalone one", async () => {
        const resources = stackOf(forced).filter((r) => r.type !== T.subnet);
        resources.push(resource(T.vnet, "vnet-spoke", { resourceGroupName: "rg", virtualNetworkName: "vnet-spoke", subnets: [{ name: "snet-app", id: ids.subnet, addressPrefix: "10.1.0.0/24", routeTable: { id: ids.routeTable } }] }));
        const reported = await runStack(policy, resources);
        expect(reported).toHaveLength(1);
        expect(reported[0].message).toContain('user route "default" of route table "rt-spoke"');
    });

    test("preview: the NIC and subnet IDs are unknown outputs, found through the engine's property dependencies", async () => {
        const resources = stackOf(forced);
        const nic = resources.find((r) => r.type === T.nic) as PolicyResource;
        const subnet = resources.find((r) => r.type === T.subnet) as PolicyResource;
        const rt = resources.find((r) => r.type === T.routeTable) as PolicyResource;
        const unknownIds = resources.map((r) => {
            if (r.type === T.vm) return windowsVm("vm1", preview({ id: UNKNOWN_VALUE }), { propertyDependencies: { networkProfile: [nic] } });
            if (r === nic) return resource(T.nic, nic.name, preview({ ipConfigurations: [{ name: "ipconfig1", subnet: { id: UNKNOWN_VALUE } }] }), { propertyDependencies: { ipConfigurations: [subnet] } });
            if (r === subnet) return resource(T.subnet, subnet.name, preview({ subnetName: "snet-app", routeTable: { id: UNKNOWN_VALUE } }), { propertyDependencies: { routeTable: [rt] } });
            return r;
        });
        expect(await runStack(policy, unknownIds)).toHaveLength(1);
    });

    test.each([
        ["a route's next hop type", (r: PolicyResource) => (r.type === T.routeTable ? resource(T.routeTable, r.name, preview({ ...r.props, routes: [{ name: "default", addressPrefix: "0.0.0.0/0", nextHopType: UNKNOWN_VALUE }] })) : r)],
        ["the subnet's defaultOutboundAccess in a private-subnet case", (r: PolicyResource) => r],
        ["the NIC's subnet, with no dependency recorded", (r: PolicyResource) => (r.type === T.nic ? resource(T.nic, r.name, preview({ ipConfigurations: [{ subnet: { id: UNKNOWN_VALUE } }] })) : r)],
        ["the VM's NIC, with no dependency recorded", (r: PolicyResource) => (r.type === T.vm ? windowsVm("vm1", preview({ id: UNKNOWN_VALUE })) : r)],
    ])("an unknown value never produces a verdict: %s", async (what, change) => {
        const facts = what.includes("private") ? base({ defaultOutboundAccess: false }) : forced;
        const resources = stackOf(facts).map(change);
        const unknownOutbound = what.includes("private")
            ? resources.map((r) => (r.type === T.subnet ? resource(T.subnet, r.name, preview({ ...r.props, defaultOutboundAccess: UNKNOWN_VALUE })) : r))
            : resources;
        expect(await runStack(policy, unknownOutbound)).toEqual([]);
    });

    test("a subnet that gets a gateway's routes (a peering using remote gateways) is not judged on routes the stack cannot know", async () => {
        const peering = resource("azure-native:network:VirtualNetworkPeering", "spoke-to-hub", {
            resourceGroupName: "rg",
            virtualNetworkName: "vnet-spoke",
            remoteVirtualNetwork: { id: "/subscriptions/x/resourceGroups/hub/providers/Microsoft.Network/virtualNetworks/vnet-hub" },
            useRemoteGateways: true,
        });
        expect(await runStack(policy, stackOf(forced))).toHaveLength(1);
        expect(await runStack(policy, [...stackOf(forced), peering])).toEqual([]);
        // With gateway route propagation off, the subnet's routes are its table's alone: judged again.
        const propagationOff = base({ routeTable: { ...table(tunnel("VirtualNetworkGateway")), disableBgpRoutePropagation: true } });
        const reported = await runStack(policy, [...stackOf(propagationOff), peering]);
        expect(reported).toHaveLength(1);
        expect(reported[0].message).toContain('user route "default" of route table "rt-spoke"');
    });

    test("a subnet that gets a gateway's routes is still judged on what its /32 user routes decide (R5)", async () => {
        const peering = resource("azure-native:network:VirtualNetworkPeering", "spoke-to-hub", {
            resourceGroupName: "rg",
            virtualNetworkName: "vnet-spoke",
            remoteVirtualNetwork: { id: "/subscriptions/x/resourceGroups/hub/providers/Microsoft.Network/virtualNetworks/vnet-hub" },
            useRemoteGateways: true,
        });
        // The /32s decide the route whatever the gateway gives; the private subnet then has no way out (R4).
        const reported = await runStack(policy, [...stackOf(base({ defaultOutboundAccess: false, routeTable: table(...kmsRoutes()) })), peering]);
        expect(reported).toHaveLength(1);
        expect(reported[0].message).toContain(`${K1}:1688 is blocked by subnet "snet-app" [R4]`);
        // With a NAT gateway it is reachable: nothing to report, where before the gateway's routes hid every verdict.
        expect(await runStack(policy, [...stackOf(base({ defaultOutboundAccess: false, natGateway, routeTable: table(...kmsRoutes()) })), peering])).toEqual([]);
    });

    test("a NIC's dynamic address (not known yet) is judged as its subnet: a firewall rule for the whole subnet allows, one for part of it decides nothing", async () => {
        const viaFirewall = (sourceAddresses: string[]) =>
            stackOf(base({ privateIpAddress: undefined, vnetAddressPrefixes: ["10.1.0.0/24"], routeTable: table(tunnel()), nextHops: hubFirewall([networkRule("allow-kms", { sourceAddresses })]) }));
        expect(await runStack(policy, viaFirewall(["10.1.0.0/16"]))).toEqual([]);
        expect(await runStack(policy, viaFirewall(["10.1.0.0/25"]))).toEqual([]);
        const elsewhere = await runStack(policy, viaFirewall(["10.9.0.0/16"]));
        expect(elsewhere).toHaveLength(1);
        expect(elsewhere[0].message).toContain('no network rule allows TCP 1688');
    });

    test("a NIC whose subnet is owned outside the stack is not judged", async () => {
        const resources = [windowsVm("vm1"), activation("vm1"), nicFor("vm1", base(), "/subscriptions/x/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/hub/subnets/shared")];
        expect(await runStack(policy, resources)).toEqual([]);
    });

    test("a route of the table written elsewhere as a standalone Route whose table cannot be told stops the verdict", async () => {
        const resources = [...stackOf(forced), resource(T.route, "mystery", preview({ routeTableName: UNKNOWN_VALUE, addressPrefix: `${K1}/32`, nextHopType: "Internet" }))];
        expect(await runStack(policy, resources)).toEqual([]);
    });

    test("Linux VMs are not judged; every Windows VM is, each in its own message", async () => {
        const resources = stackOf(forced);
        resources.push(resource(T.vm, "vm-linux", { vmName: "vm-linux", storageProfile: { osDisk: { osType: "Linux" } }, networkProfile: { networkInterfaces: [{ id: ids.nic("vm1") }] } }));
        resources.push(windowsVm("vm2", { id: ids.nic("vm1") }));
        const reported = await runStack(policy, resources);
        expect(reported.map((v) => v.message.slice(0, 20))).toEqual(['Windows VM "vm1" can', 'Windows VM "vm2" can']);
    });

    test("an on-premises KMS from the policy config: routed to the gateway is fine, the public KMS is not asked for", async () => {
        const onprem = { customKmsServer: { host: "kms.corp.example", addressPrefixes: ["10.1.0.50/32"] } };
        expect(await runStack(policy, stackOf(forced), onprem)).toEqual([]);
        const denied = base({ subnetNsg: nsg("nsg-app", rule("deny-all", 4096, "Deny", "*")) });
        const reported = await runStack(policy, stackOf(denied), onprem);
        expect(reported).toHaveLength(1);
        expect(reported[0].message).toContain('cannot reach the on-premises KMS kms.corp.example on TCP 1688: 10.1.0.50/32:1688 is blocked by NSG "nsg-app" rule "deny-all" [N1]');
    });
});

describe("cost", () => {
    test("1,000 Windows VMs on 10 subnets, each with route table and NSG: the policy runs in under 2 s", async () => {
        const resources: PolicyResource[] = [];
        for (let s = 0; s < 10; s++) {
            const subnetId = `${ids.subnet}-${s}`;
            const rtId = `${ids.routeTable}-${s}`;
            const nsgId = `${ids.nsg("nsg-app")}-${s}`;
            resources.push(resource(T.subnet, `snet-${s}`, { resourceGroupName: "rg", virtualNetworkName: "vnet-spoke", subnetName: `snet-app-${s}`, id: subnetId, routeTable: { id: rtId }, networkSecurityGroup: { id: nsgId } }));
            const routes = s % 2 === 0 ? [tunnel("VirtualNetworkGateway"), ...kmsRoutes()] : [tunnel("VirtualNetworkGateway")];
            resources.push(resource(T.routeTable, `rt-${s}`, { resourceGroupName: "rg", routeTableName: `rt-spoke-${s}`, id: rtId, routes }));
            resources.push(resource(T.nsg, `nsg-${s}`, { resourceGroupName: "rg", networkSecurityGroupName: `nsg-app-${s}`, id: nsgId, securityRules: [allowKms(100), denyInternet].map((r) => ({ ...r })) }));
            for (let v = 0; v < 100; v++) {
                const vm = `vm-${s}-${v}`;
                resources.push(windowsVm(vm), activation(vm), nicFor(vm, base({ privateIpAddress: `10.1.${s}.${v + 4}` }), subnetId));
            }
        }
        const started = process.hrtime.bigint();
        const reported = await runStack(policy, resources);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        // Half the subnets are forced-tunnelled without /32 routes: their 500 VMs are reported, the others not.
        expect(reported).toHaveLength(500);
        expect(ms).toBeLessThan(2000);
        process.stdout.write(`kms-reachability on ${resources.length} resources (1,000 Windows VMs): ${ms.toFixed(0)} ms\n`);
    });
});

void firewall;
