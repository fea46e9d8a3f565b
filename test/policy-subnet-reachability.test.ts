import { PolicyResource } from "@pulumi/policy";
import { createKmsActivationPolicies, kmsActivationPolicies, KmsActivationPolicy } from "../src/policy";
import { PathFacts } from "../src/reachability";
import { KmsInputError } from "../src/validate";
import { UNKNOWN_VALUE, packReport, preview, resource, runStack } from "./policy-args";
import { FW_IP, K1, K2, K3, KMS, allowKms, base, denyInternet, kmsRoutes, natGateway, nsg, privateSubnet, table, tunnel } from "./reachability-cases";
import { T, ids, stackOf, windowsVm } from "./reachability-stack";

const byName = (name: string, policies: KmsActivationPolicy[] = kmsActivationPolicies) => policies.find((p) => p.name === name) as KmsActivationPolicy;
const subnetPolicy = byName("kms-subnet-reachability");

/** A network-only stack: the subnet, its route table, NSG, NAT gateway, firewall; no VM, no NIC. */
function networkOnly(facts: PathFacts, options: { standalone?: boolean } = {}): PolicyResource[] {
    return stackOf(facts, options).filter((r) => ![T.vm, T.extension, T.nic].includes(r.type));
}

const FORCED = base({ subnetName: "snet-spoke", routeTable: table(tunnel("VirtualNetworkGateway")) });
const COMPLETED = base({ subnetName: "snet-spoke", ...privateSubnet, natGateway, routeTable: table(tunnel("VirtualNetworkGateway"), ...kmsRoutes()), subnetNsg: nsg("nsg-spoke", allowKms(100), denyInternet) });

