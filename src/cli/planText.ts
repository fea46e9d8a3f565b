// `plan`'s text format: reads like `pulumi preview`, over the plan model (planModel.ts).
import { MAX_COMMAND_LENGTH } from "../guest/render";
import { Plan } from "./planModel";
import { renderReachability } from "./reachability";
import { safeStrings } from "./sanitize";

function configLines(plan: Plan): string[] {
    const keys = Object.keys(plan.config).sort();
    if (keys.length === 0) {
        return [];
    }
    const width = Math.max(...keys.map((k) => k.length)) + 2;
    return ["Config:", ...keys.map((k) => `    ${k.padEnd(width)}${plan.config[k]}`), ""];
}

function outputLines(plan: Plan): string[] {
    const keys = Object.keys(plan.outputs ?? {});
    if (keys.length === 0) {
        return [];
    }
    const width = Math.max(...keys.map((k) => k.length)) + 2;
    const text = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v) ?? "undefined");
    return ["Outputs:", ...keys.map((k) => `    ${`${k}:`.padEnd(width)}${text(plan.outputs[k])}`), ""];
}

function tree(plan: Plan): string[] {
    const stack = `${plan.project}-${plan.stack}`;
    const rows: [string, string, string][] = [["pulumi:pulumi:Stack", stack, "create"]];
    const walk = (parent: string | null, indent: string) => {
        const children = plan.resources.filter((r) => r.parent === parent);
        children.forEach((child, i) => {
            const last = i === children.length - 1;
            rows.push([`${indent}${last ? "└─ " : "├─ "}${child.type}`, child.name, "create"]);
            walk(child.name, `${indent}${last ? "   " : "│  "}`);
        });
    };
    walk(null, "");
    const typeWidth = Math.max(...rows.map((r) => r[0].length)) + 2;
    const nameWidth = Math.max(...rows.map((r) => r[1].length)) + 2;
    return [
        ` ${"    Type".padEnd(typeWidth + 4)}${"Name".padEnd(nameWidth)}Plan`,
        ...rows.map(([type, name, op]) => ` +   ${type.padEnd(typeWidth)}${name.padEnd(nameWidth)}${op}`),
    ];
}

/** The plan as text that reads like `pulumi preview`. Every value shown through the sanitizer (no input writes to the terminal). */
export function renderText(input: Plan): string {
    const plan = safeStrings(input);
    const n = (x: number) => x.toLocaleString("en-US");
    const lines = [
        `Offline plan of ${plan.program} (stack "${plan.stack}")`,
        "Pulumi's mock engine ran the program: no Azure credentials, no network, nothing deployed.",
        "",
        ...tree(plan),
        "",
        "Resources:",
        `    + ${plan.summary.toCreate} to create (${plan.summary.azureResources} Azure resources, ${plan.summary.components} components)`,
        "",
        ...configLines(plan),
        ...outputLines(plan),
        "KMS egress:",
    ];
    const packageRoutes = plan.routes.filter((r) => r.addedByPackage);
    const packageRules = plan.securityRules.filter((r) => r.addedByPackage);
    for (const table of [...new Set(plan.routes.map((r) => r.routeTable))]) {
        lines.push(`    route table ${table}:`);
        for (const r of plan.routes.filter((x) => x.routeTable === table)) {
            lines.push(`        ${r.addedByPackage ? "+ KMS" : "  own"}  ${r.name.padEnd(28)}${r.addressPrefix.padEnd(20)}-> ${r.nextHop}`);
        }
    }
    for (const nsg of [...new Set(plan.securityRules.map((r) => r.networkSecurityGroup))]) {
        lines.push(`    NSG ${nsg}:`);
        for (const r of plan.securityRules.filter((x) => x.networkSecurityGroup === nsg)) {
            lines.push(
                `        ${r.addedByPackage ? "+ KMS" : "  own"}  ${r.name.padEnd(28)}priority ${String(r.priority).padEnd(6)}${r.direction} ${r.access} ${r.protocol} ${r.source} -> ${r.destinations.join(", ")} port ${r.ports}`,
            );
        }
    }
    for (const group of [...new Set(plan.firewallRules.map((r) => `${r.firewallPolicy}\u0000${r.ruleCollectionGroup}`))]) {
        const [policy, name] = group.split("\u0000");
        const rules = plan.firewallRules.filter((r) => r.firewallPolicy === policy && r.ruleCollectionGroup === name);
        lines.push(`    firewall policy ${policy}, rule collection group ${name} (priority ${rules[0].groupPriority}):`);
        for (const r of rules) {
            lines.push(
                `        ${r.addedByPackage ? "+ KMS" : "  own"}  ${r.name.padEnd(28)}${r.ruleCollection} (priority ${r.collectionPriority}) ${r.action} ${r.ruleType} ${r.protocols.join(",")} ` +
                    `${r.sources.join(", ")} -> ${r.destinations.join(", ")} port ${r.ports.join(",")}`,
            );
        }
    }
    if (packageRoutes.length === 0 && packageRules.length === 0 && !plan.firewallRules.some((r) => r.addedByPackage)) {
        lines.push("    (none)");
    }
    lines.push("", "Explicit outbound:");
    for (const o of plan.outbound) {
        const access = o.defaultOutboundAccess === false ? "private subnet (defaultOutboundAccess: false)" : "default outbound access";
        lines.push(`    subnet ${o.subnet}: ${o.natGateway ? `NAT gateway ${o.natGateway}` : "no NAT gateway"}, ${access}`);
    }
    for (const s of plan.unreadSubnets) {
        lines.push(`    existing subnet ${s}: cannot be read offline; pulumi preview reads it and warns when it is private without a way out`);
    }
    if (plan.outbound.length === 0 && plan.unreadSubnets.length === 0) {
        lines.push("    (no subnet in this program)");
    }
    lines.push("", "Guest activation:");
    for (const a of plan.activations) {
        const port = a.kmsEndpoint.slice(a.kmsEndpoint.lastIndexOf(":") + 1);
        lines.push(
            a.kmsHosts.length > 1
                ? `    ${a.scaleSet ? "scale set" : "VM"} ${a.vm}: ${a.mechanism} -> slmgr /skms <the first of ${a.kmsHosts.join(", ")} that accepts TCP>:${port}`
                : `    ${a.scaleSet ? "scale set" : "VM"} ${a.vm}: ${a.mechanism} -> slmgr /skms ${a.kmsEndpoint}`,
        );
        lines.push(`        key: ${a.keyAction}`);
        lines.push(
            `        guest script: ${n(a.scriptCharacters)} characters` +
                (a.commandCharacters === null ? " (inline Run Command script)" : `; command line ${n(a.commandCharacters)} of ${n(MAX_COMMAND_LENGTH)}`),
        );
        if (a.waitsFor.length > 0) {
            lines.push(`        waits for: ${a.waitsFor.map((w) => w.name).join(", ")}`);
        }
        lines.push(`        activationStatus: ${a.activationStatus}`);
    }
    if (plan.activations.length === 0) {
        lines.push("    (no KmsActivation in this program)");
    }
    lines.push("", "KMS reachability (the reachability engine on each Windows VM's path, as the kms-reachability policy resolves it):");
    lines.push(...renderReachability(plan.reachability));
    if (plan.offlineAnswers.length > 0) {
        lines.push("", "Offline answers (no Azure to ask):");
        for (const a of plan.offlineAnswers) {
            lines.push(`    ${a.token}: ${a.assumption}`);
        }
    }
    lines.push("", "This was an offline plan. With Azure credentials, `pulumi preview` shows the real diff against your subscription.");
    return lines.join("\n");
}
