// KmsActivation on a scale set the program itself defines with a CustomScriptExtension (inline in its extensionProfile,
// or a VirtualMachineScaleSetExtension): Azure refuses a second CustomScriptExtension on a Windows scale set model
// (400 "Multiple VMExtensions per handler not supported for OS type 'Windows'", facts §5), so the activation is refused
// first. The package sees the program's resources through a stack transformation, so these programs run under a stack
// resource, as a Pulumi program does (the mock engine of the other files runs without one).
import { spawnSync } from "child_process";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { mockedPackage, refusal } from "./harness";

const t = mockedPackage();

const VMSS_EXT = "azure-native:compute:VirtualMachineScaleSetExtension";
const CSE = { publisher: "Microsoft.Compute", type: "CustomScriptExtension", typeHandlerVersion: "1.10" };

/** A scale set as a program writes it, with the given extensions inline. */
function scaleSetArgs(extensions: object[] | undefined, names: { resourceGroupName?: pulumi.Input<string>; vmScaleSetName?: pulumi.Input<string> } = {}) {
    return {
        resourceGroupName: names.resourceGroupName ?? "rg",
        ...("vmScaleSetName" in names ? (names.vmScaleSetName === undefined ? {} : { vmScaleSetName: names.vmScaleSetName }) : { vmScaleSetName: "vmss-web" }),
        orchestrationMode: "Uniform",
        sku: { name: "Standard_D2s_v5", capacity: 2 },
        virtualMachineProfile: {
            storageProfile: { imageReference: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter-azure-edition", version: "latest" } },
            ...(extensions === undefined ? {} : { extensionProfile: { extensions } }),
        },
    };
}

/**
 * Runs `program` as a Pulumi program runs: under a stack resource, with the package's watcher registered first (as
 * loading the package under the stack does; `watchOnLoad: false` leaves that to the first KmsActivation). Returns the
 * messages of what failed once values resolved (Pulumi fails the program with them).
 */
async function runInStack(program: () => void, watchOnLoad = true): Promise<string[]> {
    const { watchProgramScaleSets } = await import("../src/vm/programScaleSets");
    const failures: string[] = [];
    const onRejection = (reason: unknown) => failures.push((reason as Error)?.message ?? String(reason));
    // Pulumi fails a program through its handler of unhandled rejections; jest's own handler would count them as a
    // failure of the test, so it steps aside while the program runs and comes back after.
    const jestHandlers = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    process.on("unhandledRejection", onRejection);
    try {
        await pulumi.runtime.runInPulumiStack(async () => {
            if (watchOnLoad) {
                expect(watchProgramScaleSets()).toBe(true);
            }
            program();
            return {};
        });
        await t.h.settle();
        // Rejections surface on the next turns of the event loop.
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setImmediate(resolve));
    } finally {
        process.off("unhandledRejection", onRejection);
        jestHandlers.forEach((handler) => process.on("unhandledRejection", handler));
    }
    return [...new Set(failures)];
}

const FOLD = 'and Azure allows one per Windows scale set ("Multiple VMExtensions per handler not supported"); remove this KmsActivation and fold the activation into that one extension with kmsActivationScaleSetExtension (README, "Scale sets")';

