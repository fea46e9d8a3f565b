import * as pulumi from "@pulumi/pulumi";
import { Harness, mockPulumi, SUBSCRIPTION } from "./harness";

type Src = typeof import("../src");
type Validate = typeof import("../src/validate");
let h: Harness;
let m: Src;
let v: Validate;

beforeAll(async () => {
    h = await mockPulumi();
    m = await import("../src");
    v = await import("../src/validate");
});
afterEach(async () => {
    await h.settle();
    h.reset();
});

const SUBNET_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/vms`;
const VM = { resourceGroupName: "rg", subnetId: SUBNET_ID, adminUsername: "kmsadmin", adminPassword: "Correct-Horse-7-Battery" };
const SECRET_KEY = "ABCDE-FGHJK-MNPQR-STVWX-YZ23";
const SECRET_PASSWORD = "short1!";
// The issue's case: a long ID whose typo (virtualNetwork) sat past the 60 characters the message used to show.
const LONG_SUBNET_TYPO = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-network-prod-westeurope-001/providers/Microsoft.Network/virtualNetwork/vnet-hub-westeurope-001/subnets/workloads`;

// Each bad input, how to make it, and the start of the error the user sees: component, name, field.
const refusals: [string, () => unknown, string][] = [
    ["unknown cloud", () => new m.KmsEgressRules("e", { resourceGroupName: "rg", routeTableName: "rt", cloud: "AzureGermany" as never }), 'KmsEgressRules "e": cloud: "AzureGermany" is not allowed; use one of AzurePublic, AzureUSGovernment, AzureChina'],
    ["bad KMS IP", () => new m.KmsEgressRules("e", { resourceGroupName: "rg", routeTableName: "rt", kmsIpAddresses: ["20.118.99.300"] }), 'KmsEgressRules "e": kmsIpAddresses[0]: "20.118.99.300" is not an IPv4 address'],
    ["duplicate KMS IPs", () => new m.KmsEgressRules("e", { resourceGroupName: "rg", routeTableName: "rt", kmsIpAddresses: ["1.2.3.4", "1.2.3.4"] }), 'KmsEgressRules "e": kmsIpAddresses: has duplicate entries'],
    ["empty KMS IP list", () => new m.KmsEgressRules("e", { resourceGroupName: "rg", routeTableName: "rt", kmsIpAddresses: [] }), 'KmsEgressRules "e": kmsIpAddresses: must be a non-empty list'],
    ["NSG priority too low", () => new m.KmsEgressRules("e", { resourceGroupName: "rg", networkSecurityGroupName: "nsg", securityRulePriority: 99 }), 'KmsEgressRules "e": securityRulePriority: 99 is not an NSG rule priority; give a whole number from 100 to 4096'],
    ["route table name with a quote", () => new m.KmsEgressRules("e", { resourceGroupName: "rg", routeTableName: "rt'; drop" }), 'KmsEgressRules "e": routeTableName: "rt\'; drop" is not a valid Azure resource name'],
    ["resource group empty (given, so not 'required')", () => new m.KmsEgressRules("e", { resourceGroupName: "", routeTableName: "rt" }), 'KmsEgressRules "e": resourceGroupName: is empty; give resourceGroupName a value'],
    ["resource group missing", () => new m.KmsEgressRules("e", { resourceGroupName: undefined as never, routeTableName: "rt" }), 'KmsEgressRules "e": resourceGroupName: is required; set resourceGroupName'],
    ["subnet ID empty", () => new m.KmsWindowsVm("w", { ...VM, subnetId: "" }), 'KmsWindowsVm "w": subnetId: is empty; give subnetId a value'],
    ["custom server host with a command", () => new m.KmsEgressRules("e", { resourceGroupName: "rg", networkSecurityGroupName: "nsg", customKmsServer: { host: "kms.contoso.com;calc", addressPrefixes: ["10.0.0.1/32"] } }), 'KmsEgressRules "e": customKmsServer.host: "kms.contoso.com;calc" is not a host name or IPv4 address'],
    ["custom server without prefixes", () => new m.KmsEgressRules("e", { resourceGroupName: "rg", networkSecurityGroupName: "nsg", customKmsServer: { host: "kms.contoso.com" } as never }), 'KmsEgressRules "e": customKmsServer.addressPrefixes: is required'],
    ["custom server bad CIDR", () => new m.KmsEgressRules("e", { resourceGroupName: "rg", networkSecurityGroupName: "nsg", customKmsServer: { host: "kms.contoso.com", addressPrefixes: ["10.0.0.0/33"] } }), 'KmsEgressRules "e": customKmsServer.addressPrefixes[0]: "10.0.0.0/33" is not an IPv4 CIDR prefix'],
    ["custom server port", () => new m.KmsEgressRules("e", { resourceGroupName: "rg", networkSecurityGroupName: "nsg", customKmsServer: { host: "kms.contoso.com", port: 70000, addressPrefixes: ["10.0.0.1/32"] } }), 'KmsEgressRules "e": customKmsServer.port: 70000 is not a TCP port'],
    ["unknown outbound", () => new m.KmsNetwork("n", { resourceGroupName: "rg", outbound: "Firewall" as never }), 'KmsNetwork "n": outbound: "Firewall" is not allowed; use one of NatGateway, None'],
    ["network address space", () => new m.KmsNetwork("n", { resourceGroupName: "rg", addressPrefixes: ["10.0.0.0"] }), 'KmsNetwork "n": addressPrefixes[0]: "10.0.0.0" is not an IPv4 CIDR prefix'],
    ["DNS server", () => new m.KmsNetwork("n", { resourceGroupName: "rg", dnsServers: ["dns.contoso.com"] }), 'KmsNetwork "n": dnsServers[0]: "dns.contoso.com" is not an IPv4 address'],
    ["unknown mechanism", () => new m.KmsActivation("a", { resourceGroupName: "rg", vmName: "vm", mechanism: "Ssh" as never }), 'KmsActivation "a": mechanism: "Ssh" is not allowed; use one of CustomScriptExtension, RunCommand'],
    ["VM name with a space", () => new m.KmsActivation("a", { resourceGroupName: "rg", vmName: "my vm" }), 'KmsActivation "a": vmName: "my vm" is not a valid Azure resource name'],
    ["product key, wrong form (not echoed)", () => new m.KmsActivation("a", { resourceGroupName: "rg", vmName: "vm", productKey: SECRET_KEY }), 'KmsActivation "a": productKey: is not a product key; give five groups of five'],
    ["rerun token with PowerShell", () => new m.KmsActivation("a", { resourceGroupName: "rg", vmName: "vm", rerunToken: "$(Remove-Item C:\\)" }), 'KmsActivation "a": rerunToken: "$(Remove-Item C:\\\\)" is not a rerun token'],
    ["image SKU with a quote", () => new m.KmsActivation("a", { resourceGroupName: "rg", vmName: "vm", imageSku: "2022'" }), 'KmsActivation "a": imageSku: "2022\'" is not a marketplace SKU'],
    ["host form", () => new m.KmsActivation("a", { resourceGroupName: "rg", vmName: "vm", kmsHostForm: "Netbios" as never }), 'KmsActivation "a": kmsHostForm: "Netbios" is not allowed; use one of DnsName, IpAddress'],
    ["weak password (not echoed)", () => new m.KmsWindowsVm("w", { ...VM, adminPassword: SECRET_PASSWORD }), 'KmsWindowsVm "w": adminPassword: does not meet Azure\'s Windows password rules'],
    ["reserved admin name", () => new m.KmsWindowsVm("w", { ...VM, adminUsername: "Administrator" }), 'KmsWindowsVm "w": adminUsername: "Administrator" is reserved by Azure'],
    ["missing password", () => new m.KmsWindowsVm("w", { ...VM, adminPassword: undefined }), 'KmsWindowsVm "w": adminPassword: is required; set adminPassword'],
    ["computer name too long", () => new m.KmsWindowsVm("application-server-01", { ...VM }), 'KmsWindowsVm "application-server-01": computerName: "application-server-01" is not a Windows computer name'],
    ["two image sources", () => new m.KmsWindowsVm("w", { ...VM, image: { publisher: "p", offer: "o", sku: "s" }, customImageId: "x" }), 'KmsWindowsVm "w": image, customImageId: only one image source may be set'],
    ["credentials with a VHD", () => new m.KmsWindowsVm("w", { ...VM, vhd: { sourceUri: "https://a1b.blob.core.windows.net/v/x.vhd", storageAccountId: "x" } }), 'KmsWindowsVm "w": adminUsername, adminPassword: an imported VHD keeps its own accounts'],
    ["VHD URL", () => new m.KmsWindowsVm("w", { resourceGroupName: "rg", subnetId: SUBNET_ID, vhd: { sourceUri: "http://evil/x.vhd", storageAccountId: "/subscriptions/s/resourceGroups/r/providers/Microsoft.Storage/storageAccounts/a" } }), 'KmsWindowsVm "w": vhd.sourceUri: "http://evil/x.vhd" is not a page-blob VHD URL'],
    ["subnet ID", () => new m.KmsWindowsVm("w", { ...VM, subnetId: "vms" }), 'KmsWindowsVm "w": subnetId: "vms" is not a subnet ID (a full ID starts with /subscriptions/); give /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>'],
    [
        "a long subnet ID: shown whole, the wrong segment named",
        () => new m.KmsWindowsVm("w", { ...VM, subnetId: LONG_SUBNET_TYPO }),
        `KmsWindowsVm "w": subnetId: "${LONG_SUBNET_TYPO}" is not a subnet ID: segment 7 is "virtualNetwork", where "virtualNetworks" belongs; give /subscriptions/`,
    ],
    ["a subnet ID cut short", () => new m.KmsWindowsVm("w", { ...VM, subnetId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet` }), `KmsWindowsVm "w": subnetId: "/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet" is not a subnet ID: it ends after 8 segments, before "subnets"; give /subscriptions/`],
    ["VM size", () => new m.KmsWindowsVm("w", { ...VM, vmSize: "D2s_v5" }), 'KmsWindowsVm "w": vmSize: "D2s_v5" is not a VM size; give a size such as Standard_D2s_v5'],
    ["OS disk type", () => new m.KmsWindowsVm("w", { ...VM, osDiskType: "Ultra" }), 'KmsWindowsVm "w": osDiskType: "Ultra" is not an OS disk type'],
    ["location", () => new m.KmsWindowsVm("w", { ...VM, location: "west-europe;" }), 'KmsWindowsVm "w": location: "west-europe;" is not an Azure location'],
    ["renderActivationScript key", () => m.renderActivationScript({ productKey: "abcde-fghjk-mnpqr-stvwx-yz234" }), "productKey: is not a product key"],
];

describe("bad input is refused at construction, naming component, field and fix", () => {
    test("there are at least 10 cases", () => {
        expect(refusals.length).toBeGreaterThanOrEqual(10);
    });

    test.each(refusals)("%s", (_label, make, message) => {
        let error: unknown;
        try {
            make();
        } catch (err) {
            error = err;
        }
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message.startsWith(message)).toBe(true);
        expect((error as Error).message).not.toContain(SECRET_KEY);
        expect((error as Error).message).not.toContain(SECRET_PASSWORD);
    });
});

describe("Input values are checked inside apply, with the same message", () => {
    const context = { component: "KmsWindowsVm", name: "w" };
    // An Output carries three promises (value, known, secret); a failed check rejects all three, so all are awaited.
    // An Output or a Promise in gives an Output out.
    const rejection = (checked: pulumi.Input<unknown>) => {
        const output = checked as pulumi.Output<unknown>;
        const internals = output as unknown as { promise(): Promise<unknown>; isKnown: Promise<boolean>; isSecret: Promise<boolean> };
        internals.isKnown.catch(() => undefined);
        internals.isSecret.catch(() => undefined);
        return internals.promise();
    };

    test.each([
        ["adminPassword", () => v.checkedInput(context, "adminPassword", pulumi.secret("weak"), v.adminPassword), 'KmsWindowsVm "w": adminPassword: does not meet'],
        ["vmSize", () => v.checkedInput(context, "vmSize", pulumi.output("huge"), v.vmSize), 'KmsWindowsVm "w": vmSize: "huge" is not a VM size'],
        ["productKey", () => v.checkedInput(context, "productKey", Promise.resolve("nope"), v.productKey), 'KmsWindowsVm "w": productKey: is not a product key'],
    ])("%s from an Output or a Promise", async (_field, make, message) => {
        await expect(rejection(make())).rejects.toThrow(message);
    });

    test("a refusal inside an Output is a Pulumi RunError: the engine prints its message alone, one line, no stack", async () => {
        const error = await rejection(v.checkedInput(context, "vmSize", pulumi.output("huge"), v.vmSize)).catch((e: unknown) => e);
        // @pulumi/pulumi cmd/run/run.js: `if (RunError.isInstance(err)) log.error(err.message)`, any other error with its stack.
        expect(pulumi.RunError.isInstance(error)).toBe(true);
        expect(error).toBeInstanceOf(v.KmsInputError);
        expect((error as Error).message).toBe('KmsWindowsVm "w": vmSize: "huge" is not a VM size; give a size such as Standard_D2s_v5');
    });

    test("a valid Output passes through unchanged and keeps its secretness", async () => {
        const checked = v.checkedInput(context, "adminPassword", pulumi.secret("Correct-Horse-7-Battery"), v.adminPassword);
        expect(await pulumi.isSecret(checked as pulumi.Output<string>)).toBe(true);
        await expect(rejection(checked)).resolves.toBe("Correct-Horse-7-Battery");
    });

    test("a plain value is checked at once, and passed on as it is", () => {
        expect(() => v.checkedInput(context, "vmSize", "huge", v.vmSize)).toThrow('KmsWindowsVm "w": vmSize: "huge" is not a VM size');
        expect(v.checkedInput(context, "vmSize", "Standard_D2s_v5", v.vmSize)).toBe("Standard_D2s_v5");
    });
});

describe("tags (Azure: at most 50, names 1-512 characters without < > % & \\ ? /, values up to 256)", () => {
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, "v"]));
    test.each([
        [many(10000), "tags: 10000 tags; Azure allows at most 50 on a resource; keep 50 or fewer (several values can share one tag as JSON)"],
        [many(51), "tags: 51 tags; Azure allows at most 50 on a resource"],
        // Shown whole (up to 1,100 characters), so the user sees the value that is refused.
        [{ ["k".repeat(513)]: "v" }, `tags: tag name "${"k".repeat(513)}" is 513 characters; use 1 to 512 characters`],
        [{ "": "v" }, 'tags: tag name "" is 0 characters; use 1 to 512 characters'],
        ...["<", ">", "%", "&", "\\", "?", "/"].map((c) => [{ [`a${c}b`]: "v" }, `tags: tag name ${JSON.stringify(`a${c}b`)} contains ${JSON.stringify(c)}; Azure forbids < > % & \\ ? / in tag names; rename the tag`] as [object, string]),
        [{ owner: "v".repeat(257) }, 'tags: the value of tag "owner" is 257 characters; Azure allows at most 256; shorten it'],
        [{ owner: 42 }, 'tags: the value of tag "owner" is 42, not a string; give tag values as strings'],
        [["a"], 'tags: ["a"] is not a map of tag names to values'],
    ])("refused: %#", (value, message) => {
        expect(() => v.tags("tags", value as Record<string, unknown>)).toThrow(message);
    });

    test("accepted: 50 tags, a 512-character name, a 256-character value, names with spaces, dots, colons and non-ASCII", () => {
        for (const ok of [many(50), { ["k".repeat(512)]: "v".repeat(256) }, { "cost center": "x", "app.tier": "web", "ms-resource-usage:x": "", "Überblick": "ja" }, undefined, {}]) {
            expect(() => v.tags("tags", ok)).not.toThrow();
        }
    });
});
