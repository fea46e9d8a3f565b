// One measured program: `node bench/program.js <package|raw> <vms> <compiledPackageDir> [--test-harness] [--reads]`.
// --reads: both sides read every VM's activation result back (one getVirtualMachineExtension per VM, after the
// extension exists) and wait for the statuses; without it the package is told not to read (readActivationResult: false).
// Runs in its own process so the heap (and peak RSS) belongs to this program alone; prints one JSON line.
// For `run.js --attribution` only: <packageDir> may be src/ (then loaded through ts-node), and --test-harness
// swaps the bench's mocks for test/harness.ts's, to see what each layer of the test set-up costs.
"use strict";
const fs = require("fs");
const path = require("path");
const { performance } = require("perf_hooks");

const [side, vmsArg, packageArg, ...flags] = process.argv.slice(2);
const harnessFlag = flags.includes("--test-harness") ? "--test-harness" : undefined;
const reads = flags.includes("--reads");
const packageDir = path.resolve(packageArg);
const vms = Number(vmsArg);
if (fs.existsSync(path.join(packageDir, "index.ts")) || harnessFlag === "--test-harness") {
    require("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "..", "tsconfig.json") });
}
const pulumi = require("@pulumi/pulumi");
const settings = require("@pulumi/pulumi/runtime/settings");

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers";
// Azure names as the test harness gives them: an explicit name input wins over the Pulumi name.
const NAME_INPUTS = ["vmName", "routeName", "securityRuleName", "vmExtensionName", "runCommandName", "subnetName"];

// Real-shaped ARM IDs: the package checks the IDs it is given.
function armId(type, name, inputs) {
    const [, module, kind] = type.split(":");
    switch (kind) {
        case "Subnet":
            return `${SUB}/Microsoft.Network/virtualNetworks/${inputs.virtualNetworkName}/subnets/${name}`;
        case "Route":
            return `${SUB}/Microsoft.Network/routeTables/${inputs.routeTableName}/routes/${name}`;
        case "SecurityRule":
            return `${SUB}/Microsoft.Network/networkSecurityGroups/${inputs.networkSecurityGroupName}/securityRules/${name}`;
        default:
            return `${SUB}/Microsoft.${module[0].toUpperCase()}${module.slice(1)}/${kind[0].toLowerCase()}${kind.slice(1)}s/${name}`;
    }
}

// What the guest prints last, as Windows PowerShell 5.1 writes it (an activated run).
const RESULT_LINE =
    'KMS_ACTIVATION_RESULT {"v":1,"tag":"","os":{"build":20348,"sku":407,"editionId":"ServerTurbine","edition":"DatacenterAzureEdition"},' +
    '"before":{"status":5,"channel":"Volume:GVLK","partialKey":"KHMXV","kms":""},"key":"kept-imageSku","endpoint":"azkms.core.windows.net:1688",' +
    '"firewall":"allowed","probe":{"dns":"ok","tcp":"open","address":"20.118.99.224"},"attempts":1,' +
    '"after":{"status":1,"channel":"Volume:GVLK","partialKey":"KHMXV","kms":"azkms.core.windows.net:1688"},"codes":[],' +
    '"events":["12288:0x00000000","12289:0x00000000"],"diagnosis":[],"status":"activated","seconds":14}';

// The package reads the subnet (network.getSubnet) to judge its path to KMS: this one has a NAT gateway. KmsEgressRules
// reads the route table and NSG it adds to (once each): the network's own, new and empty. With --reads both sides read
// each extension's instance view, as Azure returns it.
const answerInvoke = (token, inputs) => {
    if (token === "azure-native:network:getSubnet") {
        return { name: inputs.subnetName, defaultOutboundAccess: false, natGateway: { id: `${SUB}/Microsoft.Network/natGateways/nat` } };
    }
    if (token === "azure-native:network:getRouteTable") {
        return { name: inputs.routeTableName, routes: [] };
    }
    if (token === "azure-native:network:getNetworkSecurityGroup") {
        return { name: inputs.networkSecurityGroupName, securityRules: [] };
    }
    if (token === "azure-native:compute:getVirtualMachineExtension") {
        return {
            name: inputs.vmExtensionName,
            instanceView: {
                name: inputs.vmExtensionName,
                substatuses: [
                    { code: "ComponentStatus/StdOut/succeeded", level: "Info", displayStatus: "Provisioning succeeded", message: `OS build 20348\r\n${RESULT_LINE}\r\n` },
                    { code: "ComponentStatus/StdErr/succeeded", level: "Info", displayStatus: "Provisioning succeeded", message: "" },
                ],
                statuses: [{ code: "ProvisioningState/succeeded", level: "Info", displayStatus: "Provisioning succeeded" }],
            },
        };
    }
    return undefined;
};

// The same mocks for both sides, as cheap as the mock engine allows, so the difference is the programs'.
async function benchMocks() {
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                const azureName = NAME_INPUTS.map((k) => args.inputs[k]).find((v) => typeof v === "string") ?? args.name;
                return { id: armId(args.type, azureName, args.inputs), state: { ...args.inputs, name: azureName } };
            },
            call(args) {
                const result = answerInvoke(args.token, args.inputs);
                if (result === undefined) throw new Error(`unmocked invoke ${args.token}`);
                return result;
            },
        },
        "project",
        "stack",
        false,
    );
}

