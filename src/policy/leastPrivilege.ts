import { ResourceValidationPolicy } from "@pulumi/policy/policy";
import { SECURITY_GROUPS } from "./children";
import { KmsActivationPolicyOptions, KmsPolicyNames, KmsTarget, configOf, enforcementLevelOf, kmsPolicyConfigSchema, resolveTarget } from "./config";
import { UNKNOWN, firstDefined, listAt, textAt } from "./props";
import { RuleView, hasAccess, isOutbound, portsNamePort, ruleView, widerDestinations } from "./securityRules";

const NAME = KmsPolicyNames.NsgAllowLeastPrivilege;

const REMEDIATION =
    "narrow the rule's destination to the KMS addresses (the cloud's KMS IPs, or the custom KMS server's prefixes), " +
    "so the KMS port is not open to other hosts; KmsEgressRules from azure-kms-activation writes such a rule.";

function violation(rule: RuleView, nsg: string | undefined, wider: string[], target: KmsTarget): string {
    const priority = typeof rule.priority === "number" ? ` (priority ${rule.priority})` : "";
    const owner = nsg === undefined ? "" : ` of NSG "${nsg}"`;
    return (
        `Outbound Allow rule "${rule.name}"${priority}${owner} allows port ${target.port} to ${wider.join(", ")}, ` +
        `wider than the KMS addresses ${target.addresses.join(", ")} (${target.source}). ` +
        `Remediation: set its destination to the KMS addresses only (destinationAddressPrefixes: ${target.addresses.join(", ")}), ` +
        `so port ${target.port} is not open to other hosts.`
    );
}

function check(rule: RuleView, target: KmsTarget): string[] {
    if (isOutbound(rule) !== true || hasAccess(rule, "Allow") !== true || portsNamePort(rule.ports, target.port) !== true) {
        return [];
    }
    return rule.destinations === UNKNOWN ? [] : widerDestinations(rule.destinations, target);
}

/** An allow written for the KMS port must not open it to the world. */
export function nsgLeastPrivilegePolicy(options: KmsActivationPolicyOptions): ResourceValidationPolicy {
    return {
        name: NAME,
        description: "An outbound Allow that names port 1688 explicitly goes to the KMS addresses only, not to *, Internet or a wider prefix.",
        enforcementLevel: enforcementLevelOf(NAME, options),
        configSchema: kmsPolicyConfigSchema,
        remediationSteps: REMEDIATION,
        validateResource: (args, reportViolation) => {
            if (args.type !== SECURITY_GROUPS.parentType && args.type !== SECURITY_GROUPS.childType) {
                return;
            }
            const target = resolveTarget(NAME, options, configOf(args));
            const props = args.props;
            if (args.type === SECURITY_GROUPS.childType) {
                const name = firstDefined(textAt(props, "securityRuleName"), textAt(props, "name"));
                const nsg = textAt(props, "networkSecurityGroupName");
                const rule = ruleView(typeof name === "string" ? name : args.name, props);
                const wider = check(rule, target);
                if (wider.length > 0) {
                    reportViolation(violation(rule, typeof nsg === "string" ? nsg : undefined, wider, target));
                }
                return;
            }
            const nsg = firstDefined(textAt(props, "networkSecurityGroupName"), textAt(props, "name"));
            const entries = listAt(props, "securityRules");
            for (const entry of Array.isArray(entries) ? entries : []) {
                const name = textAt(entry, "name");
                const rule = ruleView(typeof name === "string" ? name : "(unnamed)", entry);
                const wider = check(rule, target);
                if (wider.length > 0) {
                    reportViolation(violation(rule, typeof nsg === "string" ? nsg : args.name, wider, target));
                }
            }
        },
    };
}
