import { PolicyResource } from "@pulumi/policy";
import { kmsEndpoint } from "../src/kms/endpoints";
import { createKmsActivationPolicies, kmsActivationPolicies, KmsActivationPolicy } from "../src/policy";
import { AzureCloud } from "../src/types";
import { UNKNOWN_VALUE, component, preview, resource, runStack, stack } from "./policy-args";

const VM = "azure-native:compute:VirtualMachine";
const EXT = "azure-native:compute:VirtualMachineExtension";
const RUN = "azure-native:compute:VirtualMachineRunCommandByVirtualMachine";
const NAME = "kms-windows-vm-activation";
const policy = kmsActivationPolicies.find((p) => p.name === NAME) as KmsActivationPolicy;

const windowsImage = { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter-azure-edition", version: "latest" };
const vm = (name: string, extra: Record<string, unknown> = {}, parent?: PolicyResource) =>
    resource(VM, name, { resourceGroupName: "rg", vmName: name, storageProfile: { imageReference: windowsImage }, ...extra }, { parent });
const cse = (name: string, vmName: unknown, extra: Record<string, unknown> = {}, opts: { parent?: PolicyResource; propertyDependencies?: Record<string, PolicyResource[]> } = {}) =>
    resource(EXT, name, { resourceGroupName: "rg", vmName, vmExtensionName: "KmsActivation", publisher: "Microsoft.Compute", type: "CustomScriptExtension", typeHandlerVersion: "1.10", ...extra }, opts);
const runCommand = (name: string, vmName: unknown, extra: Record<string, unknown> = {}) =>
    resource(RUN, name, { resourceGroupName: "rg", vmName, runCommandName: "KmsActivation", source: { script: "param($KmsHost)\n..." }, ...extra });

const ENDPOINT = `${kmsEndpoint(AzureCloud.AzurePublic).host}:1688`;
function message(vmName: string, endpoint = ENDPOINT): string {
    return (
        `Windows VM "${vmName}" has no KMS activation in this stack (no CustomScriptExtension or Run Command on it that sets the KMS host), ` +
        "so it depends on whatever key and KMS host its image carries. Remediation: add a KmsActivation from azure-kms-activation for " +
        "the VM (or build it with KmsWindowsVm; use mechanism RunCommand when the VM already has a CustomScriptExtension), or a Run " +
        `Command or CustomScriptExtension of your own that runs slmgr /skms ${endpoint} and /ato.`
    );
}

describe("kms-windows-vm-activation", () => {
    test("the exact message, for a Windows VM with no activation", async () => {
        const app = vm("vm-app-01");
        expect(await runStack(policy, [app])).toEqual([
            {
                message:
                    'Windows VM "vm-app-01" has no KMS activation in this stack (no CustomScriptExtension or Run Command on it that sets the ' +
                    "KMS host), so it depends on whatever key and KMS host its image carries. Remediation: add a KmsActivation from " +
                    "azure-kms-activation for the VM (or build it with KmsWindowsVm; use mechanism RunCommand when the VM already has a " +
                    "CustomScriptExtension), or a Run Command or CustomScriptExtension of your own that runs slmgr /skms " +
                    "azkms.core.windows.net:1688 and /ato.",
                urn: app.urn,
            },
        ]);
    });

    test.each([
        ["osProfile.windowsConfiguration", { storageProfile: {}, osProfile: { computerName: "vm", windowsConfiguration: { provisionVMAgent: true } } }],
        ["osDisk.osType Windows (an imported VHD)", { storageProfile: { osDisk: { osType: "Windows", createOption: "Attach" } } }],
        ["a MicrosoftWindowsDesktop image", { storageProfile: { imageReference: { publisher: "MicrosoftWindowsDesktop", offer: "windows-11" } } }],
        ["a MicrosoftWindowsServer image", {}],
    ])("a VM is Windows by %s", async (_, extra) => {
        expect(await runStack(policy, [vm("vm", extra)])).toEqual([{ message: message("vm"), urn: vm("vm").urn }]);
    });

    test.each([
        ["a Linux image", { storageProfile: { imageReference: { publisher: "Canonical", offer: "ubuntu-24_04-lts" } }, osProfile: { linuxConfiguration: {} } }],
        ["osType Linux", { storageProfile: { osDisk: { osType: "Linux" } } }],
        ["nothing to tell", { storageProfile: undefined }],
    ])("%s is not looked at", async (_, extra) => {
        expect(await runStack(policy, [vm("vm", extra)])).toEqual([]);
    });

    test("this package's KmsActivation extension counts, its compressed secret command unread", async () => {
        const ext = cse("act", "vm-01", { protectedSettings: { commandToExecute: "powershell.exe -NoLogo -Command \"$b=[Convert]::FromBase64String('H4sI')\"" } });
        expect(await runStack(policy, [vm("vm-01"), ext])).toEqual([]);
    });

    test("a CustomScriptExtension of another name counts when its command sets the KMS host", async () => {
        const inSettings = cse("act", "vm-01", { vmExtensionName: "Setup", settings: { commandToExecute: "cscript //nologo C:\\Windows\\System32\\slmgr.vbs /skms kms.contoso.com:1688" } });
        expect(await runStack(policy, [vm("vm-01"), inSettings])).toEqual([]);
        const inProtected = cse("act", "vm-01", { vmExtensionName: "Setup", protectedSettings: { commandToExecute: "SLMGR /ato" } });
        expect(await runStack(policy, [vm("vm-01"), inProtected])).toEqual([]);
    });

    test.each([
        ["another name and command", { vmExtensionName: "DomainJoin", settings: { commandToExecute: "powershell Add-Computer" } }],
        ["another name and no command", { vmExtensionName: "Setup" }],
        ["another publisher", { publisher: "Microsoft.Azure.Extensions", type: "CustomScript" }],
        ["another handler", { type: "BGInfo" }],
        ["no publisher", { publisher: undefined }],
    ])("an extension with %s does not count", async (_, extra) => {
        expect(await runStack(policy, [vm("vm-01"), cse("ext", "vm-01", extra)])).toEqual([{ message: message("vm-01"), urn: vm("vm-01").urn }]);
    });

    test("a Run Command counts by its script or by the name KmsActivation", async () => {
        expect(await runStack(policy, [vm("vm-01"), runCommand("rc", "vm-01")])).toEqual([]);
        expect(await runStack(policy, [vm("vm-01"), runCommand("rc", "vm-01", { runCommandName: "activate", source: { script: "slmgr.vbs /skms 10.0.0.5" } })])).toEqual([]);
        const other = runCommand("rc", "vm-01", { runCommandName: "patch", source: { script: "Install-WindowsUpdate" } });
        expect(await runStack(policy, [vm("vm-01"), other])).toEqual([{ message: message("vm-01"), urn: vm("vm-01").urn }]);
        const byUri = runCommand("rc", "vm-01", { runCommandName: "remote", source: { scriptUri: "https://example.com/a.ps1" } });
        expect(await runStack(policy, [vm("vm-01"), byUri])).toEqual([{ message: message("vm-01"), urn: vm("vm-01").urn }]);
    });

    test("several VMs: an activation covers only the VM it names (case-insensitive), in its resource group", async () => {
        const a = vm("vm-a");
        const b = vm("vm-b");
        const c = vm("vm-c");
        const linux = vm("vm-l", { storageProfile: { osDisk: { osType: "Linux" } } });
        const resources = [a, b, c, linux, cse("a-act", "VM-A"), runCommand("b-act", "vm-b"), cse("c-act", "vm-c", { resourceGroupName: "rg-other" })];
        expect(await runStack(policy, resources)).toEqual([{ message: message("vm-c"), urn: c.urn }]);
    });

    test("deployed outputs: names come from name, and the extension's type is the ARM type", async () => {
        const deployed = resource(VM, "vm-resource", { name: "vm-out", storageProfile: { osDisk: { osType: "Windows" } } });
        const ext = resource(EXT, "ext-resource", { name: "KmsActivation", vmName: "vm-out", publisher: "Microsoft.Compute", type: "Microsoft.Compute/virtualMachines/extensions" });
        expect(await runStack(policy, [deployed, ext])).toEqual([]);
        const other = resource(EXT, "ext-resource", { name: "BGInfo", vmName: "vm-out", publisher: "Microsoft.Compute", type: "Microsoft.Compute/virtualMachines/extensions" });
        expect(await runStack(policy, [deployed, other])).toEqual([{ message: message("vm-out"), urn: deployed.urn }]);
        const nameless = resource(VM, "vm-resource", { storageProfile: { osDisk: { osType: "Windows" } } });
        expect(await runStack(policy, [nameless])).toEqual([{ message: message("vm-resource"), urn: nameless.urn }]);
    });

    test.each(Object.values(AzureCloud))("%s: the remediation names that cloud's KMS host", async (cloud) => {
        const endpoint = kmsEndpoint(cloud);
        expect(await runStack(policy, [vm("vm")], { cloud })).toEqual([{ message: message("vm", `${endpoint.host}:${endpoint.port}`), urn: vm("vm").urn }]);
    });

    test("a custom KMS server: the remediation names its host and port", async () => {
        const coded = createKmsActivationPolicies({ customKmsServer: { host: "kms.contoso.com", port: 1700, addressPrefixes: ["10.0.0.5/32"] } });
        const p = coded.find((x) => x.name === NAME) as KmsActivationPolicy;
        expect(await runStack(p, [vm("vm")])).toEqual([{ message: message("vm", "kms.contoso.com:1700"), urn: vm("vm").urn }]);
    });

    test("missing properties never throw", async () => {
        const resources = [resource(VM, "empty", {}), resource(EXT, "empty-ext", {}), resource(RUN, "empty-rc", {}), resource(VM, "odd", { osProfile: "x", storageProfile: { osDisk: null } })];
        expect(await runStack(policy, resources)).toEqual([]);
    });

    describe("preview: vmName not known yet", () => {
        test("the engine's property dependency names the VM", async () => {
            const app = vm("vm-app", { vmName: UNKNOWN_VALUE });
            const other = vm("vm-other");
            const ext = cse("act", UNKNOWN_VALUE, {}, { propertyDependencies: { vmName: [app] } });
            expect(await runStack(policy, [app, other, resource(EXT, ext.name, preview(ext.props), { propertyDependencies: ext.propertyDependencies })])).toEqual([
                { message: message("vm-other"), urn: other.urn },
            ]);
        });

        test("else the VM that shares the activation's component (a KmsWindowsVm holds both)", async () => {
            const web = component("azure-kms-activation:index:KmsWindowsVm", "web");
            const db = component("azure-kms-activation:index:KmsWindowsVm", "db");
            const webVm = vm("web-vm", {}, web);
            const dbVm = vm("db-vm", {}, db);
            const activation = component("azure-kms-activation:index:KmsActivation", "web-activation", web);
            const ext = resource(EXT, "web-activation-extension", preview({ ...cse("x", "y").props, vmName: UNKNOWN_VALUE }), { parent: activation });
            expect(await runStack(policy, [web, db, webVm, dbVm, activation, ext])).toEqual([{ message: message("db-vm"), urn: dbVm.urn }]);
        });

        test("a dependency on a Linux VM says the activation is for none of the Windows VMs", async () => {
            const linux = vm("vm-linux", { vmName: UNKNOWN_VALUE, storageProfile: { osDisk: { osType: "Linux" } } });
            const win = vm("vm-win");
            const ext = resource(EXT, "act", preview({ ...cse("x", "y").props, vmName: UNKNOWN_VALUE }), { propertyDependencies: { vmName: [linux] } });
            expect(await runStack(policy, [linux, win, ext])).toEqual([{ message: message("vm-win"), urn: win.urn }]);
        });

        test("sharing only the stack says nothing: the stack-level VM is not taken, and nothing is flagged", async () => {
            const stackVm = vm("vm-top", {}, stack);
            const ext = resource(EXT, "act", preview({ ...cse("x", "y").props, vmName: UNKNOWN_VALUE }), { parent: stack });
            expect(await runStack(policy, [stack, stackVm, ext])).toEqual([]);
            const web = component("azure-kms-activation:index:KmsWindowsVm", "web");
            const inWeb = resource(EXT, "act", preview({ ...cse("x", "y").props, vmName: UNKNOWN_VALUE }), { parent: web });
            const webVm = vm("web-vm", {}, web);
            expect(await runStack(policy, [stack, web, stackVm, webVm, inWeb])).toEqual([{ message: message("vm-top"), urn: stackVm.urn }]);
        });

        test("parents known only by URN are followed too", async () => {
            const web = component("azure-kms-activation:index:KmsWindowsVm", "web");
            const webVm = vm("web-vm", {}, web);
            const ext = resource(EXT, "ext", preview({ ...cse("x", "y").props, vmName: UNKNOWN_VALUE }));
            ext.opts.parent = web.urn;
            const orphan = vm("orphan-vm");
            orphan.opts.parent = "urn:pulumi:dev::kms::some:component::gone";
            expect(await runStack(policy, [web, webVm, ext, orphan])).toEqual([{ message: message("orphan-vm"), urn: orphan.urn }]);
        });

        test("no way to tell the VM: nothing is flagged (it may be for any of them)", async () => {
            const stackLevel = cse("act", UNKNOWN_VALUE);
            const ext = resource(EXT, "act", preview(stackLevel.props));
            expect(await runStack(policy, [vm("vm-a"), vm("vm-b"), ext])).toEqual([]);
        });

        test("a VM whose own name is unknown may be the one a named activation is for", async () => {
            const pending = vm("vm-pending", { vmName: UNKNOWN_VALUE });
            const named = vm("vm-named");
            const resources = [resource(VM, pending.name, preview(pending.props)), named, cse("act", "vm-later")];
            expect(await runStack(policy, resources)).toEqual([{ message: message("vm-named"), urn: named.urn }]);
        });

        test("an unknown command or script is not decided against the VM", async () => {
            const ext = cse("act", "vm-01", { vmExtensionName: "Setup", protectedSettings: UNKNOWN_VALUE });
            expect(await runStack(policy, [vm("vm-01"), resource(EXT, "act", preview(ext.props))])).toEqual([]);
            const rc = runCommand("rc", "vm-01", { runCommandName: "custom", source: { script: UNKNOWN_VALUE } });
            expect(await runStack(policy, [vm("vm-01"), resource(RUN, "rc", preview(rc.props))])).toEqual([]);
        });

        test("an unknown Windows signal is not taken as Windows", async () => {
            const v = vm("vm", { storageProfile: { imageReference: { publisher: UNKNOWN_VALUE } }, osProfile: { windowsConfiguration: UNKNOWN_VALUE } });
            expect(await runStack(policy, [resource(VM, "vm", preview(v.props))])).toEqual([]);
        });
    });
});
