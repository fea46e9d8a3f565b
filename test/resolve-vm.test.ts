// The VM resolvers on their own, without the mock engine (issue 29): `resolveKmsWindowsVm` and `resolveKmsActivation`
// decide everything their component builds. Properties (fast-check): a refused plain value is refused by the resolver
// with the component's message and nothing is registered; the plan is a pure function of its args; the defaults are
// the README's tables.
import * as pulumi from "@pulumi/pulumi";
import fc from "fast-check";
import { KmsActivationArgs, resolveKmsActivation } from "../src/vm/kmsActivation";
import { DEFAULT_IMAGE, KmsWindowsVmArgs, resolveKmsWindowsVm } from "../src/vm/kmsWindowsVm";
import { TRUSTED_LAUNCH } from "../src/vm/vmBaseline";
import { ActivationMechanism, AzureCloud, CustomKmsServer, KmsHostForm, PrivateSubnetCheck, WindowsLicenseType } from "../src/types";
import { KmsInputError } from "../src/validate";
import { renderActivationScript, ResolvedActivation } from "../src/guest/render";
import { deepFreeze, shape, watchResources } from "./resolve-helpers";

const SUBNET = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default";
const BASE: KmsWindowsVmArgs = { resourceGroupName: "rg-app", subnetId: SUBNET, adminUsername: "azureuser", adminPassword: "Str0ng!Passw0rd-2024" };

const resources = watchResources();

