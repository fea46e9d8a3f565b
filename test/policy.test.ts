import { EnforcementLevel, PolicyPack } from "@pulumi/policy/policy";
import * as fs from "fs";
import * as path from "path";
import { kmsEndpoint } from "../src/kms/endpoints";
import { createKmsActivationPolicies, kmsActivationPolicies, KmsActivationPolicy, KmsPolicyName, KmsPolicyNames, kmsPolicyConfigSchema } from "../src/policy";
import { parseIpv4, parseIpv4Prefix, prefixContains, prefixesOverlap, samePrefix } from "../src/policy/cidr";
import { UNKNOWN, and, get, list, numberAt, or, text } from "../src/policy/props";
import { AzureCloud } from "../src/types";
import { KmsInputError } from "../src/validate";
import { UNKNOWN_VALUE, preview, resource, runResource, runStack } from "./policy-args";
import { K1, K2, base, kmsRoutes, route, table, tunnel } from "./reachability-cases";
import { stackOf } from "./reachability-stack";

jest.mock("@pulumi/policy/policy", () => ({ ...jest.requireActual("@pulumi/policy/policy"), PolicyPack: jest.fn() }));

const NAMES: KmsPolicyName[] = ["kms-reachability", "kms-reachability-unverified", "kms-subnet-reachability", "kms-windows-vm-activation"];
const ALL_NAMES: KmsPolicyName[] = [...NAMES, "kms-nsg-allow-least-privilege"];
const byName = (policies: KmsActivationPolicy[], name: string) => policies.find((p) => p.name === name) as KmsActivationPolicy;

