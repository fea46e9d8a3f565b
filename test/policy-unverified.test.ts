import { PolicyResource } from "@pulumi/policy";
import { createKmsActivationPolicies, kmsActivationPolicies, KmsActivationPolicy } from "../src/policy";
import { UNKNOWN_VALUE, packReport, preview, resource, runStack } from "./policy-args";
import { FW_IP, K1, K2, K3, KMS, asgRule, base, denyInternet, hubFirewall, kmsRoutes, networkRule, nsg, route, table, tunnel, allowKms } from "./reachability-cases";
import { T, activation, nicFor, stackOf, windowsVm } from "./reachability-stack";

const byName = (name: string, policies: KmsActivationPolicy[] = kmsActivationPolicies) => policies.find((p) => p.name === name) as KmsActivationPolicy;
const unverified = byName("kms-reachability-unverified");
const reachability = byName("kms-reachability");

// The first case: a spoke whose route table sends 0.0.0.0/0 to an appliance the stack does not define (R3, E3).
const APPLIANCE_OUTSIDE = base({ vmName: "vm-app-01", routeTable: table(tunnel()), subnetNsg: nsg("nsg-app", allowKms(100), denyInternet) });

describe("kms-reachability-unverified: an appliance outside the stack is said, not swallowed (R3, E3)", () => {
    test("0/0 to an appliance the stack does not define: one report naming the VM, the route, the appliance, the KMS addresses and both fixes", async () => {
        const resources = stackOf(APPLIANCE_OUTSIDE);
        const reported = await runStack(unverified, resources);
        const vm = resources.find((r) => r.type === T.vm) as PolicyResource;
        expect(reported).toEqual([
            {
                urn: vm.urn,
                message:
                    `Windows VM "vm-app-01": user route "default" of route table "rt-spoke" (0.0.0.0/0 -> VirtualAppliance ${FW_IP}) sends the traffic for the KMS addresses ${K1}, ${K2}, ${K3} (TCP 1688, Azure KMS (AzurePublic)) ` +
                    `to the appliance at ${FW_IP}, which this stack does not define, so whether it activates cannot be verified. ` +
                    `Fix one of: (1) make the appliance at ${FW_IP} allow TCP 1688 to ${K1}, ${K2}, ${K3} and SNAT that traffic to a public IP of its own (an Azure Firewall: a network rule, as KmsFirewallRules writes); ` +
                    `or (2) bypass it: add routes ${K1}/32, ${K2}/32, ${K3}/32 with next hop type Internet to route table "rt-spoke" (KmsEgressRules adds them, with the NSG allow for TCP 1688).`,
            },
        ]);
        // kms-reachability has no verdict to give (unknown is not blocked): before this policy the stack got no report at all.
        expect(await runStack(reachability, resources)).toEqual([]);
        await expect(packReport(resources)).resolves.toEqual({ "kms-reachability-unverified": [reported[0].message] });
    });

    test("only the addresses the appliance carries are named: /32 routes for two KMS IPs leave the third", async () => {
        const reported = await runStack(unverified, stackOf(base({ routeTable: table(tunnel(), ...kmsRoutes([K1, K2])) })));
        expect(reported).toHaveLength(1);
        expect(reported[0].message).toContain(`sends the traffic for the KMS addresses ${K3} (TCP 1688`);
        expect(reported[0].message).toContain(`add routes ${K3}/32 with next hop type Internet`);
    });

    test("an on-premises KMS: the fix is the appliance's alone (no Internet bypass)", async () => {
        const onprem = { customKmsServer: { host: "kms.corp.example", addressPrefixes: ["10.50.0.10/32"] } };
        const reported = await runStack(unverified, stackOf(base({ routeTable: table(route("onprem", "10.50.0.0/16", "VirtualAppliance", FW_IP)) })), onprem);
        expect(reported.map((v) => v.message)).toEqual([
            `Windows VM "vm1": user route "onprem" of route table "rt-spoke" (10.50.0.0/16 -> VirtualAppliance ${FW_IP}) sends the traffic for the KMS addresses 10.50.0.10/32 (TCP 1688, the on-premises KMS kms.corp.example) ` +
                `to the appliance at ${FW_IP}, which this stack does not define, so whether it activates cannot be verified. Fix: make sure the appliance at ${FW_IP} allows TCP 1688 to 10.50.0.10/32 and forwards it to the on-premises network.`,
        ]);
    });

    test.each([
        ["/32 routes for every KMS IP bypass the appliance", base({ routeTable: table(tunnel(), ...kmsRoutes()) })],
        ["the appliance is the stack's Azure Firewall with a network rule (judged, reachable)", base({ routeTable: table(tunnel()), nextHops: hubFirewall([networkRule("allow-kms")]) })],
        ["the stack's Azure Firewall without a rule: blocked, kms-reachability's report", base({ routeTable: table(tunnel()), nextHops: hubFirewall([networkRule("dns", { destinationPorts: ["53"] })]) })],
        ["a forced tunnel to the gateway: blocked, kms-reachability's report", base({ routeTable: table(tunnel("VirtualNetworkGateway")) })],
        ["no route table", base()],
    ])("silent when nothing outside the stack decides: %s", async (_, facts) => {
        expect(await runStack(unverified, stackOf(facts))).toEqual([]);
    });

    test("a VM whose subnet is outside the stack stays silent (nothing of its path is the stack's)", async () => {
        const resources = [windowsVm("vm1"), activation("vm1"), nicFor("vm1", base(), "/subscriptions/x/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/hub/subnets/shared")];
        expect(await runStack(unverified, resources)).toEqual([]);
    });

    test("preview: a next hop IP not known yet gives no report", async () => {
        const resources = stackOf(APPLIANCE_OUTSIDE).map((r) =>
            r.type === T.routeTable ? resource(T.routeTable, r.name, preview({ ...r.props, routes: [{ name: "default", addressPrefix: "0.0.0.0/0", nextHopType: "VirtualAppliance", nextHopIpAddress: UNKNOWN_VALUE }] })) : r,
        );
        expect(await runStack(unverified, resources)).toEqual([]);
    });

    test("advisory by default; its enforcement is set like the others'", () => {
        expect(unverified.enforcementLevel).toBe("advisory");
        expect(byName("kms-reachability-unverified", createKmsActivationPolicies({ enforcementLevels: { "kms-reachability-unverified": "mandatory" } })).enforcementLevel).toBe("mandatory");
    });
});

