import * as network from "@pulumi/azure-native/network";
import * as pulumi from "@pulumi/pulumi";
import { kmsEndpoint, KMS_PORT } from "../kms";
import { AzureCloud, CustomKmsServer, PrivateSubnetCheck } from "../types";
import * as validate from "../validate";
import { KmsDestination, nsgFromArm, routeTableFromArm, SecurityRuleFact, UserRouteFact } from "../reachability";
import { readNetworkSecurityGroup, readRouteTable } from "./azureReads";
import { priorityConflict, reviewRoutes } from "./egressConflicts";
import { claimEgressTarget } from "./ownership";
import { planRoutes, planSecurityRule } from "./programEgress";
import { checkDestination, checkSubnetOutbound, privateSubnetCheckMode } from "./subnetOutbound";
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
    /** A subnet these rules serve: it, its route table and its NSG are read, and a path to KMS the reachability engine finds blocked is reported (see `privateSubnetCheck`). */
    subnetId?: pulumi.Input<string>;
    /** With `subnetId`: warn (default), fail, or skip when the reachability engine finds the subnet's path to KMS blocked. */
    privateSubnetCheck?: PrivateSubnetCheck;
    /**
     * Leave the routes and the rule in Azure when they leave the program or the stack is destroyed (Pulumi forgets
     * them instead of deleting them): for a route table or NSG another stack owns and relies on. Default false.
     */
    retainOnDelete?: boolean;
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
 * children would delete everyone else's routes and rules on the next update. It reads the table and the NSG
 * first (once per program): a priority another outbound rule holds is refused before deploy, naming that rule and
 * the nearest free priority, and a route someone else made for a KMS prefix is left alone or refused with its fix.
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
        // Every plain value is checked, and every choice made, before the first child exists.
        const plan = resolveKmsEgressRules(name, args);
        const { label, resourceGroupName, routeTable, nsg, destination } = plan;

        // What this program adds, for every subnet check in it (they judge the network as it will be).
        if (routeTable !== undefined && routeTable.routes.length > 0) {
            planRoutes(args.resourceGroupName, args.routeTableName!, routeTable.routes);
        }
        if (nsg !== undefined) {
            planSecurityRule(args.resourceGroupName, args.networkSecurityGroupName!, nsg.ruleFact);
        }

        // Read-only checks the children wait for: in strict mode a subnet whose path to KMS is blocked fails them, and
        // so does a second KmsEgressRules on the same table or NSG, or a taken priority, each with the reason.
        const subnetCheck = plan.subnetCheck === undefined ? [] : [checkSubnetOutbound(plan.subnetCheck.subnetId, plan.subnetCheck.mode, this, plan.subnetCheck.destination)];
        const lifecycle = plan.lifecycle;
        const routes =
            routeTable === undefined || routeTable.routes.length === 0
                ? pulumi.output([] as network.Route[])
                : this.addRoutes(name, label, args, resourceGroupName, routeTable.name, routeTable.routes, {
                      parent: this,
                      ...lifecycle,
                      dependsOn: allOf([...subnetCheck, claimEgressTarget("route table", "routeTableName", args.resourceGroupName, args.routeTableName!, name)]),
                  });
        const rule =
            nsg === undefined
                ? undefined
                : new network.SecurityRule(
                      `${name}-rule`,
                      {
                          resourceGroupName,
                          networkSecurityGroupName: nsg.name,
                          securityRuleName: nsg.ruleName,
                          description: "Windows activation: outbound TCP to the KMS (azure-kms-activation)",
                          direction: network.SecurityRuleDirection.Outbound,
                          access: network.SecurityRuleAccess.Allow,
                          protocol: network.SecurityRuleProtocol.Tcp,
                          priority: nsg.priority,
                          sourceAddressPrefix: nsg.source,
                          sourcePortRange: "*",
                          destinationAddressPrefixes: destination.allowedPrefixes,
                          destinationPortRange: String(destination.port),
                      },
                      {
                          parent: this,
                          ...lifecycle,
                          dependsOn: allOf([
                              ...subnetCheck,
                              claimEgressTarget("NSG", "networkSecurityGroupName", args.resourceGroupName, args.networkSecurityGroupName!, name),
                              checkPriority(label, resourceGroupName, nsg.name, nsg.ruleName, nsg.priority, this),
                          ]),
                      },
                  );

        this.routeIds = routes.apply((rs) => pulumi.all(rs.map((r) => r.id)));
        this.securityRuleId = rule ? rule.id : pulumi.output(undefined);
        this.egressRuleIds = pulumi.all([this.routeIds, rule ? rule.id : undefined]).apply(([ids, ruleId]) => [...ids, ...(ruleId ? [ruleId] : [])]);
        this.kmsAddressPrefixes = pulumi.output(destination.allowedPrefixes);
        this.registerOutputs({
            routeIds: this.routeIds,
            securityRuleId: this.securityRuleId,
            egressRuleIds: this.egressRuleIds,
            kmsAddressPrefixes: this.kmsAddressPrefixes,
        });
    }

    // With plain names the table is read first and a route someone else already made for a KMS prefix (next hop
    // Internet) stands in for ours: the read runs in preview and up alike, so both show the same routes. With names
    // that are Outputs (a table created in the same program, unknown in preview) every route is declared up front
    // and the read, once the names are known, only refuses a conflicting route.
    private addRoutes(
        name: string,
        label: string,
        args: KmsEgressRulesArgs,
        resourceGroupName: pulumi.Input<string>,
        routeTableName: pulumi.Input<string>,
        wanted: UserRouteFact[],
        opts: pulumi.CustomResourceOptions,
    ): pulumi.Output<network.Route[]> {
        const declare = (list: UserRouteFact[], extra?: pulumi.Input<pulumi.Resource[]>) =>
            list.map(
                (route) =>
                    new network.Route(
                        `${name}-route-${route.name.replace(/^kms-/, "")}`,
                        { resourceGroupName, routeTableName, routeName: route.name, addressPrefix: route.addressPrefix, nextHopType: network.RouteNextHopType.Internet },
                        extra ? { ...opts, dependsOn: allOf([pulumi.output(opts.dependsOn as pulumi.Input<pulumi.Resource[]>), pulumi.output(extra)]) } : opts,
                    ),
            );
        if (typeof args.resourceGroupName === "string" && typeof args.routeTableName === "string") {
            const rg = args.resourceGroupName;
            const table = args.routeTableName;
            return pulumi.output(routesToAdd(label, rg, table, wanted, this, true)).apply(declare);
        }
        const conflicts = pulumi.all([resourceGroupName, routeTableName]).apply(async ([rg, table]) => {
            await routesToAdd(label, rg, table, wanted, this, false);
            return [] as pulumi.Resource[];
        });
        return pulumi.output(declare(wanted, conflicts));
    }
}

