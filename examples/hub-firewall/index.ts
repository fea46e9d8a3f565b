// Hub and spoke where the security team forbids next hop Internet in spokes: the spoke sends 0.0.0.0/0 to the hub's
// Azure Firewall, and KMS gets through it with a network rule for TCP 1688 (KMS is not HTTP: an application rule does
// not carry it). The firewall SNATs to its public IP, which is the Azure public IP Azure KMS insists on.
import * as network from "@pulumi/azure-native/network";
import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";
import { KmsFirewallRules, KmsWindowsVm } from "azure-kms-activation";

const config = new pulumi.Config();
const location = config.get("location") ?? "westeurope";
const adminUsername = config.get("adminUsername") ?? "kmsadmin";
const adminPassword = config.requireSecret("adminPassword");
const hubAddressPrefix = "10.100.0.0/16";
const spokeAddressPrefix = "10.20.0.0/16";

const group = new resources.ResourceGroup("hub-firewall", { location });
const resourceGroupName = group.name;

// The hub: a virtual network with the subnet Azure Firewall requires (named AzureFirewallSubnet, at least a /26),
// a Standard firewall with a static public IP and a firewall policy. In real life the platform team's stack owns these.
const hubVnet = new network.VirtualNetwork("hub-vnet", { resourceGroupName, location, addressSpace: { addressPrefixes: [hubAddressPrefix] } });
const firewallSubnet = new network.Subnet("hub-firewall-subnet", {
    resourceGroupName,
    virtualNetworkName: hubVnet.name,
    subnetName: "AzureFirewallSubnet",
    addressPrefix: "10.100.0.0/26",
});
const firewallIp = new network.PublicIPAddress("hub-firewall-ip", {
    resourceGroupName,
    location,
    sku: { name: network.PublicIPAddressSkuName.Standard },
    publicIPAllocationMethod: network.IPAllocationMethod.Static,
});
const policy = new network.FirewallPolicy("hub-firewall-policy", {
    resourceGroupName,
    location,
    sku: { tier: network.FirewallPolicySkuTier.Standard },
});
const firewall = new network.AzureFirewall("hub-firewall", {
    resourceGroupName,
    location,
    sku: { name: network.AzureFirewallSkuName.AZFW_VNet, tier: network.AzureFirewallSkuTier.Standard },
    firewallPolicy: { id: policy.id },
    ipConfigurations: [{ name: "hub-firewall-ipconfig", subnet: { id: firewallSubnet.id }, publicIPAddress: { id: firewallIp.id } }],
});
// Azure gives the firewall its private IP when it creates it; a firewall without one cannot be a next hop.
const firewallPrivateIp = firewall.ipConfigurations.apply((configs) => {
    const ip = configs?.[0]?.privateIPAddress;
    if (!ip) {
        throw new Error('hub-firewall: Azure returned no private IP for the firewall\'s first IP configuration');
    }
    return ip;
});

// The spoke: everything to the firewall, no /32 Internet routes for KMS, no NAT gateway, a private subnet.
const spokeVnet = new network.VirtualNetwork("spoke-vnet", { resourceGroupName, location, addressSpace: { addressPrefixes: [spokeAddressPrefix] } });
const spokeRoutes = new network.RouteTable("spoke-routes", {
    resourceGroupName,
    location,
    // Gateway routes (a 0.0.0.0/0 learned over BGP) must not bypass the firewall.
    disableBgpRoutePropagation: true,
});
const defaultRoute = new network.Route("spoke-default-to-firewall", {
    resourceGroupName,
    routeTableName: spokeRoutes.name,
    addressPrefix: "0.0.0.0/0",
    nextHopType: network.RouteNextHopType.VirtualAppliance,
    nextHopIpAddress: firewallPrivateIp,
});
const spokeSubnet = new network.Subnet("spoke-workloads", {
    resourceGroupName,
    virtualNetworkName: spokeVnet.name,
    addressPrefix: "10.20.1.0/24",
    routeTable: { id: spokeRoutes.id },
    defaultOutboundAccess: false,
});

// Peerings both ways; each after the subnets of both networks. A subnet write leaves its network "Updating" until it
// ends, and Azure refuses a peering whose remote network is not provisioned yet (400 ReferencedResourceNotProvisioned),
// so waiting for its own network's subnets alone is not enough.
const bothNetworksSubnets = [firewallSubnet, spokeSubnet];
const hubToSpoke = new network.VirtualNetworkPeering(
    "hub-to-spoke",
    {
        resourceGroupName,
        virtualNetworkName: hubVnet.name,
        remoteVirtualNetwork: { id: spokeVnet.id },
        allowVirtualNetworkAccess: true,
        allowForwardedTraffic: true,
    },
    { dependsOn: bothNetworksSubnets },
);
const spokeToHub = new network.VirtualNetworkPeering(
    "spoke-to-hub",
    {
        resourceGroupName,
        virtualNetworkName: spokeVnet.name,
        remoteVirtualNetwork: { id: hubVnet.id },
        allowVirtualNetworkAccess: true,
        // Traffic the firewall forwards back from KMS and the Internet is not from the hub's own address space.
        allowForwardedTraffic: true,
    },
    { dependsOn: bothNetworksSubnets },
);

// What this package adds: one rule collection group on the hub's policy, from the spoke's prefix to the KMS IPs on
// TCP 1688. After the firewall, because Azure does not take a policy update while a firewall that uses it is created.
const kms = new KmsFirewallRules(
    "spoke-kms",
    {
        resourceGroupName,
        firewallPolicyName: policy.name,
        sourceAddresses: [spokeAddressPrefix],
        // The spokes' 0.0.0.0/0 next hop: the VMs' subnet check then knows it is this firewall, with this rule.
        firewallPrivateIpAddress: firewallPrivateIp,
    },
    { dependsOn: [firewall] },
);

// The guest activates once the whole path exists: the firewall rule (which waits for the firewall), the spoke's
// default route to it, and both peerings.
const activationWaitsFor = pulumi
    .all([kms.egressRuleIds, defaultRoute.id, hubToSpoke.id, spokeToHub.id])
    .apply(([ruleIds, ...pathIds]) => [...ruleIds, ...pathIds]);

const vms = ["app-01", "app-02"].map(
    (vmName) =>
        new KmsWindowsVm(vmName, {
            resourceGroupName,
            location,
            subnetId: spokeSubnet.id,
            adminUsername,
            adminPassword,
            // The subnet is private without a NAT gateway on purpose: its way out is the hub firewall's public IP through
            // the 0.0.0.0/0 route. The subnet check reads the spoke once the path exists and finds the rule: it stays quiet.
            activationWaitsFor,
        }),
);

export const firewallPublicIp = firewallIp.ipAddress;
export const firewallPrivateIpAddress = firewallPrivateIp;
export const ruleCollectionGroupId = kms.ruleCollectionGroupId;
export const kmsAddressPrefixes = kms.kmsAddressPrefixes;
export const vmNames = vms.map((vm) => vm.virtualMachineName);
export const kmsEndpoints = vms.map((vm) => vm.kmsEndpoint);
// `pulumi stack output activationStatus`: each VM's guest result (activated, licensed, pending, error or unknown).
export const activationStatus = pulumi
    .all(vms.map((vm) => pulumi.all([vm.virtualMachineName, vm.activationStatus])))
    .apply((pairs) => Object.fromEntries(pairs));
