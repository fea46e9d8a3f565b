/**
 * The mock fleets the stand-in serves: twelve Windows VMs in one subscription (every status, a forced tunnel, a
 * scale set, a stale route table) plus a denied subscription, and a large generated fleet for the bench.
 */
import { StandInExtension, StandInNic, StandInVm, StandInWorld } from "./arm-standin";

export const SUB_PROD = "11111111-1111-4111-8111-111111111111";
export const SUB_LAB = "22222222-2222-4222-8222-222222222222";

// Result lines as Windows PowerShell 5.1's ConvertTo-Json -Compress writes them at the end of activate.ps1 (v2).
function line(fields: string): string {
    return (
        'KMS_ACTIVATION_RESULT {"v":2,"tag":"","os":{"build":20348,"sku":8,"editionId":"ServerDatacenter","edition":"Datacenter"},' +
        '"before":{"status":5,"channel":"Volume:GVLK","partialKey":"6VM33","grace":43200,"kms":"","productKms":""},"key":"kept-imageSku",' +
        `"endpoint":"azkms.core.windows.net:1688","firewall":"allowed","imds":"skipped",${fields},"seconds":14}`
    );
}
const after = (status: number) => `"after":{"status":${status},"channel":"Volume:GVLK","partialKey":"6VM33","grace":${status === 1 ? 259200 : 43000},"kms":"azkms.core.windows.net:1688","productKms":""}`;
export const RESULT = {
    activated: line(`"probe":{"network":"up","dns":"ok","tcp":"open","address":"20.118.99.224","host":"azkms.core.windows.net","tried":["20.118.99.224=open"]},"attempts":1,${after(1)},"codes":[],"events":["12288:0x00000000","12289:0x00000000"],"diagnosis":[],"status":"activated"`),
    licensed: line(`"probe":{"network":"up","dns":"ok","tcp":"open","address":"20.118.99.224","host":"azkms.core.windows.net","tried":["20.118.99.224=open"]},"attempts":0,${after(1)},"codes":[],"events":[],"diagnosis":[],"status":"licensed"`),
    pending: line(`"probe":{"network":"up","dns":"ok","tcp":"timeout","address":"20.118.99.224","host":"azkms.core.windows.net","tried":["20.118.99.224=timeout"]},"attempts":3,${after(5)},"codes":"0xC004F074","events":"12288:0xC004F074","diagnosis":[],"status":"pending"`),
    error: line(`"probe":null,"attempts":0,"after":{"status":5,"channel":"Retail","partialKey":"ABCDE","grace":0,"kms":"","productKms":""},"codes":["0xC004F050"],"events":[],"diagnosis":["slmgr /ipk failed"],"status":"error"`),
};

/** The extension `KmsActivation` (CustomScriptExtension) with its output, as the instance view shows it. */
export function activationExtension(output: string, failed = false): StandInExtension {
    return {
        name: "KmsActivation",
        type: "Microsoft.Compute.CustomScriptExtension",
        statuses: [{ code: `ProvisioningState/${failed ? "failed/3" : "succeeded"}`, level: failed ? "Error" : "Info", displayStatus: failed ? "Provisioning failed" : "Provisioning succeeded", message: failed ? "Command execution finished, but failed because it returned a non-zero exit code of: '1'." : "Finished executing command" }],
        substatuses: [
            { code: "ComponentStatus/StdOut/succeeded", level: "Info", displayStatus: "Provisioning succeeded", message: `Key Management Service machine name set to azkms.core.windows.net:1688 successfully.\n${output}` },
            { code: "ComponentStatus/StdErr/succeeded", level: "Info", displayStatus: "Provisioning succeeded", message: "" },
        ],
    };
}

const ANTIMALWARE: StandInExtension = { name: "IaaSAntiMalware-ext0", type: "Microsoft.Azure.Security.IaaSAntimalware", statuses: [{ code: "ProvisioningState/succeeded", level: "Info", displayStatus: "Provisioning succeeded", message: "Microsoft Antimalware enabled" }] };

