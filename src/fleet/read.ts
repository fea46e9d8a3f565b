/**
 * Reads a fleet through Azure's SDK: the subscriptions, every Windows VM and scale set instance with its activation
 * state, the route tables, NSGs and firewall policies in scope (stale KMS addresses), and with `--paths` each VM's
 * effective routes and NSGs. List APIs only (paged with `nextLink`, which the SDK follows); every per-VM read runs in
 * one pool bounded by `concurrency`.
 */
import type { ComputeManagementClient } from "@azure/arm-compute";
import { kmsEndpoint } from "../kms/endpoints";
import { cloudKmsDestination } from "../reachability/engine";
import { AzureCloud } from "../types";
import { FleetClients } from "./clients";
import { judgePath } from "./paths";
import { probeSettings, probeVm } from "./probe";
import { Resolve4, kmsDrift, scopeOfId, staleNsg, staleRouteTable, staleRuleCollectionGroup } from "./stale";
import { ExtensionView, ReadStatus, ACTIVATION_NAME, noActivation, powerStateOf, statusFromExtensions, statusFromRunCommand } from "./status";
import { FINE_STATUSES, FLEET_STATUSES, FleetReport, FleetStatus, FleetSubscription, FleetVm, StaleKmsRule } from "./types";

/** What to read. */
export interface FleetOptions {
    /** The cloud (KMS addresses judged and stale checks). */
    cloud: AzureCloud;
    /** Subscriptions to read; default: every one the credential sees. */
    subscriptions?: string[];
    /** Only this resource group (in each subscription). */
    resourceGroup?: string;
    /** Judge each VM's effective routes and NSGs. */
    paths?: boolean;
    /** Ask guests with no result line through action Run Command (read-only). */
    probe?: boolean;
    /** Resolve the KMS names from here and report addresses outside the package's table. */
    resolve?: boolean;
    /** Per-VM reads at once. Default 8. */
    concurrency?: number;
    /** The resolver for `resolve` (tests inject one). */
    resolve4?: Resolve4;
    /** Called after each VM is read, with how many of how many are done. */
    progress?: (done: number, total: number) => void;
}

/** The credential or the subscription list failed as a whole: nothing can be read (exit 2). */
export class FleetAccessError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "FleetAccessError";
    }
}

interface ArmError {
    statusCode?: number;
    code?: string;
    message?: string;
    /** The response body the SDK kept (its paging helpers put ARM's `{ error: { code, message } }` here). */
    details?: { error?: { message?: string } };
}

/** One line for an SDK error: the call, HTTP status, ARM's code and the first line of ARM's message. */
export function describeError(call: string, err: unknown): string {
    const e = err as ArmError;
    const status = e.statusCode ? `${e.statusCode} ` : "";
    const code = e.code && e.code !== String(e.statusCode) ? `${e.code}: ` : "";
    const message = e.details?.error?.message ?? e.message ?? String(err);
    return `${call}: ${status}${code}${message.split(/\r?\n/)[0].slice(0, 500)}`;
}

/** The names @azure/identity gives a credential that has no token: nothing can be read (exit 2). */
export const CREDENTIAL_ERRORS: readonly string[] = ["CredentialUnavailableError", "AuthenticationError", "AggregateAuthenticationError"];

function rethrowCredentialError(err: unknown): void {
    if (CREDENTIAL_ERRORS.includes((err as Error)?.name)) throw err;
}

function isDenied(err: unknown): boolean {
    const status = (err as ArmError).statusCode;
    return status === 401 || status === 403;
}

function isNotFound(err: unknown): boolean {
    return (err as ArmError).statusCode === 404;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
    const out: T[] = [];
    for await (const item of items) out.push(item);
    return out;
}

/** Runs `fn` over `items` with at most `limit` at once; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
    const results = new Array<R>(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            results[i] = await fn(items[i], i);
        }
    };
    await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
    return results;
}

type Json = Record<string, unknown>;

function osTypeOf(storageProfile: unknown): string | undefined {
    return ((storageProfile as Json | undefined)?.osDisk as Json | undefined)?.osType as string | undefined;
}

/** A VM or instance to read, before its status is known. */
interface Target {
    vm: Omit<FleetVm, "status" | "source" | "diagnosis">;
    /** The compute client of its subscription. */
    compute: ComputeManagementClient;
    /** Primary NIC ID (VMs only). */
    nicId?: string;
}

function primaryNic(networkProfile: unknown): string | undefined {
    const nics = ((networkProfile as Json | undefined)?.networkInterfaces as Json[] | undefined) ?? [];
    return (nics.find((n) => n.primary === true) ?? nics[0])?.id as string | undefined;
}

