import { decodeSettings } from "../src/guest/render";
import * as pulumi from "@pulumi/pulumi";
import { guestArguments, guestSettings, mockedPackage, plainStrings, secretValue, subnetWithNatGateway, SUBSCRIPTION, valueOf } from "./harness";

const t = mockedPackage(subnetWithNatGateway);

const C = "azure-native:compute:";
const N = "azure-native:network:";
const SUBNET_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/vms`;
const PASSWORD = "Correct-Horse-7-Battery";
// The KMS client key of the default image (Windows Server 2022 Datacenter: Azure Edition), given explicitly.
const USER_KEY = "NTBV8-9K7Q8-V27C6-M2BTV-KHMXV";
const CREDENTIALS = { adminUsername: "kmsadmin", adminPassword: PASSWORD };

describe("KmsWindowsVm", () => {
    test("marketplace image: NIC, VM and activation, the key from the image SKU", async () => {
        const vm = new t.m.KmsWindowsVm("app-01", { resourceGroupName: "rg", location: "westeurope", subnetId: SUBNET_ID, ...CREDENTIALS });
        await t.h.settle();
        expect(t.h.summary()).toEqual([
            "azure-kms-activation:index:KmsActivation app-01-activation",
            "azure-kms-activation:index:KmsWindowsVm app-01",
            `${C}VirtualMachine app-01-vm`,
            `${C}VirtualMachineExtension app-01-activation-extension`,
            `${N}NetworkInterface app-01-nic`,
        ]);
        expect(t.h.one(`${N}NetworkInterface`).inputs).toMatchObject({
            resourceGroupName: "rg",
            location: "westeurope",
            ipConfigurations: [{ name: "ipconfig1", subnet: { id: SUBNET_ID }, privateIPAllocationMethod: "Dynamic", primary: true }],
        });
        const vmInputs = t.h.one(`${C}VirtualMachine`).inputs as any;
        expect(vmInputs).toMatchObject({
            vmName: "app-01",
            hardwareProfile: { vmSize: "Standard_D2s_v5" },
            storageProfile: {
                imageReference: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter-azure-edition", version: "latest" },
                osDisk: { createOption: "FromImage", managedDisk: { storageAccountType: "StandardSSD_LRS" }, deleteOption: "Delete" },
            },
            networkProfile: { networkInterfaces: [{ id: expect.stringMatching(/networkInterfaces\/app-01-nic$/), primary: true }] },
            diagnosticsProfile: { bootDiagnostics: { enabled: true } },
        });
        expect(vmInputs.osProfile).toMatchObject({ computerName: "app-01", adminUsername: "kmsadmin", windowsConfiguration: { provisionVMAgent: true } });
        expect(secretValue(vmInputs.osProfile.adminPassword)).toBe(PASSWORD);
        const command = secretValue(t.h.one(`${C}VirtualMachineExtension`).inputs.protectedSettings).commandToExecute;
        expect(guestArguments(command)).toContain("ProductKey='NTBV8-9K7Q8-V27C6-M2BTV-KHMXV'");
        expect(await valueOf(vm.kmsEndpoint)).toBe("azkms.core.windows.net:1688");
        expect(await valueOf(vm.privateIpAddress)).toBe("10.0.0.4");
        expect(await valueOf(vm.virtualMachineId)).toMatch(/virtualMachines\/app-01$/);
        // The activation waits for the VM; the VM waits only for its NIC.
        const ext = t.h.one(`${C}VirtualMachineExtension`);
        expect(ext.dependencies.map((u) => t.h.byUrn(u)?.name)).toContain("app-01-vm");
        expect(t.h.one(`${C}VirtualMachine`).dependencies.map((u) => t.h.byUrn(u)?.name)).toEqual(["app-01-nic"]);
    });

    test("a custom image: the guest detects the key", async () => {
        const imageId = `/subscriptions/${SUBSCRIPTION}/resourceGroups/images/providers/Microsoft.Compute/galleries/g/images/ws2022/versions/1.0.0`;
        const vm = new t.m.KmsWindowsVm("app-01", { resourceGroupName: "rg", subnetId: SUBNET_ID, customImageId: imageId, ...CREDENTIALS });
        await t.h.settle();
        expect((t.h.one(`${C}VirtualMachine`).inputs as any).storageProfile.imageReference).toEqual({ id: imageId });
        expect(guestArguments(secretValue(t.h.one(`${C}VirtualMachineExtension`).inputs.protectedSettings).commandToExecute)).not.toContain("ProductKey=");
        expect(await valueOf(vm.kmsEndpoint)).toBe("azkms.core.windows.net:1688");
    });

    test("an imported VHD: a managed disk imported from the blob, attached; no OS profile; the key detected in the guest", async () => {
        const storageAccountId = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/vhds`;
        new t.m.KmsWindowsVm("legacy-01", {
            resourceGroupName: "rg",
            subnetId: SUBNET_ID,
            vhd: { sourceUri: "https://vhds.blob.core.windows.net/vhds/legacy-01.vhd", storageAccountId, hyperVGeneration: "V2" },
            kmsHostForm: t.m.KmsHostForm.IpAddress,
        });
        await t.h.settle();
        expect(t.h.summary((r) => r.custom)).toEqual([
            `${C}Disk legacy-01-os-disk`,
            `${C}VirtualMachine legacy-01-vm`,
            `${C}VirtualMachineExtension legacy-01-activation-extension`,
            `${N}NetworkInterface legacy-01-nic`,
        ]);
        expect(t.h.one(`${C}Disk`).inputs).toMatchObject({
            creationData: { createOption: "Import", sourceUri: "https://vhds.blob.core.windows.net/vhds/legacy-01.vhd", storageAccountId },
            osType: "Windows",
            hyperVGeneration: "V2",
        });
        const vmInputs = t.h.one(`${C}VirtualMachine`).inputs as any;
        expect(vmInputs.storageProfile).toEqual({ osDisk: { createOption: "Attach", osType: "Windows", managedDisk: { id: expect.stringMatching(/disks\/legacy-01-os-disk$/) } } });
        expect(vmInputs.osProfile).toBeUndefined();
        const command = secretValue(t.h.one(`${C}VirtualMachineExtension`).inputs.protectedSettings).commandToExecute;
        expect(guestSettings(command).kmsHosts).toEqual(["20.118.99.224", "40.83.235.53", "23.102.135.246"]);
        expect(guestSettings(command).detectionTable[0]).toMatch(/^26100:Standard:/);
    });

    test("RunCommand for VMs that already carry a CustomScriptExtension; another publisher's SKU picks no key", async () => {
        new t.m.KmsWindowsVm("sql-01", {
            resourceGroupName: "rg",
            subnetId: SUBNET_ID,
            image: { publisher: "MicrosoftSQLServer", offer: "sql2022-ws2022", sku: "2022-datacenter", version: "latest" },
            mechanism: t.m.ActivationMechanism.RunCommand,
            ...CREDENTIALS,
        });
        await t.h.settle();
        const run = t.h.one(`${C}VirtualMachineRunCommandByVirtualMachine`).inputs as any;
        // The key is detected in the guest: no KeySource argument (empty arguments are left out), no ProductKey.
        expect(run.parameters.map((p: any) => p.name)).toEqual(["Settings"]);
        expect(decodeSettings(run.parameters[0].value).keySource).toBe("");
        expect(secretValue(run.protectedParameters)).toEqual([]);
        expect(t.h.ofType(`${C}VirtualMachineExtension`)).toHaveLength(0);
    });

    test("a fleet of 20 VMs on one KmsNetwork: 3 routes and 1 rule in all, 3 Azure resources per VM", async () => {
        const net = new t.m.KmsNetwork("net", { resourceGroupName: "rg" });
        for (let i = 1; i <= 20; i++) {
            new t.m.KmsWindowsVm(`vm-${String(i).padStart(2, "0")}`, {
                resourceGroupName: "rg",
                subnetId: net.subnetId,
                activationWaitsFor: net.egressRuleIds,
                ...CREDENTIALS,
            });
        }
        await t.h.settle();
        expect(t.h.ofType(`${N}Route`)).toHaveLength(3);
        expect(t.h.ofType(`${N}SecurityRule`)).toHaveLength(1);
        const networkResources = t.h.custom().filter((r) => r.name.startsWith("net-")).length;
        expect(networkResources).toBe(10);
        expect(t.h.custom().length - networkResources).toBe(20 * 3);
        const perVm = t.h.custom().filter((r) => r.name.startsWith("vm-07-")).map((r) => r.type).sort();
        expect(perVm).toEqual([`${C}VirtualMachine`, `${C}VirtualMachineExtension`, `${N}NetworkInterface`]);
        // The VMs do not wait for the rules; each activation does.
        const ruleUrns = t.h.registrations.filter((r) => /Route$|SecurityRule$/.test(r.type)).map((r) => r.urn);
        for (const vm of t.h.ofType(`${C}VirtualMachine`)) {
            expect(vm.dependencies.filter((u) => ruleUrns.includes(u))).toEqual([]);
        }
        for (const ext of t.h.ofType(`${C}VirtualMachineExtension`)) {
            expect(ruleUrns.every((u) => ext.dependencies.includes(u))).toBe(true);
        }
    });

    test("secrets (password, user key) never appear in plain inputs or outputs of any resource, components included", async () => {
        const net = new t.m.KmsNetwork("net", { resourceGroupName: "rg" });
        new t.m.KmsWindowsVm("vm-a", { resourceGroupName: "rg", subnetId: net.subnetId, productKey: USER_KEY, ...CREDENTIALS });
        new t.m.KmsWindowsVm("vm-b", {
            resourceGroupName: "rg",
            subnetId: net.subnetId,
            productKey: USER_KEY,
            mechanism: t.m.ActivationMechanism.RunCommand,
            adminUsername: "kmsadmin",
            adminPassword: pulumi.secret(PASSWORD),
        });
        await t.h.settle();
        expect(t.h.registrations.length).toBeGreaterThan(10);
        for (const r of t.h.registrations) {
            const leaks = plainStrings(r.inputs).filter((s) => s.includes(PASSWORD) || s.includes(USER_KEY));
            expect({ resource: r.name, leaks }).toEqual({ resource: r.name, leaks: [] });
        }
        expect(t.h.componentOutputs.size).toBe(t.h.registrations.filter((r) => !r.custom).length);
        for (const outputs of t.h.componentOutputs.values()) {
            expect(JSON.stringify(outputs)).not.toMatch(new RegExp(`${PASSWORD}|${USER_KEY}`));
        }
    });

    test("the same args give byte-identical inputs on two runs", async () => {
        const program = () => {
            const net = new t.m.KmsNetwork("net", { resourceGroupName: "rg", dnsServers: ["10.1.0.4"] });
            new t.m.KmsWindowsVm("vm-a", { resourceGroupName: "rg", subnetId: net.subnetId, kmsHostForm: net.kmsHostForm, activationWaitsFor: net.egressRuleIds, ...CREDENTIALS });
            new t.m.KmsActivation("existing", { resourceGroupName: "rg", vmName: "old-vm", mechanism: t.m.ActivationMechanism.RunCommand });
        };
        const snapshot = () =>
            JSON.stringify(
                [...t.h.registrations].sort((a, b) => a.urn.localeCompare(b.urn)).map((r) => ({ type: r.type, name: r.name, inputs: r.inputs, deps: [...r.dependencies].sort() })),
            );
        program();
        await t.h.settle();
        const first = snapshot();
        t.h.reset();
        program();
        await t.h.settle();
        expect(snapshot()).toBe(first);
        expect(first.length).toBeGreaterThan(10000);
    });
});