describe("ASG rules (N4) across the pack", () => {
    test("a deny to the database tier's ASG does not touch the VM: no policy reports", async () => {
        const facts = base({
            vmName: "vm-app-01",
            routeTable: table(tunnel("VirtualNetworkGateway"), ...kmsRoutes()),
            applicationSecurityGroups: ["asg-web"],
            subnetNsg: nsg("nsg-app", asgRule("deny-to-db", 200, "Deny", "destination", ["asg-db"]), allowKms(300), denyInternet),
        });
        await expect(packReport(stackOf(facts))).resolves.toEqual({});
        await expect(packReport(stackOf(facts, { standalone: true }))).resolves.toEqual({});
    });

    test("a deny from the ASG the NIC is in is reported by kms-reachability, citing N4", async () => {
        const facts = base({ routeTable: table(tunnel("VirtualNetworkGateway"), ...kmsRoutes()), applicationSecurityGroups: ["asg-web"], subnetNsg: nsg("nsg-app", asgRule("deny-web-out", 200, "Deny", "source", ["asg-web"])) });
        const reported = await runStack(reachability, stackOf(facts));
        expect(reported).toHaveLength(1);
        expect(reported[0].message).toContain(`${K1}:1688 is blocked by NSG "nsg-app" rule "deny-web-out" [N4]`);
    });

    test("preview: an ASG reference not known yet leaves the NIC's membership unknown, so no verdict", async () => {
        const facts = base({ routeTable: table(tunnel("VirtualNetworkGateway"), ...kmsRoutes()), applicationSecurityGroups: ["asg-web"], subnetNsg: nsg("nsg-app", asgRule("deny-web-out", 200, "Deny", "source", ["asg-web"])) });
        const resources = stackOf(facts).map((r) => {
            if (r.type !== T.nic) return r;
            const config = (r.props.ipConfigurations as Record<string, unknown>[])[0];
            return resource(T.nic, r.name, preview({ ...r.props, ipConfigurations: [{ ...config, applicationSecurityGroups: [{ id: UNKNOWN_VALUE }] }] }));
        });
        expect(await runStack(reachability, resources)).toEqual([]);
    });
});

void KMS;
