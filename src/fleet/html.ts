/**
 * The HTML report: one self-contained page (inline style and script, no fetch of any kind, so it opens from a mail
 * attachment or an air-gapped share) with the summary counts, a table sortable by any column, each VM's KMS path
 * drawn when paths were judged, and the stale KMS routes and rules. `fleet --html` and `plan --html` write it.
 */
import { FLEET_STATUSES, FleetReport, FleetVm } from "./types";

function esc(text: unknown): string {
    return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

const STYLE = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1b1b1b;background:#fafafa}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}.sub{color:#555;margin:0 0 16px}
.cards{display:flex;flex-wrap:wrap;gap:8px}.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:90px}
.card b{display:block;font-size:22px}.card span{color:#555;font-size:12px}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5;cursor:pointer;user-select:none;white-space:nowrap}th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
.st{font-weight:600;border-radius:4px;padding:1px 6px;white-space:nowrap}
.activated,.licensed,.reachable{background:#dff3e4;color:#17642b}.skipped{background:#eceff3;color:#444}
.pending,.unknown{background:#fff3cd;color:#7a5a00}.error,.blocked{background:#fbe0e0;color:#9b1c1c}.no-activation{background:#e7ecf7;color:#243b7a}
.path{display:flex;flex-wrap:wrap;align-items:center;gap:3px;margin:2px 0}.hop{border:1px solid #ccc;border-radius:4px;padding:0 5px;font-size:11px;background:#fff;white-space:nowrap}
td.name{white-space:nowrap}td.subscription{font-size:12px;color:#555}
.hop.block{border-color:#c33;background:#fbe0e0}.hop.unknown{border-color:#c90;background:#fff3cd}.hop.pass{border-color:#3a7}
.arrow{color:#888}.diag{color:#333;font-size:12px}ul.stale li{margin-bottom:6px}code{font-size:12px}
`;

// Sorts by the clicked column; numbers and text alike (data-key holds the value compared).
const SCRIPT = `
document.querySelectorAll("table.sortable th").forEach(function (th, col) {
  th.addEventListener("click", function () {
    var table = th.closest("table"), body = table.tBodies[0];
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[col].getAttribute("data-key") || a.cells[col].textContent;
      var y = b.cells[col].getAttribute("data-key") || b.cells[col].textContent;
      var c = x.localeCompare(y, undefined, { numeric: true });
      return dir === "ascending" ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
`;

// A subscription GUID shortened to its first block (the whole ID on hover); anything else as it is.
function shortId(id: string): string {
    return /^[0-9a-f]{8}-[0-9a-f-]{27}$/i.test(id) ? `${id.slice(0, 8)}…` : id;
}

function vmLabel(vm: FleetVm): string {
    return vm.instanceId !== undefined ? `${vm.scaleSet}/${vm.instanceId}` : vm.name;
}

function pathCell(vm: FleetVm): string {
    if (!vm.path) return esc(vm.pathNote ?? "");
    return vm.path.addresses
        .map((a) => {
            // Each hop: its rule and the element's short name (before the first parenthesis); the whole step on hover.
            const hops = a.steps.map((s) => {
                const m = /^\[(\w+)\] (pass|block|unknown) ([^:]*)/.exec(s);
                const element = m ? m[3].split(" (")[0] : s;
                return `<span class="hop ${esc(m?.[2] ?? "")}" title="${esc(s)}">${esc(m ? `${m[1]} ${element}` : s)}</span>`;
            });
            return `<div class="path">${hops.join('<span class="arrow">&rarr;</span>')}<span class="arrow">&rarr;</span><span class="st ${esc(a.verdict)}">${esc(a.address)} ${esc(a.verdict)}</span></div>`;
        })
        .join("");
}

/** The page for a report. `title` names what was read (a fleet, or a planned stack). */
export function renderFleetHtml(report: FleetReport, title = "KMS activation: fleet report"): string {
    const s = report.summary;
    const cards = [
        `<div class="card" id="count-vms"><b>${s.vms}</b><span>Windows VMs</span></div>`,
        ...FLEET_STATUSES.map((st) => `<div class="card ${st}" id="count-${st}"><b>${s.statuses[st]}</b><span>${st}</span></div>`),
        ...(s.paths ? (["reachable", "blocked", "unknown"] as const).map((v) => `<div class="card" id="count-path-${v}"><b>${s.paths![v]}</b><span>path ${v}</span></div>`) : []),
        `<div class="card" id="count-stale"><b>${s.stale}</b><span>stale KMS rules</span></div>`,
    ];
    const rows = report.vms.map(
        (vm) =>
            `<tr class="vm" data-id="${esc(vm.id)}"><td data-key="${FLEET_STATUSES.indexOf(vm.status)}"><span class="st ${esc(vm.status)}">${esc(vm.status)}</span></td>` +
            `<td class="name">${esc(vmLabel(vm))}</td><td>${esc(vm.resourceGroup)}</td><td class="subscription" title="${esc(vm.subscriptionId)}">${esc(shortId(vm.subscriptionId))}</td><td>${esc(vm.source)}</td>` +
            (report.options.paths ? `<td data-key="${esc(vm.path?.verdict ?? "~")}">${pathCell(vm)}</td>` : "") +
            `<td class="diag">${vm.diagnosis.map(esc).join("<br>")}</td></tr>`,
    );
    const stale = report.stale.map(
        (r) =>
            `<li><b>${esc(r.kind)} ${esc(r.name)}</b> (${esc(r.resourceGroup)}): covers <code>${esc(r.covers.join(", "))}</code>, missing <code>${esc(r.missing.join(", "))}</code><br>${r.rules.map((x) => `<code>${esc(x)}</code>`).join("<br>")}<br>Fix: ${esc(r.fix)}</li>`,
    );
    const denied = report.subscriptions.filter((x) => x.access !== "ok").map((x) => `<li>${esc(x.id)}: ${esc(x.access)} — ${esc(x.error)}</li>`);
    return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${esc(title)}</h1>
<p class="sub">KMS ${esc(report.kms.host)}:${report.kms.port} (${esc(report.cloud)}: ${esc(report.kms.addresses.join(", "))})${report.resourceGroup ? `, resource group ${esc(report.resourceGroup)}` : ""}${report.subscriptions.length ? `; ${report.subscriptions.filter((x) => x.access === "ok").length} of ${report.subscriptions.length} subscriptions read` : "; a planned stack, nothing read from Azure"}</p>
${denied.length ? `<ul class="denied">${denied.join("")}</ul>` : ""}
<div class="cards" id="summary">${cards.join("")}</div>
<h2>Windows VMs</h2>
<table class="sortable" id="vms"><thead><tr><th>Status</th><th>VM</th><th>Resource group</th><th>Subscription</th><th>Source</th>${report.options.paths ? "<th>KMS path</th>" : ""}<th>Diagnosis</th></tr></thead>
<tbody>${rows.join("\n")}</tbody></table>
<h2>Stale KMS routes and rules</h2>
${stale.length ? `<ul class="stale" id="stale">${stale.join("")}</ul>` : `<p id="stale">None: every route table, NSG and firewall rule collection group that names a KMS address names all of them.</p>`}
<script>${SCRIPT}</script>
</body></html>
`;
}
