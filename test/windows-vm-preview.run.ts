// A preview of a KmsWindowsVm asked for securityType Standard whose VM exists as Trusted Launch: prints, as JSON, what
// the program failed with and whether the VM reached the engine. Spawned by windows-vm-preview.test.ts: Pulumi fails
// such a program through its handler of unhandled rejections, which jest would count against the test itself.
import { mockPulumi, subnetWithNatGateway } from "./harness";

async function main(): Promise<void> {
    const h = await mockPulumi("project", "stack", true);
    h.defaultInvoke = (token, inputs) =>
        token === "azure-native:compute:getVirtualMachine" ? { name: inputs.vmName, securityProfile: { securityType: "TrustedLaunch" } } : subnetWithNatGateway(token, inputs);
    h.reset();
    const failures: string[] = [];
    let failed: () => void = () => undefined;
    const firstFailure = new Promise<void>((resolve) => (failed = resolve));
    process.on("unhandledRejection", (reason) => {
        failures.push((reason as Error)?.message ?? String(reason));
        failed();
    });
    const m = require("../src") as typeof import("../src");
    new m.KmsWindowsVm("app-01", {
        resourceGroupName: "rg",
        subnetId: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/vms",
        adminUsername: "kmsadmin",
        adminPassword: "Correct-Horse-7-Battery",
        securityType: m.VmSecurityType.Standard,
    });
    // A registration whose input failed never completes: the first failure ends the wait as well.
    await Promise.race([h.settle().catch((err) => failures.push((err as Error).message)), firstFailure]);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const vmRegistered = h.ofType("azure-native:compute:VirtualMachine").length > 0;
    // Written before exiting: a pipe takes stdout asynchronously.
    process.stdout.write(`${JSON.stringify({ failures: [...new Set(failures)], vmRegistered })}\n`, () => process.exit(0));
}

main().catch((err) => {
    process.stdout.write(`${JSON.stringify({ crashed: String((err as Error)?.stack ?? err) })}\n`, () => process.exit(0));
});
