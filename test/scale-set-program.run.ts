// Runs programs that give a scale set a CustomScriptExtension Pulumi resolves late (names from other resources, an
// extension written after the activation, an auto-named scale set) under the mock engine and a stack resource, as
// `pulumi preview` runs a program, and prints per program the messages it failed with, as JSON. Spawned by
// scale-set-program.test.ts: Pulumi fails such a program through its handler of unhandled rejections, which jest
// would count against the test itself, so the programs run in their own process.
import * as pulumi from "@pulumi/pulumi";
import { mockPulumi } from "../scripts/mock-engine";

const CSE = { publisher: "Microsoft.Compute", type: "CustomScriptExtension", typeHandlerVersion: "1.10" };
const profile = (extensions?: object[]) => ({
    storageProfile: { imageReference: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter-azure-edition", version: "latest" } },
    ...(extensions ? { extensionProfile: { extensions } } : {}),
});

type Package = typeof import("../src");
const programs: [string, (m: Package) => void][] = [
    [
        // The package is loaded under this first stack, as a Node.js program loads it: the watch starts at load, so
        // the scale set "front", constructed before any KmsActivation, is seen.
        "names from resources: an inline one before any activation, an extension written after the activation",
        (m) => {
            const compute = require("@pulumi/azure-native/compute") as typeof import("@pulumi/azure-native/compute");
            const resources = require("@pulumi/azure-native/resources") as typeof import("@pulumi/azure-native/resources");
            const group = new resources.ResourceGroup("rg-web", { resourceGroupName: "rg-web" });
            new compute.VirtualMachineScaleSet("front", { resourceGroupName: group.name, vmScaleSetName: "vmss-front", virtualMachineProfile: profile([{ name: "app-setup", ...CSE }]) });
            new m.KmsActivation("front", { resourceGroupName: group.name, vmScaleSetName: "vmss-front" });
            const vmss = new compute.VirtualMachineScaleSet("web", { resourceGroupName: group.name, vmScaleSetName: "vmss-web", virtualMachineProfile: profile() });
            new m.KmsActivation("web", { resourceGroupName: group.name, vmScaleSetName: vmss.name.apply(() => "vmss-web") });
            new compute.VirtualMachineScaleSetExtension("web-setup", { resourceGroupName: group.name, vmScaleSetName: "vmss-web", vmssExtensionName: "setup", ...CSE });
        },
    ],
    [
        // A later stack of the same process (an inline Automation API program): the first KmsActivation starts the watch.
        "an auto-named scale set with one inline, in a later stack",
        (m) => {
            const compute = require("@pulumi/azure-native/compute") as typeof import("@pulumi/azure-native/compute");
            new m.KmsActivation("first", { resourceGroupName: "rg", vmScaleSetName: "vmss-other" });
            const vmss = new compute.VirtualMachineScaleSet("auto", {
                resourceGroupName: "rg",
                virtualMachineProfile: pulumi.output(profile([{ name: "bootstrap", type: "customscriptextension", publisher: "microsoft.compute" }])),
            });
            new m.KmsActivation("auto", { resourceGroupName: "rg", vmScaleSetName: vmss.name });
        },
    ],
    [
        "no CustomScriptExtension on the scale set: nothing fails",
        (m) => {
            const compute = require("@pulumi/azure-native/compute") as typeof import("@pulumi/azure-native/compute");
            const vmss = new compute.VirtualMachineScaleSet("quiet", { resourceGroupName: "rg", vmScaleSetName: pulumi.output("vmss-quiet"), virtualMachineProfile: profile([{ name: "monitor", publisher: "Microsoft.Azure.Monitor", type: "AzureMonitorWindowsAgent" }]) });
            new m.KmsActivation("quiet", { resourceGroupName: pulumi.output("rg"), vmScaleSetName: vmss.name.apply(() => "vmss-quiet") });
        },
    ],
];

async function main(): Promise<void> {
    const h = await mockPulumi("project", "stack", true);
    const results: Record<string, string[]> = {};
    let failures: string[] = [];
    process.on("unhandledRejection", (reason) => failures.push((reason as Error)?.message ?? String(reason)));
    let m: Package | undefined;
    for (const [label, program] of programs) {
        failures = [];
        h.reset();
        await pulumi.runtime.runInPulumiStack(async () => {
            m = m ?? (require("../src") as Package);
            (require("../src/network/programState") as typeof import("../src/network/programState")).forgetProgramState();
            program(m);
            return {};
        });
        await h.settle().catch((err) => failures.push((err as Error).message));
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setImmediate(resolve));
        results[label] = [...new Set(failures)];
    }
    // Written before exiting: a pipe takes stdout asynchronously.
    process.stdout.write(`${JSON.stringify(results)}\n`, () => process.exit(0));
}

main().catch((err) => {
    process.stdout.write(`${JSON.stringify({ crashed: String((err as Error)?.stack ?? err) })}\n`, () => process.exit(0));
});
