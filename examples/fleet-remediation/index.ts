// Remediation for a running fleet: existing VMs get the guest activation by name, and each subnet's route table
// and NSG get the KMS egress once. Nothing existing is replaced; VMs that already carry a CustomScriptExtension
// get a managed Run Command instead (Azure allows one CustomScriptExtension per Windows VM).
import * as pulumi from "@pulumi/pulumi";
import { ActivationMechanism, KmsActivation, KmsEgressRules } from "azure-kms-activation";

/** A subnet whose route table and NSG get the KMS routes and rule. */
interface FleetSubnet {
    /** Short name, used by `FleetVm.subnet` and in resource names. */
    name: string;
    resourceGroupName: string;
    routeTableName?: string;
    networkSecurityGroupName?: string;
    /** Full subnet ID: checked for a way out (private subnets without a NAT gateway cannot activate). */
    subnetId?: string;
    securityRulePriority?: number;
}

/** An existing Windows VM to activate. */
interface FleetVm {
    resourceGroupName: string;
    vmName: string;
    /** The `FleetSubnet.name` the VM's NIC is in: its activation waits for that subnet's egress. */
    subnet: string;
    location?: string;
    /** True when the VM already has a CustomScriptExtension. */
    hasCustomScriptExtension?: boolean;
}

const config = new pulumi.Config();
const subnets = config.requireObject<FleetSubnet[]>("subnets");
const vms = config.requireObject<FleetVm[]>("vms");
// Bump to activate every VM again (for example after a network change).
const rerunToken = config.get("rerunToken");

const egressBySubnet = new Map(
    subnets.map((s) => [
        s.name,
        new KmsEgressRules(`kms-${s.name}`, {
            resourceGroupName: s.resourceGroupName,
            routeTableName: s.routeTableName,
            networkSecurityGroupName: s.networkSecurityGroupName,
            securityRulePriority: s.securityRulePriority,
            subnetId: s.subnetId,
        }),
    ]),
);

const activations = vms.map((vm) => {
    const egress = egressBySubnet.get(vm.subnet);
    if (!egress) {
        throw new Error(`vms: ${vm.vmName} names subnet "${vm.subnet}", which is not in subnets; add it there`);
    }
    return new KmsActivation(vm.vmName, {
        resourceGroupName: vm.resourceGroupName,
        vmName: vm.vmName,
        location: vm.location,
        mechanism: vm.hasCustomScriptExtension ? ActivationMechanism.RunCommand : ActivationMechanism.CustomScriptExtension,
        rerunToken,
        activationWaitsFor: egress.egressRuleIds,
    });
});

export const kmsEndpoints = pulumi.all(activations.map((a) => a.kmsEndpoint));
// The fleet at a glance (`pulumi stack output activationStatus`): VM name -> activated, licensed, pending, error or unknown.
export const activationStatus = pulumi.all(Object.fromEntries(vms.map((vm, i) => [vm.vmName, activations[i].activationStatus])));
