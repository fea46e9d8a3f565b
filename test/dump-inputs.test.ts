// scripts/dump-inputs.ts: every registered resource's full inputs for every example target and stack, for reviews.
import { spawnSync } from "child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
let out: string;
let status: number | null;
let stdout: string;

beforeAll(() => {
    out = mkdtempSync(path.join(tmpdir(), "kms-dump-"));
    const run = spawnSync("npm", ["run", "--silent", "dump-inputs", "--", "--out", out], { cwd: ROOT, encoding: "utf8" });
    status = run.status;
    stdout = run.stdout;
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

const dump = (id: string) => JSON.parse(readFileSync(path.join(out, `${id}.json`), "utf8"));

test("one file per example target and per example stack file", () => {
    expect(status).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
        "byo-vhd-forced-tunnel.json",
        "fleet-remediation.json",
        "hub-firewall.json",
        "on-prem-kms.json",
        "quickstart.json",
        "scale-set.json",
        "sovereign-clouds.china.json",
        "sovereign-clouds.json",
        "sovereign-clouds@china.json",
        "sovereign-clouds@usgov.json",
    ]);
    expect(stdout.split("\n")).toContain(`quickstart: 18 resources -> ${path.relative(ROOT, path.join(out, "quickstart.json"))}`);
});

test("full inputs of every registered resource, with parent and dependencies", () => {
    const quickstart = dump("quickstart");
    expect(quickstart.resources).toHaveLength(18);
    const vm = quickstart.resources.find((r: { type: string }) => r.type === "azure-native:compute:VirtualMachine");
    expect(vm).toMatchObject({ name: "kms-vm-01-vm", parent: "kms-vm-01", custom: true });
    expect(vm.inputs.storageProfile.imageReference.sku).toBe("2022-datacenter-azure-edition");
    expect(vm.inputs.osProfile.adminPassword).toBe("[secret]");
    const extension = quickstart.resources.find((r: { type: string }) => r.type === "azure-native:compute:VirtualMachineExtension");
    expect(extension.dependsOn).toEqual(expect.arrayContaining(["kms-net-kms-rule", "kms-net-kms-route-20-118-99-224"]));
    expect(extension.inputs.protectedSettings).toBe("[secret]");
});

test("hub-firewall: the rule collection group waits for the firewall, each peering for both networks' subnets; a shared name says its type", () => {
    const hub = dump("hub-firewall");
    const byName = (name: string) => hub.resources.find((r: { name: string; custom: boolean }) => r.name === name && r.custom);
    // "hub-firewall" is both the resource group and the firewall.
    expect(byName("spoke-kms-rules").dependsOn).toEqual(expect.arrayContaining(["hub-firewall (AzureFirewall)", "hub-firewall-policy"]));
    for (const peering of ["hub-to-spoke", "spoke-to-hub"]) {
        expect(byName(peering).dependsOn).toEqual(expect.arrayContaining(["hub-firewall-subnet", "spoke-workloads"]));
    }
});

test("a stack file's config: sovereign-clouds@china has Azure China's environment and KMS routes; secrets never written", () => {
    const china = dump("sovereign-clouds@china");
    expect(china.config).toMatchObject({ "azure-native:environment": "china", "azure-kms-sovereign-clouds:cloud": "AzureChina", "azure-kms-sovereign-clouds:adminPassword": "[secret]" });
    const routes = china.resources.filter((r: { type: string }) => r.type === "azure-native:network:Route").map((r: { inputs: { addressPrefix: string } }) => r.inputs.addressPrefix);
    expect(routes).toEqual(["159.27.28.100/32", "163.228.64.161/32", "42.159.7.249/32"]);
    const all = readdirSync(out).map((f) => readFileSync(path.join(out, f), "utf8")).join("\n");
    expect(all).not.toContain("Offline-Plan-Only-7");
});
