import { runExample } from "../../scripts/examples";

test("fleet-remediation: one egress per subnet, activation per existing VM, Run Command where a CSE exists", async () => {
    const { harness: h, unreadSubnets, unreadNetworkObjects } = await runExample("fleet-remediation");
    expect(h.summary((r) => r.custom)).toEqual([
        "azure-native:compute:VirtualMachineExtension app-01-extension",
        "azure-native:compute:VirtualMachineExtension web-01-extension",
        "azure-native:compute:VirtualMachineRunCommandByVirtualMachine sql-01-run-command",
        "azure-native:network:Route kms-spoke-a-route-20-118-99-224",
        "azure-native:network:Route kms-spoke-a-route-23-102-135-246",
        "azure-native:network:Route kms-spoke-a-route-40-83-235-53",
        "azure-native:network:SecurityRule kms-spoke-a-rule",
        "azure-native:network:SecurityRule kms-spoke-b-rule",
    ]);
    // Nothing that exists is created again: no VM, table, NSG or subnet.
    expect(h.registrations.some((r) => /:VirtualMachine$|:RouteTable$|:NetworkSecurityGroup$|:Subnet$/.test(r.type))).toBe(false);
    const byName = (name: string) => h.registrations.find((r) => r.name === name)!;
    expect(byName("web-01-extension").inputs.location).toBe("northeurope");
    const depsOf = (name: string) => byName(name).dependencies.map((u) => h.byUrn(u)?.name).sort();
    expect(depsOf("sql-01-run-command")).toEqual(["kms-spoke-a-route-20-118-99-224", "kms-spoke-a-route-23-102-135-246", "kms-spoke-a-route-40-83-235-53", "kms-spoke-a-rule"]);
    expect(depsOf("web-01-extension")).toEqual(["kms-spoke-b-rule"]);
    expect(unreadSubnets).toEqual(["vnet-spoke-a/workloads"]);
    // Every table and NSG the egress goes into is read once before anything is added (offline: answered as empty).
    expect([...unreadNetworkObjects].sort()).toEqual(["rg-spoke-a/nsg-spoke-a", "rg-spoke-a/rt-spoke-a", "rg-spoke-b/nsg-spoke-b"]);
    expect(h.invokes.map((i) => i.token).sort()).toEqual([
        "azure-native:network:getNetworkSecurityGroup",
        "azure-native:network:getNetworkSecurityGroup",
        "azure-native:network:getRouteTable",
        "azure-native:network:getSubnet",
    ]);
});