describe("kms-subnet-reachability: network-only stacks are judged (issue 24)", () => {
    test("a forced tunnel and no /32 routes: one report naming the subnet, each blocked KMS address, the route and the fix", async () => {
        const resources = networkOnly(FORCED);
        const reported = await runStack(subnetPolicy, resources);
        const subnet = resources.find((r) => r.type === T.subnet) as PolicyResource;
        const line = (ip: string) =>
            `${ip}:1688 is blocked by user route "default" of route table "rt-spoke" (0.0.0.0/0 -> VirtualNetworkGateway) [R3]: user route "default" of route table "rt-spoke" (0.0.0.0/0 -> VirtualNetworkGateway) carries ${ip}: ` +
            `equal prefix /0: a user route beats BGP and system routes. The gateway sends it on-premises, so it does not leave from an Azure public IP and Azure KMS refuses it. ` +
            `Fix: add a route ${ip}/32 with next hop type Internet to route table "rt-spoke" (the longest prefix beats the 0.0.0.0/0; KmsEgressRules adds one per KMS IP).`;
        expect(reported).toEqual([{ urn: subnet.urn, message: `Subnet "snet-spoke" (no Windows VM of this stack; judged as one placed there) cannot reach Azure KMS (AzurePublic) on TCP 1688: ${KMS.map(line).join(" | ")}` }]);
        // The pack before this policy said nothing: no Windows VM, nothing to judge.
        await expect(packReport(resources)).resolves.toEqual({ "kms-subnet-reachability": [reported[0].message] });
    });

    test("the same stack completed (/32 routes, NSG allow, NAT gateway with its public IP): no report from any policy", async () => {
        await expect(packReport(networkOnly(COMPLETED))).resolves.toEqual({});
        await expect(packReport(networkOnly(COMPLETED, { standalone: true }))).resolves.toEqual({});
    });

    test.each([
        ["a private subnet with no way out (E2)", base({ ...privateSubnet }), 'subnet "snet-app" [E2]'],
        ["a NAT gateway without a public IP or prefix (E4)", base({ ...privateSubnet, natGateway: { name: "nat-app", hasPublicIp: false } }), 'NAT gateway "nat-app" [E4]'],
        ["an NSG deny with a 0/0 and /32 routes (N1)", base({ routeTable: table(tunnel("VirtualNetworkGateway"), ...kmsRoutes()), subnetNsg: nsg("nsg-app", denyInternet) }), 'NSG "nsg-app" rule "deny-internet" [N1]'],
    ])("%s is reported", async (_, facts, blame) => {
        const reported = await runStack(subnetPolicy, networkOnly(facts));
        expect(reported).toHaveLength(1);
        expect(reported[0].message).toContain(`is blocked by ${blame}`);
    });

    test("0/0 to an appliance the stack does not define: said as unverified, with both fixes", async () => {
        const reported = await runStack(subnetPolicy, networkOnly(base({ routeTable: table(tunnel()) })));
        expect(reported.map((v) => v.message)).toEqual([
            `Subnet "snet-app" (no Windows VM of this stack; judged as one placed there): user route "default" of route table "rt-spoke" (0.0.0.0/0 -> VirtualAppliance ${FW_IP}) sends the traffic for the KMS addresses ${K1}, ${K2}, ${K3} (TCP 1688, Azure KMS (AzurePublic)) ` +
                `to the appliance at ${FW_IP}, which this stack does not define, so whether it activates cannot be verified. ` +
                `Fix one of: (1) make the appliance at ${FW_IP} allow TCP 1688 to ${K1}, ${K2}, ${K3} and SNAT that traffic to a public IP of its own (an Azure Firewall: a network rule, as KmsFirewallRules writes); ` +
                `or (2) bypass it: add routes ${K1}/32, ${K2}/32, ${K3}/32 with next hop type Internet to route table "rt-spoke" (KmsEgressRules adds them, with the NSG allow for TCP 1688).`,
        ]);
    });

    test.each(["GatewaySubnet", "AzureFirewallSubnet", "AzureFirewallManagementSubnet", "AzureBastionSubnet", "RouteServerSubnet", "gatewaysubnet"])("service subnet %s is skipped", async (name) => {
        expect(await runStack(subnetPolicy, networkOnly({ ...FORCED, subnetName: name }))).toEqual([]);
    });

    test("a delegated subnet is skipped; one whose delegations are not known yet too", async () => {
        const delegate = (delegations: unknown) => networkOnly(FORCED).map((r) => (r.type === T.subnet ? resource(T.subnet, r.name, { ...r.props, delegations }) : r));
        expect(await runStack(subnetPolicy, delegate([{ name: "aci", serviceName: "Microsoft.ContainerInstance/containerGroups" }]))).toEqual([]);
        expect(await runStack(subnetPolicy, delegate([]))).toHaveLength(1);
        const unknown = networkOnly(FORCED).map((r) => (r.type === T.subnet ? resource(T.subnet, r.name, preview({ ...r.props, delegations: UNKNOWN_VALUE })) : r));
        expect(await runStack(subnetPolicy, unknown)).toEqual([]);
    });

    test("subnetsWithoutWindows (policy config, or the option) skips subnets by name, case-insensitively; the config replaces the option", async () => {
        const resources = networkOnly(FORCED);
        expect(await runStack(subnetPolicy, resources, { subnetsWithoutWindows: ["SNET-SPOKE"] })).toEqual([]);
        expect(await runStack(subnetPolicy, resources, { subnetsWithoutWindows: ["snet-other"] })).toHaveLength(1);
        const coded = byName("kms-subnet-reachability", createKmsActivationPolicies({ subnetsWithoutWindows: ["snet-spoke"] }));
        expect(await runStack(coded, resources)).toEqual([]);
        expect(await runStack(coded, resources, { subnetsWithoutWindows: [] })).toHaveLength(1);
    });

    test("a bad subnetsWithoutWindows fails naming the field", async () => {
        expect(() => createKmsActivationPolicies({ subnetsWithoutWindows: "snet-linux" as never })).toThrow(
            new KmsInputError('createKmsActivationPolicies: subnetsWithoutWindows: must be a list of subnet names, such as ["snet-linux"]'),
        );
        await expect(runStack(subnetPolicy, networkOnly(FORCED), { subnetsWithoutWindows: [""] })).rejects.toThrow(
            'policy config of kms-subnet-reachability: subnetsWithoutWindows: must be a list of subnet names, such as ["snet-linux"]',
        );
    });

    test("a subnet holding a Windows VM of the stack is kms-reachability's; one holding only a Linux VM is judged here", async () => {
        const withVm = stackOf(FORCED);
        expect(await runStack(subnetPolicy, withVm)).toEqual([]);
        expect(await runStack(byName("kms-reachability"), withVm)).toHaveLength(1);
        const linux = withVm.map((r) => (r.type === T.vm ? resource(T.vm, r.name, { ...r.props, storageProfile: { osDisk: { osType: "Linux" } } }) : r));
        expect(await runStack(subnetPolicy, linux)).toHaveLength(1);
    });

    test("subnets written inline in their VirtualNetwork are judged one by one", async () => {
        const rt = networkOnly(FORCED).find((r) => r.type === T.routeTable) as PolicyResource;
        const vnet = resource(T.vnet, "vnet-spoke", {
            resourceGroupName: "rg",
            virtualNetworkName: "vnet-spoke",
            addressSpace: { addressPrefixes: ["10.1.0.0/16"] },
            subnets: [
                { name: "snet-a", addressPrefix: "10.1.1.0/24", routeTable: { id: ids.routeTable } },
                { name: "snet-b", addressPrefix: "10.1.2.0/24" },
                { name: "GatewaySubnet", addressPrefix: "10.1.255.0/27" },
            ],
        });
        const reported = await runStack(subnetPolicy, [vnet, rt]);
        expect(reported.map((v) => v.message.slice(0, 16))).toEqual(['Subnet "snet-a" ']);
        expect(reported[0].urn).toBe(vnet.urn);
    });

    test("advisory by default; its enforcement is set like the others'", () => {
        expect(subnetPolicy.enforcementLevel).toBe("advisory");
        expect(byName("kms-subnet-reachability", createKmsActivationPolicies({ enforcementLevels: { "kms-subnet-reachability": "mandatory" } })).enforcementLevel).toBe("mandatory");
    });

    test("a Windows VM of the stack in another subnet does not stop this one being judged", async () => {
        const resources = [...networkOnly(FORCED), windowsVm("vm-elsewhere", { id: "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/other-nic" })];
        expect(await runStack(subnetPolicy, resources)).toHaveLength(1);
    });
});