async function main() {
    if (harnessFlag === "--test-harness") {
        const h = await require("../test/harness").mockPulumi();
        h.invokeMock = answerInvoke;
    } else {
        await benchMocks();
    }
    const registrations = recordRegistrations();
    const promises = countSdkPromises();

    // Module loading is measured separately (import cost); here both sides start with their modules loaded.
    const build = side === "package" ? packageProgram(require(packageDir)) : rawProgram();
    const profiler = process.env.BENCH_CPU_PROFILE ? await startProfiler() : undefined;
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const statuses = build(vms);
    await settings.waitForRPCs();
    // Both sides wait for every VM's status (the package's component outputs do; the raw program's are plain Outputs).
    const values = await Promise.all(statuses.map((o) => new Promise((resolve) => o.apply(resolve))));
    const ms = performance.now() - start;
    const cpu = process.cpuUsage(cpuStart);
    if (profiler) await profiler.stop(process.env.BENCH_CPU_PROFILE);

    const custom = registrations.filter((r) => r.custom);
    const chain = longestChain(custom);
    console.log(
        JSON.stringify({
            side,
            vms,
            ms,
            cpuMs: (cpu.user + cpu.system) / 1000,
            sdkPromises: promises.count,
            maxRssKb: process.resourceUsage().maxRSS,
            registrations: registrations.length,
            customResources: custom.length,
            activated: values.filter((v) => v === "activated").length,
            criticalPath: chain.length,
            chain: chain.map((r) => r.type.split(":").pop()),
        }),
    );
}

// BENCH_CPU_PROFILE=<file>: a CPU profile of the evaluation alone (`node --cpu-prof` would mostly show module loading).
async function startProfiler() {
    const inspector = require("inspector");
    const session = new inspector.Session();
    session.connect();
    const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
    await post("Profiler.enable");
    await post("Profiler.setSamplingInterval", { interval: 200 });
    await post("Profiler.start");
    return { stop: async (file) => fs.writeFileSync(file, JSON.stringify((await post("Profiler.stop")).profile)) };
}

// Keeps only what the dependency graph needs, so recording costs both sides the same little.
function recordRegistrations() {
    const out = [];
    const monitor = settings.getMonitor();
    const registerResource = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) =>
        registerResource(req, (err, response) => {
            if (!err) {
                const deps = new Set(req.getDependenciesList());
                for (const [, list] of req.getPropertydependenciesMap().entries()) {
                    list.getUrnsList().forEach((u) => deps.add(u));
                }
                out.push({ urn: response.getUrn(), type: req.getType(), custom: req.getCustom(), deps: [...deps] });
            }
            callback(err, response);
        });
    return out;
}

// Every SDK promise captures a stack trace (runtime/debuggable.js): a count of the engine's work, comparable across sides.
function countSdkPromises() {
    const debuggable = require("@pulumi/pulumi/runtime/debuggable");
    const counter = { count: 0 };
    const original = debuggable.debuggablePromise;
    debuggable.debuggablePromise = (...args) => {
        counter.count++;
        return original(...args);
    };
    return counter;
}

// Longest dependency chain through custom resources, in resources (parent links are not dependencies).
function longestChain(custom) {
    const byUrn = new Map(custom.map((r) => [r.urn, r]));
    const memo = new Map();
    const chainTo = (r) => {
        if (!memo.has(r.urn)) {
            let best = [];
            for (const dep of r.deps) {
                const d = byUrn.get(dep);
                const c = d ? chainTo(d) : [];
                if (c.length > best.length) best = c;
            }
            memo.set(r.urn, [...best, r]);
        }
        return memo.get(r.urn);
    };
    return custom.map(chainTo).reduce((a, b) => (b.length > a.length ? b : a), []);
}

function packageProgram(kms) {
    return (n) => {
        const net = new kms.KmsNetwork("net", { resourceGroupName: "rg" });
        const statuses = [];
        for (let i = 1; i <= n; i++) {
            const vm = new kms.KmsWindowsVm(`vm-${String(i).padStart(2, "0")}`, {
                resourceGroupName: "rg",
                subnetId: net.subnetId,
                adminUsername: "kmsadmin",
                adminPassword: pulumi.secret("Bench-Passw0rd!"),
                activationWaitsFor: net.egressRuleIds,
                readActivationResult: reads,
            });
            if (reads) statuses.push(vm.activationStatus);
        }
        return statuses;
    };
}