const subnetId = (sub: string, rg: string, vnet: string, name: string) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Network/virtualNetworks/${vnet}/subnets/${name}`;

// Effective routes as NetworkInterfaceEffectiveRouteTableList.json lists them (source, state, addressPrefix[], nextHopType, nextHopIpAddress[]).
const SYSTEM_ROUTES = (vnetPrefix: string, internetState: string) => [
    { source: "Default", state: "Active", addressPrefix: [vnetPrefix], nextHopType: "VnetLocal", nextHopIpAddress: [] },
    { source: "Default", state: internetState, addressPrefix: ["0.0.0.0/0"], nextHopType: "Internet", nextHopIpAddress: [] },
    ...["10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16"].map((p) => ({ source: "Default", state: "Active", addressPrefix: [p], nextHopType: "None", nextHopIpAddress: [] })),
];
const KMS_ROUTES = ["20.118.99.224", "40.83.235.53", "23.102.135.246"].map((ip, i) => ({ name: `kms-${i + 1}`, source: "User", state: "Active", addressPrefix: [`${ip}/32`], nextHopType: "Internet", nextHopIpAddress: [] }));

// Effective NSG as NetworkInterfaceEffectiveNSGList.json has it: the NSG, its association, effectiveSecurityRules
// with the default outbound rules (AllowVnetOutBound 65000, AllowInternetOutBound 65001, DenyAllOutBound 65500).
function effectiveNsg(sub: string, rg: string, nsg: string, subnet: string): unknown[] {
    const rule = (name: string, priority: number, access: string, destination: string) => ({
        name: `defaultSecurityRules/${name}`,
        protocol: "All",
        sourcePortRange: "0-65535",
        destinationPortRange: "0-65535",
        sourceAddressPrefix: "0.0.0.0/0",
        destinationAddressPrefix: destination,
        access,
        priority,
        direction: "Outbound",
    });
    return [
        {
            networkSecurityGroup: { id: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Network/networkSecurityGroups/${nsg}` },
            association: { subnet: { id: subnet } },
            effectiveSecurityRules: [rule("AllowVnetOutBound", 65000, "Allow", "VirtualNetwork"), rule("AllowInternetOutBound", 65001, "Allow", "Internet"), rule("DenyAllOutBound", 65500, "Deny", "0.0.0.0/0")],
        },
    ];
}

function subnetBody(id: string, prefix: string, routeTable: string, nsg: string): unknown {
    const { sub, rg } = { sub: id.split("/")[2], rg: id.split("/")[4] };
    return {
        name: id.split("/").pop(),
        id,
        properties: {
            provisioningState: "Succeeded",
            addressPrefix: prefix,
            routeTable: { id: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Network/routeTables/${routeTable}` },
            networkSecurityGroup: { id: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Network/networkSecurityGroups/${nsg}` },
            defaultOutboundAccess: true,
            privateEndpointNetworkPolicies: "Disabled",
        },
    };
}

function routeTable(sub: string, rg: string, name: string, routes: { name: string; prefix: string; hop: string; ip?: string }[]): unknown {
    const id = `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Network/routeTables/${name}`;
    // RouteTableListAll.json: name, id, type, location, properties { routes: [{ name, id, properties { addressPrefix, nextHopType } }] }.
    return {
        name,
        id,
        type: "Microsoft.Network/routeTables",
        location: "westeurope",
        properties: {
            provisioningState: "Succeeded",
            disableBgpRoutePropagation: false,
            routes: routes.map((r) => ({ name: r.name, id: `${id}/routes/${r.name}`, properties: { provisioningState: "Succeeded", addressPrefix: r.prefix, nextHopType: r.hop, ...(r.ip ? { nextHopIpAddress: r.ip } : {}) } })),
        },
    };
}

function nsgBody(sub: string, rg: string, name: string, rules: { name: string; priority: number; destination: string[]; port: string }[]): unknown {
    const id = `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Network/networkSecurityGroups/${name}`;
    // NetworkSecurityGroupListAll.json: properties { securityRules: [{ name, id, properties { protocol, ports, prefixes, access, priority, direction } }] }.
    return {
        name,
        id,
        type: "Microsoft.Network/networkSecurityGroups",
        location: "westeurope",
        properties: {
            provisioningState: "Succeeded",
            securityRules: rules.map((r) => ({
                name: r.name,
                id: `${id}/securityRules/${r.name}`,
                properties: { protocol: "Tcp", sourcePortRange: "*", destinationPortRange: r.port, sourceAddressPrefix: "VirtualNetwork", destinationAddressPrefixes: r.destination, access: "Allow", priority: r.priority, direction: "Outbound", provisioningState: "Succeeded" },
            })),
        },
    };
}

