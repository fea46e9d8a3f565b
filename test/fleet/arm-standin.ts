/**
 * A local HTTPS stand-in for Azure Resource Manager: answers the calls `fleet` makes through Azure's real SDK clients
 * as ARM does (paths, JSON shapes with `properties` nested, paging by `nextLink` with `$skipToken`, 202 + `Location`
 * long-running operations, 401/403/404/429 error bodies). Each body is written here, shaped after the
 * Azure/azure-rest-api-specs example named beside it. Its certificate is self-signed and made at test time with the
 * `openssl` binary; the clients trust it through their own `tlsOptions.ca`, nothing global.
 */
import { execFileSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { createServer, Server } from "https";
import type { IncomingMessage, ServerResponse } from "http";
import type { AddressInfo } from "net";
import { tmpdir } from "os";
import * as path from "path";

/** The token the stand-in accepts (and the fixed-token credential hands out). */
export const STAND_IN_TOKEN = "stand-in-token";

/** A credential that returns a fixed token: what a test gives `fleet` instead of DefaultAzureCredential. */
export const fixedTokenCredential = {
    getToken: async () => ({ token: STAND_IN_TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 }),
};

/** An instance-view status (code, level, displayStatus, message). */
export interface Status {
    code: string;
    level?: string;
    displayStatus?: string;
    message?: string;
}

/** An extension on a VM, as its instance view shows it. */
export interface StandInExtension {
    name: string;
    type: string;
    statuses?: Status[];
    substatuses?: Status[];
}

export interface StandInVm {
    subscriptionId: string;
    resourceGroup: string;
    name: string;
    os: "Windows" | "Linux";
    location?: string;
    powerState?: string;
    extensions?: StandInExtension[];
    /** The managed Run Command `KmsActivation`'s instance view (ActivationMechanism.RunCommand). */
    runCommand?: { executionState: string; output: string; error?: string; exitCode?: number };
    /** NIC name (same resource group). */
    nic?: string;
    /** What an action Run Command prints on this VM (`--probe`). */
    probeOutput?: string;
}

export interface StandInScaleSet {
    subscriptionId: string;
    resourceGroup: string;
    name: string;
    os: "Windows" | "Linux";
    instances: { instanceId: string; extensions?: StandInExtension[]; probeOutput?: string }[];
}

export interface StandInNic {
    subscriptionId: string;
    resourceGroup: string;
    name: string;
    privateIp: string;
    subnetId: string;
    /** Effective routes: entries as NetworkInterfaceEffectiveRouteTableList.json has them. */
    effectiveRoutes: unknown[];
    /** Effective NSGs: entries as NetworkInterfaceEffectiveNSGList.json has them. */
    effectiveNsgs: unknown[];
}

export interface StandInWorld {
    subscriptions: { id: string; name: string; denied?: boolean }[];
    vms: StandInVm[];
    scaleSets?: StandInScaleSet[];
    nics?: StandInNic[];
    /** Subnets by ID: the REST body (`properties` nested). */
    subnets?: Record<string, unknown>;
    /** Route tables: REST bodies (their `id` says subscription and resource group). */
    routeTables?: unknown[];
    networkSecurityGroups?: unknown[];
    firewallPolicies?: { id: string; name: string; ruleCollectionGroups: unknown[] }[];
    /** Items per page of every list (ARM pages at 1,000 VMs, less for others); small here so tests page. */
    pageSize?: number;
    /** Request paths (regex on the path) whose first request gets 429 with `Retry-After`. */
    throttleOnce?: RegExp[];
    /** `Retry-After` seconds on 429s. */
    throttleSeconds?: number;
    /** Request paths (regex on the path) always answered 403 AuthorizationFailed (a role that does not reach them). */
    denyPaths?: RegExp[];
    /** Request paths (regex on the path) whose first request gets 503 ServiceUnavailable (a transient ARM error). */
    failOnce?: RegExp[];
    /** Milliseconds before each answer (a slow ARM), so a test can see how many requests the client keeps open. */
    delayMs?: number;
}

/** One request as the stand-in saw it. */
export interface SeenRequest {
    method: string;
    path: string;
    query: URLSearchParams;
    status: number;
    /** When it was answered (ms since the epoch). */
    at: number;
    body?: unknown;
}

export interface StandIn {
    url: string;
    ca: string;
    requests: SeenRequest[];
    /** Most requests the stand-in held at once (with `delayMs`, how many the client had in flight). */
    readonly maxInFlight: number;
    close(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made now with `openssl` (removed from disk at once). */
export function makeCertificate(): { key: string; cert: string } {
    const dir = mkdtempSync(path.join(tmpdir(), "arm-standin-"));
    try {
        const key = path.join(dir, "key.pem");
        const cert = path.join(dir, "cert.pem");
        execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], { stdio: "pipe" });
        return { key: readFileSync(key, "utf8"), cert: readFileSync(cert, "utf8") };
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

let certificate: { key: string; cert: string } | undefined;

const vmId = (vm: { subscriptionId: string; resourceGroup: string; name: string }) => `/subscriptions/${vm.subscriptionId}/resourceGroups/${vm.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${vm.name}`;
const nicId = (sub: string, rg: string, name: string) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Network/networkInterfaces/${name}`;

function scopeOf(id: string): { sub: string; rg: string } {
    const m = /\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)/i.exec(id);
    return { sub: m?.[1] ?? "", rg: m?.[2] ?? "" };
}

// VirtualMachines_ListAll: specification/compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2024-11-01/examples/
// virtualMachineExamples/VirtualMachine_ListAll_MinimumSet_Gen.json (id, location, then the VM's properties as in
// VirtualMachine_Get_InstanceView.json's VM: storageProfile.osDisk.osType, networkProfile.networkInterfaces).
function vmBody(vm: StandInVm): unknown {
    return {
        name: vm.name,
        id: vmId(vm),
        type: "Microsoft.Compute/virtualMachines",
        location: vm.location ?? "westeurope",
        properties: {
            vmId: `0000${vm.name.length}`.padEnd(8, "0") + "-0000-0000-0000-000000000000",
            hardwareProfile: { vmSize: "Standard_D2s_v5" },
            storageProfile: { osDisk: { osType: vm.os, name: `${vm.name}-osdisk`, createOption: "FromImage", caching: "ReadWrite" } },
            osProfile: { computerName: vm.name, adminUsername: "azureuser", ...(vm.os === "Windows" ? { windowsConfiguration: { provisionVMAgent: true } } : { linuxConfiguration: {} }) },
            networkProfile: vm.nic ? { networkInterfaces: [{ id: nicId(vm.subscriptionId, vm.resourceGroup, vm.nic), properties: { primary: true } }] } : { networkInterfaces: [] },
            provisioningState: "Succeeded",
        },
    };
}

// VirtualMachines_InstanceView: .../virtualMachineExamples/VirtualMachine_Get_InstanceView.json (computerName, osName,
// vmAgent, extensions[] with statuses, statuses[] ProvisioningState + PowerState). Extension substatuses
// (`ComponentStatus/StdOut/succeeded`) as in runCommandExamples/VirtualMachineRunCommand.json's value[].
function instanceViewBody(vm: { name: string; os: string; powerState?: string; extensions?: StandInExtension[] }): unknown {
    return {
        computerName: vm.name,
        osName: vm.os === "Windows" ? "Windows Server 2022 Datacenter" : "ubuntu",
        osVersion: vm.os === "Windows" ? "Microsoft Windows NT 10.0.20348.0" : "22.04",
        vmAgent: { vmAgentVersion: "2.7.41491.1102", statuses: [{ code: "ProvisioningState/succeeded", level: "Info", displayStatus: "Ready", message: "GuestAgent is running and accepting new configurations." }] },
        extensions: (vm.extensions ?? []).map((e) => ({ name: e.name, type: e.type, typeHandlerVersion: "1.10.18", statuses: e.statuses ?? [], ...(e.substatuses ? { substatuses: e.substatuses } : {}) })),
        statuses: [
            { code: "ProvisioningState/succeeded", level: "Info", displayStatus: "Provisioning succeeded", time: "2026-11-30T08:00:00+00:00" },
            { code: `PowerState/${vm.powerState ?? "running"}`, level: "Info", displayStatus: `VM ${vm.powerState ?? "running"}` },
        ],
    };
}

function armError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): number {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", "x-ms-request-id": "00000000-0000-0000-0000-000000000000", ...headers });
    res.end(JSON.stringify({ error: { code, message } }));
    return status;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): number {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
    res.end(body === undefined ? "" : JSON.stringify(body));
    return status;
}

/** Starts the stand-in on 127.0.0.1 (a free port) for a world. */
export async function startStandIn(world: StandInWorld): Promise<StandIn> {
    certificate ??= makeCertificate();
    const requests: SeenRequest[] = [];
    let inFlight = 0;
    const stats = { maxInFlight: 0 };
    const throttled = new Set<string>();
    const failed = new Set<string>();
    // Long-running operations: id → the final body (one 202 "InProgress" poll first, as ARM answers a running operation).
    const operations = new Map<string, { body: unknown; polls: number }>();
    let nextOperation = 1;
    let base = "";

    const page = (res: ServerResponse, items: unknown[], query: URLSearchParams, pathname: string): number => {
        const size = world.pageSize ?? 50;
        const start = Number(query.get("$skipToken") ?? 0);
        const slice = items.slice(start, start + size);
        const next = new URLSearchParams(query);
        next.set("$skipToken", String(start + size));
        return json(res, 200, { value: slice, ...(start + size < items.length ? { nextLink: `${base}${pathname}?${next.toString()}` } : {}) });
    };

    const startOperation = (res: ServerResponse, sub: string, provider: string, body: unknown): number => {
        const id = `op-${nextOperation++}`;
        operations.set(id, { body, polls: 0 });
        // VirtualMachineRunCommand.json / NetworkInterfaceEffectiveRouteTableList.json: "202": { headers: { Location } }.
        // Retry-After 0: ARM sends a few seconds; the stand-in lets the SDK poll at once so the suite stays quick.
        return json(res, 202, undefined, { location: `${base}/subscriptions/${sub}/providers/${provider}/locations/westeurope/operations/${id}?api-version=2024-11-01`, "retry-after": "0" });
    };

    const handle = (req: IncomingMessage, res: ServerResponse): number => {
        const url = new URL(req.url ?? "/", base);
        const p = url.pathname;
        const q = url.searchParams;
        if (req.headers.authorization !== `Bearer ${STAND_IN_TOKEN}`) {
            return armError(res, 401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing or has an invalid token.");
        }
        const throttle = world.throttleOnce?.find((r) => r.test(p));
        if (throttle && !throttled.has(p)) {
            throttled.add(p);
            // ARM's throttling answer: 429 with Retry-After (seconds) and error code TooManyRequests
            // (Microsoft Learn, "Understand how Azure Resource Manager throttles requests").
            return armError(res, 429, "TooManyRequests", "The request is being throttled as the limit has been reached for operation type - Read.", { "retry-after": String(world.throttleSeconds ?? 1) });
        }
        if (world.denyPaths?.some((r) => r.test(p))) {
            return armError(res, 403, "AuthorizationFailed", `The client 'fleet-reader' with object id '00000000-0000-0000-0000-0000000000aa' does not have authorization to perform action 'Microsoft.Network/routeTables/read' over scope '${p}' or the scope is invalid.`);
        }
        const fail = world.failOnce?.find((r) => r.test(p));
        if (fail && !failed.has(p)) {
            failed.add(p);
            return armError(res, 503, "ServiceUnavailable", "The service is temporarily unavailable. Please try again later.");
        }
        let m: RegExpExecArray | null;
        // Subscriptions_List (api 2022-12-01): { value: [{ id, subscriptionId, displayName, state, tenantId }] } as the
        // Subscription definition in Microsoft.Resources/subscriptions/stable/2022-12-01/subscriptions.json (no example
        // file for the list is in the spec folder; GetTenants.json beside it is the same paged shape).
        if (req.method === "GET" && /^\/subscriptions\/?$/.test(p)) {
            return page(res, world.subscriptions.map((s) => ({ id: `/subscriptions/${s.id}`, subscriptionId: s.id, tenantId: "72f988bf-0000-0000-0000-000000000000", displayName: s.name, state: "Enabled", subscriptionPolicies: { locationPlacementId: "Public_2014-09-01", quotaId: "PayAsYouGo_2014-09-01", spendingLimit: "Off" }, authorizationSource: "RoleBased" })), q, p);
        }
        if (req.method === "GET" && (m = /^\/subscriptions\/[^/]+\/providers\/Microsoft\.(?:Compute|Network)\/locations\/[^/]+\/operations\/([^/]+)$/i.exec(p))) {
            const op = operations.get(m[1]);
            if (!op) return armError(res, 404, "NotFound", `operation ${m[1]} not found`);
            if (op.polls++ === 0) return json(res, 202, undefined, { location: `${base}${p}?${q.toString()}`, "retry-after": "0" });
            return json(res, 200, op.body);
        }
        const sm = /^\/subscriptions\/([^/]+)(\/.*)?$/i.exec(p);
        if (!sm) return armError(res, 404, "NotFound", `no route for ${p}`);
        const sub = sm[1];
        const subscription = world.subscriptions.find((s) => s.id === sub);
        if (!subscription) return armError(res, 404, "SubscriptionNotFound", `The subscription '${sub}' could not be found.`);
        if (subscription.denied) {
            // What ARM answers a credential without a role on the scope.
            return armError(res, 403, "AuthorizationFailed", `The client 'fleet-reader' with object id '00000000-0000-0000-0000-0000000000aa' does not have authorization to perform action 'Microsoft.Compute/virtualMachines/read' over scope '/subscriptions/${sub}' or the scope is invalid. If access was recently granted, please refresh your credentials.`);
        }
        const rest = sm[2] ?? "";
        const rgOf = (id: string) => scopeOf(id).rg.toLowerCase();
        const inScope = <T>(items: T[], idOf: (t: T) => string) => {
            const rgm = /^\/resourceGroups\/([^/]+)\/providers\//i.exec(rest);
            return items.filter((i) => scopeOf(idOf(i)).sub === sub && (!rgm || rgOf(idOf(i)) === rgm[1].toLowerCase()));
        };
        const rgm = /^\/resourceGroups\/([^/]+)\//i.exec(rest);
        if (rgm) {
            const known = [...world.vms.map(vmId), ...(world.scaleSets ?? []).map((s) => `/subscriptions/${s.subscriptionId}/resourceGroups/${s.resourceGroup}/`), ...(world.routeTables ?? []).map((t) => String((t as { id: string }).id))];
            if (!known.some((id) => scopeOf(id).sub === sub && rgOf(id) === rgm[1].toLowerCase())) {
                return armError(res, 404, "ResourceGroupNotFound", `Resource group '${rgm[1]}' could not be found.`);
            }
        }
        // Compute: VMs.
        if (req.method === "GET" && /^(\/resourceGroups\/[^/]+)?\/providers\/Microsoft\.Compute\/virtualMachines$/i.test(rest)) {
            return page(res, inScope(world.vms, vmId).map(vmBody), q, p);
        }
        if ((m = /^\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)(\/.*)?$/i.exec(rest))) {
            const vm = world.vms.find((v) => v.subscriptionId === sub && v.resourceGroup.toLowerCase() === m![1].toLowerCase() && v.name.toLowerCase() === m![2].toLowerCase());
            if (!vm) return armError(res, 404, "ResourceNotFound", `The Resource 'Microsoft.Compute/virtualMachines/${m[2]}' under resource group '${m[1]}' was not found.`);
            const tail = (m[3] ?? "").toLowerCase();
            if (req.method === "GET" && tail === "/instanceview") return json(res, 200, instanceViewBody(vm));
            if (req.method === "GET" && tail === "/runcommands/kmsactivation") {
                if (!vm.runCommand) return armError(res, 404, "ResourceNotFound", `The Resource 'Microsoft.Compute/virtualMachines/${vm.name}/runCommands/KmsActivation' under resource group '${vm.resourceGroup}' was not found.`);
                // VirtualMachineRunCommands_GetByVirtualMachine: runCommandExamples/VirtualMachineRunCommand_Get.json (name, id,
                // type, location, properties.source, provisioningState); the example has no $expand, so instanceView
                // { executionState, exitCode, output, error, startTime, endTime } follows the VirtualMachineRunCommand
                // definition of compute 2024-11-01.
                return json(res, 200, {
                    name: "KmsActivation",
                    id: `${vmId(vm)}/runCommands/KmsActivation`,
                    type: "Microsoft.Compute/virtualMachines/runCommands",
                    location: vm.location ?? "westeurope",
                    properties: {
                        source: { script: "# activate.ps1" },
                        provisioningState: "Succeeded",
                        ...(q.get("$expand") === "instanceView" ? { instanceView: { executionState: vm.runCommand.executionState, executionMessage: "", exitCode: vm.runCommand.exitCode ?? 0, output: vm.runCommand.output, error: vm.runCommand.error ?? "", startTime: "2026-11-30T08:01:00+00:00", endTime: "2026-11-30T08:01:20+00:00" } } : {}),
                    },
                });
            }
            if (req.method === "POST" && tail === "/runcommand") {
                if (vm.powerState && vm.powerState !== "running") {
                    // Run Command needs a running VM and its agent; ARM refuses it up front on a stopped one.
                    return armError(res, 409, "OperationNotAllowed", `Operation 'RunCommand' is not allowed on VM '${vm.name}' since the VM is ${vm.powerState}.`);
                }
                // VirtualMachines_RunCommand: runCommandExamples/VirtualMachineRunCommand.json — the final body is
                // { value: [ StdOut status, StdErr status ] }.
                return startOperation(res, sub, "Microsoft.Compute", {
                    value: [
                        { code: "ComponentStatus/StdOut/succeeded", level: "Info", displayStatus: "Provisioning succeeded", message: vm.probeOutput ?? "" },
                        { code: "ComponentStatus/StdErr/succeeded", level: "Info", displayStatus: "Provisioning succeeded", message: "" },
                    ],
                });
            }
            return armError(res, 404, "NotFound", `no route for ${req.method} ${p}`);
        }
        // Compute: scale sets and their instances.
        if (req.method === "GET" && /^(\/resourceGroups\/[^/]+)?\/providers\/Microsoft\.Compute\/virtualMachineScaleSets$/i.test(rest)) {
            // VirtualMachineScaleSets_ListAll: virtualMachineScaleSetExamples/VirtualMachineScaleSet_ListAll_MinimumSet_Gen.json
            // (id, location; properties.orchestrationMode, virtualMachineProfile.storageProfile.osDisk.osType).
            const sets = inScope(world.scaleSets ?? [], (s) => `/subscriptions/${s.subscriptionId}/resourceGroups/${s.resourceGroup}/x`);
            return page(
                res,
                sets.map((s) => ({
                    name: s.name,
                    id: `/subscriptions/${s.subscriptionId}/resourceGroups/${s.resourceGroup}/providers/Microsoft.Compute/virtualMachineScaleSets/${s.name}`,
                    type: "Microsoft.Compute/virtualMachineScaleSets",
                    location: "westeurope",
                    sku: { name: "Standard_D2s_v5", tier: "Standard", capacity: s.instances.length },
                    properties: { orchestrationMode: "Uniform", upgradePolicy: { mode: "Manual" }, virtualMachineProfile: { storageProfile: { osDisk: { osType: s.os, createOption: "FromImage" } } }, provisioningState: "Succeeded" },
                })),
                q,
                p,
            );
        }
        if ((m = /^\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachineScaleSets\/([^/]+)\/virtualMachines\/([^/]+)\/runCommand$/i.exec(rest)) && req.method === "POST") {
            const set = (world.scaleSets ?? []).find((x) => x.subscriptionId === sub && x.name.toLowerCase() === m![2].toLowerCase());
            const instance = set?.instances.find((i) => i.instanceId === m![3]);
            if (!instance) return armError(res, 404, "NotFound", `instance ${m[3]} of ${m[2]} not found`);
            // VirtualMachineScaleSetVMs_RunCommand: the same RunCommandResult as VirtualMachineRunCommand.json.
            return startOperation(res, sub, "Microsoft.Compute", {
                value: [
                    { code: "ComponentStatus/StdOut/succeeded", level: "Info", displayStatus: "Provisioning succeeded", message: instance.probeOutput ?? "" },
                    { code: "ComponentStatus/StdErr/succeeded", level: "Info", displayStatus: "Provisioning succeeded", message: "" },
                ],
            });
        }
        if (req.method === "GET" && (m = /^\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachineScaleSets\/([^/]+)\/virtualMachines(?:\/([^/]+)\/instanceView)?$/i.exec(rest))) {
            const set = (world.scaleSets ?? []).find((s) => s.subscriptionId === sub && s.resourceGroup.toLowerCase() === m![1].toLowerCase() && s.name.toLowerCase() === m![2].toLowerCase());
            if (!set) return armError(res, 404, "ResourceNotFound", `The Resource 'Microsoft.Compute/virtualMachineScaleSets/${m[2]}' was not found.`);
            const setId = `/subscriptions/${set.subscriptionId}/resourceGroups/${set.resourceGroup}/providers/Microsoft.Compute/virtualMachineScaleSets/${set.name}`;
            if (m[3] !== undefined) {
                const instance = set.instances.find((i) => i.instanceId === m![3]);
                if (!instance) return armError(res, 404, "NotFound", `instance ${m[3]} not found`);
                // VirtualMachineScaleSetVMs_GetInstanceView: the VM instance view's shape (extensions, statuses).
                return json(res, 200, instanceViewBody({ name: `${set.name}_${instance.instanceId}`, os: set.os, extensions: instance.extensions }));
            }
            // VirtualMachineScaleSetVMs_List: virtualMachineScaleSetExamples/VirtualMachineScaleSetVM_List_MinimumSet_Gen.json
            // (name, id, instanceId; properties.storageProfile).
            return page(
                res,
                set.instances.map((i) => ({ name: `${set.name}_${i.instanceId}`, id: `${setId}/virtualMachines/${i.instanceId}`, type: "Microsoft.Compute/virtualMachineScaleSets/virtualMachines", location: "westeurope", instanceId: i.instanceId, properties: { latestModelApplied: true, storageProfile: { osDisk: { osType: set.os } }, provisioningState: "Succeeded" } })),
                q,
                p,
            );
        }
        // Network lists: RouteTableListAll.json, NetworkSecurityGroupListAll.json (2025-07-01 examples), firewall policies.
        const idOf = (x: unknown) => String((x as { id: string }).id);
        if (req.method === "GET" && /^(\/resourceGroups\/[^/]+)?\/providers\/Microsoft\.Network\/routeTables$/i.test(rest)) return page(res, inScope(world.routeTables ?? [], idOf), q, p);
        if (req.method === "GET" && /^(\/resourceGroups\/[^/]+)?\/providers\/Microsoft\.Network\/networkSecurityGroups$/i.test(rest)) return page(res, inScope(world.networkSecurityGroups ?? [], idOf), q, p);
        if (req.method === "GET" && /^(\/resourceGroups\/[^/]+)?\/providers\/Microsoft\.Network\/firewallPolicies$/i.test(rest)) {
            // FirewallPolicies_ListAll: the FirewallPolicy definition of network 2025-07-01 (no list example is in the
            // stored copy): { value: [{ name, id, type, location, properties: { ruleCollectionGroups: [{ id }] } }] }.
            return page(res, inScope(world.firewallPolicies ?? [], (f) => f.id).map((f) => ({ name: f.name, id: f.id, type: "Microsoft.Network/firewallPolicies", location: "westeurope", properties: { provisioningState: "Succeeded", threatIntelMode: "Alert", ruleCollectionGroups: f.ruleCollectionGroups.map((g) => ({ id: idOf(g) })) } })), q, p);
        }
        if (req.method === "GET" && (m = /^\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/firewallPolicies\/([^/]+)\/ruleCollectionGroups$/i.exec(rest))) {
            const policy = (world.firewallPolicies ?? []).find((f) => f.name.toLowerCase() === m![1].toLowerCase() && scopeOf(f.id).sub === sub);
            if (!policy) return armError(res, 404, "ResourceNotFound", `firewall policy ${m[1]} not found`);
            // FirewallPolicyRuleCollectionGroupList.json.
            return page(res, policy.ruleCollectionGroups, q, p);
        }
        if ((m = /^\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/networkInterfaces\/([^/]+)(\/.*)?$/i.exec(rest))) {
            const nic = (world.nics ?? []).find((n) => n.subscriptionId === sub && n.resourceGroup.toLowerCase() === m![1].toLowerCase() && n.name.toLowerCase() === m![2].toLowerCase());
            if (!nic) return armError(res, 404, "ResourceNotFound", `The Resource 'Microsoft.Network/networkInterfaces/${m[2]}' was not found.`);
            const tail = (m[3] ?? "").toLowerCase();
            // NetworkInterfaceEffectiveRouteTableList.json / NetworkInterfaceEffectiveNSGList.json: 202 + Location, then 200 { value }.
            if (req.method === "POST" && tail === "/effectiveroutetable") return startOperation(res, sub, "Microsoft.Network", { value: nic.effectiveRoutes });
            if (req.method === "POST" && tail === "/effectivenetworksecuritygroups") return startOperation(res, sub, "Microsoft.Network", { value: nic.effectiveNsgs });
            if (req.method === "GET" && tail === "") {
                // NetworkInterfaces_Get: network 2025-07-01 examples/NetworkInterfaceGet.json
                // (properties.ipConfigurations[].properties { privateIPAddress, subnet { id }, primary }).
                return json(res, 200, {
                    name: nic.name,
                    id: nicId(sub, nic.resourceGroup, nic.name),
                    type: "Microsoft.Network/networkInterfaces",
                    location: "westeurope",
                    properties: { provisioningState: "Succeeded", primary: true, ipConfigurations: [{ name: "ipconfig1", id: `${nicId(sub, nic.resourceGroup, nic.name)}/ipConfigurations/ipconfig1`, properties: { privateIPAddress: nic.privateIp, privateIPAllocationMethod: "Dynamic", subnet: { id: nic.subnetId }, primary: true, privateIPAddressVersion: "IPv4" } }] },
                });
            }
            return armError(res, 404, "NotFound", `no route for ${req.method} ${p}`);
        }
        if (req.method === "GET" && /\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+\/subnets\/[^/]+$/i.test(rest)) {
            const key = Object.keys(world.subnets ?? {}).find((id) => id.toLowerCase() === p.toLowerCase());
            // Subnets_Get: the Subnet definition of network 2025-07-01 (properties { addressPrefix, networkSecurityGroup,
            // routeTable, natGateway, defaultOutboundAccess }); no Subnets_Get example is in the stored copy.
            return key ? json(res, 200, world.subnets![key]) : armError(res, 404, "NotFound", `subnet ${p} not found`);
        }
        return armError(res, 404, "NotFound", `the stand-in has no route for ${req.method} ${p}`);
    };

    const server: Server = createServer({ key: certificate.key, cert: certificate.cert }, (req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let body: unknown;
            try {
                body = text ? JSON.parse(text) : undefined;
            } catch {
                body = text;
            }
            const url = new URL(req.url ?? "/", base);
            inFlight++;
            stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
            const respond = () => {
                inFlight--;
                const status = handle(req, res);
                requests.push({ method: req.method ?? "", path: url.pathname, query: url.searchParams, status, at: Date.now(), ...(body !== undefined ? { body } : {}) });
            };
            if (world.delayMs) setTimeout(respond, world.delayMs);
            else respond();
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
        url: base,
        ca: certificate.cert,
        requests,
        get maxInFlight() {
            return stats.maxInFlight;
        },
        close: () => new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        }),
    };
}
