// Rebuilds an engine case as the Pulumi resources of a stack (azure-native shapes), so the policy pack can be run on it.
import { PolicyResource } from "@pulumi/policy";
import { PathFacts, SecurityRuleFact } from "../src/reachability";
import { resource } from "./policy-args";

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network";
export const ids = {
    nic: (vm: string) => `${SUB}/networkInterfaces/${vm}-nic`,
    subnet: `${SUB}/virtualNetworks/vnet-spoke/subnets/snet-app`,
    routeTable: `${SUB}/routeTables/rt-spoke`,
    nsg: (name: string) => `${SUB}/networkSecurityGroups/${name}`,
    nat: `${SUB}/natGateways/nat-app`,
    pip: (vm: string) => `${SUB}/publicIPAddresses/${vm}-pip`,
    firewall: `${SUB}/azureFirewalls/fw-hub`,
    policy: `${SUB}/firewallPolicies/fwp-hub`,
    natIp: `${SUB}/publicIPAddresses/nat-app-ip`,
    natPrefix: `${SUB}/publicIPPrefixes/nat-app-prefix`,
    lb: (name: string) => `${SUB}/loadBalancers/${name}`,
    pool: (lb: string) => `${SUB}/loadBalancers/${lb}/backendAddressPools/pool`,
    asg: (name: string) => (name.startsWith("/") ? name : `${SUB}/applicationSecurityGroups/${name}`),
    ipGroup: (name: string) => `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-hub/providers/Microsoft.Network/ipGroups/${name}`,
};

export const T = {
    vm: "azure-native:compute:VirtualMachine",
    extension: "azure-native:compute:VirtualMachineExtension",
    nic: "azure-native:network:NetworkInterface",
    subnet: "azure-native:network:Subnet",
    vnet: "azure-native:network:VirtualNetwork",
    routeTable: "azure-native:network:RouteTable",
    route: "azure-native:network:Route",
    nsg: "azure-native:network:NetworkSecurityGroup",
    rule: "azure-native:network:SecurityRule",
    nat: "azure-native:network:NatGateway",
    pip: "azure-native:network:PublicIPAddress",
    firewall: "azure-native:network:AzureFirewall",
    firewallPolicy: "azure-native:network:FirewallPolicy",
    rcg: "azure-native:network:FirewallPolicyRuleCollectionGroup",
    lb: "azure-native:network:LoadBalancer",
    ipGroup: "azure-native:network:IpGroup",
};

/** True when a case's facts can be written as resources of one stack (no BGP, no effective routes, nothing unknown). */
export function expressible(facts: PathFacts): boolean {
    return (
        !facts.bgpRoutes &&
        facts.bgpRoutesUnknown === undefined &&
        !facts.effectiveRoutes &&
        facts.routeTable !== undefined &&
        facts.nicNsg !== undefined &&
        facts.subnetNsg !== undefined &&
        facts.natGateway !== undefined &&
        facts.nicPublicIp !== undefined &&
        (facts.loadBalancerOutbound === null || facts.loadBalancerBackends !== undefined) &&
        (facts.loadBalancerBackends ?? []).every((b) => b.sku !== undefined) &&
        // A stack's own NAT gateway tells whether it has a public IP or prefix (E4).
        (!facts.natGateway || facts.natGateway.hasPublicIp !== undefined || (facts.natGateway.publicIpAddresses ?? []).length > 0) &&
        // A stack's own NIC tells its ASG memberships (N4).
        (facts.applicationSecurityGroups !== undefined || ![facts.nicNsg, facts.subnetNsg].some((n) => n?.rules.some((r) => r.sourceApplicationSecurityGroups?.length))) &&
        facts.defaultOutboundAccess !== undefined &&
        (facts.nextHops ?? []).every((h) => h.azureFirewall?.ruleCollectionGroups !== undefined) &&
        // A stack's own firewall policy tells its DNS proxy setting (E6: absent means off).
        (facts.nextHops ?? []).every((h) => h.azureFirewall?.dnsProxy !== undefined || !h.azureFirewall?.ruleCollectionGroups?.some((g) => g.ruleCollections.some((c) => c.rules.some((r) => r.destinationFqdns?.length))))
    );
}

