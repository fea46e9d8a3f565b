import { ResourceValidationPolicy } from "@pulumi/policy";
import { KmsActivationPolicyOptions, KmsPolicyNames, configOf, enforcementLevelOf, kmsPolicyConfigSchema, resolveTarget } from "./config";
import { firstDefined, get, listAt, textAt } from "./props";

const NAME = KmsPolicyNames.PrivateSubnetExplicitOutbound;

const SUBNET = "azure-native:network:Subnet";
const VIRTUAL_NETWORK = "azure-native:network:VirtualNetwork";

const REMEDIATION =
    "give the subnet explicit outbound: attach a NAT gateway to it (Microsoft's recommendation; KmsNetwork does it by default), " +
    "give the VMs' NICs public IPs, add load-balancer outbound rules, or send 0.0.0.0/0 to a hub firewall or NVA that SNATs to a " +
    "public IP and allows TCP 1688 with a network rule.";

/** `true`: private with no NAT gateway; `false`: not, or not known yet. */
function lacksOutbound(subnet: unknown): boolean {
    if (get(subnet, "defaultOutboundAccess") !== false) {
        return false;
    }
    const natGateway = get(subnet, "natGateway");
    if (natGateway === undefined || natGateway === null) {
        return true;
    }
    // `natGateway: {}` names no gateway; an unknown one, or an unknown ID, is a gateway created in the same deployment.
    return get(natGateway, "id") === undefined;
}

function violation(subnet: string, vnet: string | undefined): string {
    const where = vnet === undefined ? "" : ` of virtual network "${vnet}"`;
    return (
        `Subnet "${subnet}"${where} is private (defaultOutboundAccess: false) and has no NAT gateway: Windows VMs in it cannot activate, ` +
        "because Azure KMS accepts requests only from an Azure public IP; Windows Activation is among the services that do not work " +
        "in a private subnet without explicit outbound, and the /32 Internet routes do not help without it. " +
        `Remediation: ${REMEDIATION}`
    );
}

/** A private subnet needs explicit outbound for Windows to reach Azure KMS. */
export function privateSubnetPolicy(options: KmsActivationPolicyOptions): ResourceValidationPolicy {
    return {
        name: NAME,
        description: "A subnet with defaultOutboundAccess: false has explicit outbound (a NAT gateway), which Windows activation against Azure KMS needs.",
        enforcementLevel: enforcementLevelOf(NAME, options),
        configSchema: kmsPolicyConfigSchema,
        remediationSteps: REMEDIATION,
        validateResource: (args, reportViolation) => {
            if (args.type !== SUBNET && args.type !== VIRTUAL_NETWORK) {
                return;
            }
            // An on-premises KMS is reached over the VPN or ExpressRoute gateway: no public outbound is needed.
            if (resolveTarget(NAME, options, configOf(args)).custom) {
                return;
            }
            const props = args.props;
            if (args.type === SUBNET) {
                if (lacksOutbound(props)) {
                    const name = firstDefined(textAt(props, "subnetName"), textAt(props, "name"));
                    const vnet = textAt(props, "virtualNetworkName");
                    reportViolation(violation(typeof name === "string" ? name : args.name, typeof vnet === "string" ? vnet : undefined));
                }
                return;
            }
            const vnet = firstDefined(textAt(props, "virtualNetworkName"), textAt(props, "name"));
            const subnets = listAt(props, "subnets");
            for (const subnet of Array.isArray(subnets) ? subnets : []) {
                if (lacksOutbound(subnet)) {
                    const name = textAt(subnet, "name");
                    reportViolation(violation(typeof name === "string" ? name : "(unnamed)", typeof vnet === "string" ? vnet : args.name));
                }
            }
        },
    };
}
