import { readFileSync } from "fs";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { componentProvider, inferredSchemaText, SCHEMA_PATH } from "../scripts/schema";
import { mockedPackage, SUBSCRIPTION } from "./harness";

const t = mockedPackage(() => ({}));
const TOKEN = (name: string) => `azure-kms-activation:index:${name}`;
let inferred: string;
let schema: any;
// One provider for the file: inferring the schema compiles the sources, which takes seconds.
let provider: ComponentProvider;

beforeAll(async () => {
    provider = componentProvider();
    inferred = await inferredSchemaText(provider);
    schema = JSON.parse(inferred);
}, 120000);

describe("the inferred schema", () => {
    test("is committed: schema.json matches the sources (run `npm run schema` after changing an args or outputs interface)", () => {
        expect(readFileSync(SCHEMA_PATH, "utf8")).toBe(inferred);
    });

    test("carries the Pulumi Registry's metadata: display name, publisher, keywords with its facets, repository, homepage, license", () => {
        const pkg = JSON.parse(readFileSync(`${__dirname}/../package.json`, "utf8"));
        expect(Object.keys(schema).slice(0, 10)).toEqual(["name", "displayName", "version", "description", "keywords", "homepage", "license", "publisher", "repository", "resources"]);
        expect(schema).toMatchObject({ name: "azure-kms-activation", displayName: "Azure KMS Activation", version: pkg.version, license: "Apache-2.0", publisher: expect.stringMatching(/\S/) });
        expect(schema.keywords).toEqual(expect.arrayContaining(["kind/component", "category/infrastructure", "azure", "kms"]));
        expect(schema.repository).toMatch(/^https:\/\/github\.com\/[^/]+\/azure-kms-activation$/);
        expect(schema.homepage).toMatch(/^https:\/\//);
    });

    test("has the five components", () => {
        expect(Object.keys(schema.resources).sort()).toEqual(["KmsActivation", "KmsEgressRules", "KmsFirewallRules", "KmsNetwork", "KmsWindowsVm"].map(TOKEN));
        for (const resource of Object.values<any>(schema.resources)) {
            expect(resource.isComponent).toBe(true);
        }
    });

    test.each([
        ["AzureCloud", ["AzurePublic", "AzureUSGovernment", "AzureChina"]],
        ["KmsHostForm", ["DnsName", "IpAddress"]],
        ["ActivationMechanism", ["CustomScriptExtension", "RunCommand"]],
        ["ExplicitOutbound", ["NatGateway", "None"]],
        ["PrivateSubnetCheck", ["Warn", "Error", "Off"]],
        ["ActivationStatus", ["activated", "licensed", "pending", "error", "skipped", "unknown"]],
        ["WindowsLicenseType", ["Windows_Server", "Windows_Client"]],
    ])("enum %s with its values", (name, values) => {
        expect(schema.types[TOKEN(name)].enum.map((e: { value: string }) => e.value)).toEqual(values);
    });

    test.each([
        ["KmsEgressRules", ["resourceGroupName"]],
        ["KmsFirewallRules", ["resourceGroupName", "firewallPolicyName", "sourceAddresses"]],
        ["KmsNetwork", ["resourceGroupName"]],
        // vmName or vmScaleSetName: one of the two, checked by the component.
        ["KmsActivation", ["resourceGroupName"]],
        ["KmsWindowsVm", ["resourceGroupName", "subnetId"]],
    ])("%s requires exactly %j", (name, required) => {
        expect([...schema.resources[TOKEN(name)].requiredInputs].sort()).toEqual([...required].sort());
    });

    test.each([
        ["KmsEgressRules", ["routeIds", "securityRuleId", "egressRuleIds", "kmsAddressPrefixes"]],
        ["KmsFirewallRules", ["ruleCollectionGroupId", "ruleCollectionGroupName", "egressRuleIds", "kmsAddressPrefixes"]],
        ["KmsNetwork", ["virtualNetworkId", "subnetId", "routeTableId", "networkSecurityGroupId", "natGatewayId", "kmsHostForm", "egressRuleIds", "cloud"]],
        ["KmsActivation", ["kmsEndpoint", "keySource", "scriptFingerprint", "activationResourceId", "activationStatus", "activationResult"]],
        ["KmsWindowsVm", ["virtualMachineId", "networkInterfaceId", "privateIpAddress", "kmsEndpoint", "keySource", "activationResourceId", "activationStatus", "activationResult"]],
    ])("%s outputs the design's outputs", (name, outputs) => {
        expect(Object.keys(schema.resources[TOKEN(name)].properties)).toEqual(expect.arrayContaining(outputs));
    });

    test("enums and plain choices stay plain; the rest are Inputs", () => {
        const vm = schema.resources[TOKEN("KmsWindowsVm")].inputProperties;
        expect(vm.mechanism.$ref).toBe(`#/types/${TOKEN("ActivationMechanism")}`);
        expect(vm.cloud.$ref).toBe(`#/types/${TOKEN("AzureCloud")}`);
        expect(vm.image.$ref).toBe(`#/types/${TOKEN("MarketplaceImage")}`);
        expect(vm.adminPassword.type).toBe("string");
        expect(vm.readActivationResult).toMatchObject({ type: "boolean", optional: true });
        expect(vm.readActivationResult.plain).toBeUndefined();
    });

    test("the outcome outputs: a status enum, and the result object typed to its nested objects", () => {
        for (const name of ["KmsActivation", "KmsWindowsVm"]) {
            const properties = schema.resources[TOKEN(name)].properties;
            expect(properties.activationStatus.$ref).toBe(`#/types/${TOKEN("ActivationStatus")}`);
            expect(properties.activationResult).toMatchObject({ $ref: `#/types/${TOKEN("ActivationResult")}`, optional: true });
            expect(schema.resources[TOKEN(name)].required).toEqual(expect.arrayContaining(["activationStatus"]));
        }
        const result = schema.types[TOKEN("ActivationResult")].properties;
        expect(result.status.type).toBe("string");
        expect(result.codes).toMatchObject({ type: "array", items: { type: "string" } });
        expect(result.os.$ref).toBe(`#/types/${TOKEN("GuestOs")}`);
        expect(result.probe.$ref).toBe(`#/types/${TOKEN("GuestProbe")}`);
        expect(result.after.$ref).toBe(`#/types/${TOKEN("GuestLicence")}`);
    });

    test("every input, output, object property and enum value has a description (it becomes every SDK's documentation)", () => {
        const missing: string[] = [];
        for (const [token, resource] of Object.entries<any>(schema.resources)) {
            for (const section of ["inputProperties", "properties"]) {
                for (const [name, property] of Object.entries<any>(resource[section] ?? {})) {
                    if (!property.description) missing.push(`${token} ${section}.${name}`);
                }
            }
        }
        for (const [token, type] of Object.entries<any>(schema.types)) {
            for (const [name, property] of Object.entries<any>(type.properties ?? {})) {
                if (!property.description) missing.push(`${token}.${name}`);
            }
            for (const value of type.enum ?? []) {
                if (!value.description) missing.push(`${token} = ${value.value}`);
            }
        }
        expect(missing).toEqual([]);
    });
});

describe("construct through the component provider", () => {
    const SUBNET = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/vms`;
    const cases: [string, Record<string, unknown>][] = [
        ["KmsEgressRules", { resourceGroupName: "rg", routeTableName: "rt", networkSecurityGroupName: "nsg", cloud: "AzureChina" }],
        ["KmsFirewallRules", { resourceGroupName: "rg", firewallPolicyName: "fwp", sourceAddresses: ["10.20.0.0/16"], cloud: "AzureUSGovernment", ruleCollectionGroupPriority: 300 }],
        ["KmsNetwork", { resourceGroupName: "rg", dnsServers: ["10.0.0.4"], outbound: "NatGateway" }],
        ["KmsActivation", { resourceGroupName: "rg", vmName: "vm-01", mechanism: "RunCommand", kmsHostForm: "IpAddress" }],
        ["KmsWindowsVm", { resourceGroupName: "rg", subnetId: SUBNET, adminUsername: "kmsadmin", adminPassword: "Correct-Horse-7-Battery", privateSubnetCheck: "Off" }],
    ];

    test.each(cases)("%s: the same children as the TypeScript constructor", async (name, inputs) => {
        const snapshot = () => JSON.stringify(t.h.registrations.map((r) => [r.type, r.name, r.parentUrn, r.inputs]).sort());
        new (t.m as any)[name]("same", inputs);
        await t.h.settle();
        const direct = snapshot();
        t.h.reset();
        (await import("../src/network/ownership")).forgetEgressClaims();
        const constructed = await provider.construct("same", TOKEN(name), inputs as any, {});
        await t.h.settle();
        expect(snapshot()).toBe(direct);
        expect(t.h.custom().length).toBeGreaterThan(0);
        expect(Object.keys(constructed.state)).toEqual(expect.arrayContaining(Object.keys(schema.resources[TOKEN(name)].properties).filter((k) => !["privateIpAddress", "natGatewayId", "securityRuleId", "activationResult"].includes(k))));
    }, 60000);
});
