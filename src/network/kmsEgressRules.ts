import * as network from "@pulumi/azure-native/network";
import * as pulumi from "@pulumi/pulumi";
import { kmsEndpoint, KMS_PORT } from "../kms";
import { AzureCloud, CustomKmsServer, PrivateSubnetCheck } from "../types";
import * as validate from "../validate";
import { effectiveCloud } from "../kms/cloudConfig";
import { claimEgressTarget } from "./ownership";
import { checkSubnetOutbound, privateSubnetCheckMode } from "./subnetOutbound";
import { componentOptions } from "../versionAliases";

/** Arguments of `KmsEgressRules`. */
export interface KmsEgressRulesArgs {
    /** Resource group of the route table and the NSG. */
    resourceGroupName: pulumi.Input<string>;
    /** Existing route table to add one `/32` next-hop-Internet route per KMS IP to. Omit to add no routes. */
    routeTableName?: pulumi.Input<string>;
    /** Existing NSG to add the outbound allow for TCP 1688 to. Omit to add no rule. */
    networkSecurityGroupName?: pulumi.Input<string>;
    /** Cloud whose KMS addresses are routed and allowed. Default `AzurePublic`. */
    cloud?: AzureCloud;
    /** Override the cloud's KMS IP addresses (they moved once, in 2023). */
    kmsIpAddresses?: string[];
    /** An on-premises KMS reached over VPN/ExpressRoute: no Internet routes, and the rule allows its prefixes and port. */
    customKmsServer?: CustomKmsServer;
    /** Priority of the NSG rule: lower than any outbound deny that covers the KMS addresses. Default 100. */
    securityRulePriority?: pulumi.Input<number>;
    /** Source of the NSG rule. Default `VirtualNetwork` (the service tag). */
    sourceAddressPrefix?: pulumi.Input<string>;
    /** A subnet these rules serve: it is read, and a private one without a NAT gateway is reported (see `privateSubnetCheck`). */
    subnetId?: pulumi.Input<string>;
    /** With `subnetId`: warn (default), fail, or skip when the subnet is private and has no NAT gateway. */
    privateSubnetCheck?: PrivateSubnetCheck;
}

/** Default NSG rule priority: the highest Azure allows, so the allow wins over the user's outbound denies. */
export const DEFAULT_SECURITY_RULE_PRIORITY = 100;

/** The destination prefixes and port the egress must let through, for the given options. */
export function kmsDestination(options: { cloud?: AzureCloud; kmsIpAddresses?: string[]; customKmsServer?: CustomKmsServer }): {
    routedIps: string[];
    allowedPrefixes: string[];
    port: number;
} {
    const custom = options.customKmsServer;
    if (custom) {
        return { routedIps: [], allowedPrefixes: [...custom.addressPrefixes], port: custom.port ?? KMS_PORT };
    }
    const ips = options.kmsIpAddresses ?? [...kmsEndpoint(options.cloud).ipAddresses];
    return { routedIps: ips, allowedPrefixes: ips, port: KMS_PORT };
}

// One dependsOn value from several checks (each an empty resource list that fails when its check fails).
function allOf(checks: pulumi.Output<pulumi.Resource[]>[]): pulumi.Output<pulumi.Resource[]> {
    return pulumi.all(checks).apply((lists) => lists.flat());
}

/**
 * Adds the KMS egress to a route table and an NSG someone else owns: one standalone `Route` per KMS IP
 * (`<ip>/32`, next hop `Internet`, which beats a forced-tunnel 0.0.0.0/0) and one standalone outbound
 * Allow `SecurityRule` for TCP 1688. It never creates, replaces or edits the table or the NSG: inline
 * children would delete everyone else's routes and rules on the next update.
 */
export class KmsEgressRules extends pulumi.ComponentResource {
    /** IDs of the routes added (empty without a route table or with a custom KMS server). */
    public readonly routeIds: pulumi.Output<string[]>;
    /** ID of the NSG rule added; undefined without an NSG. */
    public readonly securityRuleId: pulumi.Output<string | undefined>;
    /** IDs of every route and rule added: pass to `activationWaitsFor` so the guest activates after them. */
    public readonly egressRuleIds: pulumi.Output<string[]>;
    /** The prefixes the rule allows (and the routes cover, unless a custom KMS server is used). */
    public readonly kmsAddressPrefixes: pulumi.Output<string[]>;

