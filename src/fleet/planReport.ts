/**
 * `plan --html`: a planned stack as a fleet report, so the same page shows it. A plan deploys nothing, so no VM has a
 * result line yet: a VM the program activates is `unknown` ("known after deploy"), one without activation
 * `no-activation`; the paths are the plan's engine verdicts; the stale list is the program's own route tables, NSG
 * rules and firewall rules that name some KMS addresses but not all.
 */
import { writeFileSync } from "fs";
import type { Plan } from "../cli/planModel";
import { kmsEndpoint } from "../kms/endpoints";
import { AzureCloud } from "../types";
import { renderFleetHtml } from "./html";
import { fleetPath } from "./paths";
import { staleNsg, staleRouteTable, staleRuleCollectionGroup } from "./stale";
import { FLEET_STATUSES, FleetReport, FleetStatus, FleetVm, StaleKmsRule } from "./types";

function cloudOf(plan: Plan): AzureCloud {
    const source = plan.reachability.find((r) => r.kms && !r.kms.custom)?.kms?.source;
    return (Object.values(AzureCloud) as string[]).includes(source ?? "") ? (source as AzureCloud) : AzureCloud.AzurePublic;
}

/** The program's KMS routes and rules, grouped by table / NSG / policy, checked like a live fleet's. */
function planStale(plan: Plan, cloud: AzureCloud): StaleKmsRule[] {
    const found: (StaleKmsRule | undefined)[] = [];
    const tables = new Map<string, { name: string; routes: unknown[] }>();
    for (const r of plan.routes) {
        const t = tables.get(r.routeTable) ?? { name: r.routeTable, routes: [] };
        t.routes.push({ name: r.name, addressPrefix: r.addressPrefix, nextHopType: r.nextHop });
        tables.set(r.routeTable, t);
    }
    for (const t of tables.values()) found.push(staleRouteTable({ id: `(planned) route table ${t.name}`, ...t }, cloud));
    const nsgs = new Map<string, { name: string; securityRules: unknown[] }>();
    for (const r of plan.securityRules) {
        const n = nsgs.get(r.networkSecurityGroup) ?? { name: r.networkSecurityGroup, securityRules: [] };
        n.securityRules.push({ name: r.name, priority: r.priority, direction: r.direction, access: r.access, protocol: r.protocol, sourceAddressPrefix: r.source, destinationAddressPrefixes: r.destinations, destinationPortRange: r.ports });
        nsgs.set(r.networkSecurityGroup, n);
    }
    for (const n of nsgs.values()) found.push(staleNsg({ id: `(planned) NSG ${n.name}`, ...n }, cloud));
    const policies = new Map<string, Plan["firewallRules"]>();
    for (const r of plan.firewallRules) {
        const key = `${r.firewallPolicy}/${r.ruleCollectionGroup}`;
        policies.set(key, [...(policies.get(key) ?? []), r]);
    }
    for (const [key, rules] of policies) {
        const [policy, group] = key.split("/");
        const collections = rules.map((r) => ({
            name: r.ruleCollection,
            action: { type: r.action },
            rules: [{ name: r.name, ruleType: r.ruleType, ipProtocols: r.protocols, sourceAddresses: r.sources, destinationAddresses: r.destinations, destinationPorts: r.ports }],
        }));
        found.push(staleRuleCollectionGroup({ id: `/firewallPolicies/${policy}/ruleCollectionGroups/${group}`, name: group, ruleCollections: collections }, cloud));
    }
    return found.filter((f): f is StaleKmsRule => f !== undefined);
}

/** The fleet report of a plan. */
export function planFleetReport(plan: Plan): FleetReport {
    const cloud = cloudOf(plan);
    const endpoint = kmsEndpoint(cloud);
    const vms: FleetVm[] = plan.reachability.map((r) => {
        const activation = plan.activations.find((a) => a.vm === r.vm);
        const status: FleetStatus = activation ? "unknown" : "no-activation";
        return {
            id: `(planned) ${r.vm}`,
            name: r.vm,
            subscriptionId: "(planned)",
            resourceGroup: "",
            status,
            source: "none",
            diagnosis: activation ? [`planned: ${activation.mechanism} ${activation.resource} points the guest at ${activation.kmsEndpoint}; the result is known after deploy`] : ["no KmsActivation in the program for this VM"],
            path: fleetPath(r.subnet ? `in subnet ${r.subnet}` : "(subnet not known offline)", { verdict: r.verdict, addresses: r.addresses }),
        };
    });
    const statuses = Object.fromEntries(FLEET_STATUSES.map((s) => [s, vms.filter((v) => v.status === s).length])) as Record<FleetStatus, number>;
    const paths = { reachable: 0, blocked: 0, unknown: 0 };
    for (const vm of vms) paths[vm.path!.verdict]++;
    const stale = planStale(plan, cloud);
    return {
        schema: 1,
        cloud,
        kms: { host: endpoint.host, port: endpoint.port, addresses: [...endpoint.ipAddresses] },
        options: { paths: true, probe: false, resolve: false },
        subscriptions: [],
        summary: { vms: vms.length, statuses, paths, stale: stale.length, notWindows: 0 },
        vms,
        stale,
    };
}

/** Writes the page of a plan; returns the one-line error when the file cannot be written. */
export function writePlanHtml(plan: Plan, file: string, write: (file: string, text: string) => void = (f, t) => writeFileSync(f, t, "utf8")): string | undefined {
    try {
        write(file, renderFleetHtml(planFleetReport(plan), `KMS activation: plan of ${plan.project}/${plan.stack}`));
        return undefined;
    } catch (err) {
        return `--html file "${file}" cannot be written: ${(err as Error).message}`;
    }
}
