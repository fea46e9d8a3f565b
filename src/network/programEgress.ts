import * as pulumi from "@pulumi/pulumi";
import { AzureFirewallFacts, NextHopFacts, SecurityRuleFact, UserRouteFact } from "../reachability";

// What the components of this program add to the network: the KMS routes per route table, the NSG rule per NSG and
// the firewall rules per firewall private IP. A subnet check merges them into what it read, so it judges the
// network as it will be once the program has run, not as it was before (a read may come before our routes exist).
// Entries are recorded when their names resolve; a check uses what is recorded when it runs, so an entry still
// unknown then makes the answer `unknown` (quiet), never a wrong warning.
const routesByTable = new Map<string, UserRouteFact[]>();
const rulesByNsg = new Map<string, SecurityRuleFact[]>();
const firewallsByIp = new Map<string, AzureFirewallFacts>();

const key = (resourceGroupName: string, name: string) => `${resourceGroupName}/${name}`.toLowerCase();

const isPlain = (value: unknown) => !pulumi.Output.isInstance(value) && !(value instanceof Promise);

// Records at once when every value is plain (the usual case: a check that runs soon after sees it), else when the
// Outputs resolve.
function whenKnown<T extends unknown[]>(values: [...{ [K in keyof T]: pulumi.Input<T[K]> }], record: (value: T) => void): void {
    if (values.every(isPlain)) {
        record(values as unknown as T);
        return;
    }
    pulumi.all(values as pulumi.Input<unknown>[]).apply((v) => {
        record(v as unknown as T);
        return undefined;
    });
}

/** Records the KMS routes a `KmsEgressRules` adds to a route table. */
export function planRoutes(resourceGroupName: pulumi.Input<string>, routeTableName: pulumi.Input<string>, routes: UserRouteFact[]): void {
    whenKnown<[string, string]>([resourceGroupName, routeTableName], ([rg, table]) => {
        routesByTable.set(key(rg, table), [...(routesByTable.get(key(rg, table)) ?? []), ...routes]);
    });
}

/** Records the NSG rule a `KmsEgressRules` adds. */
export function planSecurityRule(resourceGroupName: pulumi.Input<string>, nsgName: pulumi.Input<string>, rule: pulumi.Input<SecurityRuleFact>): void {
    whenKnown<[string, string, SecurityRuleFact]>([resourceGroupName, nsgName, rule], ([rg, nsg, r]) => {
        rulesByNsg.set(key(rg, nsg), [...(rulesByNsg.get(key(rg, nsg)) ?? []), r]);
    });
}

/** Records the firewall a `KmsFirewallRules` adds its rules to, by the firewall's private IP. */
export function planFirewall(privateIpAddress: pulumi.Input<string>, firewall: pulumi.Input<AzureFirewallFacts>): void {
    whenKnown<[string, AzureFirewallFacts]>([privateIpAddress, firewall], ([ip, facts]) => {
        const earlier = firewallsByIp.get(ip);
        firewallsByIp.set(
            ip,
            earlier ? { ...earlier, ruleCollectionGroups: [...(earlier.ruleCollectionGroups ?? []), ...(facts.ruleCollectionGroups ?? [])] } : facts,
        );
    });
}

/** The routes this program adds to a route table. */
export function plannedRoutes(resourceGroupName: string, routeTableName: string): UserRouteFact[] {
    return routesByTable.get(key(resourceGroupName, routeTableName)) ?? [];
}

/** The rules this program adds to an NSG. */
export function plannedSecurityRules(resourceGroupName: string, nsgName: string): SecurityRuleFact[] {
    return rulesByNsg.get(key(resourceGroupName, nsgName)) ?? [];
}

/** The firewalls this program adds KMS rules to, as next hops the engine can judge. */
export function plannedNextHops(): NextHopFacts[] {
    return [...firewallsByIp.entries()].map(([ipAddress, azureFirewall]) => ({ ipAddress, azureFirewall }));
}

/** Forgets everything recorded: for tests that run many programs in one process. */
export function forgetProgramEgress(): void {
    routesByTable.clear();
    rulesByNsg.clear();
    firewallsByIp.clear();
}
