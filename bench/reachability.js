// `npm run bench:reachability [-- --rounds N] [--fleet N] [--network-subnets N]`: what KMS reachability costs.
//   1. the kms-reachability policy, and the whole default policy pack, on a 1,000-VM stack (median of N runs), and the
//      pack on that stack plus N network-only subnets (200 by default: kms-subnet-reachability's work);
//   2. the offline plan's engine step (resolution and verdicts, src/cli/reachability.ts) on the largest example;
//   3. the brownfield reads: invokes by token, and per object read, for a fleet of VMs in one existing subnet under
//      the mock engine (KmsWindowsVm × N and one KmsEgressRules on the spoke's existing route table and NSG).
// Prints a table and one JSON line. The source runs through ts-node (transpile only): the figures are the policy's
// and the engine's own run time, measured after loading, so the loader is not in them.
"use strict";
const path = require("path");
const { performance } = require("perf_hooks");

const root = path.join(__dirname, "..");
require("ts-node").register({ transpileOnly: true, project: path.join(root, "tsconfig.json") });

const argv = process.argv.slice(2);
const option = (name, fallback) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : fallback);
// Odd counts, so the median is one real run.
const ROUNDS = option("--rounds", 7);
const FLEET = option("--fleet", 200);
const VMS_PER_SUBNET = 100;
const SUBNETS = 10;
const NETWORK_SUBNETS = option("--network-subnets", 200);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (...a) => console.error("[bench:reachability]", ...a);

// ---------- 1. the policy on a 1,000-VM stack ----------

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network";
const KMS = ["20.118.99.224", "40.83.235.53", "23.102.135.246"];

function resource(type, name, props) {
    return {
        type,
        name,
        props,
        urn: `urn:pulumi:bench::kms::${type}::${name}`,
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
        dependencies: [],
        propertyDependencies: {},
        isType: () => false,
        asType: () => undefined,
    };
}

/**
 * 10 subnets of 100 Windows VMs each (NIC, VM, activation extension), in three designs the engine must tell apart:
 * subnets 0-3 NAT gateway with /32 Internet routes and an NSG allow before a deny (reachable), subnets 4-6 0/0 to
 * a hub Azure Firewall whose policy has a network rule for TCP 1688 (reachable), subnets 7-9 0/0 to a VPN gateway
 * with no /32 routes (blocked: 300 VMs reported).
 */
