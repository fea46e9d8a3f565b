import { StackValidationPolicy } from "@pulumi/policy";
import { Child, Group, SECURITY_GROUPS, groupChildren } from "./children";
import { KmsActivationPolicyOptions, KmsPolicyNames, KmsTarget, configOf, enforcementLevelOf, kmsPolicyConfigSchema, resolveTarget } from "./config";
import { RuleView, carriesTcp, destinationCovers, destinationTouches, hasAccess, isOutbound, isUndecided, portsInclude, ruleView } from "./securityRules";

const NAME = KmsPolicyNames.NsgAllowBeforeDeny;

const REMEDIATION =
    "add an outbound Allow rule for protocol Tcp, destination port 1688 (the KMS port), destination the KMS addresses, " +
    "with a lower priority number than the deny (KmsEgressRules from azure-kms-activation adds one, priority 100 by default).";

interface Rule {
    view: RuleView;
    child: Child;
    priority: number;
}

/** The deny rules that stop KMS traffic before any allow lets it through, with the addresses each stops. */
function blockingDenies(rules: readonly Rule[], target: KmsTarget): Map<Rule, string[]> {
    // Azure evaluates outbound rules by ascending priority and stops at the first match, per address.
    const ordered = rules
        .filter((r) => isOutbound(r.view) && carriesTcp(r.view) && portsInclude(r.view.ports, target.port))
        .sort((a, b) => a.priority - b.priority);
    const blocked = new Map<Rule, string[]>();
    target.prefixes.forEach((kms, i) => {
        for (const rule of ordered) {
            if (hasAccess(rule.view, "Allow") && destinationCovers(rule.view.destinations, target, kms)) {
                return;
            }
            if (hasAccess(rule.view, "Deny") && destinationTouches(rule.view.destinations, target, kms)) {
                blocked.set(rule, [...(blocked.get(rule) ?? []), target.addresses[i]]);
                return;
            }
        }
    });
    return blocked;
}

function violation(group: Group, deny: Rule, addresses: string[], target: KmsTarget): string {
    return (
        `NSG "${group.displayName}": outbound Deny rule "${deny.view.name}" (priority ${deny.priority}) blocks TCP ${target.port} ` +
        `to the KMS at ${addresses.join(", ")} (${target.source}), and no outbound Allow for TCP ${target.port} to them comes before it: ` +
        `Windows VMs behind it cannot activate. Remediation: add an outbound Allow rule for protocol Tcp, destination port ${target.port}, ` +
        `destination ${addresses.join(", ")}, with a priority number lower than ${deny.priority} ` +
        "(KmsEgressRules from azure-kms-activation adds one, priority 100 by default)."
    );
}

/** An outbound deny that catches KMS traffic must come after an allow for it. */
export function nsgAllowBeforeDenyPolicy(options: KmsActivationPolicyOptions): StackValidationPolicy {
    return {
        name: NAME,
        description:
            "An NSG with an outbound Deny that covers the KMS addresses has an outbound Allow for TCP 1688 to every KMS address at a higher priority (lower number).",
        enforcementLevel: enforcementLevelOf(NAME, options),
        configSchema: kmsPolicyConfigSchema,
        remediationSteps: REMEDIATION,
        validateStack: (args, reportViolation) => {
            const target = resolveTarget(NAME, options, configOf(args));
            const { groups, unplaced } = groupChildren(args.resources ?? [], SECURITY_GROUPS);
            if (unplaced.length > 0) {
                return; // A rule whose NSG is not known yet may be the missing allow: nothing can be concluded.
            }
            for (const group of groups) {
                const views = group.children.map((child) => ({ view: ruleView(child.name, child.props), child }));
                if (group.incomplete || views.some((r) => isUndecided(r.view))) {
                    continue;
                }
                // A rule without a priority is refused by Azure anyway; it cannot be ordered, so it is left out.
                const rules = views.flatMap((r) => (typeof r.view.priority === "number" ? [{ ...r, priority: r.view.priority }] : []));
                for (const [deny, addresses] of blockingDenies(rules, target)) {
                    reportViolation(violation(group, deny, addresses, target), deny.child.resource.urn);
                }
            }
        },
    };
}