function nameAfter(id: string | undefined, segment: string): string | undefined {
    return id ? new RegExp(`/${segment}/([^/]+)`, "i").exec(id)?.[1] : undefined;
}

interface SubscriptionReads {
    targets: Target[];
    stale: StaleKmsRule[];
    notWindows: number;
    rgMissing: boolean;
    /** The network reads failed (the VMs were read): recorded on the subscription. */
    networkError?: unknown;
}

/** A subscription's VMs, scale set instances and network rules. Throws on an access error (the caller records it). */
async function readSubscription(clients: FleetClients, subscriptionId: string, options: FleetOptions): Promise<SubscriptionReads> {
    const compute = clients.compute(subscriptionId);
    const rg = options.resourceGroup;
    let notWindows = 0;
    let vms;
    try {
        vms = await collect(rg ? compute.virtualMachines.list(rg) : compute.virtualMachines.listAll());
    } catch (err) {
        if (rg && isNotFound(err)) return { targets: [], stale: [], notWindows: 0, rgMissing: true };
        throw Object.assign(err as object, { call: rg ? "virtualMachines.list" : "virtualMachines.listAll" });
    }
    const targets: Target[] = [];
    for (const vm of vms) {
        if (osTypeOf(vm.storageProfile) !== "Windows") {
            notWindows++;
            continue;
        }
        const id = vm.id ?? "";
        const scaleSet = nameAfter((vm.virtualMachineScaleSet as Json | undefined)?.id as string | undefined, "virtualMachineScaleSets");
        targets.push({
            vm: { id, name: vm.name ?? id, ...scopeOfId(id), ...(vm.location ? { location: vm.location } : {}), ...(scaleSet ? { scaleSet } : {}) },
            compute,
            nicId: primaryNic(vm.networkProfile),
        });
    }
    const scaleSets = await collect(rg ? compute.virtualMachineScaleSets.list(rg) : compute.virtualMachineScaleSets.listAll()).catch((err) => {
        throw Object.assign(err as object, { call: "virtualMachineScaleSets.listAll" });
    });
    for (const set of scaleSets) {
        // A flexible scale set's VMs are ordinary VMs: virtualMachines.listAll already has them.
        if (set.orchestrationMode === "Flexible") continue;
        const setId = set.id ?? "";
        const setRg = scopeOfId(setId).resourceGroup;
        const windows = osTypeOf(set.virtualMachineProfile?.storageProfile) === "Windows";
        const instances = await collect(compute.virtualMachineScaleSetVMs.list(setRg, set.name ?? ""));
        for (const instance of instances) {
            if (!windows && osTypeOf(instance.storageProfile) !== "Windows") {
                notWindows++;
                continue;
            }
            const id = instance.id ?? `${setId}/virtualMachines/${instance.instanceId}`;
            targets.push({
                vm: { id, name: instance.name ?? `${set.name}_${instance.instanceId}`, ...scopeOfId(id), ...(instance.location ? { location: instance.location } : {}), scaleSet: set.name, instanceId: instance.instanceId },
                compute,
            });
        }
    }
    // The network reads are apart: a credential that may read VMs but not the network keeps its VMs in the report.
    let networkError: unknown;
    const stale = await readStaleRules(clients, subscriptionId, options).catch((err) => {
        networkError = err;
        return [];
    });
    return { targets, stale, notWindows, rgMissing: false, ...(networkError ? { networkError } : {}) };
}

/** The route tables, NSGs and firewall rule collection groups in scope with stale KMS addresses. */
async function readStaleRules(clients: FleetClients, subscriptionId: string, options: FleetOptions): Promise<StaleKmsRule[]> {
    const network = clients.network(subscriptionId);
    const rg = options.resourceGroup;
    const stale: StaleKmsRule[] = [];
    const call = (name: string) => (err: unknown) => {
        throw Object.assign(err as object, { call: `${name}.${rg ? "list" : "listAll"}` });
    };
    const tables = await collect(rg ? network.routeTables.list(rg) : network.routeTables.listAll()).catch(call("routeTables"));
    for (const table of tables) {
        const found = staleRouteTable(table, options.cloud);
        if (found) stale.push(found);
    }
    const nsgs = await collect(rg ? network.networkSecurityGroups.list(rg) : network.networkSecurityGroups.listAll()).catch(call("networkSecurityGroups"));
    for (const nsg of nsgs) {
        const found = staleNsg(nsg, options.cloud);
        if (found) stale.push(found);
    }
    const policies = await collect(rg ? network.firewallPolicies.list(rg) : network.firewallPolicies.listAll()).catch(call("firewallPolicies"));
    for (const policy of policies) {
        const groups = await collect(network.firewallPolicyRuleCollectionGroups.list(scopeOfId(policy.id).resourceGroup, policy.name ?? ""));
        for (const group of groups) {
            const found = staleRuleCollectionGroup(group, options.cloud);
            if (found) stale.push(found);
        }
    }
    return stale;
}