describe("the pack", () => {
    test("four policies by default, the hygiene policy on request, in a fixed order, named kms-<kebab-case>", () => {
        expect(kmsActivationPolicies.map((p) => p.name)).toEqual(NAMES);
        expect(createKmsActivationPolicies({ hygiene: true }).map((p) => p.name)).toEqual(ALL_NAMES);
        expect(Object.values(KmsPolicyNames)).toEqual(ALL_NAMES);
        expect(kmsActivationPolicies.every((p) => /^kms(-[a-z0-9]+)+$/.test(p.name))).toBe(true);
    });

    test("each has a description, remediation steps and the KMS config schema; stack policies where resources meet", () => {
        const all = createKmsActivationPolicies({ hygiene: true });
        for (const p of all) {
            expect(p.description.length).toBeGreaterThan(40);
            expect((p.remediationSteps ?? "").length).toBeGreaterThan(40);
            expect(p.configSchema).toBe(kmsPolicyConfigSchema);
        }
        expect(all.map((p) => ("validateStack" in p ? "stack" : "resource"))).toEqual(["stack", "stack", "stack", "stack", "resource"]);
    });

    test("the config schema: cloud, kmsIpAddresses, customKmsServer, subnetsWithoutWindows; no defaults (they would override code options); enforcementLevel left to Pulumi", () => {
        const props = kmsPolicyConfigSchema.properties;
        expect(Object.keys(props)).toEqual(["cloud", "kmsIpAddresses", "customKmsServer", "subnetsWithoutWindows"]);
        expect(props.cloud.enum).toEqual(["AzurePublic", "AzureUSGovernment", "AzureChina"]);
        expect(Object.keys(props.customKmsServer.properties ?? {})).toEqual(["host", "port", "addressPrefixes"]);
        expect(props.customKmsServer.required).toEqual(["host", "addressPrefixes"]);
        expect(JSON.stringify(kmsPolicyConfigSchema)).not.toMatch(/"default"|enforcementLevel/);
    });

    test("enforcement is advisory by default and can be set per policy", () => {
        expect(kmsActivationPolicies.map((p) => p.enforcementLevel)).toEqual(NAMES.map(() => "advisory"));
        const levels: Partial<Record<KmsPolicyName, EnforcementLevel>> = {
            "kms-reachability": "mandatory",
            "kms-nsg-allow-least-privilege": "disabled",
        };
        const custom = createKmsActivationPolicies({ enforcementLevels: levels, hygiene: true });
        expect(custom.map((p) => p.enforcementLevel)).toEqual(["mandatory", "advisory", "advisory", "advisory", "disabled"]);
        const round2 = createKmsActivationPolicies({ enforcementLevels: { "kms-reachability-unverified": "mandatory", "kms-subnet-reachability": "disabled" } });
        expect(round2.map((p) => [p.name, p.enforcementLevel])).toEqual([
            ["kms-reachability", "advisory"],
            ["kms-reachability-unverified", "mandatory"],
            ["kms-subnet-reachability", "disabled"],
            ["kms-windows-vm-activation", "advisory"],
        ]);
    });

    test.each([
        [{ cloud: "AzureGermany" as AzureCloud }, 'createKmsActivationPolicies: cloud: "AzureGermany" is not allowed; use one of AzurePublic, AzureUSGovernment, AzureChina'],
        [{ kmsIpAddresses: ["20.118.99.300"] }, 'createKmsActivationPolicies: kmsIpAddresses[0]: "20.118.99.300" is not an IPv4 address; give dotted decimal such as 10.0.0.4'],
        [{ customKmsServer: { host: "kms.contoso.com", addressPrefixes: ["10.0.0.0/33"] } }, 'createKmsActivationPolicies: customKmsServer.addressPrefixes[0]: "10.0.0.0/33" is not an IPv4 CIDR prefix; give address/bits such as 10.0.0.0/24'],
        [{ enforcementLevels: { "kms-route-table-internet-routes": "mandatory" } as never }, 'createKmsActivationPolicies: enforcementLevels: "kms-route-table-internet-routes" is not allowed; use one of ' + ALL_NAMES.join(", ")],
        [{ enforcementLevels: { "kms-windows-vm-activation": "strict" } as never }, 'createKmsActivationPolicies: enforcementLevels.kms-windows-vm-activation: "strict" is not allowed; use one of advisory, mandatory, remediate, disabled'],
    ])("bad options fail when the pack loads, naming the field (%#)", (options, expected) => {
        expect(() => createKmsActivationPolicies(options)).toThrow(new KmsInputError(expected));
    });

    test("a bad policy config fails the run, naming the policy and the field", async () => {
        await expect(runStack(byName(kmsActivationPolicies, "kms-reachability"), [], { cloud: "AzureGermany" })).rejects.toThrow(
            'policy config of kms-reachability: cloud: "AzureGermany" is not allowed; use one of AzurePublic, AzureUSGovernment, AzureChina',
        );
        const leastPrivilege = byName(createKmsActivationPolicies({ hygiene: true }), "kms-nsg-allow-least-privilege");
        await expect(runResource(leastPrivilege, "azure-native:network:SecurityRule", {}, { kmsIpAddresses: [] })).rejects.toThrow(
            "policy config of kms-nsg-allow-least-privilege: kmsIpAddresses: must be a non-empty list",
        );
    });

    test("the policy config, when it names the KMS, replaces the code options as a whole", async () => {
        const coded = byName(createKmsActivationPolicies({ kmsIpAddresses: ["1.2.3.4"], hygiene: true }), "kms-nsg-allow-least-privilege");
        const rule = { direction: "Outbound", access: "Allow", destinationPortRange: "1688", destinationAddressPrefix: "1.2.3.4", securityRuleName: "r" };
        expect(await runResource(coded, "azure-native:network:SecurityRule", rule)).toEqual([]);
        expect(await runResource(coded, "azure-native:network:SecurityRule", rule, { enforcementLevel: undefined })).toEqual([]);
        const china = await runResource(coded, "azure-native:network:SecurityRule", rule, { cloud: "AzureChina" });
        expect(china).toHaveLength(1);
        expect(china[0]).toContain(`wider than the KMS addresses ${kmsEndpoint(AzureCloud.AzureChina).ipAddresses.join(", ")} (AzureChina)`);
    });

    test("arguments without getConfig (hand-built elsewhere) use the code options", async () => {
        const reachability = byName(kmsActivationPolicies, "kms-reachability");
        const report = jest.fn();
        const validate = (reachability as { validateStack: (args: object, report: jest.Mock) => void }).validateStack;
        validate({ resources: stackOf(base({ routeTable: table(tunnel("VirtualNetworkGateway")) })) }, report);
        expect(report).toHaveBeenCalledTimes(1);
    });

    test("the options are copied: changing them later changes nothing", async () => {
        const options = { kmsIpAddresses: ["1.2.3.4"], enforcementLevels: {} as Partial<Record<KmsPolicyName, EnforcementLevel>> };
        const policies = createKmsActivationPolicies(options);
        options.kmsIpAddresses.push("5.6.7.8");
        options.enforcementLevels["kms-reachability"] = "mandatory";
        const stack = stackOf(base({ routeTable: table(tunnel("VirtualNetworkGateway"), route("k", "1.2.3.4/32", "Internet")) }));
        expect(await runStack(policies[0], stack)).toEqual([]);
        expect(policies[0].enforcementLevel).toBe("advisory");
    });

    test("examples/policy-pack builds the pack azure-kms-activation from kmsActivationPolicies", async () => {
        await import("../examples/policy-pack");
        expect(PolicyPack).toHaveBeenCalledTimes(1);
        expect(PolicyPack).toHaveBeenCalledWith("azure-kms-activation", { policies: kmsActivationPolicies });
        const yaml = fs.readFileSync(path.join(__dirname, "../examples/policy-pack/PulumiPolicy.yaml"), "utf8");
        expect(yaml).toMatch(/^runtime: nodejs$/m);
        expect(yaml).toMatch(/^description: \S/m);
        // The pack's own text is current: no retired policy's subject, no repository-only path.
        const readme = fs.readFileSync(path.join(__dirname, "../examples/policy-pack/README.md"), "utf8");
        expect(yaml).not.toMatch(/forced-tunnel routes|private subnets/);
        expect(readme).not.toMatch(/`src\/|uses the repository/);
    });

    test("the example README names every policy and quotes exactly what each reports", async () => {
        const readme = fs.readFileSync(path.join(__dirname, "../examples/policy-pack/README.md"), "utf8");
        for (const name of ALL_NAMES) {
            expect(readme).toContain(`\`${name}\``);
        }
        const quoted = readme.split("\n").filter((l) => l.startsWith("> ")).map((l) => l.slice(2));
        const [reachability, unverified, subnets, vm, leastPrivilege] = ALL_NAMES.map((n) => byName(createKmsActivationPolicies({ hygiene: true }), n));
        const spoke = stackOf(base({ vmName: "vm-app-01", routeTable: table(tunnel("VirtualNetworkGateway"), ...kmsRoutes([K1, K2])) }));
        const nva = stackOf(base({ vmName: "vm-app-01", routeTable: table(tunnel()) }));
        const networkOnly = stackOf(base({ subnetName: "snet-spoke", routeTable: table(tunnel("VirtualNetworkGateway")) })).filter((r) => r.type.includes(":network:") && !r.type.endsWith("NetworkInterface"));
        const produced = [
            ...(await runStack(reachability, spoke)),
            ...(await runStack(unverified, nva)),
            ...(await runStack(subnets, networkOnly)),
            ...(await runStack(vm, [resource("azure-native:compute:VirtualMachine", "vm", { vmName: "vm-app-01", storageProfile: { osDisk: { osType: "Windows" } } })])),
        ].map((v) => v.message);
        const rule = { securityRuleName: "allow-kms", networkSecurityGroupName: "nsg-spoke", priority: 100, direction: "Outbound", access: "Allow", protocol: "Tcp", destinationPortRange: "1688", destinationAddressPrefix: "*" };
        produced.push(...(await runResource(leastPrivilege, "azure-native:network:SecurityRule", rule)));
        expect(quoted).toEqual(produced);
    });
});


