import { spawnSync } from "child_process";
import * as fc from "fast-check";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { errorOf, guestArguments, guestSettings, mockedPackage, plainStrings, SUBSCRIPTION } from "../harness";
import { decodeSettings } from "../../src/guest/render";
import { expectedPrefix, hostileCases } from "./cases";
import * as validate from "../../src/validate";
import { renderActivationScript } from "../../src/guest/render";

const t = mockedPackage(() => ({}));
const ROOT = path.join(__dirname, "..", "..");

describe("hostile input, plain values: refused at construction, naming component and field", () => {
    test("at least 40 cases, over all five components", () => {
        const perComponent: Record<string, number> = {};
        for (const c of hostileCases) {
            perComponent[c.component] = (perComponent[c.component] ?? 0) + 1;
        }
        expect(hostileCases.length).toBeGreaterThanOrEqual(40);
        expect(Object.keys(perComponent).sort()).toEqual(["KmsActivation", "KmsEgressRules", "KmsFirewallRules", "KmsNetwork", "KmsWindowsVm"]);
        process.stdout.write(`hostile cases per component: ${JSON.stringify(perComponent)}, ${hostileCases.filter((c) => c.input).length} also as Outputs\n`);
    });

    test.each(hostileCases.map((c, i) => [`${c.component}.${c.field} = ${JSON.stringify(c.value)}`, c, i] as const))("%s", (_label, c, i) => {
        const name = `h${i}`;
        const error = errorOf(() => c.make(t.m, name, c.value));
        expect(error).toBeInstanceOf(validate.KmsInputError);
        expect(error.message).toMatch(new RegExp(`^${expectedPrefix(c, name).source}`));
        if (c.secret) {
            expect(error.message).not.toContain(String(c.value));
        }
        // Nothing was half-built: the refusal came before the first Azure resource.
        expect(t.h.custom()).toEqual([]);
    });
});

describe("hostile input inside Outputs: refused when the value resolves, with the same naming", () => {
    let errors: Record<string, string[]>;
    beforeAll(() => {
        // The refused registrations leave promises behind, so Pulumi's exit hook makes the exit code 1: read stdout.
        const run = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, "outputs.ts")], { cwd: ROOT, encoding: "utf8" });
        errors = JSON.parse(run.stdout);
    }, 120000);

    test.each(hostileCases.map((c, i) => [`${c.component}.${c.field} = Output(${JSON.stringify(c.value)})`, c, i] as const).filter(([, c]) => c.input))("%s", (_label, c, i) => {
        const messages = errors[`h${i}`] ?? [];
        expect(messages.some((message) => expectedPrefix(c, `h${i}`).test(message))).toBe(true);
        if (c.secret) {
            expect(messages.join("\n")).not.toContain(String(c.value));
        }
    });

    test("a second KmsEgressRules on a KmsNetwork's route table is found once the name resolves", () => {
        expect(errors["h-dup"]?.join("\n")).toMatch(/routeTableName: route table "dup-routes" in resource group "rg" already gets the KMS egress from KmsEgressRules "(dup-kms|h-dup)"/);
    });

    test("a second KmsFirewallRules on a rule collection group is found once the policy name resolves", () => {
        expect(errors["h-fwdup"]?.join("\n")).toMatch(
            /^KmsFirewallRules "fwdup-first": ruleCollectionGroupName: rule collection group "kms-activation" of firewall policy "fwp-dup" in resource group "rg" already belongs to KmsFirewallRules "h-fwdup"/,
        );
    });

    test("a second activation of one VM, found when the names resolve (Azure names compare case-insensitively)", () => {
        expect(errors["h-dup-vm"]?.join("\n")).toMatch(
            /^KmsActivation "h-dup-vm": vmName: VM "Shared-01" in resource group "RG" is already activated by KmsWindowsVm "first-vm" \(Azure allows one CustomScriptExtension per VM/,
        );
    });

    test("nothing failed without naming its component", () => {
        expect(errors.unattributed).toBeUndefined();
    });
});

