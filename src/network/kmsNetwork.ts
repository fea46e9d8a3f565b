import * as network from "@pulumi/azure-native/network";
import * as pulumi from "@pulumi/pulumi";
import { AzureCloud, CustomKmsServer, ExplicitOutbound, KmsHostForm } from "../types";
import * as validate from "../validate";
import { KmsEgressRules } from "./kmsEgressRules";
import { componentOptions } from "../versionAliases";

/** Arguments of `KmsNetwork`. */
export interface KmsNetworkArgs {
    /** Resource group to create the network in. */
    resourceGroupName: pulumi.Input<string>;
    /** Azure region. Default: the resource group's region. */
    location?: pulumi.Input<string>;
    /** Address space of the virtual network. Default `["10.0.0.0/16"]`. */
    addressPrefixes?: pulumi.Input<string[]>;
    /** Address prefix of the subnet. Default `10.0.0.0/24`. */
    subnetAddressPrefix?: pulumi.Input<string>;
    /** Custom DNS servers for the virtual network; when set, `kmsHostForm` becomes `IpAddress`. */
    dnsServers?: pulumi.Input<string[]>;
    /** How the subnet reaches KMS and other public endpoints. Default `NatGateway`. */
    outbound?: ExplicitOutbound;
    /** Cloud whose KMS addresses are routed and allowed. Default `AzurePublic`. */
    cloud?: AzureCloud;
    /** Override the cloud's KMS IP addresses (they moved once, in 2023). */
    kmsIpAddresses?: string[];
    /** An on-premises KMS reached over VPN/ExpressRoute: no Internet routes, and the rule allows its prefixes and port. */
    customKmsServer?: CustomKmsServer;
    /** Priority of the NSG rule. Default 100. */
    securityRulePriority?: pulumi.Input<number>;
    /** Tags for every resource the network creates. */
    tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
}

/**
 * A greenfield network where Windows VMs can activate: a virtual network, one subnet with a route table,
 * an NSG and (by default) a NAT gateway, and the KMS routes and NSG rule on them. Every child is standalone:
 * the virtual network declares no inline subnets, the table no inline routes, the NSG no inline rules.
 */
export class KmsNetwork extends pulumi.ComponentResource {
    /** ID of the virtual network. */
    public readonly virtualNetworkId: pulumi.Output<string>;
    /** Name of the virtual network. */
    public readonly virtualNetworkName: pulumi.Output<string>;
    /** ID of the subnet: give it to `KmsWindowsVm.subnetId`. */
    public readonly subnetId: pulumi.Output<string>;
    /** ID of the route table associated with the subnet. */
    public readonly routeTableId: pulumi.Output<string>;
    /** Name of the route table: other programs can add routes to it with standalone routes. */
    public readonly routeTableName: pulumi.Output<string>;
    /** ID of the NSG associated with the subnet. */
    public readonly networkSecurityGroupId: pulumi.Output<string>;
    /** Name of the NSG: other programs can add rules to it with standalone rules. */
    public readonly networkSecurityGroupName: pulumi.Output<string>;
    /** ID of the NAT gateway; undefined with `outbound: None`. */
    public readonly natGatewayId: pulumi.Output<string | undefined>;
    /** The host form VMs in this network should use: `IpAddress` when custom DNS servers are set. */
    public readonly kmsHostForm: pulumi.Output<KmsHostForm>;
    /** IDs of the KMS routes and NSG rule: pass to `activationWaitsFor`. */
    public readonly egressRuleIds: pulumi.Output<string[]>;
    /** The cloud whose KMS the network lets through: `cloud`, else the one of `azure-native:environment`. */
    public readonly cloud: pulumi.Output<AzureCloud>;

    constructor(name: string, args: KmsNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("azure-kms-activation:index:KmsNetwork", name, {}, componentOptions(opts));
        // Every plain value is checked before the first child exists, so a refusal leaves nothing half-built.
        const plan = resolveKmsNetwork(name, args);
        const { resourceGroupName, addressPrefixes, subnetAddressPrefix, dnsServers } = plan;
        const common = { resourceGroupName, location: plan.location, tags: plan.tags };

        const vnet = new network.VirtualNetwork(
            `${name}-vnet`,
            {
                ...common,
                addressSpace: { addressPrefixes },
                dhcpOptions: dnsServers === undefined ? undefined : { dnsServers },
            },
            { parent: this },
        );
        const routeTable = new network.RouteTable(`${name}-routes`, { ...common }, { parent: this });
        const nsg = new network.NetworkSecurityGroup(`${name}-nsg`, { ...common }, { parent: this });
        const natGateway = plan.natGateway ? this.addNatGateway(name, common) : undefined;

        const subnet = new network.Subnet(
            `${name}-subnet`,
            {
                resourceGroupName,
                virtualNetworkName: vnet.name,
                addressPrefix: subnetAddressPrefix,
                routeTable: { id: routeTable.id },
                networkSecurityGroup: { id: nsg.id },
                natGateway: natGateway ? { id: natGateway.id } : undefined,
                // Explicit, so the subnet is private whatever the API version's default: outbound goes where we say.
                defaultOutboundAccess: false,
            },
            { parent: this },
        );

        const egress = new KmsEgressRules(
            `${name}-kms`,
            {
                resourceGroupName,
                routeTableName: routeTable.name,
                networkSecurityGroupName: nsg.name,
                cloud: plan.cloud,
                kmsIpAddresses: args.kmsIpAddresses,
                customKmsServer: args.customKmsServer,
                securityRulePriority: args.securityRulePriority,
            },
            { parent: this },
        );

        this.virtualNetworkId = vnet.id;
        this.virtualNetworkName = vnet.name;
        this.subnetId = subnet.id;
        this.routeTableId = routeTable.id;
        this.routeTableName = routeTable.name;
        this.networkSecurityGroupId = nsg.id;
        this.networkSecurityGroupName = nsg.name;
        this.natGatewayId = natGateway ? natGateway.id : pulumi.output(undefined);
        this.kmsHostForm = pulumi.output(plan.kmsHostForm);
        this.egressRuleIds = egress.egressRuleIds;
        this.cloud = pulumi.output(plan.cloud);
        this.registerOutputs({
            virtualNetworkId: this.virtualNetworkId,
            virtualNetworkName: this.virtualNetworkName,
            subnetId: this.subnetId,
            routeTableId: this.routeTableId,
            routeTableName: this.routeTableName,
            networkSecurityGroupId: this.networkSecurityGroupId,
            networkSecurityGroupName: this.networkSecurityGroupName,
            natGatewayId: this.natGatewayId,
            kmsHostForm: this.kmsHostForm,
            egressRuleIds: this.egressRuleIds,
            cloud: this.cloud,
        });
    }

