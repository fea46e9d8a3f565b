import * as pulumi from "@pulumi/pulumi";
import { anyOf, emptyRouteTablesAndNsgs, guestSettings, mockedPackage, secretValue, subnetWithNatGateway, SUBSCRIPTION, valueOf } from "./harness";

// The cloud follows the stack's azure-native provider (`azure-native:environment`) unless `cloud` is given.
const t = mockedPackage(anyOf(subnetWithNatGateway, emptyRouteTablesAndNsgs));

const SUBNET_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/vms`;
const CREDENTIALS = { adminUsername: "kmsadmin", adminPassword: "Correct-Horse-7-Battery" };

function setEnvironment(value: string | undefined): void {
    // The harness's mock engine reads config from the same store `pulumi config set` fills for a real program.
    const config = { ...pulumi.runtime.allConfig() };
    delete config["azure-native:environment"];
    if (value !== undefined) {
        config["azure-native:environment"] = value;
    }
    pulumi.runtime.setAllConfig(config);
}

afterEach(() => setEnvironment(undefined));

describe("cloud from the azure-native provider config", () => {
    test.each<[string | undefined, string, string, string[]]>([
        [undefined, "AzurePublic", "azkms.core.windows.net:1688", ["20.118.99.224", "40.83.235.53", "23.102.135.246"]],
        ["public", "AzurePublic", "azkms.core.windows.net:1688", ["20.118.99.224", "40.83.235.53", "23.102.135.246"]],
        ["usgovernment", "AzureUSGovernment", "azkms.core.usgovcloudapi.net:1688", ["52.126.105.2", "23.97.0.13"]],
        ["china", "AzureChina", "azkms.core.chinacloudapi.cn:1688", ["159.27.28.100", "163.228.64.161", "42.159.7.249"]],
        ["UsGovernment", "AzureUSGovernment", "azkms.core.usgovcloudapi.net:1688", ["52.126.105.2", "23.97.0.13"]],
    ])("azure-native:environment = %s: every component uses %s", async (environment, cloud, endpoint, ips) => {
        setEnvironment(environment);
        const network = new t.m.KmsNetwork("net", { resourceGroupName: "rg" });
        new t.m.KmsEgressRules("spoke", { resourceGroupName: "rg", routeTableName: "rt-spoke" });
        new t.m.KmsFirewallRules("hub", { resourceGroupName: "rg-hub", firewallPolicyName: "fwp-hub", sourceAddresses: ["10.20.0.0/16"] });
        const vm = new t.m.KmsWindowsVm("app-01", { resourceGroupName: "rg", subnetId: SUBNET_ID, ...CREDENTIALS, readActivationResult: false });
        const activation = new t.m.KmsActivation("old-01", { resourceGroupName: "rg", vmName: "old-01", readActivationResult: false });
        await t.h.settle();
        expect(await valueOf(network.cloud)).toBe(cloud);
        const prefixes = (table: string) => t.h.ofType("azure-native:network:Route").filter((r) => r.inputs.routeTableName === table).map((r) => r.inputs.addressPrefix);
        expect(prefixes("rt-spoke")).toEqual(ips.map((ip) => `${ip}/32`));
        expect(t.h.ofType("azure-native:network:Route")).toHaveLength(2 * ips.length);
        expect(t.h.one("azure-native:network:SecurityRule").inputs.destinationAddressPrefixes).toEqual(ips);
        const group = t.h.one("azure-native:network:FirewallPolicyRuleCollectionGroup").inputs.ruleCollections as { rules: { destinationAddresses: string[] }[] }[];
        expect(group[0].rules[0].destinationAddresses).toEqual(ips);
        expect(await valueOf(vm.kmsEndpoint)).toBe(endpoint);
        expect(await valueOf(activation.kmsEndpoint)).toBe(endpoint);
        const command = secretValue(t.h.ofType("azure-native:compute:VirtualMachineExtension").find((r) => r.inputs.vmName === "old-01")!.inputs.protectedSettings).commandToExecute;
        expect(guestSettings(command).kmsAddresses).toEqual(ips);
    });

    test("an explicit cloud wins over the provider config, even an unknown one", async () => {
        setEnvironment("german");
        const network = new t.m.KmsNetwork("net", { resourceGroupName: "rg", cloud: t.m.AzureCloud.AzureChina });
        const activation = new t.m.KmsActivation("old-01", { resourceGroupName: "rg", vmName: "old-01", cloud: t.m.AzureCloud.AzurePublic, readActivationResult: false });
        await t.h.settle();
        expect(await valueOf(network.cloud)).toBe("AzureChina");
        expect(await valueOf(activation.kmsEndpoint)).toBe("azkms.core.windows.net:1688");
    });

    test.each<[string, () => unknown]>([
        ["KmsNetwork", () => new t.m.KmsNetwork("x", { resourceGroupName: "rg" })],
        ["KmsEgressRules", () => new t.m.KmsEgressRules("x", { resourceGroupName: "rg", routeTableName: "rt" })],
        ["KmsFirewallRules", () => new t.m.KmsFirewallRules("x", { resourceGroupName: "rg", firewallPolicyName: "fwp", sourceAddresses: ["10.20.0.0/16"] })],
        ["KmsActivation", () => new t.m.KmsActivation("x", { resourceGroupName: "rg", vmName: "vm-01" })],
        ["KmsWindowsVm", () => new t.m.KmsWindowsVm("x", { resourceGroupName: "rg", subnetId: SUBNET_ID, ...CREDENTIALS })],
    ])("%s: an unknown azure-native:environment is refused, naming the config key", async (component, make) => {
        setEnvironment("german");
        expect(make).toThrow(
            `${component} "x": cloud: azure-native:environment is "german", not a cloud this package knows; set azure-native:environment to public, usgovernment or china, or set cloud explicitly`,
        );
        await t.h.settle();
        expect(t.h.custom()).toEqual([]);
    });
});
