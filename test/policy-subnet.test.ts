import { createKmsActivationPolicies, kmsActivationPolicies, KmsActivationPolicy } from "../src/policy";
import { AzureCloud } from "../src/types";
import { UNKNOWN_VALUE, preview, runResource } from "./policy-args";

const SUBNET = "azure-native:network:Subnet";
const VNET = "azure-native:network:VirtualNetwork";
const NAME = "kms-private-subnet-explicit-outbound";
const policy = kmsActivationPolicies.find((p) => p.name === NAME) as KmsActivationPolicy;

const NAT_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/natGateways/nat";
const subnet = (extra: Record<string, unknown> = {}) => ({
    resourceGroupName: "rg",
    virtualNetworkName: "vnet-spoke",
    subnetName: "snet-app",
    addressPrefix: "10.1.0.0/24",
    defaultOutboundAccess: false,
    ...extra,
});

function message(subnetName: string, vnet?: string): string {
    const where = vnet === undefined ? "" : ` of virtual network "${vnet}"`;
    return (
        `Subnet "${subnetName}"${where} is private (defaultOutboundAccess: false) and has no NAT gateway: Windows VMs in it cannot activate, ` +
        "because Azure KMS accepts requests only from an Azure public IP; Windows Activation is among the services that do not work in a " +
        "private subnet without explicit outbound, and the /32 Internet routes do not help without it. Remediation: give the subnet " +
        "explicit outbound: attach a NAT gateway to it (Microsoft's recommendation; KmsNetwork does it by default), give the VMs' NICs " +
        "public IPs, add load-balancer outbound rules, or send 0.0.0.0/0 to a hub firewall or NVA that SNATs to a public IP and allows " +
        "TCP 1688 with a network rule."
    );
}

describe("kms-private-subnet-explicit-outbound", () => {
    test("the exact message, for a private standalone subnet without a NAT gateway", async () => {
        expect(await runResource(policy, SUBNET, subnet())).toEqual([
            'Subnet "snet-app" of virtual network "vnet-spoke" is private (defaultOutboundAccess: false) and has no NAT gateway: Windows ' +
                "VMs in it cannot activate, because Azure KMS accepts requests only from an Azure public IP; Windows Activation is among the " +
                "services that do not work in a private subnet without explicit outbound, and the /32 Internet routes do not help without it. " +
                "Remediation: give the subnet explicit outbound: attach a NAT gateway to it (Microsoft's recommendation; KmsNetwork does it by " +
                "default), give the VMs' NICs public IPs, add load-balancer outbound rules, or send 0.0.0.0/0 to a hub firewall or NVA that " +
                "SNATs to a public IP and allows TCP 1688 with a network rule.",
        ]);
    });

    test.each([
        ["a NAT gateway", { natGateway: { id: NAT_ID } }],
        ["default outbound access on", { defaultOutboundAccess: true }],
        ["default outbound access not set (the API version decides)", { defaultOutboundAccess: undefined }],
    ])("a subnet with %s passes", async (_, extra) => {
        expect(await runResource(policy, SUBNET, subnet(extra))).toEqual([]);
    });

    test.each([
        ["natGateway null", { natGateway: null }],
        ["natGateway without an ID", { natGateway: {} }],
    ])("%s is no NAT gateway", async (_, extra) => {
        expect(await runResource(policy, SUBNET, subnet(extra))).toEqual([message("snet-app", "vnet-spoke")]);
    });

    test("deployed outputs: the subnet is named by name; without any name, by its resource name", async () => {
        expect(await runResource(policy, SUBNET, { name: "snet-out", defaultOutboundAccess: false })).toEqual([message("snet-out")]);
        expect(await runResource(policy, SUBNET, { defaultOutboundAccess: false }, {}, "subnet-resource")).toEqual([message("subnet-resource")]);
    });

    test("inline subnets of a virtual network: each private one without NAT is reported", async () => {
        const props = {
            resourceGroupName: "rg",
            virtualNetworkName: "vnet-hub",
            subnets: [
                { name: "snet-a", addressPrefix: "10.0.1.0/24", defaultOutboundAccess: false },
                { name: "snet-b", addressPrefix: "10.0.2.0/24", defaultOutboundAccess: false, natGateway: { id: NAT_ID } },
                { name: "snet-c", addressPrefix: "10.0.3.0/24" },
                { addressPrefix: "10.0.4.0/24", defaultOutboundAccess: false },
            ],
        };
        expect(await runResource(policy, VNET, props)).toEqual([message("snet-a", "vnet-hub"), message("(unnamed)", "vnet-hub")]);
        const { virtualNetworkName: _, ...unnamed } = props;
        expect(await runResource(policy, VNET, unnamed, {}, "vnet-resource")).toEqual([message("snet-a", "vnet-resource"), message("(unnamed)", "vnet-resource")]);
    });

    test.each(Object.values(AzureCloud))("%s: the check is the same in every cloud", async (cloud) => {
        expect(await runResource(policy, SUBNET, subnet(), { cloud })).toEqual([message("snet-app", "vnet-spoke")]);
    });

    test("a custom KMS server (reached over the gateway, no public IP needed) checks nothing", async () => {
        const customKmsServer = { host: "kms.contoso.com", addressPrefixes: ["10.10.0.5/32"] };
        expect(await runResource(policy, SUBNET, subnet(), { customKmsServer })).toEqual([]);
        const coded = createKmsActivationPolicies({ customKmsServer }).find((p) => p.name === NAME) as KmsActivationPolicy;
        expect(await runResource(coded, VNET, { subnets: [{ name: "s", defaultOutboundAccess: false }] })).toEqual([]);
    });

    test("other resource types and missing properties", async () => {
        expect(await runResource(policy, "azure-native:network:NetworkInterface", subnet())).toEqual([]);
        expect(await runResource(policy, SUBNET, {})).toEqual([]);
        expect(await runResource(policy, VNET, {})).toEqual([]);
        expect(await runResource(policy, VNET, { subnets: [null, 1, "x"] })).toEqual([]);
    });

    test("preview: an unknown flag, NAT gateway or subnet list is skipped; a NAT gateway created alongside counts", async () => {
        expect(await runResource(policy, SUBNET, preview(subnet({ defaultOutboundAccess: UNKNOWN_VALUE })))).toEqual([]);
        expect(await runResource(policy, SUBNET, preview(subnet({ natGateway: UNKNOWN_VALUE })))).toEqual([]);
        expect(await runResource(policy, SUBNET, preview(subnet({ natGateway: { id: UNKNOWN_VALUE } })))).toEqual([]);
        expect(await runResource(policy, VNET, preview({ subnets: UNKNOWN_VALUE }))).toEqual([]);
        expect(await runResource(policy, SUBNET, preview(subnet({ subnetName: UNKNOWN_VALUE, virtualNetworkName: UNKNOWN_VALUE })), {}, "snet-res")).toEqual([
            message("snet-res"),
        ]);
    });
});
