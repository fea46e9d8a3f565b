import * as pulumi from "@pulumi/pulumi";
import { mockedPackage, quietedWarnings, subnetWithNatGateway, SUBSCRIPTION, valueOf } from "./harness";

const t = mockedPackage(subnetWithNatGateway);

const SUBNET_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/vms`;
const CREDENTIALS = { adminUsername: "kmsadmin", adminPassword: "Correct-Horse-7-Battery" };
const GET_EXTENSION = "azure-native:compute:getVirtualMachineExtension";
const GET_RUN_COMMAND = "azure-native:compute:getVirtualMachineRunCommandByVirtualMachine";

// Result lines as Windows PowerShell 5.1's ConvertTo-Json -Compress writes them at the end of activate.ps1.
const line = (fields: string) =>
    'KMS_ACTIVATION_RESULT {"v":1,"tag":"","os":{"build":20348,"sku":8,"editionId":"ServerDatacenter","edition":"Datacenter"},' +
    '"before":{"status":5,"channel":"Volume:GVLK","partialKey":"6VM33","kms":""},"key":"kept-imageSku",' +
    `"endpoint":"azkms.core.windows.net:1688","firewall":"allowed",${fields},"seconds":14}`;
const ACTIVATED = line(
    '"probe":{"dns":"ok","tcp":"open","address":"20.118.99.224"},"attempts":1,"after":{"status":1,"channel":"Volume:GVLK","partialKey":"6VM33","kms":"azkms.core.windows.net:1688"},' +
        '"codes":[],"events":["12288:0x00000000","12289:0x00000000"],"diagnosis":[],"status":"activated"',
);
const LICENSED = line(
    '"probe":{"dns":"ok","tcp":"open","address":"20.118.99.224"},"attempts":0,"after":{"status":1,"channel":"Volume:GVLK","partialKey":"6VM33","kms":"azkms.core.windows.net:1688"},' +
        '"codes":[],"events":[],"diagnosis":[],"status":"licensed"',
);
const PENDING = line(
    '"probe":{"dns":"ok","tcp":"timeout","address":"20.118.99.224"},"attempts":3,"after":{"status":5,"channel":"Volume:GVLK","partialKey":"6VM33","kms":"azkms.core.windows.net:1688"},' +
        '"codes":"0xC004F074","events":"12288:0xC004F074","diagnosis":"TCP 1688 to 20.118.99.224 timed out: a route or NSG blocks KMS","status":"pending"',
);
const ERROR = line(
    '"probe":null,"attempts":0,"after":{"status":5,"channel":"Retail","partialKey":"ABCDE","kms":""},"codes":["0xC004F050"],"events":[],"diagnosis":["slmgr /ipk failed"],"status":"error"',
);

/** A CustomScriptExtension as `GET .../extensions/KmsActivation?$expand=instanceView` returns it. */
function extensionView(stdout: string, provisioning = "succeeded") {
    return {
        id: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-01/extensions/KmsActivation`,
        name: "KmsActivation",
        type: "Microsoft.Compute/virtualMachines/extensions",
        location: "westeurope",
        publisher: "Microsoft.Compute",
        typePropertiesType: "CustomScriptExtension",
        typeHandlerVersion: "1.10",
        provisioningState: provisioning === "succeeded" ? "Succeeded" : "Failed",
        instanceView: {
            name: "KmsActivation",
            type: "Microsoft.Compute.CustomScriptExtension",
            typeHandlerVersion: "1.10.18",
            substatuses: [
                { code: "ComponentStatus/StdOut/succeeded", level: "Info", displayStatus: "Provisioning succeeded", message: stdout },
                { code: "ComponentStatus/StdErr/succeeded", level: "Info", displayStatus: "Provisioning succeeded", message: "" },
            ],
            statuses: [{ code: `ProvisioningState/${provisioning}`, level: provisioning === "succeeded" ? "Info" : "Error", displayStatus: `Provisioning ${provisioning}`, message: "Command execution finished" }],
        },
    };
}

