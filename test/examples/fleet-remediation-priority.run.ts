// Runs examples/fleet-remediation under the mock engine with an existing NSG whose priority 200 is taken, and prints
// what the program ends with: the refusal (REFUSED: <message>) or DEPLOYED. Spawned by
// fleet-remediation-priority.test.ts: a refused program stops Pulumi's runtime, so it runs in its own process.
import { runExample } from "../../scripts/examples";
import { InvokeMock } from "../../scripts/mock-engine";
import { resolveOwnPackage } from "../../src/cli/loader";

// The example imports the package by name: resolve it to these sources, not to a dist/ an earlier build left.
resolveOwnPackage();

const takenPriority: InvokeMock = (token, inputs) =>
    token === "azure-native:network:getNetworkSecurityGroup" && inputs.networkSecurityGroupName === "nsg-spoke-a"
        ? {
              name: "nsg-spoke-a",
              securityRules: [
                  { name: "allow-log-analytics", priority: 200, direction: "Outbound", access: "Allow", protocol: "Tcp", destinationAddressPrefix: "AzureMonitor", destinationPortRange: "443" },
                  { name: "allow-backup", priority: 199, direction: "Outbound", access: "Allow", protocol: "Tcp", destinationAddressPrefix: "AzureBackup", destinationPortRange: "443" },
                  { name: "deny-internet", priority: 4000, direction: "Outbound", access: "Deny", protocol: "*", destinationAddressPrefix: "Internet", destinationPortRange: "*" },
              ],
          }
        : undefined;

const refused = (e: unknown) => {
    console.log(`REFUSED: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(0);
};
process.on("unhandledRejection", refused);
runExample("fleet-remediation", require, takenPriority).then(() => console.log("DEPLOYED"), refused);
