// KmsWindowsVm in a preview (`pulumi preview`, and the preview `pulumi up` runs first): `securityType: Standard` is
// sent as no securityProfile, which Azure takes as "keep what the VM has", so a VM that exists as Trusted Launch is
// read and refused with the way to switch it. The other files run as `pulumi up` (no preview) and read no VM.
import { spawnSync } from "child_process";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Harness, InvokeMock, mockPulumi, outputRefusal, subnetWithNatGateway, SUBSCRIPTION, valueOf } from "./harness";

const C = "azure-native:compute:";
const SUBNET_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/vms`;
const BASE = { resourceGroupName: "rg", subnetId: SUBNET_ID, adminUsername: "kmsadmin", adminPassword: "Correct-Horse-7-Battery" };
const TRUSTED_LAUNCH = { securityType: "TrustedLaunch", uefiSettings: { secureBootEnabled: true, vTpmEnabled: true } };
const NOT_FOUND = 'Code="ResourceNotFound" Message="The Resource \'Microsoft.Compute/virtualMachines/app-01\' under resource group \'rg\' was not found."';

/** An invoke failure as the engine reports it: the provider's text in `details` (the SDK makes it the message). */
const engineError = (text: string) => Object.assign(new Error(text), { details: text });

/** The VM as `getVirtualMachine` answers: with that security type, or ARM's 404 when `securityType` is "missing". */
const existingVm =
    (securityType: string | undefined | "missing"): InvokeMock =>
    (token, inputs) => {
        if (token !== "azure-native:compute:getVirtualMachine") {
            return subnetWithNatGateway(token, inputs);
        }
        if (securityType === "missing") {
            throw engineError(NOT_FOUND);
        }
        return { name: inputs.vmName, ...(securityType === undefined ? {} : { securityProfile: { securityType } }) };
    };

let h: Harness;
let m: typeof import("../src");
beforeAll(async () => {
    h = await mockPulumi("project", "stack", true);
    m = await import("../src");
});
beforeEach(async () => {
    h.reset();
    (await import("../src/network/programState")).forgetProgramState();
});

const REFUSAL =
    'KmsWindowsVm "app-01": securityType: Standard would not switch VM "app-01" in resource group "rg" from Trusted Launch (Azure keeps a securityProfile the update ' +
    "leaves out); keep securityType TrustedLaunch, or switch the VM first: deallocate it, set its security type to Standard (az vm update -g rg -n app-01 " +
    "--security-type Standard), start it, then run pulumi up";

describe("securityType Standard over a VM that exists as Trusted Launch (preview)", () => {
    const context = { component: "KmsWindowsVm", name: "app-01" };
    const owner = () => new pulumi.ComponentResource("test:index:Owner", `owner-${Math.random().toString(36).slice(2)}`);

    test.each<[string, string | undefined | "missing", string | undefined]>([
        ["Trusted Launch: refused with the way to switch it", "TrustedLaunch", REFUSAL],
        ["Trusted Launch, spelled otherwise: refused alike", "trustedlaunch", REFUSAL],
        ["Standard (no securityProfile): Standard is what it has", undefined, undefined],
        ["not there yet (ARM 404): created Standard", "missing", undefined],
    ])("the VM is %s", async (_label, existing, message) => {
        h.invokeMock = existingVm(existing);
        const { refuseLeavingTrustedLaunch } = await import("../src/vm/vmBaseline");
        const profile = refuseLeavingTrustedLaunch(context, undefined, "rg", pulumi.output("app-01"), owner());
        if (message === undefined) {
            expect(await valueOf(pulumi.output(profile))).toBeUndefined();
        } else {
            expect(await outputRefusal(profile)).toBe(message);
        }
        expect(h.invokes.filter((i) => i.token === `${C}getVirtualMachine`)).toEqual([{ token: `${C}getVirtualMachine`, inputs: { resourceGroupName: "rg", vmName: "app-01" } }]);
    });

    test("a read that fails otherwise is said, never taken for Standard", async () => {
        h.invokeMock = (token) => {
            if (token === `${C}getVirtualMachine`) {
                throw engineError('Code="AuthorizationFailed" Message="does not have authorization to perform action Microsoft.Compute/virtualMachines/read"');
            }
            return undefined;
        };
        const { refuseLeavingTrustedLaunch } = await import("../src/vm/vmBaseline");
        expect(await outputRefusal(refuseLeavingTrustedLaunch(context, undefined, "rg", "app-01", owner()))).toMatch(
            /^KmsWindowsVm "app-01": securityType: VM "app-01" in resource group "rg" could not be read to see whether it is Trusted Launch \(.*AuthorizationFailed.*\); check that the program's identity may read it$/,
        );
    });

    test("KmsWindowsVm with securityType Standard reads its VM once; a Standard VM is registered without securityProfile", async () => {
        h.invokeMock = existingVm(undefined);
        new m.KmsWindowsVm("app-01", { ...BASE, securityType: m.VmSecurityType.Standard });
        await h.settle();
        expect(h.invokes.filter((i) => i.token.startsWith(C))).toEqual([{ token: `${C}getVirtualMachine`, inputs: { resourceGroupName: "rg", vmName: "app-01" } }]);
        expect(h.one(`${C}VirtualMachine`).inputs.securityProfile).toBeUndefined();
    });

    test("Trusted Launch to be sent: nothing to read, the profile is sent as it is", async () => {
        h.invokeMock = existingVm("TrustedLaunch");
        new m.KmsWindowsVm("app-01", { ...BASE });
        await h.settle();
        expect(h.invokes.filter((i) => i.token.startsWith(C))).toEqual([]);
        expect(h.one(`${C}VirtualMachine`).inputs.securityProfile).toEqual(TRUSTED_LAUNCH);
    });

    test("through the component: the preview fails with the message and the VM is not sent", () => {
        const runner = path.join(__dirname, "windows-vm-preview.run.ts");
        const run = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", runner], { encoding: "utf8", cwd: path.join(__dirname, "..") });
        expect(JSON.parse(run.stdout.trim().split("\n").pop()!)).toEqual({ failures: [`error serializing property "securityProfile": ${REFUSAL}`], vmRegistered: false });
    }, 120_000);
});