/** A managed Run Command as `GET .../runCommands/KmsActivation?$expand=instanceView` returns it. */
function runCommandView(output: string, exitCode: number, executionState: string) {
    return {
        id: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-01/runCommands/KmsActivation`,
        name: "KmsActivation",
        type: "Microsoft.Compute/virtualMachines/runCommands",
        location: "westeurope",
        provisioningState: executionState === "Succeeded" ? "Succeeded" : "Failed",
        instanceView: {
            executionState,
            executionMessage: executionState === "Failed" ? "Execution completed with errors" : "",
            exitCode,
            output,
            error: "",
            startTime: "2026-11-30T08:00:00+00:00",
            endTime: "2026-11-30T08:00:14+00:00",
            statuses: [],
        },
    };
}

const stdout = (result: string) => ["OS build 20348, edition Datacenter (EditionID ServerDatacenter, SKU 8); licence status 5, channel Volume:GVLK", result, ""].join("\r\n");

function answer(token: string, body: Record<string, unknown>) {
    t.h.invokeMock = (tok, inputs) => (tok === token ? body : subnetWithNatGateway(tok, inputs));
}

async function outcome(component: { activationStatus: pulumi.Output<string>; activationResult: pulumi.Output<unknown> }) {
    return { status: await valueOf(component.activationStatus), result: (await valueOf(component.activationResult)) as any };
}

describe("activation outcome: read from the instance view once the extension or run command exists", () => {
    test("CustomScriptExtension, activated: the StdOut substatus is read and parsed", async () => {
        answer(GET_EXTENSION, extensionView(stdout(ACTIVATED)));
        const activation = new t.m.KmsActivation("act", { resourceGroupName: "rg", vmName: "vm-01" });
        const { status, result } = await outcome(activation);
        expect(status).toBe(t.m.ActivationStatus.Activated);
        expect(result).toMatchObject({ status: "activated", key: "kept-imageSku", attempts: 1, after: { status: 1, channel: "Volume:GVLK" } });
        expect(t.h.invokes.filter((i) => i.token !== "azure-native:network:getSubnet")).toEqual([
            { token: GET_EXTENSION, inputs: { resourceGroupName: "rg", vmName: "vm-01", vmExtensionName: "KmsActivation", expand: "instanceView" } },
        ]);
    });

    test("CustomScriptExtension, a client edition the guest leaves to subscription activation: skipped", async () => {
        answer(GET_EXTENSION, extensionView(stdout(LICENSED.replace('"status":"licensed"', '"status":"skipped"').replace('"key":"kept-imageSku"', '"key":"skipped-client"'))));
        const activation = new t.m.KmsActivation("act", { resourceGroupName: "rg", vmName: "vm-01" });
        const { status, result } = await outcome(activation);
        expect(status).toBe(t.m.ActivationStatus.Skipped);
        expect(result).toMatchObject({ status: "skipped" });
    });

    test("CustomScriptExtension, already licensed", async () => {
        answer(GET_EXTENSION, extensionView(stdout(LICENSED)));
        const activation = new t.m.KmsActivation("act", { resourceGroupName: "rg", vmName: "vm-01" });
        expect(await outcome(activation)).toMatchObject({ status: "licensed", result: { attempts: 0, status: "licensed" } });
    });

    test("Run Command, pending: output, exitCode 0, Succeeded; PowerShell's bare one-element lists become lists", async () => {
        answer(GET_RUN_COMMAND, runCommandView(stdout(PENDING) + "WARNING: not activated yet; Windows retries every two hours and the licence grace lasts 180 days.\r\n", 0, "Succeeded"));
        const activation = new t.m.KmsActivation("act", { resourceGroupName: "rg", vmName: "vm-01", mechanism: t.m.ActivationMechanism.RunCommand });
        const { status, result } = await outcome(activation);
        expect(status).toBe("pending");
        expect(result.codes).toEqual(["0xC004F074"]);
        expect(result.probe).toEqual({ dns: "ok", tcp: "timeout", address: "20.118.99.224", tried: [] });
        expect(t.h.invokes.map((i) => i.inputs)).toEqual([{ resourceGroupName: "rg", vmName: "vm-01", runCommandName: "KmsActivation", expand: "instanceView" }]);
    });

    test("Run Command, error: exitCode 1, Failed, the result line says error", async () => {
        answer(GET_RUN_COMMAND, runCommandView(stdout(ERROR), 1, "Failed"));
        const activation = new t.m.KmsActivation("act", { resourceGroupName: "rg", vmName: "vm-01", mechanism: t.m.ActivationMechanism.RunCommand });
        const { status, result } = await outcome(activation);
        // parseActivationResult adds the plain cause of each code the guest reported.
        expect({ status, result }).toMatchObject({
            status: "error",
            result: { codes: ["0xC004F050"], diagnosis: ["slmgr /ipk failed", "0xC004F050: the product key is not valid for this edition: give the KMS client setup key of this edition"] },
        });
        // The JSON's null (no probe ran) is an absent field: the schema has no nullable types.
        expect("probe" in result).toBe(false);
    });

    test("CustomScriptExtension that failed with an error line: error", async () => {
        answer(GET_EXTENSION, extensionView(stdout(ERROR), "failed/1"));
        const vm = new t.m.KmsWindowsVm("app-01", { resourceGroupName: "rg", subnetId: SUBNET_ID, ...CREDENTIALS });
        expect((await outcome(vm)).status).toBe("error");
    });

    test.each([
        ["no result line (the script did not run to its end)", extensionView("OS build 20348, edition Datacenter\r\n")],
        ["a truncated result line", extensionView(stdout(ACTIVATED.slice(0, 200)))],
        ["a result line with a status the package does not know", extensionView(stdout(ACTIVATED.replace('"status":"activated"', '"status":"rebooting"')))],
        ["no StdOut substatus", { ...extensionView(""), instanceView: { name: "KmsActivation", statuses: [] } }],
        ["no instance view at all", { name: "KmsActivation" }],
    ])("unknown, never an exception: %s", async (_, body) => {
        answer(GET_EXTENSION, body);
        const activation = new t.m.KmsActivation("act", { resourceGroupName: "rg", vmName: "vm-01" });
        const { status, result } = await outcome(activation);
        expect(status).toBe(t.m.ActivationStatus.Unknown);
        if (_.includes("does not know")) {
            expect(result.status).toBe("rebooting");
        } else {
            expect(result).toBeUndefined();
        }
    });

    test("unknown while the run command is still running, even with partial output", async () => {
        answer(GET_RUN_COMMAND, runCommandView("OS build 20348\r\n", 0, "Running"));
        const activation = new t.m.KmsActivation("act", { resourceGroupName: "rg", vmName: "vm-01", mechanism: t.m.ActivationMechanism.RunCommand });
        expect(await outcome(activation)).toEqual({ status: "unknown", result: undefined });
    });

    test("a read that fails (here: the invoke is not mocked) leaves the outcome unknown and warns; the update goes on", async () => {
        const warn = jest.spyOn(pulumi.log, "warn");
        let warnings: unknown[];
        try {
            const activation = new t.m.KmsActivation("act", { resourceGroupName: "rg", vmName: "vm-01" });
            expect(await outcome(activation)).toEqual({ status: "unknown", result: undefined });
            warnings = warn.mock.calls.map((c) => c[0]);
        } finally {
            warn.mockRestore();
        }
        expect(t.h.invokes.map((i) => i.token)).toEqual([GET_EXTENSION]);
        expect(warnings).toEqual([
            expect.stringMatching(/^KmsActivation "act": could not read the activation result of VM "vm-01": .+; activationStatus is unknown$/),
        ]);
    });

    test("that warning reaches the console as one line, which the test harness records instead of printing (a quiet npm test)", async () => {
        const before = quietedWarnings.length;
        const activation = new t.m.KmsActivation("act", { resourceGroupName: "rg", vmName: "vm-01" });
        expect(await outcome(activation)).toEqual({ status: "unknown", result: undefined });
        expect(quietedWarnings.slice(before)).toEqual([
            expect.stringMatching(/^warning: \[runtime\] KmsActivation "act": could not read the activation result of VM "vm-01": .+; activationStatus is unknown$/),
        ]);
    });

    test("readActivationResult: false reads nothing (plain or Output)", async () => {
        answer(GET_EXTENSION, extensionView(stdout(ACTIVATED)));
        const plain = new t.m.KmsActivation("a", { resourceGroupName: "rg", vmName: "vm-01", readActivationResult: false });
        const wrapped = new t.m.KmsActivation("b", { resourceGroupName: "rg", vmName: "vm-02", readActivationResult: pulumi.output(false) });
        expect(await outcome(plain)).toEqual({ status: "unknown", result: undefined });
        expect(await outcome(wrapped)).toEqual({ status: "unknown", result: undefined });
        await t.h.settle();
        expect(t.h.invokes).toEqual([]);
    });

    test("KmsWindowsVm: activationStatus, activationResult, keySource and activationResourceId from its activation", async () => {
        answer(GET_EXTENSION, extensionView(stdout(ACTIVATED)));
        const vm = new t.m.KmsWindowsVm("app-01", { resourceGroupName: "rg", subnetId: SUBNET_ID, ...CREDENTIALS });
        expect(await outcome(vm)).toMatchObject({ status: "activated", result: { endpoint: "azkms.core.windows.net:1688" } });
        expect(await valueOf(vm.keySource)).toBe("imageSku");
        expect(await valueOf(vm.activationResourceId)).toMatch(/Microsoft.Compute\/virtualMachineExtensions\//);
        const read = t.h.invokes.find((i) => i.token === GET_EXTENSION)!;
        expect(read.inputs).toEqual({ resourceGroupName: "rg", vmName: "app-01", vmExtensionName: "KmsActivation", expand: "instanceView" });
        await t.h.settle();
        const registered = [...t.h.componentOutputs.values()] as Record<string, unknown>[];
        const vmOutputs = registered.find((o) => "virtualMachineId" in o)!;
        expect(vmOutputs).toMatchObject({ activationStatus: "activated", keySource: "imageSku" });
        // The outcome is not secret: the result line never holds the key.
        expect(await pulumi.isSecret(vm.activationStatus)).toBe(false);
        expect(await pulumi.isSecret(vm.activationResult)).toBe(false);
    });

    test("the read waits for the extension: it runs only once the extension is registered and its ID known", async () => {
        const registeredBeforeRead: boolean[] = [];
        t.h.invokeMock = (token) => {
            registeredBeforeRead.push(t.h.registrations.some((r) => r.type === "azure-native:compute:VirtualMachineExtension"));
            return token === GET_EXTENSION ? extensionView(stdout(LICENSED)) : undefined;
        };
        const activation = new t.m.KmsActivation("act", { resourceGroupName: pulumi.output("rg"), vmName: pulumi.output("vm-01") });
        expect(await valueOf(activation.activationStatus)).toBe("licensed");
        expect(registeredBeforeRead).toEqual([true]);
    });

    test("a preview never reads: the outcome is unknown until deploy", async () => {
        const dryRun = jest.spyOn(pulumi.runtime, "isDryRun").mockReturnValue(true);
        let activation: InstanceType<typeof t.m.KmsActivation>;
        try {
            activation = new t.m.KmsActivation("act", { resourceGroupName: "rg", vmName: "vm-01" });
        } finally {
            dryRun.mockRestore();
        }
        // `isKnown` is internal to the SDK but stable: what `pulumi preview` shows as "output<string>".
        const isKnown = (o: pulumi.Output<unknown>) => (o as unknown as { isKnown: Promise<boolean> }).isKnown;
        expect(await isKnown(activation.activationStatus)).toBe(false);
        expect(await isKnown(activation.activationResult)).toBe(false);
        await t.h.settle();
        expect(t.h.invokes).toEqual([]);
    });
});