export function armRule(r: SecurityRuleFact): Record<string, unknown> {
    return {
        name: r.name,
        priority: r.priority,
        direction: r.direction,
        access: r.access,
        protocol: r.protocol,
        sourceAddressPrefixes: r.sourceAddressPrefixes,
        sourcePortRanges: r.sourcePortRanges,
        destinationAddressPrefixes: r.destinationAddressPrefixes,
        destinationPortRanges: r.destinationPortRanges,
        ...(r.sourceApplicationSecurityGroups ? { sourceApplicationSecurityGroups: r.sourceApplicationSecurityGroups.map((id) => ({ id })) } : {}),
        ...(r.destinationApplicationSecurityGroups ? { destinationApplicationSecurityGroups: r.destinationApplicationSecurityGroups.map((id) => ({ id })) } : {}),
    };
}

export function windowsVm(name: string, nicId: unknown = { id: ids.nic(name) }, extras = {}): PolicyResource {
    return resource(T.vm, name, { resourceGroupName: "rg", vmName: name, storageProfile: { osDisk: { osType: "Windows" } }, networkProfile: { networkInterfaces: [nicId] } }, extras);
}

export function activation(vm: string): PolicyResource {
    return resource(T.extension, `${vm}-kms`, { resourceGroupName: "rg", vmName: vm, vmExtensionName: "KmsActivation", publisher: "Microsoft.Compute", type: "CustomScriptExtension" });
}

export function nicFor(vm: string, facts: PathFacts, subnetId = ids.subnet): PolicyResource {
    return resource(T.nic, `${vm}-nic`, {
        resourceGroupName: "rg",
        networkInterfaceName: `${vm}-nic`,
        id: ids.nic(vm),
        ipConfigurations: [
            {
                name: "ipconfig1",
                privateIPAddress: facts.privateIpAddress,
                subnet: { id: subnetId },
                ...(facts.nicPublicIp ? { publicIPAddress: { id: ids.pip(vm) } } : {}),
                ...(facts.applicationSecurityGroups?.length ? { applicationSecurityGroups: facts.applicationSecurityGroups.map((a) => ({ id: ids.asg(a) })) } : {}),
                ...(facts.loadBalancerBackends?.length ? { loadBalancerBackendAddressPools: facts.loadBalancerBackends.map((b) => ({ id: ids.pool(b.name) })) } : {}),
            },
        ],
        ...(facts.nicNsg ? { networkSecurityGroup: { id: ids.nsg(facts.nicNsg.name) } } : {}),
    });
}