/** The twelve-VM fleet (and, unless `withLab` is false, a second subscription the credential may not read). */
export function mockFleet(withLab = true): StandInWorld {
    const sub = SUB_PROD;
    const spoke = subnetId(sub, "rg-network", "vnet-spoke", "snet-app");
    const tunnel = subnetId(sub, "rg-network", "vnet-spoke", "snet-tunnel");
    const nic = (rg: string, name: string, ip: string, subnet: string, routes: unknown[]): StandInNic => ({
        subscriptionId: sub,
        resourceGroup: rg,
        name,
        privateIp: ip,
        subnetId: subnet,
        effectiveRoutes: routes,
        effectiveNsgs: effectiveNsg(sub, "rg-network", subnet === spoke ? "nsg-app" : "nsg-tunnel", subnet),
    });
    const spokeRoutes = [...SYSTEM_ROUTES("10.20.0.0/16", "Active"), ...KMS_ROUTES];
    // Forced tunnel: ExpressRoute advertises 0.0.0.0/0 over BGP (source VirtualNetworkGateway), which wins over the
    // system default (R1: equal prefix, BGP beats system; facts §6 R3: it captures Azure public IPs too).
    const tunnelRoutes = [...SYSTEM_ROUTES("10.20.0.0/16", "Invalid"), { source: "VirtualNetworkGateway", state: "Active", addressPrefix: ["0.0.0.0/0"], nextHopType: "VirtualNetworkGateway", nextHopIpAddress: ["10.255.0.4"] }];
    const vm = (rg: string, name: string, extra: Partial<StandInVm>): StandInVm => ({ subscriptionId: sub, resourceGroup: rg, name, os: "Windows", ...extra });
    const vms: StandInVm[] = [
        vm("rg-app", "vm-app-01", { nic: "vm-app-01-nic", extensions: [activationExtension(RESULT.activated)] }),
        vm("rg-app", "vm-app-02", { nic: "vm-app-02-nic", extensions: [ANTIMALWARE, activationExtension(RESULT.licensed)] }),
        vm("rg-app", "vm-app-03", { nic: "vm-app-03-nic", runCommand: { executionState: "Succeeded", output: RESULT.activated } }),
        vm("rg-tunnel", "vm-tunnel-01", { nic: "vm-tunnel-01-nic", extensions: [activationExtension(RESULT.pending)] }),
        vm("rg-tunnel", "vm-tunnel-02", { nic: "vm-tunnel-02-nic", extensions: [activationExtension(RESULT.pending)] }),
        vm("rg-legacy", "vm-legacy-01", { nic: "vm-legacy-01-nic", extensions: [activationExtension(RESULT.error, true)] }),
        vm("rg-legacy", "vm-legacy-02", { nic: "vm-legacy-02-nic", extensions: [ANTIMALWARE], probeOutput: `Licensed product found.\n${RESULT.licensed}` }),
        vm("rg-legacy", "vm-legacy-03", { nic: "vm-legacy-03-nic", powerState: "deallocated" }),
        vm("rg-legacy", "vm-legacy-04", { nic: "vm-legacy-04-nic", extensions: [{ ...activationExtension("", true), substatuses: [{ code: "ComponentStatus/StdOut/succeeded", level: "Info", displayStatus: "Provisioning succeeded", message: "" }] }] }),
        { subscriptionId: sub, resourceGroup: "rg-app", name: "vm-linux-01", os: "Linux", nic: "vm-linux-01-nic" },
    ];
    const nics = [
        nic("rg-app", "vm-app-01-nic", "10.20.1.4", spoke, spokeRoutes),
        nic("rg-app", "vm-app-02-nic", "10.20.1.5", spoke, spokeRoutes),
        nic("rg-app", "vm-app-03-nic", "10.20.1.6", spoke, spokeRoutes),
        nic("rg-tunnel", "vm-tunnel-01-nic", "10.20.2.4", tunnel, tunnelRoutes),
        nic("rg-tunnel", "vm-tunnel-02-nic", "10.20.2.5", tunnel, tunnelRoutes),
        nic("rg-legacy", "vm-legacy-01-nic", "10.20.1.10", spoke, spokeRoutes),
        nic("rg-legacy", "vm-legacy-02-nic", "10.20.1.11", spoke, spokeRoutes),
        nic("rg-legacy", "vm-legacy-03-nic", "10.20.1.12", spoke, spokeRoutes),
        nic("rg-legacy", "vm-legacy-04-nic", "10.20.1.13", spoke, spokeRoutes),
    ];
    const policyId = `/subscriptions/${sub}/resourceGroups/rg-network/providers/Microsoft.Network/firewallPolicies/fwpol-hub`;
    return {
        subscriptions: [{ id: sub, name: "Contoso Production" }, ...(withLab ? [{ id: SUB_LAB, name: "Contoso Lab", denied: true }] : [])],
        vms,
        scaleSets: [
            {
                subscriptionId: sub,
                resourceGroup: "rg-scale",
                name: "vmss-web",
                os: "Windows",
                instances: [
                    { instanceId: "0", extensions: [activationExtension(RESULT.activated)] },
                    { instanceId: "1", extensions: [activationExtension(RESULT.activated)] },
                    { instanceId: "2", extensions: [activationExtension(RESULT.pending)] },
                ],
            },
        ],
        nics,
        subnets: {
            [spoke]: subnetBody(spoke, "10.20.1.0/24", "rt-spoke", "nsg-app"),
            [tunnel]: subnetBody(tunnel, "10.20.2.0/24", "rt-tunnel", "nsg-tunnel"),
        },
        routeTables: [
            routeTable(sub, "rg-network", "rt-spoke", KMS_ROUTES.map((r) => ({ name: r.name, prefix: r.addressPrefix[0], hop: "Internet" }))),
            routeTable(sub, "rg-network", "rt-tunnel", []),
            // Written in 2019 for kms.core.windows.net and never updated: the stale one.
            routeTable(sub, "rg-legacy", "rt-legacy", [
                { name: "kms", prefix: "23.102.135.246/32", hop: "Internet" },
                { name: "default", prefix: "0.0.0.0/0", hop: "VirtualAppliance", ip: "10.255.1.4" },
            ]),
        ],
        networkSecurityGroups: [nsgBody(sub, "rg-network", "nsg-app", [{ name: "allow-kms", priority: 200, destination: ["20.118.99.224", "40.83.235.53", "23.102.135.246"], port: "1688" }]), nsgBody(sub, "rg-network", "nsg-tunnel", [])],
        firewallPolicies: [
            {
                id: policyId,
                name: "fwpol-hub",
                ruleCollectionGroups: [
                    {
                        // FirewallPolicyRuleCollectionGroupList.json: a filter collection with a NetworkRule.
                        name: "rcg-kms",
                        id: `${policyId}/ruleCollectionGroups/rcg-kms`,
                        properties: {
                            provisioningState: "Succeeded",
                            priority: 200,
                            ruleCollections: [{ name: "allow-kms", ruleCollectionType: "FirewallPolicyFilterRuleCollection", priority: 100, action: { type: "Allow" }, rules: [{ name: "kms", ruleType: "NetworkRule", ipProtocols: ["TCP"], sourceAddresses: ["10.20.0.0/16"], destinationAddresses: ["20.118.99.224", "40.83.235.53", "23.102.135.246"], destinationPorts: ["1688"] }] }],
                        },
                    },
                ],
            },
        ],
        pageSize: 4,
        throttleOnce: [/\/providers\/Microsoft\.Compute\/virtualMachines$/i],
        throttleSeconds: 1,
    };
}

/** A large fleet for the bench: `count` Windows VMs in one subscription, statuses in turn, one NIC each. */
export function largeFleet(count: number): StandInWorld {
    const base = mockFleet(false);
    const template = base.vms.filter((v) => v.os === "Windows");
    const vms: StandInVm[] = [];
    const nics: StandInNic[] = [];
    for (let i = 0; i < count; i++) {
        const t = template[i % template.length];
        const name = `vm-${String(i).padStart(5, "0")}`;
        const resourceGroup = `rg-${String(i % 20).padStart(2, "0")}`;
        // Each VM gets its own NIC, with the routes and NSGs of the template VM's NIC (forced tunnel or spoke).
        const nic = base.nics!.find((n) => n.name === t.nic)!;
        vms.push({ ...t, resourceGroup, name, nic: `${name}-nic` });
        nics.push({ ...nic, resourceGroup, name: `${name}-nic` });
    }
    // ARM pages virtualMachines.listAll at up to 1,000 per page; a smaller page here makes the bench follow nextLinks.
    return { ...base, vms, nics, scaleSets: [], pageSize: 100, throttleOnce: [] };
}