/** The activation state of one VM or instance from its instance view (and its managed Run Command). */
async function readStatus(target: Target): Promise<ReadStatus & { powerState?: string }> {
    const { vm, compute } = target;
    const view =
        vm.instanceId !== undefined
            ? await compute.virtualMachineScaleSetVMs.getInstanceView(vm.resourceGroup, vm.scaleSet ?? "", vm.instanceId)
            : await compute.virtualMachines.instanceView(vm.resourceGroup, vm.name);
    const powerState = powerStateOf(view.statuses);
    const fromExtension = statusFromExtensions(view.extensions as ExtensionView[] | undefined);
    if (fromExtension) return { ...fromExtension, powerState };
    // ActivationMechanism.RunCommand: a managed Run Command named KmsActivation (VMs only; scale sets use the extension).
    if (vm.instanceId === undefined) {
        try {
            const command = await compute.virtualMachineRunCommands.getByVirtualMachine(vm.resourceGroup, vm.name, ACTIVATION_NAME, { expand: "instanceView" });
            return { ...statusFromRunCommand(command.instanceView), powerState };
        } catch (err) {
            if (!isNotFound(err)) throw Object.assign(err as object, { call: `virtualMachineRunCommands.getByVirtualMachine ${vm.name}` });
        }
    }
    return { ...noActivation(powerState), powerState };
}

async function readPath(clients: FleetClients, target: Target, cloud: AzureCloud): Promise<Pick<FleetVm, "path" | "pathNote">> {
    if (!target.nicId) {
        return { pathNote: target.vm.instanceId !== undefined ? "not judged: ARM has no effective-route operation for a scale set instance's NIC; judge a VM in the same subnet, or use audit" : "not judged: the VM lists no network interface" };
    }
    const { subscriptionId, resourceGroup } = scopeOfId(target.nicId);
    const nicName = nameAfter(target.nicId, "networkInterfaces") ?? "";
    const network = clients.network(subscriptionId || target.vm.subscriptionId);
    try {
        const [routes, nsgs, nic] = await Promise.all([
            network.networkInterfaces.beginGetEffectiveRouteTableAndWait(resourceGroup, nicName),
            network.networkInterfaces.beginListEffectiveNetworkSecurityGroupsAndWait(resourceGroup, nicName),
            network.networkInterfaces.get(resourceGroup, nicName),
        ]);
        const subnetId = nic.ipConfigurations?.find((c) => c.primary)?.subnet?.id ?? nic.ipConfigurations?.[0]?.subnet?.id;
        const subnet = subnetId ? await network.subnets.get(scopeOfId(subnetId).resourceGroup, nameAfter(subnetId, "virtualNetworks") ?? "", nameAfter(subnetId, "subnets") ?? "") : undefined;
        return { path: judgePath({ nic: nicName, routes, nsgs, nicBody: nic, subnet }, cloudKmsDestination(cloud)) };
    } catch (err) {
        return { pathNote: `not judged: ${describeError(`effective routes/NSGs of NIC ${nicName}`, err)}` };
    }
}

async function readVm(clients: FleetClients, target: Target, options: FleetOptions): Promise<FleetVm> {
    let status: ReadStatus & { powerState?: string };
    try {
        status = await readStatus(target);
    } catch (err) {
        rethrowCredentialError(err);
        status = { status: "unknown", source: "none", diagnosis: [describeError((err as { call?: string }).call ?? `instance view of ${target.vm.name}`, err)] };
    }
    // --probe: only machines with no result line of ours (never one whose extension or run command reported); a uniform
    // scale set's instance through its own Run Command API (virtualMachineScaleSetVMs.runCommand).
    if (options.probe && status.result === undefined) {
        const probed = await probeVm(target.compute, target.vm, probeSettings(options.cloud));
        // A probe that got no result line (Run Command refused, guest script cut short) leaves what was known, saying why.
        status = probed.result ? { ...probed, powerState: status.powerState } : { ...status, diagnosis: [...status.diagnosis, ...probed.diagnosis] };
    }
    const { powerState, result, ...rest } = status;
    const vm: FleetVm = { ...target.vm, ...(powerState ? { powerState } : {}), ...rest, ...(result ? { result } : {}) };
    if (options.paths) Object.assign(vm, await readPath(clients, target, options.cloud));
    return vm;
}

