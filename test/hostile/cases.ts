// Hostile input over every component and field: each value must be refused with an error naming the field.
// Shared by hostile.test.ts (plain values, at construction) and outputs.ts (the same values inside Outputs).
import type * as Package from "../../src";

export type Pkg = typeof Package;
const SUB = "00000000-0000-0000-0000-000000000000";
const SUBNET = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/vms`;
const STORAGE = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/vhds`;
const VHD = "https://vhds.blob.core.windows.net/vhds/app.vhd";
const CREDENTIALS = { adminUsername: "kmsadmin", adminPassword: "Correct-Horse-7-Battery" };
const KEY = "ABCDE-FGHJK-MNPQR-STVWX-YZ234";

export interface HostileCase {
    component: "KmsEgressRules" | "KmsFirewallRules" | "KmsNetwork" | "KmsActivation" | "KmsWindowsVm";
    field: string;
    value: unknown;
    /** The field is a pulumi.Input: the same value is also tried inside an Output. */
    input: boolean;
    /** The value is a secret: the error must not repeat it. */
    secret?: boolean;
    make(m: Pkg, name: string, value: any): unknown;
}

type Maker = (m: Pkg, name: string, value: any) => unknown;
const egress = (patch: (v: any) => object): Maker => (m, name, v) =>
    new m.KmsEgressRules(name, { resourceGroupName: "rg", routeTableName: `rt-${name}`, networkSecurityGroupName: `nsg-${name}`, ...patch(v) });
const firewall = (patch: (v: any) => object): Maker => (m, name, v) =>
    new m.KmsFirewallRules(name, { resourceGroupName: "rg", firewallPolicyName: `fwp-${name}`, sourceAddresses: ["10.20.0.0/16"], ...patch(v) });
const network = (patch: (v: any) => object): Maker => (m, name, v) => new m.KmsNetwork(name, { resourceGroupName: "rg", ...patch(v) });
const activation = (patch: (v: any) => object): Maker => (m, name, v) => new m.KmsActivation(name, { resourceGroupName: "rg", vmName: `vm-${name}`, ...patch(v) });
const vm = (patch: (v: any) => object): Maker => (m, name, v) => new m.KmsWindowsVm(name, { resourceGroupName: "rg", subnetId: SUBNET, ...CREDENTIALS, ...patch(v) });
const vhdVm = (patch: (v: any) => object): Maker => (m, name, v) =>
    new m.KmsWindowsVm(name, { resourceGroupName: "rg", subnetId: SUBNET, vhd: { sourceUri: VHD, storageAccountId: STORAGE, ...patch(v) } });

// Shell, cmd and PowerShell metacharacters, quotes, line breaks, NUL: none may pass any field.
const META = ["x;calc", "x&calc", "x|calc", "$(calc)", "`calc`", "x'; calc; '", 'x"q"', "x\nInvoke-Expression", "x\u0000y", "x%PATH%"];

function each(component: HostileCase["component"], field: string, values: unknown[], input: boolean, make: Maker, secret = false): HostileCase[] {
    return values.map((value) => ({ component, field, value, input, make, secret }));
}