function thousandVmStack() {
    const out = [];
    const fwIp = "10.100.0.4";
    out.push(resource("azure-native:network:FirewallPolicy", "fwp-hub", { resourceGroupName: "rg", firewallPolicyName: "fwp-hub", id: `${SUB}/firewallPolicies/fwp-hub` }));
    out.push(
        resource("azure-native:network:AzureFirewall", "fw-hub", {
            resourceGroupName: "rg",
            azureFirewallName: "fw-hub",
            id: `${SUB}/azureFirewalls/fw-hub`,
            firewallPolicy: { id: `${SUB}/firewallPolicies/fwp-hub` },
            ipConfigurations: [{ name: "ipconfig", privateIPAddress: fwIp, publicIPAddress: { id: `${SUB}/publicIPAddresses/fw-hub-ip` } }],
        }),
    );
    out.push(
        resource("azure-native:network:FirewallPolicyRuleCollectionGroup", "kms-activation", {
            resourceGroupName: "rg",
            firewallPolicyName: "fwp-hub",
            ruleCollectionGroupName: "kms-activation",
            priority: 150,
            ruleCollections: [
                {
                    ruleCollectionType: "FirewallPolicyFilterRuleCollection",
                    name: "allow-kms-activation",
                    priority: 100,
                    action: { type: "Allow" },
                    rules: [{ ruleType: "NetworkRule", name: "allow-kms-tcp-1688", ipProtocols: ["TCP"], sourceAddresses: ["10.1.0.0/16"], destinationAddresses: KMS, destinationPorts: ["1688"] }],
                },
            ],
        }),
    );
    // E4: a NAT gateway carries traffic only with a public IP or prefix (the policy reads them since issue 24).
    out.push(resource("azure-native:network:NatGateway", "nat", { resourceGroupName: "rg", natGatewayName: "nat", id: `${SUB}/natGateways/nat`, publicIpAddresses: [{ id: `${SUB}/publicIPAddresses/nat-ip` }] }));
    for (let s = 0; s < SUBNETS; s++) {
        const design = s < 4 ? "nat" : s < 7 ? "firewall" : "gateway";
        const subnetId = `${SUB}/virtualNetworks/vnet/subnets/snet-${s}`;
        const rtId = `${SUB}/routeTables/rt-${s}`;
        const nsgId = `${SUB}/networkSecurityGroups/nsg-${s}`;
        const routes =
            design === "nat"
                ? [{ name: "default", addressPrefix: "0.0.0.0/0", nextHopType: "VirtualAppliance", nextHopIpAddress: "10.0.0.4" }, ...KMS.map((ip) => ({ name: `kms-${ip}`, addressPrefix: `${ip}/32`, nextHopType: "Internet" }))]
                : design === "firewall"
                  ? [{ name: "default", addressPrefix: "0.0.0.0/0", nextHopType: "VirtualAppliance", nextHopIpAddress: fwIp }]
                  : [{ name: "default", addressPrefix: "0.0.0.0/0", nextHopType: "VirtualNetworkGateway" }];
        out.push(
            resource("azure-native:network:Subnet", `snet-${s}`, {
                resourceGroupName: "rg",
                virtualNetworkName: "vnet",
                subnetName: `snet-${s}`,
                id: subnetId,
                addressPrefix: `10.1.${s}.0/24`,
                defaultOutboundAccess: false,
                routeTable: { id: rtId },
                networkSecurityGroup: { id: nsgId },
                ...(design === "nat" ? { natGateway: { id: `${SUB}/natGateways/nat` } } : {}),
            }),
        );
        out.push(resource("azure-native:network:RouteTable", `rt-${s}`, { resourceGroupName: "rg", routeTableName: `rt-${s}`, id: rtId, routes }));
        out.push(
            resource("azure-native:network:NetworkSecurityGroup", `nsg-${s}`, {
                resourceGroupName: "rg",
                networkSecurityGroupName: `nsg-${s}`,
                id: nsgId,
                securityRules: [
                    { name: "allow-kms-tcp-1688-out", priority: 100, direction: "Outbound", access: "Allow", protocol: "Tcp", sourceAddressPrefix: "VirtualNetwork", sourcePortRange: "*", destinationAddressPrefixes: KMS, destinationPortRange: "1688" },
                    { name: "deny-internet", priority: 4000, direction: "Outbound", access: "Deny", protocol: "*", sourceAddressPrefix: "*", sourcePortRange: "*", destinationAddressPrefix: "Internet", destinationPortRange: "*" },
                ],
            }),
        );
        for (let v = 0; v < VMS_PER_SUBNET; v++) {
            const vm = `vm-${s}-${v}`;
            const nicId = `${SUB}/networkInterfaces/${vm}-nic`;
            out.push(resource("azure-native:network:NetworkInterface", `${vm}-nic`, { resourceGroupName: "rg", networkInterfaceName: `${vm}-nic`, id: nicId, ipConfigurations: [{ name: "ipconfig1", subnet: { id: subnetId } }] }));
            out.push(
                resource("azure-native:compute:VirtualMachine", vm, {
                    resourceGroupName: "rg",
                    vmName: vm,
                    osProfile: { computerName: vm, windowsConfiguration: { provisionVMAgent: true } },
                    storageProfile: { imageReference: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter-azure-edition" }, osDisk: { osType: "Windows" } },
                    networkProfile: { networkInterfaces: [{ id: nicId }] },
                }),
            );
            out.push(
                resource("azure-native:compute:VirtualMachineExtension", `${vm}-activation`, {
                    resourceGroupName: "rg",
                    vmName: vm,
                    vmExtensionName: "KmsActivation",
                    publisher: "Microsoft.Compute",
                    type: "CustomScriptExtension",
                    protectedSettings: { commandToExecute: "powershell -Command slmgr /skms azkms.core.windows.net:1688; slmgr /ato" },
                }),
            );
        }
    }
    return out;
}

/**
 * Issue 24: the subnets of a network-only stack (no VM in them) that kms-subnet-reachability judges. Of N subnets,
 * half are complete (NAT gateway with /32 Internet routes and an NSG allow before a deny), a quarter are forced to a
 * VPN gateway with no /32 routes (blocked: reported) and a quarter send 0/0 to an appliance the stack does not define
 * (reported as unverified). Each has its own route table and NSG, as a platform team's spokes do.
 */
function networkOnlySubnets(count) {
    const out = [];
    for (let s = 0; s < count; s++) {
        const design = s % 4 < 2 ? "complete" : s % 4 === 2 ? "gateway" : "nva";
        const subnetId = `${SUB}/virtualNetworks/vnet-net/subnets/net-${s}`;
        const rtId = `${SUB}/routeTables/rt-net-${s}`;
        const nsgId = `${SUB}/networkSecurityGroups/nsg-net-${s}`;
        const kmsRoutes = KMS.map((ip) => ({ name: `kms-${ip}`, addressPrefix: `${ip}/32`, nextHopType: "Internet" }));
        const routes =
            design === "complete"
                ? [{ name: "default", addressPrefix: "0.0.0.0/0", nextHopType: "VirtualNetworkGateway" }, ...kmsRoutes]
                : design === "gateway"
                  ? [{ name: "default", addressPrefix: "0.0.0.0/0", nextHopType: "VirtualNetworkGateway" }]
                  : [{ name: "default", addressPrefix: "0.0.0.0/0", nextHopType: "VirtualAppliance", nextHopIpAddress: "10.200.0.4" }];
        out.push(
            resource("azure-native:network:Subnet", `net-${s}`, {
                resourceGroupName: "rg",
                virtualNetworkName: "vnet-net",
                subnetName: `net-${s}`,
                id: subnetId,
                addressPrefix: `10.${2 + Math.floor(s / 250)}.${s % 250}.0/24`,
                defaultOutboundAccess: false,
                routeTable: { id: rtId },
                networkSecurityGroup: { id: nsgId },
                natGateway: { id: `${SUB}/natGateways/nat` },
            }),
        );
        out.push(resource("azure-native:network:RouteTable", `rt-net-${s}`, { resourceGroupName: "rg", routeTableName: `rt-net-${s}`, id: rtId, routes }));
        out.push(
            resource("azure-native:network:NetworkSecurityGroup", `nsg-net-${s}`, {
                resourceGroupName: "rg",
                networkSecurityGroupName: `nsg-net-${s}`,
                id: nsgId,
                securityRules: [
                    { name: "allow-kms-tcp-1688-out", priority: 100, direction: "Outbound", access: "Allow", protocol: "Tcp", sourceAddressPrefix: "VirtualNetwork", sourcePortRange: "*", destinationAddressPrefixes: KMS, destinationPortRange: "1688" },
                    { name: "deny-internet", priority: 4000, direction: "Outbound", access: "Deny", protocol: "*", sourceAddressPrefix: "*", sourcePortRange: "*", destinationAddressPrefix: "Internet", destinationPortRange: "*" },
                ],
            }),
        );
    }
    return out;
}

async function runStackPolicies(policies, resources) {
    const reported = [];
    const args = { resources, stackTags: new Map(), getConfig: () => ({}), notApplicable: (r) => { throw new Error(`not applicable: ${r}`); } };
    for (const p of policies) {
        if (p.validateStack) await p.validateStack(args, (message, urn) => reported.push({ policy: p.name, message, urn }));
        for (const validate of [p.validateResource].flat().filter(Boolean)) {
            for (const r of resources) await validate({ ...r, getConfig: () => ({}), notApplicable: args.notApplicable }, (message) => reported.push({ policy: p.name, message, urn: r.urn }));
        }
    }
    return reported;
}

async function timePolicies(policies, resources) {
    const runs = [];
    let reported = [];
    for (let i = 0; i < ROUNDS; i++) {
        const start = performance.now();
        reported = await runStackPolicies(policies, resources);
        runs.push(performance.now() - start);
    }
    return { runs, median: median(runs), reported };
}

// ---------- 2. the plan's engine step on the largest example ----------

async function largestExample() {
    const { listTargets, runExample } = require("../src/cli/examples");
    const { resolveOwnPackage } = require("../src/cli/loader");
    resolveOwnPackage();
    let best;
    for (const target of listTargets()) {
        // Variants of one example share its index.ts: load it afresh each time.
        const run = await runExample(target, (file) => {
            delete require.cache[require.resolve(file)];
            return require(file);
        });
        const count = run.harness.custom().length;
        log(`example ${target}: ${count} Azure resources`);
        if (!best || count > best.count) best = { target, count, run };
    }
    return best;
}

function timePlanEngineStep(run) {
    const { planReachability } = require("../src/cli/reachability");
    const { buildPlan } = require("../src/cli/plan");
    const engine = [];
    const whole = [];
    let judged;
    for (let i = 0; i < ROUNDS; i++) {
        let start = performance.now();
        judged = planReachability(run.harness);
        engine.push(performance.now() - start);
        start = performance.now();
        buildPlan(run);
        whole.push(performance.now() - start);
    }
    return { engine, whole, judged };
}

// ---------- 3. brownfield reads on a fleet in one existing subnet ----------

const SPOKE = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-spoke/providers/Microsoft.Network";

// Azure's answers for the spoke: a private subnet with a NAT gateway, its table and NSG; any other invoke echoes its arguments.
function answer(token, inputs) {
    if (token === "azure-native:network:getSubnet") {
        return {
            id: `${SPOKE}/virtualNetworks/${inputs.virtualNetworkName}/subnets/${inputs.subnetName}`,
            name: inputs.subnetName,
            addressPrefix: "10.20.1.0/24",
            defaultOutboundAccess: false,
            natGateway: { id: `${SPOKE}/natGateways/nat-spoke` },
            routeTable: { id: `${SPOKE}/routeTables/rt-spoke` },
            networkSecurityGroup: { id: `${SPOKE}/networkSecurityGroups/nsg-spoke` },
        };
    }
    if (token === "azure-native:network:getRouteTable") return { id: `${SPOKE}/routeTables/${inputs.routeTableName}`, name: inputs.routeTableName, routes: [], disableBgpRoutePropagation: false };
    if (token === "azure-native:network:getNetworkSecurityGroup") return { id: `${SPOKE}/networkSecurityGroups/${inputs.networkSecurityGroupName}`, name: inputs.networkSecurityGroupName, securityRules: [] };
    return { ...inputs, id: `${SPOKE}/offline/${Object.values(inputs).filter((v) => typeof v === "string").join("/") || token}` };
}

// What an invoke reads: the object its arguments name (the token's string arguments, lower case).
function objectKey(token, inputs) {
    const named = Object.keys(inputs)
        .sort()
        .filter((k) => typeof inputs[k] === "string")
        .map((k) => `${k}=${String(inputs[k]).toLowerCase()}`);
    return `${token} ${named.join(" ")}`;
}

async function fleetReads(vms) {
    const { mockPulumi } = require("../src/cli/mock-engine");
    const settings = require("@pulumi/pulumi/runtime/settings");
    const harness = await mockPulumi("fleet", "bench");
    harness.defaultInvoke = answer;
    harness.reset();
    require("../src/network/ownership").forgetEgressClaims();
    const pulumi = require("@pulumi/pulumi");
    const kms = require("../src");
    const subnetId = `${SPOKE}/virtualNetworks/vnet-spoke/subnets/workloads`;
    const start = performance.now();
    const egress = new kms.KmsEgressRules("spoke", { resourceGroupName: "rg-spoke", routeTableName: "rt-spoke", networkSecurityGroupName: "nsg-spoke", subnetId });
    for (let i = 1; i <= vms; i++) {
        new kms.KmsWindowsVm(`vm-${String(i).padStart(3, "0")}`, {
            resourceGroupName: "rg-spoke",
            subnetId,
            adminUsername: "kmsadmin",
            adminPassword: pulumi.secret("Bench-Passw0rd!"),
            activationWaitsFor: egress.egressRuleIds,
        });
    }
    await settings.waitForRPCs();
    const ms = performance.now() - start;
    const byToken = new Map();
    for (const call of harness.invokes) {
        const entry = byToken.get(call.token) ?? { calls: 0, objects: new Set() };
        entry.calls++;
        entry.objects.add(objectKey(call.token, call.inputs));
        byToken.set(call.token, entry);
    }
    const reads = [...byToken.entries()].map(([token, e]) => ({ token, calls: e.calls, objects: e.objects.size, perObject: e.calls / e.objects.size }));
    // The plan's engine step on this program too: 200 VMs whose subnet the program only names (unknown offline).
    const { planReachability } = require("../src/cli/reachability");
    const planRuns = [];
    for (let i = 0; i < ROUNDS; i++) {
        const t = performance.now();
        planReachability(harness);
        planRuns.push(performance.now() - t);
    }
    return { vms, ms, resources: harness.custom().length, reads, planRuns };
}

async function main() {
    const { kmsActivationPolicies } = require("../src/policy");
    const resources = thousandVmStack();
    const vms = resources.filter((r) => r.type === "azure-native:compute:VirtualMachine").length;
    log(`policy stack: ${resources.length} resources, ${vms} Windows VMs; ${ROUNDS} rounds`);
    const reachability = await timePolicies(kmsActivationPolicies.filter((p) => p.name === "kms-reachability"), resources);
    const pack = await timePolicies(kmsActivationPolicies, resources);
    const networkOnly = networkOnlySubnets(NETWORK_SUBNETS);
    const estate = [...resources, ...networkOnly];
    log(`estate: the 1,000-VM stack plus ${NETWORK_SUBNETS} network-only subnets (${estate.length} resources)`);
    const estatePack = await timePolicies(kmsActivationPolicies, estate);
    const byPolicy = (name) => estatePack.reported.filter((r) => r.policy === name).length;

    const largest = await largestExample();
    log(`largest example: ${largest.target} (${largest.count} Azure resources)`);
    const plan = timePlanEngineStep(largest.run);

    log(`fleet: ${FLEET} KmsWindowsVm in one existing subnet`);
    const fleet = await fleetReads(FLEET);

    const f = (x) => x.toFixed(1);
    const rows = [
        ["figure", "value", "target"],
        [`kms-reachability policy, ${vms} Windows VMs / ${resources.length} resources (ms, median of ${ROUNDS})`, f(reachability.median), "< 2000"],
        [`  violations reported`, String(reachability.reported.length), "300 (subnets 7-9)"],
        [`default pack (${kmsActivationPolicies.map((p) => p.name).join(", ")}) (ms, median of ${ROUNDS})`, f(pack.median), ""],
        [`default pack on ${vms} Windows VMs + ${NETWORK_SUBNETS} network-only subnets / ${estate.length} resources (ms, median of ${ROUNDS})`, f(estatePack.median), "< 2000"],
        [`  reported: kms-reachability / -unverified / kms-subnet-reachability`, `${byPolicy("kms-reachability")} / ${byPolicy("kms-reachability-unverified")} / ${byPolicy("kms-subnet-reachability")}`, `300 / 0 / ${NETWORK_SUBNETS / 2}`],
        [`plan engine step on ${largest.target} (${largest.count} Azure resources, ${plan.judged.length} VMs) (ms, median of ${ROUNDS})`, f(median(plan.engine)), ""],
        [`  whole buildPlan on ${largest.target} (ms, median of ${ROUNDS})`, f(median(plan.whole)), ""],
        [`fleet of ${FLEET} KmsWindowsVm + 1 KmsEgressRules in one existing subnet: evaluation (ms, once)`, f(fleet.ms), ""],
        [`  plan engine step on this fleet program (${fleet.resources} Azure resources) (ms, median of ${ROUNDS})`, f(median(fleet.planRuns)), ""],
        ...fleet.reads.map((r) => [`  ${r.token}: calls / objects read`, `${r.calls} / ${r.objects} (${f(r.perObject)} per object)`, "1 per object"]),
    ];
    if (fleet.reads.length === 0) rows.push(["  invokes", "none", ""]);
    const width = Math.max(...rows.map((r) => r[0].length));
    console.log(rows.map((r) => `${r[0].padEnd(width)}  ${r[1].padEnd(36)}  ${r[2]}`).join("\n"));
    console.log(
        JSON.stringify({
            policy: { vms, resources: resources.length, runsMs: reachability.runs.map((x) => +x.toFixed(1)), medianMs: +reachability.median.toFixed(1), violations: reachability.reported.length },
            pack: { runsMs: pack.runs.map((x) => +x.toFixed(1)), medianMs: +pack.median.toFixed(1), violations: pack.reported.length },
            estate: { vms, networkOnlySubnets: NETWORK_SUBNETS, resources: estate.length, runsMs: estatePack.runs.map((x) => +x.toFixed(1)), medianMs: +estatePack.median.toFixed(1), reachability: byPolicy("kms-reachability"), unverified: byPolicy("kms-reachability-unverified"), subnets: byPolicy("kms-subnet-reachability") },
            plan: { example: largest.target, azureResources: largest.count, vms: plan.judged.length, engineRunsMs: plan.engine.map((x) => +x.toFixed(2)), wholeRunsMs: plan.whole.map((x) => +x.toFixed(2)) },
            fleet: { vms: FLEET, evaluationMs: +fleet.ms.toFixed(0), azureResources: fleet.resources, reads: fleet.reads, planEngineRunsMs: fleet.planRuns.map((x) => +x.toFixed(1)) },
        }),
    );
    process.exit(0);
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