describe("KmsActivation on a scale set the program gives a CustomScriptExtension", () => {
    test("outside a program (no stack resource) nothing is watched", async () => {
        const { watchProgramScaleSets } = await import("../src/vm/programScaleSets");
        expect(pulumi.runtime.getStackResource()).toBeUndefined();
        expect(watchProgramScaleSets()).toBe(false);
    });

    test("inline in the extensionProfile, plain names: refused at construction naming the extension and the fix, before any child", async () => {
        const compute = await import("@pulumi/azure-native/compute");
        let message = "";
        const failures = await runInStack(() => {
            new compute.VirtualMachineScaleSet("web", scaleSetArgs([{ name: "app-setup", ...CSE, protectedSettings: { commandToExecute: "powershell -File setup.ps1" } }]));
            message = refusal(() => new t.m.KmsActivation("web", { resourceGroupName: "RG", vmScaleSetName: "VMSS-web" }));
        });
        expect(message).toBe(
            'KmsActivation "web": vmScaleSetName: scale set "VMSS-web" in resource group "RG" already has CustomScriptExtension "app-setup" ' +
                "(inline in the extensionProfile of the program's VirtualMachineScaleSet \"web\"), and Azure allows one per Windows scale set " +
                '("Multiple VMExtensions per handler not supported"); remove this KmsActivation and fold the activation into that one extension with ' +
                'kmsActivationScaleSetExtension (README, "Scale sets")',
        );
        expect(failures).toEqual([]);
        expect(t.h.ofType(VMSS_EXT)).toEqual([]);
    });

    test("the activation's own inline entry (kmsActivationScaleSetExtension): refused, it already activates", async () => {
        const compute = await import("@pulumi/azure-native/compute");
        let message = "";
        const failures = await runInStack(() => {
            new compute.VirtualMachineScaleSet("web", scaleSetArgs([t.m.kmsActivationScaleSetExtension({ imageSku: "2022-datacenter-azure-edition" })]));
            message = refusal(() => new t.m.KmsActivation("again", { resourceGroupName: "rg", vmScaleSetName: "vmss-web" }));
        });
        expect(message).toBe(
            'KmsActivation "again": vmScaleSetName: scale set "vmss-web" in resource group "rg" already runs the activation: inline in the extensionProfile of ' +
                "the program's VirtualMachineScaleSet \"web\" holds the \"KmsActivation\" entry of kmsActivationScaleSetExtension, and a second " +
                "CustomScriptExtension is refused by Azure; remove this KmsActivation",
        );
        expect(failures).toEqual([]);
    });

    test("names Pulumi resolves late (from resources, Azure's auto-name), extensions written after the activation: the program fails with the message", () => {
        const runner = path.join(__dirname, "scale-set-program.run.ts");
        const run = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", runner], { encoding: "utf8", cwd: path.join(__dirname, "..") });
        expect(JSON.parse(run.stdout.trim().split("\n").pop()!)).toEqual({
            "names from resources: an inline one before any activation, an extension written after the activation": [
                `KmsActivation "front": vmScaleSetName: scale set "vmss-front" in resource group "rg-web" already has CustomScriptExtension "app-setup" (inline in the extensionProfile of the program's VirtualMachineScaleSet "front"), ${FOLD}`,
                `KmsActivation "web": vmScaleSetName: scale set "vmss-web" in resource group "rg-web" already has CustomScriptExtension "setup" (the program's VirtualMachineScaleSetExtension "web-setup"), ${FOLD}`,
            ],
            "an auto-named scale set with one inline, in a later stack": [
                `KmsActivation "auto": vmScaleSetName: scale set "auto" in resource group "rg" already has CustomScriptExtension "bootstrap" (inline in the extensionProfile of the program's VirtualMachineScaleSet "auto"), ${FOLD}`,
            ],
            "no CustomScriptExtension on the scale set: nothing fails": [],
        });
    }, 120_000);

    test("no conflict: other handlers, a Linux CustomScript, a CustomScriptExtension on another scale set or resource group: the activation is added", async () => {
        const compute = await import("@pulumi/azure-native/compute");
        const failures = await runInStack(() => {
            new compute.VirtualMachineScaleSet(
                "web",
                scaleSetArgs([
                    { name: "monitor", publisher: "Microsoft.Azure.Monitor", type: "AzureMonitorWindowsAgent", typeHandlerVersion: "1.0" },
                    { name: "linux-script", publisher: "Microsoft.Azure.Extensions", type: "CustomScript", typeHandlerVersion: "2.1" },
                ]),
            );
            new compute.VirtualMachineScaleSet("other", scaleSetArgs([{ name: "setup", ...CSE }], { vmScaleSetName: "vmss-other" }));
            new compute.VirtualMachineScaleSetExtension("elsewhere", { resourceGroupName: "rg-other", vmScaleSetName: "vmss-web", ...CSE });
            new t.m.KmsActivation("web", { resourceGroupName: "rg", vmScaleSetName: pulumi.output("vmss-web") });
        });
        expect(failures).toEqual([]);
        // Its own extension is not counted as a second one.
        expect(t.h.ofType(VMSS_EXT).map((r) => r.name).sort()).toEqual(["elsewhere", "web-scale-set-extension"]);
    });
});