export const hostileCases: HostileCase[] = [
    // KmsEgressRules
    ...each("KmsEgressRules", "resourceGroupName", [...META, "", "r".repeat(91)], true, egress((v) => ({ resourceGroupName: v }))),
    ...each("KmsEgressRules", "routeTableName", [...META.slice(0, 5), "ｒｔ-fullwidth", "-rt", "r".repeat(81)], true, egress((v) => ({ routeTableName: v }))),
    ...each("KmsEgressRules", "networkSecurityGroupName", ["nsg;calc", "nsg.", "nsg\r\n"], true, egress((v) => ({ networkSecurityGroupName: v }))),
    ...each("KmsEgressRules", "securityRulePriority", [99, 4097, 100.5, Number.NaN, -1], true, egress((v) => ({ securityRulePriority: v }))),
    ...each("KmsEgressRules", "sourceAddressPrefix", ["10.0.0.0/33", "VirtualNetwork;calc", "10.0.0.0/8 "], true, egress((v) => ({ sourceAddressPrefix: v }))),
    ...each("KmsEgressRules", "subnetId", ["vms", `${SUBNET};calc`, `${SUBNET}/../x`], true, egress((v) => ({ subnetId: v }))),
    ...each("KmsEgressRules", "cloud", ["AzureGermany", "azurepublic", ""], false, egress((v) => ({ cloud: v }))),
    ...each("KmsEgressRules", "kmsIpAddresses", [["20.118.99.224/32"], ["1.2.3.4;calc"], ["１.2.3.4"], ["01.2.3.4"]], false, egress((v) => ({ kmsIpAddresses: v }))),
    ...each(
        "KmsEgressRules",
        "customKmsServer.host",
        ["kms.contoso.com;calc", "kms.cоntoso.com", "$(calc)", `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}`, "kms..contoso.com", "-kms.contoso.com", "1.2.3", ""],
        false,
        egress((v) => ({ customKmsServer: { host: v, addressPrefixes: ["10.50.0.10/32"] } })),
    ),
    ...each("KmsEgressRules", "customKmsServer.port", [0, 70000, 1688.5, "1688"], false, egress((v) => ({ customKmsServer: { host: "kms.contoso.com", port: v, addressPrefixes: ["10.50.0.10/32"] } }))),
    ...each("KmsEgressRules", "customKmsServer.addressPrefixes", [["10.0.0.0/8;calc"], [], ["10.0.0.0/8", "10.0.0.0/8"]], false, egress((v) => ({ customKmsServer: { host: "kms.contoso.com", addressPrefixes: v } }))),
    ...each("KmsEgressRules", "privateSubnetCheck", ["Sometimes"], false, egress((v) => ({ privateSubnetCheck: v }))),
    // KmsFirewallRules
    ...each("KmsFirewallRules", "resourceGroupName", ["rg;calc", "rg."], true, firewall((v) => ({ resourceGroupName: v }))),
    ...each("KmsFirewallRules", "firewallPolicyName", ["fwp;calc", "fwp.", "ｆｗｐ"], true, firewall((v) => ({ firewallPolicyName: v }))),
    ...each("KmsFirewallRules", "sourceAddresses", [["VirtualNetwork"], ["*"], [], ["10.0.0.0/8;calc"], ["10.0.0.0/8", "10.0.0.0/8"], "10.0.0.0/8"], true, firewall((v) => ({ sourceAddresses: v }))),
    ...each("KmsFirewallRules", "ruleCollectionGroupName", ["kms;calc", "kms-", "k".repeat(81)], true, firewall((v) => ({ ruleCollectionGroupName: v }))),
    ...each("KmsFirewallRules", "ruleCollectionGroupPriority", [99, 65001, 150.5, Number.NaN], true, firewall((v) => ({ ruleCollectionGroupPriority: v }))),
    ...each("KmsFirewallRules", "ruleCollectionPriority", [0, 65001, -100], true, firewall((v) => ({ ruleCollectionPriority: v }))),
    ...each("KmsFirewallRules", "cloud", ["AzureGermany"], false, firewall((v) => ({ cloud: v }))),
    ...each("KmsFirewallRules", "kmsIpAddresses", [["1.2.3.4;calc"]], false, firewall((v) => ({ kmsIpAddresses: v }))),
    ...each("KmsFirewallRules", "customKmsServer.addressPrefixes", [[]], false, firewall((v) => ({ customKmsServer: { host: "kms.contoso.com", addressPrefixes: v } }))),
    // KmsNetwork
    ...each("KmsNetwork", "resourceGroupName", ["rg;calc", "rg."], true, network((v) => ({ resourceGroupName: v }))),
    ...each("KmsNetwork", "location", ["west europe;", "$(calc)", "x"], true, network((v) => ({ location: v }))),
    ...each("KmsNetwork", "addressPrefixes", [["10.0.0.0/33"], ["10.0.0/16"], []], true, network((v) => ({ addressPrefixes: v }))),
    ...each("KmsNetwork", "subnetAddressPrefix", ["300.0.0.0/24", "10.0.0.0/24\n", "10.0.0.0"], true, network((v) => ({ subnetAddressPrefix: v }))),
    ...each("KmsNetwork", "dnsServers", [["8.8.8.8;calc"], ["dns.contoso.com"]], true, network((v) => ({ dnsServers: v }))),
    ...each("KmsNetwork", "outbound", ["Firewall"], false, network((v) => ({ outbound: v }))),
    // KmsActivation
    ...each("KmsActivation", "vmName", [...META.slice(0, 4), "vm name", "v".repeat(65), ""], true, activation((v) => ({ vmName: v }))),
    ...each("KmsActivation", "kmsHostForm", ["Netbios", "dnsname"], true, activation((v) => ({ kmsHostForm: v }))),
    ...each("KmsActivation", "imageSku", ["2022'", "2022-datacenter;calc", "s".repeat(129), "-2022"], true, activation((v) => ({ imageSku: v }))),
    ...each(
        "KmsActivation",
        "productKey",
        // The last two have the form of a key: a MAK or retail key (not a KMS client key), and a KMS client key of
        // another edition than imageSku names.
        ["abcde-fghjk-mnpqr-stvwx-yz234", "ABCDE-FGHJK-MNPQR-STVWX-YZ23$", "ＡＢＣＤＥ-FGHJK-MNPQR-STVWX-YZ234", `${KEY}'; calc`, `${KEY}\n`, KEY],
        true,
        activation((v) => ({ productKey: v })),
        true,
    ),
    ...each("KmsActivation", "productKey", ["WMDGN-G9PQG-XVVXX-R3X43-63DFG"], true, activation((v) => ({ productKey: v, imageSku: "2022-datacenter" })), true),
    ...each("KmsActivation", "rerunToken", ["$(calc)", "a b", "x".repeat(65), "tok`en", ""], true, activation((v) => ({ rerunToken: v }))),
    ...each("KmsActivation", "mechanism", ["Ssh"], false, activation((v) => ({ mechanism: v }))),
    ...each("KmsActivation", "vmScaleSetName", ["vmss;calc", "vmss web", ""], true, (m, name, v) => new m.KmsActivation(name, { resourceGroupName: "rg", vmScaleSetName: v })),
    // tags, on every component that has them (Azure: at most 50, names <= 512 characters without < > % & \\ ? /, values <= 256).
    ...each("KmsWindowsVm", "tags", [Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, "v"])), { ["k".repeat(600)]: "v" }, { "a<b>": "v" }, { "cost/center": "v" }, { owner: "v".repeat(257) }], true, vm((v) => ({ tags: v }))),
    ...each("KmsNetwork", "tags", [{ "50%": "v" }, { "why?": "v" }, { "": "v" }], true, network((v) => ({ tags: v }))),
    ...each("KmsActivation", "tags", [{ "a\\b": "v" }, { "R&D": "v" }, { owner: 42 }], true, activation((v) => ({ tags: v }))),
    // KmsWindowsVm
    ...each("KmsWindowsVm", "adminUsername", ["admin", "kms;admin", "a".repeat(21), "kmsadmin."], true, vm((v) => ({ adminUsername: v }))),
    ...each("KmsWindowsVm", "adminPassword", ["short1!A", "nocomplexitypassword", `${"x".repeat(124)}A1`], true, vm((v) => ({ adminPassword: v })), true),
    ...each("KmsWindowsVm", "computerName", ["name-that-is-too-long", "12345", "bad name", "x;calc"], true, vm((v) => ({ computerName: v }))),
    ...each("KmsWindowsVm", "vmSize", ["Standard_D2s_v5;calc", "D2s_v5"], true, vm((v) => ({ vmSize: v }))),
    ...each("KmsWindowsVm", "osDiskType", ["Ultra", "PremiumV2_LRS"], true, vm((v) => ({ osDiskType: v }))),
    ...each("KmsWindowsVm", "customImageId", ["not-an-id", `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/images/x;calc`], true, vm((v) => ({ customImageId: v }))),
    ...each("KmsWindowsVm", "subnetId", ["subnet;calc", STORAGE], true, vm((v) => ({ subnetId: v }))),
    ...each("KmsWindowsVm", "rerunToken", ["$(calc)"], true, vm((v) => ({ rerunToken: v }))),
    // The default image is Windows Server 2022 Datacenter: Azure Edition; the second key is 2022 Datacenter's.
    ...each("KmsWindowsVm", "productKey", [`${KEY};calc`, KEY, "WX4NM-KYWYW-QJJR4-XV3QB-6VM33"], true, vm((v) => ({ productKey: v })), true),
    ...each("KmsWindowsVm", "vhd.sourceUri", ["http://vhds.blob.core.windows.net/v/x.vhd", "https://evil.example.com/x.vhd", `${VHD}?sig=x`], true, vhdVm((v) => ({ sourceUri: v }))),
    ...each("KmsWindowsVm", "vhd.storageAccountId", ["x", `${STORAGE}'`], true, vhdVm((v) => ({ storageAccountId: v }))),
    ...each("KmsWindowsVm", "vhd.hyperVGeneration", ["V3"], true, vhdVm((v) => ({ hyperVGeneration: v }))),
    ...each("KmsWindowsVm", "vhd.generalized", [true], true, vhdVm((v) => ({ generalized: v }))),
    ...each("KmsWindowsVm", "licenseType", ["Windows_Enterprise", "windows_server"], true, vm((v) => ({ licenseType: v }))),
    ...each("KmsWindowsVm", "zone", ["0", "4", "1;calc", ""], true, vm((v) => ({ zone: v }))),
    ...each("KmsWindowsVm", "securityType", ["Secure", "trustedlaunch", ""], true, vm((v) => ({ securityType: v }))),
    // Trusted Launch on a Generation 1 SKU and on a V1 VHD: refused naming securityType and the image's field.
    ...each("KmsWindowsVm", "securityType", ["TrustedLaunch"], true, vm((v) => ({ securityType: v, image: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2019-datacenter" } }))),
    ...each("KmsWindowsVm", "securityType", ["TrustedLaunch"], true, (m, name, v) =>
        new m.KmsWindowsVm(name, { resourceGroupName: "rg", subnetId: SUBNET, vhd: { sourceUri: VHD, storageAccountId: STORAGE, hyperVGeneration: "V1" }, securityType: v }),
    ),
    ...each("KmsWindowsVm", "dataDisks[0].sizeGb", [0, 32768, 1.5, -8, "8", Number.NaN], true, vm((v) => ({ dataDisks: [{ sizeGb: v }] }))),
    ...each("KmsWindowsVm", "dataDisks[1].lun", [64, -1, 1.5, 0], false, vm((v) => ({ dataDisks: [{ sizeGb: 8, lun: 0 }, { sizeGb: 8, lun: v }] }))),
    ...each("KmsWindowsVm", "dataDisks[0].storageAccountType", ["Ultra", "premium_lrs", "PremiumV2_LRS", "UltraSSD_LRS"], true, vm((v) => ({ dataDisks: [{ sizeGb: 8, storageAccountType: v }] }))),
    ...each("KmsWindowsVm", "dataDisks[0].caching", ["WriteBack", "none"], true, vm((v) => ({ dataDisks: [{ sizeGb: 8, caching: v }] }))),
    ...each(
        "KmsWindowsVm",
        "userAssignedIdentityIds",
        [[], ["id-app"], [STORAGE], [`/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id;calc`], "not-a-list"],
        true,
        vm((v) => ({ userAssignedIdentityIds: v })),
    ),
];

/** The error must name this component instance (or its activation child, for a value checked there) and the field. */
export function expectedPrefix(c: HostileCase, name: string): RegExp {
    const field = c.field.replace(/[.[\]]/g, (ch) => `\\${ch}`);
    const owner = c.component === "KmsWindowsVm" ? `(?:KmsWindowsVm "${name}"|KmsActivation "${name}-activation")` : `${c.component} "${name}"`;
    return new RegExp(`${owner}: ${field}(?:\\[\\d+\\])?: `);
}