/** Everything `KmsEgressRules` builds, decided from its args by `resolveKmsEgressRules`. */
export interface KmsEgressRulesPlan {
    context: { component: string; name: string };
    /** `KmsEgressRules "<name>"`: how the reads' refusals and warnings name the component. */
    label: string;
    resourceGroupName: pulumi.Input<string>;
    /** The routes to add (one `/32` per routed KMS IP), when a route table is given. */
    routeTable?: { name: pulumi.Input<string>; routes: UserRouteFact[] };
    /** The outbound allow, when an NSG is given, and the fact the program's subnet checks see. */
    nsg?: { name: pulumi.Input<string>; ruleName: string; priority: pulumi.Input<number>; source: pulumi.Input<string>; ruleFact: pulumi.Input<SecurityRuleFact> };
    destination: ReturnType<typeof kmsDestination>;
    /** The subnet check, when `subnetId` is given. */
    subnetCheck?: { subnetId: pulumi.Input<string>; mode: PrivateSubnetCheck; destination: KmsDestination };
    lifecycle: { deleteBeforeReplace: true; retainOnDelete: boolean };
}

/**
 * Checks `KmsEgressRules`'s args (plain values now, with the same refusals as ever; Outputs once they resolve) and
 * decides the routes and the rule. Pure: it creates and reads nothing.
 */
