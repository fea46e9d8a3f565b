import * as network from "@pulumi/azure-native/network";
import * as pulumi from "@pulumi/pulumi";
import { CustomKmsServer, PrivateSubnetCheck } from "../types";

interface SubnetAddress {
    resourceGroupName: string;
    virtualNetworkName: string;
    subnetName: string;
}

const SUBNET_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/virtualNetworks\/([^/]+)\/subnets\/([^/]+)$/i;

function parseSubnetId(id: string): SubnetAddress | undefined {
    const match = SUBNET_ID.exec(id);
    return match ? { resourceGroupName: match[1], virtualNetworkName: match[2], subnetName: match[3] } : undefined;
}

/** Why a private subnet without explicit outbound breaks activation, and every way out. */
export function privateSubnetMessage(subnet: SubnetAddress): string {
    return (
        `subnet "${subnet.subnetName}" (virtual network "${subnet.virtualNetworkName}", resource group "${subnet.resourceGroupName}") ` +
        "is private (defaultOutboundAccess: false) and has no NAT gateway: Windows VMs in it cannot activate, because Azure KMS " +
        "accepts requests only from an Azure public IP and the /32 Internet routes do not help without one. " +
        "Fix one of: attach a NAT gateway to the subnet (Microsoft's recommendation; KmsNetwork does it by default), " +
        "give the VM's NIC a public IP, add load-balancer outbound rules, or send 0.0.0.0/0 to a hub firewall or NVA that SNATs " +
        "to a public IP and allows TCP 1688 with a network rule (then leave routeTableName out of KmsEgressRules)."
    );
}

/** The check a component runs: none for an on-premises KMS, which is reached privately and needs no public IP. */
export function privateSubnetCheckMode(args: { customKmsServer?: CustomKmsServer; privateSubnetCheck?: PrivateSubnetCheck }): PrivateSubnetCheck {
    return args.customKmsServer ? PrivateSubnetCheck.Off : (args.privateSubnetCheck ?? PrivateSubnetCheck.Warn);
}

// One read and one warning per subnet per program, however many VMs or rule sets point at it.
const checked = new Map<string, Promise<void>>();

async function readAndReport(id: string, mode: PrivateSubnetCheck, owner: pulumi.Resource): Promise<void> {
    const address = parseSubnetId(id);
    if (!address) {
        return;
    }
    const subnet = await network.getSubnet(address, { parent: owner });
    if (subnet.defaultOutboundAccess === false && !subnet.natGateway) {
        const message = privateSubnetMessage(address);
        if (mode === PrivateSubnetCheck.Error) {
            throw new Error(`${message} (privateSubnetCheck: Error)`);
        }
        await pulumi.log.warn(`${message} Set privateSubnetCheck: Off to silence this.`, owner);
    }
}

/**
 * Reads the subnet (`network.getSubnet`) and warns, or fails with `PrivateSubnetCheck.Error`, when it is private
 * with no NAT gateway. Returns an empty resource list for `dependsOn`: the resource that takes it fails with the
 * message in strict mode, and waits for nothing real otherwise. A subnet not known yet (preview of a new one) is
 * checked on update.
 */
export function checkSubnetOutbound(
    subnetId: pulumi.Input<string>,
    mode: PrivateSubnetCheck,
    owner: pulumi.Resource,
): pulumi.Output<pulumi.Resource[]> {
    if (mode === PrivateSubnetCheck.Off) {
        return pulumi.output([]);
    }
    return pulumi.output(subnetId).apply(async (id) => {
        const key = `${mode}:${id.toLowerCase()}`;
        let report = checked.get(key);
        if (!report) {
            report = readAndReport(id, mode, owner);
            checked.set(key, report);
        }
        await report;
        return [] as pulumi.Resource[];
    });
}