// What a user would write by hand for the same resources: the same inputs, the command rendered once.
function rawProgram() {
    const network = require("@pulumi/azure-native/network");
    const compute = require("@pulumi/azure-native/compute");
    const zlib = require("zlib");
    const KMS_IPS = ["20.118.99.224", "40.83.235.53", "23.102.135.246"];
    return (n) => {
        const rg = { resourceGroupName: "rg" };
        const vnet = new network.VirtualNetwork("net-vnet", { ...rg, addressSpace: { addressPrefixes: ["10.0.0.0/16"] } });
        const routeTable = new network.RouteTable("net-routes", { ...rg });
        const nsg = new network.NetworkSecurityGroup("net-nsg", { ...rg });
        const ip = new network.PublicIPAddress("net-nat-ip", {
            ...rg,
            sku: { name: "Standard", tier: "Regional" },
            publicIPAllocationMethod: "Static",
            publicIPAddressVersion: "IPv4",
        });
        const nat = new network.NatGateway("net-nat", { ...rg, sku: { name: "Standard" }, publicIpAddresses: [{ id: ip.id }], idleTimeoutInMinutes: 4 });
        const subnet = new network.Subnet("net-subnet", {
            ...rg,
            virtualNetworkName: vnet.name,
            addressPrefix: "10.0.0.0/24",
            routeTable: { id: routeTable.id },
            networkSecurityGroup: { id: nsg.id },
            natGateway: { id: nat.id },
            defaultOutboundAccess: false,
        });
        const rules = KMS_IPS.map(
            (a) =>
                new network.Route(`net-kms-route-${a.replace(/\./g, "-")}`, {
                    ...rg,
                    routeTableName: routeTable.name,
                    routeName: `kms-${a.replace(/\./g, "-")}`,
                    addressPrefix: `${a}/32`,
                    nextHopType: "Internet",
                }),
        );
        rules.push(
            new network.SecurityRule("net-kms-rule", {
                ...rg,
                networkSecurityGroupName: nsg.name,
                securityRuleName: "allow-kms-tcp-1688-out",
                direction: "Outbound",
                access: "Allow",
                protocol: "Tcp",
                priority: 100,
                sourceAddressPrefix: "VirtualNetwork",
                sourcePortRange: "*",
                destinationAddressPrefixes: KMS_IPS,
                destinationPortRange: "1688",
            }),
        );
        // A hand-written program ships the same script once: gzip+base64 like the package, about as long a command.
        const script = fs.readFileSync(path.join(packageDir, "guest", "activate.ps1"));
        const payload = zlib.gzipSync(script, { level: 9 }).toString("base64");
        const command = `powershell.exe -NoProfile -ExecutionPolicy Bypass -Command "$b=[Convert]::FromBase64String('${payload}');..."`;
        // The same read by hand: the extension's StdOut substatus once it exists, its last result line's status.
        const readStatus = (extension, vmName) =>
            pulumi.all([extension.id, vmName]).apply(async ([, name]) => {
                const view = (await compute.getVirtualMachineExtension({ resourceGroupName: "rg", vmName: name, vmExtensionName: "KmsActivation", expand: "instanceView" })).instanceView;
                const stdout = view?.substatuses?.find((s) => s.code?.startsWith("ComponentStatus/StdOut/"))?.message ?? "";
                const line = stdout.split(/\r?\n/).filter((l) => l.startsWith("KMS_ACTIVATION_RESULT ")).pop();
                try {
                    return JSON.parse(line.slice("KMS_ACTIVATION_RESULT ".length)).status;
                } catch {
                    return "unknown";
                }
            });
        const statuses = [];
        for (let i = 1; i <= n; i++) {
            const name = `vm-${String(i).padStart(2, "0")}`;
            const nic = new network.NetworkInterface(`${name}-nic`, {
                ...rg,
                ipConfigurations: [{ name: "ipconfig1", subnet: { id: subnet.id }, privateIPAllocationMethod: "Dynamic", primary: true }],
            });
            const vm = new compute.VirtualMachine(`${name}-vm`, {
                ...rg,
                vmName: name,
                hardwareProfile: { vmSize: "Standard_D2s_v5" },
                storageProfile: {
                    imageReference: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter-azure-edition", version: "latest" },
                    osDisk: { createOption: "FromImage", managedDisk: { storageAccountType: "StandardSSD_LRS" }, deleteOption: "Delete" },
                },
                osProfile: {
                    computerName: name,
                    adminUsername: "kmsadmin",
                    adminPassword: pulumi.secret("Bench-Passw0rd!"),
                    windowsConfiguration: { provisionVMAgent: true, enableAutomaticUpdates: true },
                },
                networkProfile: { networkInterfaces: [{ id: nic.id, primary: true }] },
                diagnosticsProfile: { bootDiagnostics: { enabled: true } },
            });
            const extension = new compute.VirtualMachineExtension(
                `${name}-activation-extension`,
                {
                    ...rg,
                    vmName: vm.name,
                    vmExtensionName: "KmsActivation",
                    publisher: "Microsoft.Compute",
                    type: "CustomScriptExtension",
                    typeHandlerVersion: "1.10",
                    autoUpgradeMinorVersion: true,
                    protectedSettings: pulumi.secret({ commandToExecute: command }),
                },
                // The routes and the rule beside the VM, in front of the activation only.
                { dependsOn: rules },
            );
            if (reads) statuses.push(readStatus(extension, vm.name));
        }
        return statuses;
    };
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