/** Valid optional args, in any combination. */
const validOptions: fc.Arbitrary<Partial<KmsWindowsVmArgs>> = fc.record(
    {
        location: fc.constantFrom("westeurope", "eastus2", "swedencentral"),
        vmName: fc.constantFrom("app-01", "web-front", "db2"),
        computerName: fc.constantFrom("APP01", "web-front"),
        vmSize: fc.constantFrom("Standard_D2s_v5", "Standard_B2ms", "Standard_E4as_v5"),
        osDiskType: fc.constantFrom("Standard_LRS", "Premium_LRS", "StandardSSD_ZRS"),
        image: fc.constantFrom(
            { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2019-datacenter" },
            { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2025-datacenter-azure-edition", version: "latest" },
            { publisher: "MicrosoftWindowsDesktop", offer: "windows-11", sku: "win11-24h2-ent" },
        ),
        licenseType: fc.constantFrom(WindowsLicenseType.Windows_Server, WindowsLicenseType.Windows_Client),
        zone: fc.constantFrom("1", "2", "3"),
        privateSubnetCheck: fc.constantFrom(PrivateSubnetCheck.Warn, PrivateSubnetCheck.Error, PrivateSubnetCheck.Off),
        cloud: fc.constantFrom(AzureCloud.AzurePublic, AzureCloud.AzureUSGovernment, AzureCloud.AzureChina),
        kmsHostForm: fc.constantFrom(KmsHostForm.DnsName, KmsHostForm.IpAddress),
        mechanism: fc.constantFrom(ActivationMechanism.CustomScriptExtension, ActivationMechanism.RunCommand),
        rerunToken: fc.constantFrom("2026-01-01", "run.7"),
        configureGuestFirewall: fc.boolean(),
        failOnActivationError: fc.boolean(),
        tags: fc.constantFrom<Record<string, string>>({ env: "prod" }, { owner: "ops", costCenter: "42" }),
    },
    { requiredKeys: [] },
);

/** One refused plain value per field, with the field the message names (the refusals are the same as before the resolvers). */
const REFUSED: [string, Partial<KmsWindowsVmArgs>][] = [
    ["resourceGroupName", { resourceGroupName: "" }],
    ["resourceGroupName", { resourceGroupName: "rg." }],
    ["subnetId", { subnetId: "default" }],
    ["location", { location: "west-europe!" }],
    ["vmName", { vmName: "app 01" }],
    ["vmSize", { vmSize: "D2s_v5" }],
    ["osDiskType", { osDiskType: "UltraSSD_LRS" }],
    ["customImageId", { customImageId: "my-image" }],
    ["computerName", { computerName: "a-name-longer-than-fifteen" }],
    ["adminUsername", { adminUsername: "administrator" }],
    ["adminPassword", { adminPassword: "password" }],
    ["licenseType", { licenseType: "Windows_Pro" as WindowsLicenseType }],
    ["zone", { zone: "4" }],
    ["privateSubnetCheck", { privateSubnetCheck: "Sometimes" as PrivateSubnetCheck }],
    ["mechanism", { mechanism: "Telepathy" as ActivationMechanism }],
    ["cloud", { cloud: "AzureMars" as AzureCloud }],
    ["kmsIpAddresses[0]", { kmsIpAddresses: ["20.118.99"] }],
    ["kmsHostForm", { kmsHostForm: "Carrier pigeon" as KmsHostForm }],
    ["rerunToken", { rerunToken: "run again" }],
    ["productKey", { productKey: "not-a-key" }],
    ["securityType", { securityType: "Confidential" as never }],
    ["dataDisks[0].lun", { dataDisks: [{ sizeGb: 128, lun: 64 }] }],
    ["userAssignedIdentityIds", { userAssignedIdentityIds: [] }],
    ["tags", { tags: { "a/b": "c" } }],
];

describe("resolveKmsWindowsVm", () => {
    test.each(REFUSED)("refuses %s as the component always did", (field, bad) => {
        let error: unknown;
        try {
            resolveKmsWindowsVm("vm", { ...BASE, ...bad });
        } catch (err) {
            error = err;
        }
        expect(error).toBeInstanceOf(KmsInputError);
        expect((error as Error).message).toMatch(new RegExp(`^KmsWindowsVm "vm": ${field.replace(/[[\]]/g, "\\$&")}: `));
    });

    test("property: with any valid options, one refused plain value is refused and nothing is registered", () => {
        fc.assert(
            fc.property(validOptions, fc.constantFrom(...REFUSED), (options, [field, bad]) => {
                // A refusal of another field may come first (the order is the component's): the message names a field.
                expect(() => resolveKmsWindowsVm("vm", { ...BASE, ...options, ...bad })).toThrow(/^KmsWindowsVm "vm": [\w.[\], ]+: /);
                resources.none();
                return field.length > 0;
            }),
            { numRuns: 150 },
        );
    });

    test("property: the plan is a pure function of the args (same args, same plan; args untouched; nothing registered)", () => {
        fc.assert(
            fc.property(validOptions, (options) => {
                const args = deepFreeze({ ...BASE, ...options });
                const before = JSON.stringify(args);
                const first = resolveKmsWindowsVm("vm", args);
                const second = resolveKmsWindowsVm("vm", args);
                expect(shape(second)).toEqual(shape(first));
                expect(JSON.stringify(args)).toBe(before);
                resources.none();
            }),
            { numRuns: 60 },
        );
    });

    test("the defaults are the README's", () => {
        const plan = resolveKmsWindowsVm("app-01", BASE);
        expect(plan.vmName).toBe("app-01");
        expect(plan.osProfile?.computerName).toBe("app-01");
        expect(plan.vmSize).toBe("Standard_D2s_v5");
        expect(plan.osDiskType).toBe("StandardSSD_LRS");
        expect(plan.os).toEqual({ kind: "marketplace", image: DEFAULT_IMAGE });
        expect(DEFAULT_IMAGE).toEqual({ publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter-azure-edition", version: "latest" });
        expect([plan.location, plan.zones, plan.licenseType, plan.tags, plan.baseline.dataDisks, plan.baseline.identity]).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
        // A Gen2 marketplace image: Trusted Launch.
        expect(plan.baseline.securityProfile).toEqual(TRUSTED_LAUNCH);
        expect(plan.subnetCheck.mode).toBe(PrivateSubnetCheck.Warn);
        expect(plan.subnetCheck.destination).toMatchObject({ host: "azkms.core.windows.net", port: 1688, custom: false });
        // Shared activation options: the provider's cloud (public when unset), DnsName, guest firewall on, no failure, the key from image.sku.
        const guest = plan.activation;
        expect(guest.cloud).toBe(AzureCloud.AzurePublic);
        expect(guest.mechanism).toBeUndefined();
        expect(guest.context).toEqual({ component: "KmsActivation", name: "app-01-activation" });
        const resolved = guest.resolved as ResolvedActivation;
        expect(resolved).toMatchObject({ kmsEndpoint: "azkms.core.windows.net:1688", keySource: "imageSku" });
        expect(resolved.settings).toMatchObject({ configureFirewall: true, failOnActivationError: false, runTag: "" });
    });

    // (The check's failure when it resolves is proven under the mock engine, test/validation.test.ts: here an
    // Output's rejected apply would surface as the process's unhandled rejection.)
    test("an Output is carried through with its check attached, and nothing is registered for it", () => {
        const plan = resolveKmsWindowsVm("vm", { ...BASE, vmSize: pulumi.output("Standard_B2ms") });
        expect(pulumi.Output.isInstance(plan.vmSize)).toBe(true);
        resources.none();
    });

    test("a VHD: no OS profile, the disk source checked, the key detected in the guest", () => {
        const vhd = { sourceUri: "https://acct.blob.core.windows.net/vhds/os.vhd", storageAccountId: "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct" };
        const plan = resolveKmsWindowsVm("vm", { resourceGroupName: "rg", subnetId: SUBNET, vhd });
        expect(plan.osProfile).toBeUndefined();
        expect(plan.os).toEqual({ kind: "vhd", source: { ...vhd, hyperVGeneration: "V1", generalized: undefined } });
        expect((plan.activation.resolved as { keySource: string }).keySource).toBe("detected");
        expect(() => resolveKmsWindowsVm("vm", { resourceGroupName: "rg", subnetId: SUBNET, vhd: { ...vhd, generalized: true } })).toThrow(/^KmsWindowsVm "vm": vhd\.generalized: a generalized \(sysprepped\) VHD/);
    });

    test("the image's SKU is the activation's imageSku, refused in the activation's name as before", () => {
        expect(() => resolveKmsWindowsVm("vm", { ...BASE, image: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022 datacenter" } })).toThrow(
            /^KmsActivation "vm-activation": imageSku: "2022 datacenter" is not a marketplace SKU/,
        );
        resources.none();
    });
});

describe("resolveKmsActivation", () => {
    const VM: KmsActivationArgs = { resourceGroupName: "rg-app", vmName: "app-01" };

    test.each<[string, Partial<KmsActivationArgs>, RegExp]>([
        ["no target", { vmName: undefined }, /^KmsActivation "a": vmName, vmScaleSetName: neither is set/],
        ["two targets", { vmScaleSetName: "vmss" }, /^KmsActivation "a": vmName, vmScaleSetName: both are set/],
        ["RunCommand on a scale set", { vmName: undefined, vmScaleSetName: "vmss", mechanism: ActivationMechanism.RunCommand }, /^KmsActivation "a": mechanism: RunCommand cannot target a scale set/],
        ["a bad VM name", { vmName: "app 01" }, /^KmsActivation "a": vmName: "app 01" is not a valid Azure resource name/],
        ["a bad location", { location: "?" }, /^KmsActivation "a": location: /],
        ["bad tags", { tags: { "a&b": "c" } }, /^KmsActivation "a": tags: tag name "a&b" contains "&"/],
        ["a key of another edition", { imageSku: "2022-datacenter-g2", productKey: "N69G4-B89J2-4G8F4-WWYCC-J464C" }, /^KmsActivation "a": productKey: is the KMS client key of Windows Server 2019 Standard, but imageSku "2022-datacenter-g2"/],
    ])("refuses %s, registering nothing", (_, bad, message) => {
        expect(() => resolveKmsActivation("a", { ...VM, ...bad })).toThrow(message);
        resources.none();
    });

    test("property: the plan is a pure function of the args", () => {
        const options = fc.record(
            {
                imageSku: fc.constantFrom("2022-datacenter", "2019-datacenter-gensecond", "unknown-sku"),
                kmsHostForm: fc.constantFrom(KmsHostForm.DnsName, KmsHostForm.IpAddress),
                cloud: fc.constantFrom(AzureCloud.AzurePublic, AzureCloud.AzureChina),
                customKmsServer: fc.constantFrom<CustomKmsServer>({ host: "kms.corp.example", addressPrefixes: ["10.50.0.10/32"] }),
                location: fc.constantFrom("westeurope"),
                rerunToken: fc.constantFrom("1", "2"),
            },
            { requiredKeys: [] },
        );
        fc.assert(
            fc.property(options, fc.boolean(), (opts, scaleSet) => {
                const args = deepFreeze<KmsActivationArgs>(scaleSet ? { resourceGroupName: "rg", vmScaleSetName: "vmss", ...opts } : { ...VM, ...opts });
                expect(shape(resolveKmsActivation("a", args))).toEqual(shape(resolveKmsActivation("a", args)));
                resources.none();
            }),
            { numRuns: 60 },
        );
    });

    test("the defaults are the README's: a VM target, the extension, the provider's cloud, the key detected without imageSku", () => {
        const plan = resolveKmsActivation("a", VM);
        expect(plan.target).toEqual({ kind: "VM", field: "vmName", name: "app-01" });
        expect(plan.location).toBeUndefined();
        expect(plan.guest.mechanism).toBeUndefined();
        expect(plan.guest.cloud).toBe(AzureCloud.AzurePublic);
        expect(plan.guest.resolved).toMatchObject({ kmsEndpoint: "azkms.core.windows.net:1688", keySource: "detected" });
        expect(plan.guest.keyParameters).toEqual([]);
        expect(resolveKmsActivation("s", { resourceGroupName: "rg", vmScaleSetName: "vmss" }).target).toEqual({ kind: "scale set", field: "vmScaleSetName", name: "vmss" });
    });
});

// resolveActivation takes its options as given; renderActivationScript, a public function, reads them itself and so
// checks them as a resolver would (the same refusals as before the checks moved out of resolveActivation).
describe("renderActivationScript checks what it reads", () => {
    test.each<[string, Parameters<typeof renderActivationScript>[0]]>([
        ["kmsIpAddresses[0]", { kmsIpAddresses: ["20.118.99"] }],
        ["customKmsServer", { customKmsServer: { host: "kms.corp.example", addressPrefixes: [] } }],
        ["kmsHostForm", { kmsHostForm: "Pigeon" as KmsHostForm }],
        ["imageSku", { imageSku: "2022 datacenter" }],
        ["rerunToken", { rerunToken: "run again" }],
    ])("refuses %s", (field, options) => {
        expect(() => renderActivationScript(options)).toThrow(new RegExp(`^${field.replace(/[[\]]/g, "\\$&")}[.:]`));
    });
});
