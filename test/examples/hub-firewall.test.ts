import * as pulumi from "@pulumi/pulumi";
import { runExample } from "../../scripts/examples";
import { buildPlan, renderText } from "../../scripts/plan";
import { guestSettings, secretValue } from "../harness";

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/hub-firewall/providers/Microsoft.Network";

test("hub-firewall: the spoke's only way out is the hub firewall, and KMS gets through it with a network rule", async () => {
    const warn = jest.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    const info = jest.spyOn(pulumi.log, "info").mockImplementation(() => Promise.resolve());
    const run = await runExample("hub-firewall");
    const h = run.harness;
    expect(h.summary((r) => r.custom)).toEqual([
        "azure-native:compute:VirtualMachine app-01-vm",
        "azure-native:compute:VirtualMachine app-02-vm",
        "azure-native:compute:VirtualMachineExtension app-01-activation-extension",
        "azure-native:compute:VirtualMachineExtension app-02-activation-extension",
        "azure-native:network:AzureFirewall hub-firewall",
        "azure-native:network:FirewallPolicy hub-firewall-policy",
        "azure-native:network:FirewallPolicyRuleCollectionGroup spoke-kms-rules",
        "azure-native:network:NetworkInterface app-01-nic",
        "azure-native:network:NetworkInterface app-02-nic",
        "azure-native:network:PublicIPAddress hub-firewall-ip",
        "azure-native:network:Route spoke-default-to-firewall",
        "azure-native:network:RouteTable spoke-routes",
        "azure-native:network:Subnet hub-firewall-subnet",
        "azure-native:network:Subnet spoke-workloads",
        "azure-native:network:VirtualNetwork hub-vnet",
        "azure-native:network:VirtualNetwork spoke-vnet",
        "azure-native:network:VirtualNetworkPeering hub-to-spoke",
        "azure-native:network:VirtualNetworkPeering spoke-to-hub",
        "azure-native:resources:ResourceGroup hub-firewall",
    ]);

    // The hub: a Standard firewall with its policy and a public IP, in AzureFirewallSubnet.
    const firewallSubnet = h.ofType("azure-native:network:Subnet").find((s) => s.name === "hub-firewall-subnet")!;
    expect(firewallSubnet.inputs).toMatchObject({ subnetName: "AzureFirewallSubnet", addressPrefix: "10.100.0.0/26" });
    expect(h.one("azure-native:network:AzureFirewall").inputs).toMatchObject({
        sku: { name: "AZFW_VNet", tier: "Standard" },
        firewallPolicy: { id: `${SUB}/firewallPolicies/hub-firewall-policy` },
        ipConfigurations: [{ subnet: { id: `${SUB}/virtualNetworks/hub-vnet/subnets/AzureFirewallSubnet` }, publicIPAddress: { id: expect.stringMatching(/hub-firewall-ip$/) } }],
    });

    // The spoke: 0.0.0.0/0 to the firewall's private IP, no KMS /32 routes, no NAT gateway, private subnet.
    expect(h.ofType("azure-native:network:Route").map((r) => r.inputs)).toEqual([
        { resourceGroupName: "hub-firewall", routeTableName: "spoke-routes", addressPrefix: "0.0.0.0/0", nextHopType: "VirtualAppliance", nextHopIpAddress: "10.100.0.4" },
    ]);
    expect(h.ofType("azure-native:network:NatGateway")).toEqual([]);
    const spokeSubnet = h.ofType("azure-native:network:Subnet").find((s) => s.name === "spoke-workloads")!;
    expect(spokeSubnet.inputs).toMatchObject({
        virtualNetworkName: "spoke-vnet",
        addressPrefix: "10.20.1.0/24",
        routeTable: { id: `${SUB}/routeTables/spoke-routes` },
        defaultOutboundAccess: false,
    });
    expect(spokeSubnet.inputs.natGateway).toBeUndefined();

    // Peered both ways, forwarded traffic allowed (the firewall's answers come from outside the hub's space).
    const peerings = Object.fromEntries(h.ofType("azure-native:network:VirtualNetworkPeering").map((p) => [p.name, p.inputs]));
    expect(peerings["hub-to-spoke"]).toMatchObject({ virtualNetworkName: "hub-vnet", remoteVirtualNetwork: { id: `${SUB}/virtualNetworks/spoke-vnet` }, allowForwardedTraffic: true, allowVirtualNetworkAccess: true });
    expect(peerings["spoke-to-hub"]).toMatchObject({ virtualNetworkName: "spoke-vnet", remoteVirtualNetwork: { id: `${SUB}/virtualNetworks/hub-vnet` }, allowForwardedTraffic: true, allowVirtualNetworkAccess: true });
    // Each peering waits for the subnets of both networks: a subnet write leaves its network Updating, and a peering
    // whose remote network is not provisioned is refused (400 ReferencedResourceNotProvisioned).
    const subnetUrns = h.ofType("azure-native:network:Subnet").map((subnet) => subnet.urn);
    expect(subnetUrns).toHaveLength(2);
    for (const peering of h.ofType("azure-native:network:VirtualNetworkPeering")) {
        expect(peering.dependencies).toEqual(expect.arrayContaining(subnetUrns));
    }

    // What the package adds: one network rule from the spoke to the KMS IPs on TCP 1688, after the firewall exists.
    const group = h.one("azure-native:network:FirewallPolicyRuleCollectionGroup");
    expect(group.inputs).toMatchObject({ firewallPolicyName: "hub-firewall-policy", ruleCollectionGroupName: "kms-activation", priority: 150 });
    expect((group.inputs.ruleCollections as any[])[0].rules).toEqual([
        expect.objectContaining({
            ruleType: "NetworkRule",
            ipProtocols: ["TCP"],
            sourceAddresses: ["10.20.0.0/16"],
            destinationAddresses: ["20.118.99.224", "40.83.235.53", "23.102.135.246"],
            destinationPorts: ["1688"],
        }),
    ]);
    const urn = (type: string, name?: string) => h.ofType(type).find((r) => name === undefined || r.name === name)!.urn;
    const firewallUrn = urn("azure-native:network:AzureFirewall");
    const kmsComponent = h.one("azure-kms-activation:index:KmsFirewallRules");
    expect(kmsComponent.dependencies).toContain(firewallUrn);
    // The component's dependsOn reaches its group (Pulumi does not pass it to a component's children by itself).
    expect(group.dependencies).toContain(firewallUrn);

    // Each activation waits for the rule, the default route and both peerings: the whole path to KMS.
    const path = [group.urn, urn("azure-native:network:Route"), urn("azure-native:network:VirtualNetworkPeering", "hub-to-spoke"), urn("azure-native:network:VirtualNetworkPeering", "spoke-to-hub")];
    for (const ext of h.ofType("azure-native:compute:VirtualMachineExtension")) {
        expect(ext.dependencies).toEqual(expect.arrayContaining(path));
        expect(guestSettings(secretValue(ext.inputs.protectedSettings).commandToExecute).kmsHosts).toEqual(["azkms.core.windows.net"]);
    }
    // The subnet check is on: the spoke subnet and its route table are read once (as Azure answers them once the
    // path exists: 0.0.0.0/0 to the firewall's private IP), the engine finds the firewall's network rule at that next
    // hop (KmsFirewallRules' firewallPrivateIpAddress) and says reachable: no warning, nothing to tell.
    expect(h.invokes).toEqual([
        { token: "azure-native:network:getSubnet", inputs: { resourceGroupName: "hub-firewall", virtualNetworkName: "spoke-vnet", subnetName: "spoke-workloads" } },
        { token: "azure-native:network:getRouteTable", inputs: { resourceGroupName: "hub-firewall", routeTableName: "spoke-routes" } },
    ]);
    expect(warn).not.toHaveBeenCalled();
    expect(info).not.toHaveBeenCalled();
    warn.mockRestore();
    info.mockRestore();

    // The offline plan shows the firewall rule as the KMS egress.
    const plan = buildPlan(run);
    expect(plan.firewallRules).toEqual([
        {
            firewallPolicy: "hub-firewall-policy",
            ruleCollectionGroup: "kms-activation",
            groupPriority: 150,
            ruleCollection: "allow-kms-activation",
            collectionPriority: 100,
            action: "Allow",
            name: "allow-kms-tcp-1688",
            ruleType: "NetworkRule",
            protocols: ["TCP"],
            sources: ["10.20.0.0/16"],
            destinations: ["20.118.99.224", "40.83.235.53", "23.102.135.246"],
            ports: ["1688"],
            addedByPackage: true,
        },
    ]);
    const text = renderText(plan);
    expect(text).toContain("    firewall policy hub-firewall-policy, rule collection group kms-activation (priority 150):");
    expect(text).toMatch(/\+ KMS  allow-kms-tcp-1688\s+allow-kms-activation \(priority 100\) Allow NetworkRule TCP 10\.20\.0\.0\/16 -> 20\.118\.99\.224, 40\.83\.235\.53, 23\.102\.135\.246 port 1688/);
    expect(text).toMatch(/  own  spoke-default-to-firewall\s+0\.0\.0\.0\/0\s+-> VirtualAppliance 10\.100\.0\.4/);
    expect(text).not.toContain("    (none)");
});