/** The resources of one VM's path, as a stack holds them; inline children unless `standalone`. */
export function stackOf(facts: PathFacts, options: { standalone?: boolean } = {}): PolicyResource[] {
    const vm = facts.vmName ?? "vm1";
    const out: PolicyResource[] = [windowsVm(vm), activation(vm), nicFor(vm, facts)];
    out.push(
        resource(T.subnet, "snet-app", {
            resourceGroupName: "rg",
            virtualNetworkName: "vnet-spoke",
            subnetName: facts.subnetName ?? "snet-app",
            id: ids.subnet,
            addressPrefix: facts.vnetAddressPrefixes?.[0] ?? "10.1.0.0/24",
            defaultOutboundAccess: facts.defaultOutboundAccess,
            ...(facts.routeTable ? { routeTable: { id: ids.routeTable } } : {}),
            ...(facts.subnetNsg ? { networkSecurityGroup: { id: ids.nsg(facts.subnetNsg.name) } } : {}),
            ...(facts.natGateway ? { natGateway: { id: ids.nat } } : {}),
        }),
    );
    if (facts.routeTable) {
        const routes = facts.routeTable.routes.map((r) => ({ ...r }));
        const table = { resourceGroupName: "rg", routeTableName: facts.routeTable.name, id: ids.routeTable, disableBgpRoutePropagation: facts.routeTable.disableBgpRoutePropagation ?? false };
        if (options.standalone) {
            out.push(resource(T.routeTable, facts.routeTable.name, table));
            routes.forEach((r) => out.push(resource(T.route, r.name, { resourceGroupName: "rg", routeTableName: facts.routeTable?.name, routeName: r.name, ...r })));
        } else {
            out.push(resource(T.routeTable, facts.routeTable.name, { ...table, routes }));
        }
    }
    for (const nsg of [facts.nicNsg, facts.subnetNsg]) {
        if (!nsg) continue;
        const props = { resourceGroupName: "rg", networkSecurityGroupName: nsg.name, id: ids.nsg(nsg.name) };
        if (options.standalone) {
            out.push(resource(T.nsg, nsg.name, props));
            nsg.rules.forEach((r) => out.push(resource(T.rule, `${nsg.name}-${r.name}`, { resourceGroupName: "rg", networkSecurityGroupName: nsg.name, securityRuleName: r.name, ...armRule(r) })));
        } else {
            out.push(resource(T.nsg, nsg.name, { ...props, securityRules: nsg.rules.map(armRule) }));
        }
    }
    if (facts.natGateway) {
        const nat = facts.natGateway;
        const ips = nat.publicIpAddresses?.length ? { publicIpAddresses: [{ id: ids.natIp }] } : nat.hasPublicIp ? { publicIpPrefixes: [{ id: ids.natPrefix }] } : {};
        out.push(resource(T.nat, "nat-app", { resourceGroupName: "rg", natGatewayName: "nat-app", id: ids.nat, ...ips }));
    }
    for (const b of facts.loadBalancerBackends ?? []) {
        const outbound = facts.loadBalancerOutbound?.name === b.name;
        out.push(
            resource(T.lb, b.name, {
                resourceGroupName: "rg",
                loadBalancerName: b.name,
                id: ids.lb(b.name),
                sku: { name: b.sku },
                frontendIPConfigurations: [outbound ? { name: "fe", publicIPAddress: { id: `${ids.lb(b.name)}-ip` } } : { name: "fe", subnet: { id: ids.subnet }, privateIPAllocationMethod: "Dynamic" }],
                backendAddressPools: [{ name: "pool" }],
                ...(outbound ? { outboundRules: [{ name: "out", protocol: "All", backendAddressPool: { id: ids.pool(b.name) }, frontendIPConfigurations: [{ id: `${ids.lb(b.name)}/frontendIPConfigurations/fe` }] }] } : {}),
            }),
        );
    }
    if (facts.nicPublicIp) out.push(resource(T.pip, `${vm}-pip`, { resourceGroupName: "rg", publicIpAddressName: `${vm}-pip`, id: ids.pip(vm) }));
    for (const hop of facts.nextHops ?? []) {
        const fw = hop.azureFirewall;
        if (!fw) continue;
        out.push(resource(T.firewall, fw.name, { resourceGroupName: "rg-hub", azureFirewallName: fw.name, id: ids.firewall, ipConfigurations: [{ name: "ipconfig", privateIPAddress: hop.ipAddress }], firewallPolicy: { id: ids.policy } }));
        out.push(resource(T.firewallPolicy, fw.policyName ?? "fwp-hub", { resourceGroupName: "rg-hub", firewallPolicyName: fw.policyName ?? "fwp-hub", id: ids.policy, ...(fw.dnsProxy !== undefined ? { dnsSettings: { enableProxy: fw.dnsProxy } } : {}) }));
        for (const g of fw.ipGroups ?? []) out.push(resource(T.ipGroup, g.name, { resourceGroupName: "rg-hub", ipGroupsName: g.name, id: g.id ?? ids.ipGroup(g.name), ipAddresses: g.ipAddresses }));
        for (const g of fw.ruleCollectionGroups ?? []) {
            out.push(
                resource(T.rcg, g.name, {
                    resourceGroupName: "rg-hub",
                    firewallPolicyName: fw.policyName ?? "fwp-hub",
                    ruleCollectionGroupName: g.name,
                    priority: g.priority,
                    ruleCollections: g.ruleCollections.map((c) => ({
                        ruleCollectionType: c.ruleCollectionType ?? "FirewallPolicyFilterRuleCollection",
                        name: c.name,
                        priority: c.priority,
                        action: { type: c.action },
                        rules: c.rules,
                    })),
                }),
            );
        }
    }
    return out;
}
