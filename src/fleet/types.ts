/**
 * What `fleet` reports: one entry per Windows VM (or scale set instance) with its activation state, and the route
 * tables, NSGs and firewall rule collection groups whose KMS addresses are stale. The JSON form is documented in
 * docs/fleet.md; change both together.
 */
import type { ActivationResult } from "../guest/result";
import type { Verdict } from "../reachability/types";
import type { AzureCloud } from "../types";

/**
 * A VM's activation state: the result line's `status` when the guest reported one, else `no-activation` (nothing of
 * this package on the VM) or `unknown` (our extension or run command is there, but no readable result line).
 */
export type FleetStatus = "activated" | "licensed" | "pending" | "error" | "skipped" | "no-activation" | "unknown";

/** Every status, in the order the summary prints them. */
export const FLEET_STATUSES: readonly FleetStatus[] = ["activated", "licensed", "pending", "error", "skipped", "no-activation", "unknown"];

/** The statuses that need nothing done (exit 0 when every VM has one of them and every judged path is reachable). */
export const FINE_STATUSES: readonly FleetStatus[] = ["activated", "licensed", "skipped"];

/** Where the status was read. */
export type StatusSource = "extension" | "run-command" | "probe" | "none";

/** One KMS address judged on a VM's path (`--paths`). */
export interface FleetAddressPath {
    /** The KMS address. */
    address: string;
    /** The engine's verdict for TCP 1688 to it. */
    verdict: Verdict;
    /** Each step, `[rule] outcome element`, in path order. */
    steps: string[];
    /** The route that carries it, as Network Watcher would name it. */
    route?: string;
    /** Where it leaves with a public IP. */
    egress?: string;
    /** For blocked or unknown: the element to blame and its fix. */
    blame?: { rule: string; element: string; fix: string };
}

/** A VM's judged path (`--paths`). */
export interface FleetPath {
    /** The NIC whose effective routes and NSGs were read. */
    nic: string;
    /** `reachable` only when every KMS address is. */
    verdict: Verdict;
    /** Per KMS address. */
    addresses: FleetAddressPath[];
}

/** One Windows VM or scale set instance. */
export interface FleetVm {
    /** ARM resource ID. */
    id: string;
    /** VM name (for an instance, the instance's name). */
    name: string;
    /** Subscription ID. */
    subscriptionId: string;
    /** Resource group as ARM spells it in the ID. */
    resourceGroup: string;
    /** Region. */
    location?: string;
    /** Scale set name, for a uniform scale set's instance or a VM of a flexible one. */
    scaleSet?: string;
    /** Instance ID within a uniform scale set. */
    instanceId?: string;
    /** `PowerState/...` code's last part (`running`, `deallocated`, …), when the instance view said. */
    powerState?: string;
    /** The activation state. */
    status: FleetStatus;
    /** Where it was read. */
    source: StatusSource;
    /** Plain causes and fixes (the result line's, or why there is none). */
    diagnosis: string[];
    /** The parsed result line, when there was one. */
    result?: ActivationResult;
    /** With `--paths`: the judged path, or why it was not judged. */
    path?: FleetPath;
    /** With `--paths`, when the path could not be judged: why. */
    pathNote?: string;
}

/** A route table, NSG or firewall rule collection group that routes or allows some, not all, current KMS addresses. */
export interface StaleKmsRule {
    /** What it is. */
    kind: "route-table" | "nsg" | "firewall-policy";
    /** ARM ID (of the route table, NSG or rule collection group). */
    id: string;
    /** Name, for a person (`policy/group` for a firewall rule collection group). */
    name: string;
    /** Subscription ID. */
    subscriptionId: string;
    /** Resource group. */
    resourceGroup: string;
    /** The routes or rules that carry KMS addresses. */
    rules: string[];
    /** KMS addresses it covers. */
    covers: string[];
    /** Current KMS addresses it lacks. */
    missing: string[];
    /** What to add, in one sentence. */
    fix: string;
}

/** An address the KMS names resolved to (`--resolve`) that the package's table does not have. */
export interface KmsDrift {
    /** The name resolved. */
    host: string;
    /** What it resolved to. */
    addresses: string[];
    /** Those not in the package's table. */
    unknown: string[];
    /** Why not resolved, when it failed. */
    error?: string;
}

/** A subscription as the run saw it. */
export interface FleetSubscription {
    /** Subscription ID. */
    id: string;
    /** Display name, when the subscription list gave it. */
    name?: string;
    /** `ok`, or `denied` (401/403 on a read), or `failed` (another error). */
    access: "ok" | "denied" | "failed";
    /** The failed call and ARM's error code and message, in one line. */
    error?: string;
}

/** The whole report. */
export interface FleetReport {
    /** Version of this JSON form. */
    schema: 1;
    /** The cloud read. */
    cloud: AzureCloud;
    /** Its KMS: name and the addresses the package routes. */
    kms: { host: string; port: number; addresses: string[] };
    /** Resource group filter, when given. */
    resourceGroup?: string;
    /** Whether paths were judged (`--paths`), guests probed (`--probe`), names resolved (`--resolve`). */
    options: { paths: boolean; probe: boolean; resolve: boolean };
    /** Subscriptions read. */
    subscriptions: FleetSubscription[];
    /** Counts: VMs (Windows VMs and instances), per status, and with `--paths` per verdict. */
    summary: {
        vms: number;
        statuses: Record<FleetStatus, number>;
        paths?: Record<Verdict, number>;
        stale: number;
        /** VMs and instances left out because they run Linux. */
        notWindows: number;
    };
    /** Per Windows VM, sorted by subscription, resource group, name. */
    vms: FleetVm[];
    /** Stale KMS routes and rules. */
    stale: StaleKmsRule[];
    /** With `--resolve`: what the KMS names resolved to. */
    drift?: KmsDrift[];
}