function compareVms(a: FleetVm, b: FleetVm): number {
    const key = (v: FleetVm) => [v.subscriptionId, v.resourceGroup.toLowerCase(), (v.scaleSet ?? v.name).toLowerCase(), v.instanceId?.padStart(8, "0") ?? "", v.name.toLowerCase()].join("\u0000");
    return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}

/** The subscriptions to read: the ones given, or every one the credential sees. */
async function subscriptionsInScope(clients: FleetClients, given: readonly string[] | undefined): Promise<FleetSubscription[]> {
    if (given && given.length > 0) return given.map((id) => ({ id, access: "ok" as const }));
    let listed;
    try {
        listed = await collect(clients.subscriptions().subscriptions.list());
    } catch (err) {
        rethrowCredentialError(err);
        throw new FleetAccessError(describeError("subscriptions.list", err));
    }
    if (listed.length === 0) throw new FleetAccessError("subscriptions.list: the credential sees no subscription; give --subscription <id> or grant it Reader on one");
    return listed.filter((s) => s.subscriptionId).map((s) => ({ id: s.subscriptionId as string, ...(s.displayName ? { name: s.displayName } : {}), access: "ok" as const }));
}

/** Reads the fleet. Throws `FleetAccessError` when nothing can be read; a denied subscription is recorded in the report. */
export async function readFleet(clients: FleetClients, options: FleetOptions): Promise<FleetReport> {
    const endpoint = kmsEndpoint(options.cloud);
    const subscriptions = await subscriptionsInScope(clients, options.subscriptions);
    const targets: Target[] = [];
    const stale: StaleKmsRule[] = [];
    let notWindows = 0;
    let rgFound = false;
    // Subscriptions one after another: their list calls are few; the per-VM reads below are the bulk.
    for (const sub of subscriptions) {
        try {
            const reads = await readSubscription(clients, sub.id, options);
            targets.push(...reads.targets);
            stale.push(...reads.stale);
            notWindows += reads.notWindows;
            rgFound ||= !reads.rgMissing;
            if (reads.networkError) {
                rethrowCredentialError(reads.networkError);
                sub.access = isDenied(reads.networkError) ? "denied" : "failed";
                sub.error = describeError((reads.networkError as { call?: string }).call ?? "network reads", reads.networkError);
            }
        } catch (err) {
            rethrowCredentialError(err);
            sub.access = isDenied(err) ? "denied" : "failed";
            sub.error = describeError((err as { call?: string }).call ?? "listing", err);
        }
    }
    if (options.resourceGroup && !rgFound && subscriptions.every((s) => s.access === "ok")) {
        throw new FleetAccessError(`--resource-group "${options.resourceGroup}" is in none of the subscriptions read (${subscriptions.map((s) => s.id).join(", ")})`);
    }
    let done = 0;
    const vms = await mapLimit(targets, options.concurrency ?? 8, async (target) => {
        const vm = await readVm(clients, target, options);
        options.progress?.(++done, targets.length);
        return vm;
    });
    vms.sort(compareVms);
    const statuses = Object.fromEntries(FLEET_STATUSES.map((s) => [s, 0])) as Record<FleetStatus, number>;
    for (const vm of vms) statuses[vm.status]++;
    const report: FleetReport = {
        schema: 1,
        cloud: options.cloud,
        kms: { host: endpoint.host, port: endpoint.port, addresses: [...endpoint.ipAddresses] },
        ...(options.resourceGroup ? { resourceGroup: options.resourceGroup } : {}),
        options: { paths: !!options.paths, probe: !!options.probe, resolve: !!options.resolve },
        subscriptions,
        summary: { vms: vms.length, statuses, stale: stale.length, notWindows },
        vms,
        stale,
    };
    if (options.paths) {
        const paths = { reachable: 0, blocked: 0, unknown: 0 };
        for (const vm of vms) if (vm.path) paths[vm.path.verdict]++;
        report.summary.paths = paths;
    }
    if (options.resolve) report.drift = await kmsDrift(options.cloud, options.resolve4);
    return report;
}

/** True when every Windows VM is activated, licensed or skipped, every judged path reachable, nothing stale or drifted. */
export function fleetIsFine(report: FleetReport): boolean {
    return (
        report.vms.every((vm) => FINE_STATUSES.includes(vm.status) && (!vm.path || vm.path.verdict === "reachable")) &&
        report.stale.length === 0 &&
        (report.drift ?? []).every((d) => d.unknown.length === 0)
    );
}