describe("property: what is accepted is in its strict form and reaches the guest only as a quoted literal", () => {
    // Arbitrary Unicode, plus near-misses of each strict form, so both acceptance and refusal are exercised.
    const anyText = fc.oneof(
        fc.string({ unit: "binary", maxLength: 40 }),
        fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,20}$/),
        fc.stringMatching(/^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$/),
        fc.stringMatching(/^[A-Za-z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9$' ]{5}$/),
    );
    const accepts = (check: () => void) => {
        try {
            check();
            return true;
        } catch {
            return false;
        }
    };
    const args = guestArguments;

    test("hosts", () => {
        fc.assert(
            fc.property(anyText, (host) => {
                fc.pre(accepts(() => validate.hostName("host", host)));
                expect(host).toMatch(/^[A-Za-z0-9.-]{1,253}$/);
                const rendered = renderActivationScript({ customKmsServer: { host, addressPrefixes: ["10.0.0.1/32"] } });
                expect(guestSettings(rendered.commandToExecute).kmsHosts).toEqual([host]);
                expect(decodeSettings(rendered.parameters[0].value).kmsHosts).toEqual([host]);
                expect(rendered.parameters[0].value).toMatch(/^[0-9a-f]+$/);
            }),
            { numRuns: 300 },
        );
    });

    test("product keys", () => {
        fc.assert(
            fc.property(anyText, (key) => {
                fc.pre(accepts(() => validate.productKey("productKey", key)));
                expect(key).toMatch(/^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$/);
                const rendered = renderActivationScript({ productKey: key });
                expect(args(rendered.commandToExecute).endsWith(`ProductKey='${key}'`)).toBe(true);
                expect(JSON.stringify(rendered.parameters)).not.toContain(key);
            }),
            { numRuns: 300 },
        );
    });

    test("rerun tokens and image SKUs", () => {
        fc.assert(
            fc.property(anyText, (text) => {
                if (accepts(() => validate.rerunToken("rerunToken", text))) {
                    expect(text).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
                    expect(guestSettings(renderActivationScript({ rerunToken: text }).commandToExecute).runTag).toBe(text);
                }
                if (accepts(() => validate.imageSku("imageSku", text))) {
                    expect(text).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/);
                }
            }),
            { numRuns: 300 },
        );
    });

    test("no accepted value can break out of its quotes: the argument list parses back to the same values", () => {
        fc.assert(
            fc.property(anyText, anyText, (host, token) => {
                fc.pre(accepts(() => validate.hostName("h", host)) && accepts(() => validate.rerunToken("r", token)));
                const command = renderActivationScript({ customKmsServer: { host, addressPrefixes: ["10.0.0.1/32"] }, rerunToken: token, productKey: "ABCDE-FGHJK-MNPQR-STVWX-YZ234" }).commandToExecute;
                // Three single-quoted literals and no other quote: the settings JSON (none in it), 'x2' and the key.
                expect(args(command).match(/'/g)).toHaveLength(6);
                expect(guestSettings(command)).toMatchObject({ kmsHosts: [host], runTag: token });
            }),
            { numRuns: 200 },
        );
    });
});

describe("brownfield safety", () => {
    test("a second KmsEgressRules on the same route table is a clear error (names are case-insensitive in Azure)", () => {
        new t.m.KmsEgressRules("first", { resourceGroupName: "rg-hub", routeTableName: "rt-spoke" });
        expect(() => new t.m.KmsEgressRules("second", { resourceGroupName: "RG-HUB", routeTableName: "RT-SPOKE" })).toThrow(
            'KmsEgressRules "second": routeTableName: route table "RT-SPOKE" in resource group "RG-HUB" already gets the KMS egress from KmsEgressRules "first" (Azure rejects the same route prefix twice); keep one KmsEgressRules per route table',
        );
    });

    test("a second KmsEgressRules on the same NSG is a clear error; other tables and groups are fine", () => {
        new t.m.KmsEgressRules("a", { resourceGroupName: "rg", networkSecurityGroupName: "nsg-1" });
        new t.m.KmsEgressRules("b", { resourceGroupName: "rg", networkSecurityGroupName: "nsg-2" });
        new t.m.KmsEgressRules("c", { resourceGroupName: "rg-other", networkSecurityGroupName: "nsg-1" });
        expect(() => new t.m.KmsEgressRules("d", { resourceGroupName: "rg", networkSecurityGroupName: "nsg-1" })).toThrow(/^KmsEgressRules "d": networkSecurityGroupName: NSG "nsg-1"/);
    });

    test("adding to an existing table and NSG creates only standalone children", async () => {
        new t.m.KmsEgressRules("spoke", { resourceGroupName: "rg", routeTableName: "rt", networkSecurityGroupName: "nsg" });
        await t.h.settle();
        expect([...new Set(t.h.custom().map((r) => r.type))].sort()).toEqual(["azure-native:network:Route", "azure-native:network:SecurityRule"]);
    });

    test("KmsNetwork: one KMS rule per NSG, whatever the options: no priority can collide", async () => {
        new t.m.KmsNetwork("n1", { resourceGroupName: "rg" });
        new t.m.KmsNetwork("n2", { resourceGroupName: "rg", customKmsServer: { host: "10.0.0.5", addressPrefixes: ["10.0.0.5/32"] }, securityRulePriority: 300 });
        await t.h.settle();
        const rules = t.h.ofType("azure-native:network:SecurityRule");
        const perNsg = rules.map((r) => `${r.inputs.networkSecurityGroupName}/${r.inputs.direction}/${r.inputs.priority}`);
        expect(perNsg.sort()).toEqual(["n1-nsg/Outbound/100", "n2-nsg/Outbound/300"]);
    });
});

describe("secrets and stability", () => {
    const SUBNET = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/vms`;
    const PASSWORD = "Correct-Horse-7-Battery";
    // The KMS client key of the default image (Windows Server 2022 Datacenter: Azure Edition): any other is refused.
    const KEY = "NTBV8-9K7Q8-V27C6-M2BTV-KHMXV";

    test("password and keys never in plain inputs or outputs, for every component and mechanism", async () => {
        new t.m.KmsEgressRules("e", { resourceGroupName: "rg", routeTableName: "rt", networkSecurityGroupName: "nsg" });
        new t.m.KmsNetwork("n", { resourceGroupName: "rg" });
        new t.m.KmsActivation("a1", { resourceGroupName: "rg", vmName: "vm-1", productKey: KEY });
        new t.m.KmsActivation("a2", { resourceGroupName: "rg", vmName: "vm-2", productKey: pulumi.secret(KEY), mechanism: t.m.ActivationMechanism.RunCommand });
        new t.m.KmsWindowsVm("w1", { resourceGroupName: "rg", subnetId: SUBNET, adminUsername: "kmsadmin", adminPassword: PASSWORD, productKey: KEY });
        new t.m.KmsWindowsVm("w2", { resourceGroupName: "rg", subnetId: SUBNET, adminUsername: "kmsadmin", adminPassword: pulumi.secret(PASSWORD), mechanism: t.m.ActivationMechanism.RunCommand });
        await t.h.settle();
        const leaks = t.h.registrations.flatMap((r) => plainStrings(r.inputs).filter((s) => s.includes(PASSWORD) || s.includes(KEY)).map((s) => `${r.name}: ${s.slice(0, 40)}`));
        expect(leaks).toEqual([]);
        expect([...t.h.componentOutputs.values()].map((o) => JSON.stringify(o)).filter((s) => s.includes(PASSWORD) || s.includes(KEY))).toEqual([]);
        // The guest command is a secret, always.
        for (const ext of t.h.ofType("azure-native:compute:VirtualMachineExtension")) {
            expect(plainStrings(ext.inputs.protectedSettings)).toEqual([]);
        }
    });

    test("changing activation options never changes the VM's own inputs (no replacement)", async () => {
        const vmInputs = async (options: object) => {
            t.h.reset();
            new t.m.KmsWindowsVm("stable", { resourceGroupName: "rg", subnetId: SUBNET, adminUsername: "kmsadmin", adminPassword: PASSWORD, ...options });
            await t.h.settle();
            return JSON.stringify(t.h.registrations.filter((r) => /:(VirtualMachine|NetworkInterface)$/.test(r.type)).map((r) => [r.type, r.inputs]));
        };
        const base = await vmInputs({});
        for (const options of [
            { kmsHostForm: t.m.KmsHostForm.IpAddress },
            { rerunToken: "2" },
            { mechanism: t.m.ActivationMechanism.RunCommand },
            { productKey: KEY },
            { configureGuestFirewall: false, failOnActivationError: true },
            { cloud: t.m.AzureCloud.AzureChina },
            { customKmsServer: { host: "kms.contoso.com", addressPrefixes: ["10.9.0.1/32"] } },
        ]) {
            expect(await vmInputs(options)).toBe(base);
        }
    });

    test("the same args give identical inputs on two runs, for every component", async () => {
        const program = () => {
            new t.m.KmsEgressRules("e", { resourceGroupName: "rg", routeTableName: "rt", networkSecurityGroupName: "nsg", subnetId: SUBNET });
            new t.m.KmsNetwork("n", { resourceGroupName: "rg", dnsServers: ["10.0.0.4"] });
            new t.m.KmsActivation("a", { resourceGroupName: "rg", vmName: "vm-1", productKey: KEY });
            new t.m.KmsWindowsVm("w", { resourceGroupName: "rg", subnetId: SUBNET, adminUsername: "kmsadmin", adminPassword: PASSWORD });
        };
        const snapshot = () => JSON.stringify([...t.h.registrations].sort((a, b) => a.urn.localeCompare(b.urn)).map((r) => [r.urn, r.inputs, [...r.dependencies].sort()]));
        program();
        await t.h.settle();
        const first = snapshot();
        t.h.reset();
        (await import("../../src/network/ownership")).forgetEgressClaims();
        program();
        await t.h.settle();
        expect(snapshot()).toBe(first);
    });
});
