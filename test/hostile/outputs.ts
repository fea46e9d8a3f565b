// Runs every hostile case whose field is an Input with the value inside an Output, in its own process: a value
// refused inside apply fails the resource registration, which surfaces as an unhandled rejection (jest would
// abort on it). Prints {"<case name>": ["<error message>", ...]} as JSON.
import * as pulumi from "@pulumi/pulumi";
import { mockPulumi } from "../../scripts/mock-engine";
import { hostileCases } from "./cases";

const errors: Record<string, string[]> = {};
process.on("unhandledRejection", (err) => {
    const message = err instanceof Error ? err.message : String(err);
    const name = /"(h\d+|h-dup|h-fwdup|h-dup-vm)(?:-activation)?"/.exec(message)?.[1] ?? "unattributed";
    (errors[name] ??= []).includes(message) || errors[name].push(message);
});

(async () => {
    const h = await mockPulumi();
    h.defaultInvoke = () => ({});
    h.reset();
    const m = await import("../../src");
    hostileCases.forEach((c, i) => {
        if (c.input) {
            c.make(m, `h${i}`, pulumi.output(c.value));
        }
    });
    // Conflicts found only once names resolve: a second KmsEgressRules on a KmsNetwork's own route table.
    const net = new m.KmsNetwork("dup", { resourceGroupName: "rg" });
    new m.KmsEgressRules("h-dup", { resourceGroupName: "rg", routeTableName: net.routeTableName });
    // The same for a KmsFirewallRules whose policy name is an Output, after a plain one claimed the group.
    new m.KmsFirewallRules("fwdup-first", { resourceGroupName: "rg", firewallPolicyName: pulumi.output("fwp-dup"), sourceAddresses: ["10.20.0.0/16"] });
    new m.KmsFirewallRules("h-fwdup", { resourceGroupName: "rg", firewallPolicyName: "fwp-dup", sourceAddresses: ["10.30.0.0/16"] });
    // ... and a second activation of a VM that a KmsWindowsVm already activates, found once the group name resolves.
    new m.KmsWindowsVm("first-vm", { resourceGroupName: pulumi.output("rg"), subnetId: net.subnetId, vmName: "shared-01", adminUsername: "kmsadmin", adminPassword: "Correct-Horse-7-Battery" });
    new m.KmsActivation("h-dup-vm", { resourceGroupName: pulumi.output("RG"), vmName: "Shared-01" });
    const expected = hostileCases.filter((c) => c.input).length + 3;
    for (let waited = 0; waited < 15000 && Object.keys(errors).length < expected; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    process.stdout.write(JSON.stringify(errors));
    process.exit(0);
})();