export function resolveKmsEgressRules(name: string, args: KmsEgressRulesArgs, context = { component: "KmsEgressRules", name }): KmsEgressRulesPlan {
    validate.inComponent(context.component, context.name, () => {
        validate.required("resourceGroupName", args.resourceGroupName);
        validate.enumValue("cloud", args.cloud, AzureCloud);
        validate.kmsIpAddresses("kmsIpAddresses", args.kmsIpAddresses);
        validate.customKmsServer("customKmsServer", args.customKmsServer);
        if (args.routeTableName === undefined && args.networkSecurityGroupName === undefined) {
            throw new validate.KmsInputError("routeTableName, networkSecurityGroupName: neither is set, so there is nothing to add; set one or both");
        }
        validate.enumValue("privateSubnetCheck", args.privateSubnetCheck, PrivateSubnetCheck);
    });
    // Without `cloud`, the KMS of the cloud the stack's azure-native provider deploys to.
    const withCloud = { ...args, cloud: validate.inComponent(context.component, context.name, () => validate.effectiveCloud(args.cloud)) };
    const checked = <T>(field: string, value: pulumi.Input<T>, check: (field: string, value: T) => void) => validate.checkedInput(context, field, value, check);
    const resourceGroupName = checked("resourceGroupName", args.resourceGroupName, validate.resourceGroupName);
    const routeTableName = args.routeTableName === undefined ? undefined : checked("routeTableName", args.routeTableName, validate.azureName);
    const nsgName = args.networkSecurityGroupName === undefined ? undefined : checked("networkSecurityGroupName", args.networkSecurityGroupName, validate.azureName);
    const priority = checked("securityRulePriority", args.securityRulePriority ?? DEFAULT_SECURITY_RULE_PRIORITY, validate.securityRulePriority);
    const source = checked("sourceAddressPrefix", args.sourceAddressPrefix ?? "VirtualNetwork", validate.addressPrefixOrTag);
    const subnetId = args.subnetId === undefined ? undefined : checked("subnetId", args.subnetId, validate.subnetId);
    const destination = kmsDestination(withCloud);
    const ruleName = securityRuleName(destination.port);
    const ruleFact = (p: number, src: string): SecurityRuleFact => ({
        name: ruleName,
        priority: p,
        direction: "Outbound",
        access: "Allow",
        protocol: "Tcp",
        sourceAddressPrefixes: [src],
        sourcePortRanges: ["*"],
        destinationAddressPrefixes: destination.allowedPrefixes,
        destinationPortRanges: [String(destination.port)],
    });
    return {
        context,
        label: `${context.component} "${context.name}"`,
        resourceGroupName,
        routeTable: routeTableName === undefined ? undefined : { name: routeTableName, routes: destination.routedIps.map(kmsRoute) },
        nsg:
            nsgName === undefined
                ? undefined
                : {
                      name: nsgName,
                      ruleName,
                      priority,
                      source,
                      ruleFact:
                          typeof priority === "number" && typeof source === "string" ? ruleFact(priority, source) : pulumi.all([priority, source]).apply(([p, src]) => ruleFact(p, src)),
                  },
        destination,
        subnetCheck: subnetId === undefined ? undefined : { subnetId, mode: privateSubnetCheckMode(args), destination: checkDestination(withCloud) },
        // Names are fixed (kms-<ip>, allow-kms-tcp-<port>-out) and the rule's priority is unique per direction, so a
        // replacement must delete the old one first; retainOnDelete leaves them to a table or NSG another stack owns.
        lifecycle: { deleteBeforeReplace: true, retainOnDelete: args.retainOnDelete === true },
    };
}

/** The route this package adds for one KMS IP. */
function kmsRoute(ip: string): UserRouteFact {
    return { name: `kms-${ip.replace(/\./g, "-")}`, addressPrefix: `${ip}/32`, nextHopType: "Internet" };
}

/**
 * The NSG rule's name. It carries the port, as it always has (renaming it would replace the rule in every stack);
 * a port change replaces it delete-first, and the priority check counts an older `allow-kms-tcp-<port>-out` as ours.
 */
export function securityRuleName(port: number): string {
    return `allow-kms-tcp-${port}-out`;
}

/**
 * Reads the route table (once per program) and returns the KMS routes still to add: a route someone else made for a
 * KMS prefix with next hop Internet is named in a warning and stands in for ours (when `canLeaveAlone`); any other
 * route for a KMS prefix is refused, naming it and the fix.
 */
export async function routesToAdd(label: string, resourceGroupName: string, routeTableName: string, wanted: UserRouteFact[], owner: pulumi.Resource, canLeaveAlone: boolean): Promise<UserRouteFact[]> {
    const read = await readRouteTable(resourceGroupName, routeTableName, owner, `${label}: routeTableName`);
    const review = reviewRoutes(label, routeTableFromArm(read, routeTableName), wanted, canLeaveAlone);
    if (review.errors.length > 0) {
        throw new validate.KmsInputError(review.errors.join(" "));
    }
    for (const warning of review.warnings) {
        await pulumi.log.warn(warning, owner);
    }
    return review.add;
}

/**
 * Reads the NSG (once per program) once its names and the priority are known, and refuses a priority another
 * outbound rule holds, naming it and the nearest free priority. An empty resource list for `dependsOn`.
 */
export function checkPriority(
    label: string,
    resourceGroupName: pulumi.Input<string>,
    nsgName: pulumi.Input<string>,
    ruleName: string,
    priority: pulumi.Input<number>,
    owner: pulumi.Resource,
): pulumi.Output<pulumi.Resource[]> {
    return pulumi.all([resourceGroupName, nsgName, priority]).apply(async ([rg, nsg, p]) => {
        const read = await readNetworkSecurityGroup(rg, nsg, owner, `${label}: networkSecurityGroupName`);
        const conflict = priorityConflict(label, nsgFromArm(read, nsg), ruleName, p);
        if (conflict) {
            throw new validate.KmsInputError(conflict);
        }
        return [] as pulumi.Resource[];
    });
}