describe("IPv4 prefixes", () => {
    test.each([
        ["0.0.0.0", 0],
        ["255.255.255.255", 4294967295],
        ["20.118.99.224", 343303136],
    ])("parseIpv4(%s)", (ip, n) => expect(parseIpv4(ip)).toBe(n));

    test.each(["256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "a.b.c.d", "", "::1"])("parseIpv4 refuses %j", (ip) => expect(parseIpv4(ip)).toBeUndefined());

    test("parseIpv4Prefix: a bare address is a /32; host bits are cleared; junk and IPv6 are not prefixes", () => {
        expect(parseIpv4Prefix("20.118.99.224")).toEqual({ network: 343303136, bits: 32 });
        expect(parseIpv4Prefix(" 10.1.2.3/8 ")).toEqual({ network: 167772160, bits: 8 });
        expect(parseIpv4Prefix("0.0.0.0/0")).toEqual({ network: 0, bits: 0 });
        expect(parseIpv4Prefix("255.255.255.255/1")).toEqual({ network: 2147483648, bits: 1 });
        for (const bad of ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/8/8", "10.0.0.0/x", "Internet", "*", "::/0", "2001:db8::/32", "10.0.0/8"]) {
            expect(parseIpv4Prefix(bad)).toBeUndefined();
        }
    });

    const p = (s: string) => parseIpv4Prefix(s)!;
    test.each([
        ["0.0.0.0/0", "20.118.99.224/32", true],
        ["20.0.0.0/8", "20.118.99.224", true],
        ["20.118.99.224/32", "20.118.99.224/32", true],
        ["20.118.99.224/32", "20.118.99.0/24", false],
        ["20.118.99.225/32", "20.118.99.224/32", false],
        ["128.0.0.0/1", "23.102.135.246/32", false],
        ["0.0.0.0/1", "23.102.135.246/32", true],
        ["10.50.0.0/28", "10.50.0.15/32", true],
        ["10.50.0.0/28", "10.50.0.16/32", false],
    ])("prefixContains(%s, %s) is %s", (outer, inner, expected) => expect(prefixContains(p(outer), p(inner))).toBe(expected));

    test("prefixesOverlap is containment either way; samePrefix compares the set", () => {
        expect(prefixesOverlap(p("10.50.0.8/30"), p("10.50.0.0/28"))).toBe(true);
        expect(prefixesOverlap(p("10.50.0.0/28"), p("10.50.0.8/30"))).toBe(true);
        expect(prefixesOverlap(p("10.50.0.16/30"), p("10.50.0.0/28"))).toBe(false);
        expect(samePrefix(p("10.1.2.3/24"), p("10.1.2.0/24"))).toBe(true);
        expect(samePrefix(p("10.1.2.0/24"), p("10.1.2.0/25"))).toBe(false);
    });

    test("every KMS IP of every cloud parses as a /32", () => {
        for (const cloud of Object.values(AzureCloud)) {
            for (const ip of kmsEndpoint(cloud).ipAddresses) {
                expect(parseIpv4Prefix(ip)?.bits).toBe(32);
            }
        }
    });
});

describe("reading properties that may be unknown", () => {
    test("an unknown value read through the engine's proxy becomes UNKNOWN, at any depth; missing stays undefined", () => {
        const props = preview({ a: UNKNOWN_VALUE, b: { c: UNKNOWN_VALUE, d: "x" }, e: [1, UNKNOWN_VALUE], n: "42" });
        expect(get(props, "a")).toBe(UNKNOWN);
        expect(get(props, "a", "deeper")).toBe(UNKNOWN);
        expect(get(props, "b", "c")).toBe(UNKNOWN);
        expect(get(props, "b", "d")).toBe("x");
        expect(get(props, "missing", "deeper")).toBeUndefined();
        expect(list(get(props, "e"))).toEqual([1, UNKNOWN]);
        expect(numberAt(props, "n")).toBe(42);
        expect(numberAt(props, "a")).toBe(UNKNOWN);
        expect(numberAt(props, "b")).toBeUndefined();
    });

    test("text and list accept only their kind", () => {
        expect(text(7)).toBe("7");
        expect(text({})).toBeUndefined();
        expect(list("x")).toBeUndefined();
        expect(list(UNKNOWN)).toBe(UNKNOWN);
    });

    test("and/or are three-valued: undefined is 'cannot tell'", () => {
        expect(and(true, undefined)).toBeUndefined();
        expect(and(false, undefined)).toBe(false);
        expect(and(true, true)).toBe(true);
        expect(or(false, undefined)).toBeUndefined();
        expect(or(true, undefined)).toBe(true);
        expect(or(false, false)).toBe(false);
    });
});