    constructor(name: string, args: KmsEgressRulesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("azure-kms-activation:index:KmsEgressRules", name, {}, componentOptions(opts));
        const context = { component: "KmsEgressRules", name };
        validate.inComponent(context.component, name, () => {
            validate.required("resourceGroupName", args.resourceGroupName);
            validate.enumValue("cloud", args.cloud, AzureCloud);
            validate.kmsIpAddresses("kmsIpAddresses", args.kmsIpAddresses);
            validate.customKmsServer("customKmsServer", args.customKmsServer);
            if (args.routeTableName === undefined && args.networkSecurityGroupName === undefined) {
                throw new validate.KmsInputError(
                    "routeTableName, networkSecurityGroupName: neither is set, so there is nothing to add; set one or both",
                );
            }
            validate.enumValue("privateSubnetCheck", args.privateSubnetCheck, PrivateSubnetCheck);
        });
        // Without `cloud`, the KMS of the cloud the stack's azure-native provider deploys to.
        args = { ...args, cloud: validate.inComponent(context.component, name, () => effectiveCloud(args.cloud)) };
        const checked = <T>(field: string, value: pulumi.Input<T>, check: (field: string, value: T) => void) =>
            validate.checkedInput(context, field, value, check);
        const resourceGroupName = checked("resourceGroupName", args.resourceGroupName, validate.resourceGroupName);
        const routeTableName = args.routeTableName === undefined ? undefined : checked("routeTableName", args.routeTableName, validate.azureName);
        const nsgName = args.networkSecurityGroupName === undefined ? undefined : checked("networkSecurityGroupName", args.networkSecurityGroupName, validate.azureName);
        const priority = checked("securityRulePriority", args.securityRulePriority ?? DEFAULT_SECURITY_RULE_PRIORITY, validate.securityRulePriority);
        const source = checked("sourceAddressPrefix", args.sourceAddressPrefix ?? "VirtualNetwork", validate.addressPrefixOrTag);
        const subnetId = args.subnetId === undefined ? undefined : checked("subnetId", args.subnetId, validate.subnetId);
        const destination = kmsDestination(args);

        // Read-only checks the children wait for: in strict mode a private subnet without a way out fails them, and
        // so does a second KmsEgressRules on the same table or NSG, each with the reason.
        const subnetCheck = subnetId === undefined ? [] : [checkSubnetOutbound(subnetId, privateSubnetCheckMode(args), this)];
        const routes =
            routeTableName === undefined || destination.routedIps.length === 0
                ? []
                : this.addRoutes(name, resourceGroupName, routeTableName, destination.routedIps, {
                      parent: this,
                      dependsOn: allOf([...subnetCheck, claimEgressTarget("route table", "routeTableName", args.resourceGroupName, args.routeTableName!, name)]),
                  });
        const rule =
            nsgName === undefined
                ? undefined
                : new network.SecurityRule(
                      `${name}-rule`,
                      {
                          resourceGroupName,
                          networkSecurityGroupName: nsgName,
                          securityRuleName: `allow-kms-tcp-${destination.port}-out`,
                          description: "Windows activation: outbound TCP to the KMS (azure-kms-activation)",
                          direction: network.SecurityRuleDirection.Outbound,
                          access: network.SecurityRuleAccess.Allow,
                          protocol: network.SecurityRuleProtocol.Tcp,
                          priority,
                          sourceAddressPrefix: source,
                          sourcePortRange: "*",
                          destinationAddressPrefixes: destination.allowedPrefixes,
                          destinationPortRange: String(destination.port),
                      },
                      {
                          parent: this,
                          dependsOn: allOf([...subnetCheck, claimEgressTarget("NSG", "networkSecurityGroupName", args.resourceGroupName, args.networkSecurityGroupName!, name)]),
                      },
                  );

        this.routeIds = pulumi.all(routes.map((r) => r.id));
        this.securityRuleId = rule ? rule.id : pulumi.output(undefined);
        this.egressRuleIds = pulumi.all([...routes.map((r) => r.id), ...(rule ? [rule.id] : [])]);
        this.kmsAddressPrefixes = pulumi.output(destination.allowedPrefixes);
        this.registerOutputs({
            routeIds: this.routeIds,
            securityRuleId: this.securityRuleId,
            egressRuleIds: this.egressRuleIds,
            kmsAddressPrefixes: this.kmsAddressPrefixes,
        });
    }

    private addRoutes(
        name: string,
        resourceGroupName: pulumi.Input<string>,
        routeTableName: pulumi.Input<string>,
        ips: string[],
        opts: pulumi.CustomResourceOptions,
    ): network.Route[] {
        return ips.map((ip) => {
            const suffix = ip.replace(/\./g, "-");
            return new network.Route(
                `${name}-route-${suffix}`,
                {
                    resourceGroupName,
                    routeTableName,
                    routeName: `kms-${suffix}`,
                    addressPrefix: `${ip}/32`,
                    nextHopType: network.RouteNextHopType.Internet,
                },
                opts,
            );
        });
    }
}
