/** The text and JSON forms of a fleet report (the HTML form is in html.ts). */
import { FLEET_STATUSES, FleetReport, FleetVm, StaleKmsRule } from "./types";

/** The summary counts, one line: `12 Windows VMs: 3 activated, …`. */
export function summaryLine(report: FleetReport): string {
    const s = report.summary;
    const counts = FLEET_STATUSES.map((status) => `${s.statuses[status]} ${status}`).join(", ");
    const paths = s.paths ? `; paths: ${s.paths.reachable} reachable, ${s.paths.blocked} blocked, ${s.paths.unknown} unknown` : "";
    return `${s.vms} Windows VM${s.vms === 1 ? "" : "s"}: ${counts}${paths}; ${s.stale} stale KMS route table/rule${s.stale === 1 ? "" : "s"}`;
}

function vmLabel(vm: FleetVm): string {
    return vm.instanceId !== undefined ? `${vm.scaleSet}/${vm.instanceId}` : vm.scaleSet ? `${vm.name} (${vm.scaleSet})` : vm.name;
}

function pad(text: string, width: number): string {
    return text.length >= width ? `${text} ` : text.padEnd(width);
}

/** What to put in the one-line diagnosis column: the path's blame when a path is blocked, else the first cause. */
function firstDiagnosis(vm: FleetVm): string {
    const blamed = vm.path?.addresses.find((a) => a.verdict !== "reachable" && a.blame)?.blame;
    if (blamed && vm.status !== "activated" && vm.status !== "licensed") return `${blamed.element} — ${blamed.fix}`;
    return vm.diagnosis[0] ?? "";
}

function staleLines(rule: StaleKmsRule): string[] {
    const kind = { "route-table": "route table", nsg: "NSG", "firewall-policy": "firewall policy rule collection group" }[rule.kind];
    return [
        `  ${kind} "${rule.name}" (resource group ${rule.resourceGroup}, subscription ${rule.subscriptionId})`,
        `    covers ${rule.covers.join(", ")}; missing ${rule.missing.join(", ")}`,
        ...rule.rules.map((r) => `    - ${r}`),
        `    fix: ${rule.fix}`,
    ];
}

/** The text report: heading, summary counts, one line per VM, then the paths that fail and the stale rules. */
export function renderFleetText(report: FleetReport): string {
    const lines: string[] = [];
    lines.push(`KMS ${report.kms.host}:${report.kms.port} (${report.cloud}: ${report.kms.addresses.join(", ")})${report.resourceGroup ? `, resource group ${report.resourceGroup}` : ""}`);
    const read = report.subscriptions.filter((s) => s.access === "ok").length;
    lines.push(`Subscriptions: ${read} of ${report.subscriptions.length} read`);
    for (const s of report.subscriptions.filter((x) => x.access !== "ok")) lines.push(`  ${s.id}${s.name ? ` (${s.name})` : ""}: ${s.access}: ${s.error}`);
    lines.push(summaryLine(report) + (report.summary.notWindows ? ` (${report.summary.notWindows} non-Windows left out)` : ""));
    lines.push("");
    const multi = new Set(report.vms.map((v) => v.subscriptionId)).size > 1;
    const nameWidth = Math.max(4, ...report.vms.map((v) => vmLabel(v).length)) + 2;
    const rgWidth = Math.max(14, ...report.vms.map((v) => v.resourceGroup.length)) + 2;
    const header = [pad("STATUS", 15), pad("VM", nameWidth), pad("RESOURCE GROUP", rgWidth), multi ? pad("SUBSCRIPTION", 38) : "", pad("SOURCE", 12), report.options.paths ? pad("PATH", 11) : "", "DIAGNOSIS"].join("");
    lines.push(header);
    for (const vm of report.vms) {
        lines.push(
            [
                pad(vm.status, 15),
                pad(vmLabel(vm), nameWidth),
                pad(vm.resourceGroup, rgWidth),
                multi ? pad(vm.subscriptionId, 38) : "",
                pad(vm.source, 12),
                report.options.paths ? pad(vm.path?.verdict ?? "-", 11) : "",
                firstDiagnosis(vm),
            ].join("").trimEnd(),
        );
    }
    const failing = report.vms.filter((vm) => vm.path && vm.path.verdict !== "reachable");
    if (failing.length > 0) {
        lines.push("", "Paths that do not reach KMS:");
        for (const vm of failing) {
            lines.push(`  ${vmLabel(vm)} (NIC ${vm.path!.nic}): ${vm.path!.verdict}`);
            for (const a of vm.path!.addresses.filter((x) => x.verdict !== "reachable")) {
                lines.push(`    ${a.address}: ${a.verdict}${a.route ? ` via ${a.route}` : ""}${a.blame ? `; [${a.blame.rule}] ${a.blame.element}; fix: ${a.blame.fix}` : ""}`);
            }
        }
    }
    if (report.stale.length > 0) {
        lines.push("", `Stale KMS routes and rules (${report.stale.length}):`);
        for (const rule of report.stale) lines.push(...staleLines(rule));
    }
    for (const d of report.drift ?? []) {
        if (d.error) lines.push(`Resolve ${d.host}: failed (${d.error})`);
        else if (d.unknown.length > 0) lines.push(`Resolve ${d.host}: ${d.addresses.join(", ")}; not in the package's table: ${d.unknown.join(", ")} (Azure may have moved its KMS: route and allow these too, through kmsIpAddresses)`);
        else lines.push(`Resolve ${d.host}: ${d.addresses.join(", ")} (all in the package's table)`);
    }
    return `${lines.join("\n")}\n`;
}

/** The JSON report (schema in docs/fleet.md). */
export function renderFleetJson(report: FleetReport): string {
    return `${JSON.stringify(report, null, 2)}\n`;
}