describe("cost (issue 24)", () => {
    test("the whole pack on 1,000 Windows VMs plus 200 network-only subnets runs in under 2 s", async () => {
        const resources: PolicyResource[] = [];
        const sub = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network";
        const subnet = (name: string, id: string, prefix: string, rt: string, nsgId: string, nat?: string) =>
            resource(T.subnet, name, { resourceGroupName: "rg", virtualNetworkName: "vnet", subnetName: name, id, addressPrefix: prefix, routeTable: { id: rt }, networkSecurityGroup: { id: nsgId }, ...(nat ? { natGateway: { id: nat }, defaultOutboundAccess: false } : {}) });
        const nsgOf = (name: string, id: string) => resource(T.nsg, name, { resourceGroupName: "rg", networkSecurityGroupName: name, id, securityRules: [allowKms(100), denyInternet].map((r) => ({ ...r })) });
        resources.push(resource(T.nat, "nat", { resourceGroupName: "rg", natGatewayName: "nat", id: `${sub}/natGateways/nat`, publicIpAddresses: [{ id: `${sub}/publicIPAddresses/nat-ip` }] }));
        for (let s = 0; s < 10; s++) {
            const [id, rt, nsgId] = [`${sub}/virtualNetworks/vnet/subnets/vm-${s}`, `${sub}/routeTables/rt-vm-${s}`, `${sub}/networkSecurityGroups/nsg-vm-${s}`];
            resources.push(subnet(`vm-${s}`, id, `10.1.${s}.0/24`, rt, nsgId), nsgOf(`nsg-vm-${s}`, nsgId));
            resources.push(resource(T.routeTable, `rt-vm-${s}`, { resourceGroupName: "rg", routeTableName: `rt-vm-${s}`, id: rt, routes: s % 2 === 0 ? [tunnel("VirtualNetworkGateway"), ...kmsRoutes()] : [tunnel("VirtualNetworkGateway")] }));
            for (let v = 0; v < 100; v++) {
                const vm = `vm-${s}-${v}`;
                resources.push(windowsVm(vm), resource(T.nic, `${vm}-nic`, { resourceGroupName: "rg", networkInterfaceName: `${vm}-nic`, id: ids.nic(vm), ipConfigurations: [{ name: "ipconfig1", subnet: { id } }] }));
            }
        }
        for (let s = 0; s < 200; s++) {
            const [id, rt, nsgId] = [`${sub}/virtualNetworks/vnet/subnets/net-${s}`, `${sub}/routeTables/rt-net-${s}`, `${sub}/networkSecurityGroups/nsg-net-${s}`];
            resources.push(subnet(`net-${s}`, id, `10.2.${s}.0/24`, rt, nsgId, `${sub}/natGateways/nat`), nsgOf(`nsg-net-${s}`, nsgId));
            const routes = s % 4 < 2 ? [tunnel("VirtualNetworkGateway"), ...kmsRoutes()] : s % 4 === 2 ? [tunnel("VirtualNetworkGateway")] : [tunnel()];
            resources.push(resource(T.routeTable, `rt-net-${s}`, { resourceGroupName: "rg", routeTableName: `rt-net-${s}`, id: rt, routes }));
        }
        const started = process.hrtime.bigint();
        const counts: Record<string, number> = {};
        for (const p of kmsActivationPolicies) counts[p.name] = (await runStack(p, resources)).length;
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        // Half the VM subnets are forced-tunnelled without /32 routes (500 VMs); a quarter of the network-only subnets
        // likewise (blocked) and a quarter send 0/0 to an appliance outside the stack (unverified); no VM has an activation.
        expect(counts).toEqual({ "kms-reachability": 500, "kms-reachability-unverified": 0, "kms-subnet-reachability": 100, "kms-windows-vm-activation": 1000 });
        expect(ms).toBeLessThan(2000);
    });
});
