// What resolving first changes under the mock engine (issue 29): a plain value that only the activation child used
// to check (the image's SKU, which becomes its imageSku) was refused after the NIC and the VM were registered; the
// resolver now refuses it before the first child, with the same message.
import { mockedPackage, refusal, subnetWithNatGateway, SUBSCRIPTION } from "./harness";

const t = mockedPackage(subnetWithNatGateway);
const SUBNET_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/vms`;

test("KmsWindowsVm: an image SKU that is not a marketplace SKU is refused in the activation's name, and no child is registered", async () => {
    const message = refusal(
        () =>
            new t.m.KmsWindowsVm("app-01", {
                resourceGroupName: "rg",
                subnetId: SUBNET_ID,
                adminUsername: "kmsadmin",
                adminPassword: "Correct-Horse-7-Battery",
                image: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022 datacenter" },
            }),
    );
    expect(message).toMatch(/^KmsActivation "app-01-activation": imageSku: "2022 datacenter" is not a marketplace SKU; give the image SKU such as 2022-datacenter-azure-edition$/);
    await t.h.settle();
    // Only the component itself: no NIC, no VM, no activation.
    expect(t.h.summary()).toEqual(["azure-kms-activation:index:KmsWindowsVm app-01"]);
});
