// A KMS host on-premises, reached over VPN or ExpressRoute through a hub: no Internet routes, no public egress
// for activation; the NSG and the guest firewall allow the on-premises KMS only.
import * as network from "@pulumi/azure-native/network";
import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";
import { ExplicitOutbound, KmsNetwork, KmsWindowsVm } from "azure-kms-activation";

const config = new pulumi.Config();
const location = config.get("location") ?? "westeurope";
const kmsHost = config.require("kmsHost");
const kmsPort = config.getNumber("kmsPort") ?? 1688;
const kmsAddressPrefixes = config.requireObject<string[]>("kmsAddressPrefixes");
const dnsServers = config.getObject<string[]>("dnsServers");
// The hub with the VPN or ExpressRoute gateway; without it the spoke cannot reach on-premises.
const hubVirtualNetworkId = config.get("hubVirtualNetworkId");
const adminPassword = config.requireSecret("adminPassword");

const group = new resources.ResourceGroup("onprem-kms", { location });
const customKmsServer = { host: kmsHost, port: kmsPort, addressPrefixes: kmsAddressPrefixes };

const spoke = new KmsNetwork("spoke", {
    resourceGroupName: group.name,
    location,
    addressPrefixes: ["10.30.0.0/16"],
    subnetAddressPrefix: "10.30.1.0/24",
    dnsServers,
    customKmsServer,
    // KMS is on-premises: the hub's gateway is the way out, so no NAT gateway here.
    outbound: ExplicitOutbound.None,
});

const hubPeering = hubVirtualNetworkId
    ? new network.VirtualNetworkPeering("spoke-to-hub", {
          resourceGroupName: group.name,
          virtualNetworkName: spoke.virtualNetworkName,
          remoteVirtualNetwork: { id: hubVirtualNetworkId },
          allowVirtualNetworkAccess: true,
          allowForwardedTraffic: true,
          useRemoteGateways: true,
      })
    : undefined;
if (!hubPeering) {
    pulumi.log.warn("hubVirtualNetworkId is not set: this stack gives the spoke no path to the on-premises KMS, so activation ends pending unless another stack connects it.");
}

// The guest activates once its path to the on-premises KMS exists: the NSG rule and the peering to the hub's gateway.
// Without the peering it would run at once, find no KMS, end `pending`, and the deployment would still be green.
const activationWaitsFor = hubPeering
    ? pulumi.all([spoke.egressRuleIds, hubPeering.id]).apply(([ruleIds, peeringId]) => [...ruleIds, peeringId])
    : spoke.egressRuleIds;

const vm = new KmsWindowsVm("app-01", {
    resourceGroupName: group.name,
    location,
    subnetId: spoke.subnetId,
    adminUsername: config.get("adminUsername") ?? "kmsadmin",
    adminPassword,
    customKmsServer,
    activationWaitsFor,
});

export const subnetId = spoke.subnetId;
export const kmsEndpoint = vm.kmsEndpoint;
export const activationStatus = vm.activationStatus;
