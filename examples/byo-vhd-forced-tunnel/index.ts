// The classic hard case: a spoke that forces all traffic to a network virtual appliance, custom DNS that cannot
// resolve the KMS name, and a VM from a VHD brought from on-premises (retail or MAK key, edition unknown to Azure).
import * as network from "@pulumi/azure-native/network";
import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";
import { KmsEgressRules, KmsHostForm, KmsWindowsVm } from "azure-kms-activation";

const config = new pulumi.Config();
const location = config.get("location") ?? "westeurope";
const nvaIpAddress = config.get("nvaIpAddress") ?? "10.0.0.4";
const dnsServers = config.getObject<string[]>("dnsServers") ?? ["10.0.0.10", "10.0.0.11"];
const vhdUri = config.require("vhdUri");
const vhdStorageAccountId = config.require("vhdStorageAccountId");
const hyperVGeneration = config.get("hyperVGeneration") ?? "V1";

const group = new resources.ResourceGroup("spoke", { location });
const resourceGroupName = group.name;

// The spoke as its network team built it. In real life another stack owns these: this package only adds to them.
const vnet = new network.VirtualNetwork("spoke-vnet", {
    resourceGroupName,
    location,
    addressSpace: { addressPrefixes: ["10.20.0.0/16"] },
    dhcpOptions: { dnsServers },
});
const routeTable = new network.RouteTable("spoke-routes", { resourceGroupName, location });
new network.Route("spoke-default-to-nva", {
    resourceGroupName,
    routeTableName: routeTable.name,
    addressPrefix: "0.0.0.0/0",
    nextHopType: network.RouteNextHopType.VirtualAppliance,
    nextHopIpAddress: nvaIpAddress,
});
const nsg = new network.NetworkSecurityGroup("spoke-nsg", { resourceGroupName, location });
new network.SecurityRule("spoke-deny-internet-out", {
    resourceGroupName,
    networkSecurityGroupName: nsg.name,
    direction: network.SecurityRuleDirection.Outbound,
    access: network.SecurityRuleAccess.Deny,
    priority: 4000,
    protocol: network.SecurityRuleProtocol.Asterisk,
    sourceAddressPrefix: "*",
    sourcePortRange: "*",
    destinationAddressPrefix: "Internet",
    destinationPortRange: "*",
});
// The KMS /32 routes have next hop Internet; in a private subnet that traffic leaves through the NAT gateway.
const natIp = new network.PublicIPAddress("spoke-nat-ip", {
    resourceGroupName,
    location,
    sku: { name: network.PublicIPAddressSkuName.Standard },
    publicIPAllocationMethod: network.IPAllocationMethod.Static,
});
const nat = new network.NatGateway("spoke-nat", {
    resourceGroupName,
    location,
    sku: { name: network.NatGatewaySkuName.Standard },
    publicIpAddresses: [{ id: natIp.id }],
});
const subnet = new network.Subnet("spoke-workloads", {
    resourceGroupName,
    virtualNetworkName: vnet.name,
    addressPrefix: "10.20.1.0/24",
    routeTable: { id: routeTable.id },
    networkSecurityGroup: { id: nsg.id },
    natGateway: { id: nat.id },
    defaultOutboundAccess: false,
});

// What this package adds: /32 Internet routes that beat the forced tunnel, and an allow above the deny.
const egress = new KmsEgressRules("spoke-kms", {
    resourceGroupName,
    routeTableName: routeTable.name,
    networkSecurityGroupName: nsg.name,
    securityRulePriority: 200,
    subnetId: subnet.id,
});

const vm = new KmsWindowsVm("legacy-app-01", {
    resourceGroupName,
    location,
    subnetId: subnet.id,
    vhd: { sourceUri: vhdUri, storageAccountId: vhdStorageAccountId, hyperVGeneration },
    // Custom DNS cannot resolve azkms.core.windows.net: point slmgr at the IP.
    kmsHostForm: KmsHostForm.IpAddress,
    activationWaitsFor: egress.egressRuleIds,
});

export const kmsRouteIds = egress.routeIds;
export const kmsRuleId = egress.securityRuleId;
export const vmName = vm.virtualMachineName;
export const kmsEndpoint = vm.kmsEndpoint;
export const activationStatus = vm.activationStatus;
// What the guest found: the key it had (a retail or MAK VHD), what it installed, the probe, the codes.
export const activationResult = vm.activationResult;