    private addNatGateway(
        name: string,
        common: { resourceGroupName: pulumi.Input<string>; location?: pulumi.Input<string>; tags?: KmsNetworkArgs["tags"] },
    ): network.NatGateway {
        const publicIp = new network.PublicIPAddress(
            `${name}-nat-ip`,
            {
                ...common,
                sku: { name: network.PublicIPAddressSkuName.Standard, tier: network.PublicIPAddressSkuTier.Regional },
                publicIPAllocationMethod: network.IPAllocationMethod.Static,
                publicIPAddressVersion: network.IPVersion.IPv4,
            },
            { parent: this },
        );
        return new network.NatGateway(
            `${name}-nat`,
            {
                ...common,
                sku: { name: network.NatGatewaySkuName.Standard },
                publicIpAddresses: [{ id: publicIp.id }],
                idleTimeoutInMinutes: 4,
            },
            { parent: this },
        );
    }
}

/** Everything `KmsNetwork` builds, decided from its args by `resolveKmsNetwork`. */
export interface KmsNetworkPlan {
    context: { component: string; name: string };
    resourceGroupName: pulumi.Input<string>;
    location?: pulumi.Input<string>;
    tags?: KmsNetworkArgs["tags"];
    addressPrefixes: pulumi.Input<string[]>;
    subnetAddressPrefix: pulumi.Input<string>;
    dnsServers?: pulumi.Input<string[]>;
    /** A Standard NAT gateway and its public IP on the subnet (`outbound: NatGateway`, the default). */
    natGateway: boolean;
    /** `cloud`, else the stack's azure-native provider's: what the egress rules let through. */
    cloud: AzureCloud;
    /** `IpAddress` when custom DNS servers are set (they may not resolve the KMS name), else `DnsName`. */
    kmsHostForm: pulumi.Input<KmsHostForm>;
}

/**
 * Checks `KmsNetwork`'s args (plain values now, with the same refusals as ever; Outputs once they resolve) and
 * decides the network. Pure: it creates nothing. The egress child (`KmsEgressRules`) resolves its own args.
 */
export function resolveKmsNetwork(name: string, args: KmsNetworkArgs, context = { component: "KmsNetwork", name }): KmsNetworkPlan {
    validate.inComponent(context.component, context.name, () => {
        validate.required("resourceGroupName", args.resourceGroupName);
        validate.enumValue("outbound", args.outbound, ExplicitOutbound);
        validate.enumValue("cloud", args.cloud, AzureCloud);
    });
    // Without `cloud`, the KMS of the cloud the stack's azure-native provider deploys to.
    const cloud = validate.inComponent(context.component, context.name, () => validate.effectiveCloud(args.cloud));
    const checked = <T>(field: string, value: pulumi.Input<T>, check: (field: string, value: T) => void) => validate.checkedInput(context, field, value, check);
    const resourceGroupName = checked("resourceGroupName", args.resourceGroupName, validate.resourceGroupName);
    const location = args.location === undefined ? undefined : checked("location", args.location, validate.location);
    const addressPrefixes = checked("addressPrefixes", args.addressPrefixes ?? ["10.0.0.0/16"], validate.cidrList);
    const subnetAddressPrefix = checked("subnetAddressPrefix", args.subnetAddressPrefix ?? "10.0.0.0/24", validate.cidr);
    const dnsServers = args.dnsServers === undefined ? undefined : checked("dnsServers", args.dnsServers, validate.ipv4List);
    validate.inComponent(context.component, context.name, () => {
        validate.kmsIpAddresses("kmsIpAddresses", args.kmsIpAddresses);
        validate.customKmsServer("customKmsServer", args.customKmsServer);
        validate.ifPlain(args.securityRulePriority, (v) => validate.securityRulePriority("securityRulePriority", v));
    });
    const tags = args.tags === undefined ? undefined : checked("tags", args.tags, validate.tags);
    const hostForm = (servers: string[] | undefined) => (servers && servers.length > 0 ? KmsHostForm.IpAddress : KmsHostForm.DnsName);
    return {
        context,
        resourceGroupName,
        location,
        tags,
        addressPrefixes,
        subnetAddressPrefix,
        dnsServers,
        natGateway: args.outbound !== ExplicitOutbound.None,
        cloud,
        kmsHostForm: pulumi.Output.isInstance(args.dnsServers) || args.dnsServers instanceof Promise ? pulumi.output(args.dnsServers).apply(hostForm) : hostForm(args.dnsServers as string[] | undefined),
    };
}
