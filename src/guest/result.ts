/** The licence state the guest read (before or after activation). */
export interface GuestLicence {
    /** `LicenseStatus`: 1 Licensed, 0 Unlicensed, 2-6 grace states, -1 no Windows product key found. */
    status: number;
    /** `ProductKeyChannel`, such as `Volume:GVLK`; on 2008 R2 (which lacks it) read from `Description`, as slmgr.vbs does. */
    channel: string;
    /** Last five characters of the installed key. */
    partialKey: string;
    /** `GracePeriodRemaining` in minutes: 259200 (180 days) after a KMS activation, the initial grace before. */
    grace: number;
    /** The KMS host (`host:port`) Windows uses: the per-product one when set, else the machine-wide one. */
    kms: string;
    /** The per-product KMS host (`/skms host <ActivationID>`), empty when none is set. */
    productKms: string;
}

/** The guest's OS as it read it. */
export interface GuestOs {
    /** `Win32_OperatingSystem.BuildNumber`. */
    build: number;
    /** `OperatingSystemSKU`. */
    sku: number;
    /** Registry `EditionID`. */
    editionId: string;
    /** Derived edition: a key-table edition, `MultiSession`, `Evaluation`, `Client` or `Unknown`. */
    edition: string;
}

/** The guest's reachability probe of the KMS. */
export interface GuestProbe {
    /** `up`, or `none` when the VM has no network interface up at all. */
    network: string;
    /** `ok`, `nxdomain`, `failed`, `timeout` or `skipped` (an IP address needs no DNS). */
    dns: string;
    /**
     * `open` (something accepted TCP: not proof of a KMS), `refused` (reset), `timeout` (silently dropped), `blocked`
     * (the guest's own firewall refused the connect), `unreachable` (no route), `failed` or `untested`.
     */
    tcp: string;
    /** The address of the last TCP test. */
    address: string;
    /** The KMS name or address `/skms` was set to: the first that accepted TCP, else the first given. */
    host: string;
    /** `address=outcome` of each TCP test, in order (at most four). */
    tried: string[];
}

// Optional fields rather than `| null` (the JSON's null becomes absent): Pulumi's schema inference takes no unions, and
// `activationResult` is a component output.
/** The one line the guest script ends with, `KMS_ACTIVATION_RESULT <json>`, parsed. */
export interface ActivationResult {
    /** Format version (2). */
    v: number;
    /** The rerun token of the run. */
    tag: string;
    /** Build, SKU number, EditionID and derived edition of the guest OS. */
    os?: GuestOs;
    /** Licence state before the script changed anything. */
    before?: GuestLicence;
    /**
     * Key action: `installed-*`, `kept-*`, `failed-*`, `skipped-multisession`, `skipped-evaluation`, `skipped-kmshost`,
     * `skipped-licensed` (a licensed product of any channel, left alone: only an explicit key replaces it),
     * `skipped-client`, `unknown-edition` or `none` (no step taken: a report, or PowerShell below 3).
     */
    key: string;
    /**
     * How the licensing steps ran: `slmgr` (cscript slmgr.vbs, the documented path) or `wmi` (the licensing service's
     * WMI methods, which slmgr.vbs itself calls, when cscript cannot run it: VBScript turned off). Absent in older lines.
     */
    via?: string;
    /** `host:port` the guest was pointed at (`/skms`). */
    endpoint: string;
    /**
     * Guest firewall: `allowed` (the rule was added), `blocked` (an enabled outbound block rule covers the KMS address and
     * port: it wins over any allow; `firewallRule` names it), `failed` (netsh failed: a diagnosis says why; the run goes
     * on) or `skipped`.
     */
    firewall: string;
    /** The outbound block rule that wins, with `firewall: "blocked"`; empty otherwise. */
    firewallRule?: string;
    /** IMDS attestation (Azure Edition only): `ok`, `failed` or `skipped`. */
    imds: string;
    /** DNS and TCP probe of the KMS. */
    probe?: GuestProbe;
    /**
     * Addresses the KMS name resolved to that are outside the addresses the package routes and allows (at most three):
     * Microsoft changed the KMS addresses. Empty when none (and in older lines).
     */
    drift?: string[];
    /** How many times `slmgr /ato` ran. */
    attempts: number;
    /** Licence state at the end. */
    after?: GuestLicence;
    /** Error codes seen, such as `0xC004F074`. */
    codes: string[];
    /** Security-SPP events of the run, as `<id>:<first code>`. */
    events: string[];
    /** Plain-language causes and fixes; `parseActivationResult` adds one for each known code. */
    diagnosis: string[];
    /**
     * `activated` (in this run), `licensed` (already, or a KMS host / MAK / retail licence left as it is), `pending` (no
     * code that never fixes itself: Windows retries by itself), `skipped` (a client edition: not KMS's job) or `error`
     * (a step failed, a permanent code, or PowerShell below 3). A `reportOnly` run says `licensed` or `unlicensed`.
     */
    status: string;
    /** Seconds the script ran. */
    seconds: number;
}

/** Plain causes and fixes of the codes the guest reports. */
export const CODE_DIAGNOSES: Readonly<Record<string, string>> = {
    "0xC004F074": "no KMS host answered: check the /32 Internet routes, the NSG allow for TCP 1688, and any firewall or NVA on the path (it needs a network rule, not an application rule)",
    "0x8007232B": "the KMS DNS name does not resolve: fix the custom DNS servers or use kmsHostForm IpAddress",
    "0xC004F06C": "the guest clock is too far from the KMS host clock: fix time sync",
    "0xC004F050": "the product key is not valid for this edition: give the KMS client setup key of this edition",
    "0xC004F069": "this edition takes no KMS client key (evaluation or other media): convert it with DISM /Set-Edition",
    "0xC004F035": "KMS activates only volume-licensed editions: this one needs another licence",
    "0xC004F039": "the KMS host has too few clients or KMS is not enabled on it (custom KMS server)",
    "0xC004F038": "the KMS host count is too low (custom KMS server)",
    "0x800705B4": "the KMS request timed out: the host is unreachable or overloaded; Windows retries every two hours",
    "0xC004FD01": "AVMA is not supported on Azure: install the KMS client setup key",
    "0xC004FD02": "AVMA is not supported on Azure: install the KMS client setup key",
    "0x8007139F": "slui.exe's own online activation attempt failed (event 8198: the internet is blocked); says nothing about KMS and fixes itself once KMS activates",
    "0xC0020017": "slui.exe's own online activation attempt failed (event 8198: the internet is blocked); says nothing about KMS",
    "0x80072EE7": "a name could not be resolved for online activation (slui.exe, event 8198, or a MAK/retail key): the internet is blocked; says nothing about KMS",
    "0x8007274C": "the connection to the KMS timed out (a silent drop on the path): check the /32 Internet routes, the NSG and any NVA",
    "0x8007274D": "the KMS address refused the connection (a reset on the path): check the /32 Internet routes, the NSG and any NVA",
    "0x80072746": "the connection to the KMS was reset after it opened (an appliance or proxy on the path, not a KMS)",
    "0x80072713": "the connect to the KMS was refused by the guest's own firewall (an outbound block rule)",
};

/** Plain causes and fixes of what the guest observed (its probe, firewall and IMDS check). */
export function stateDiagnoses(result: ActivationResult): string[] {
    const found: string[] = [];
    const probe = result.probe;
    if (probe?.network === "none") {
        found.push("the VM has no network connection at all: check its NIC and subnet (DNS and KMS cannot be reached; not a DNS problem)");
    } else if (probe && ["nxdomain", "failed", "timeout"].includes(probe.dns) && probe.tcp !== "open") {
        found.push(`DNS ${probe.dns}: the DNS servers cannot resolve the KMS name; use kmsHostForm IpAddress or forward the zone`);
    } else if (probe && probe.tcp === "open" && result.status === "pending") {
        found.push(
            `TCP ${probe.address} port ${result.endpoint.split(":").pop()} accepted the connection but no KMS answered: an appliance on the path ` +
                "(forced tunnel or NVA completing the handshake) or a busy KMS: add /32 Internet routes to the KMS addresses",
        );
    } else if (probe && probe.tcp !== "open" && probe.tcp !== "untested") {
        const cause: Record<string, string> = {
            blocked: "blocked by the guest firewall (an outbound block rule)",
            refused: "refused (a reset: something on the path or the address answers, but not KMS)",
            timeout: "timed out (silently dropped)",
            unreachable: "unreachable (no route)",
        };
        found.push(
            `TCP ${probe.address} port ${result.endpoint.split(":").pop()} ${cause[probe.tcp] ?? probe.tcp}: forced tunnel (add /32 Internet routes), NSG or guest firewall deny, ` +
                "NVA or Azure Firewall without a network rule, or private subnet without explicit outbound (NAT gateway)",
        );
    }
    if (result.firewall === "failed") {
        found.push("the guest firewall rule was not added (when the Windows Firewall service is stopped, it blocks nothing)");
    }
    for (const address of result.drift ?? []) {
        found.push(
            `KMS address drift: the KMS name resolved to ${address}, which the package does not route or allow: Microsoft changed the KMS addresses; ` +
                "update azure-kms-activation, or add the address to kmsIpAddresses (routes, NSG and guest firewall)",
        );
    }
    if (result.imds === "failed") {
        found.push("Datacenter: Azure Edition: the IMDS attested document (169.254.169.254) did not answer: Windows shows not genuine until the VM reaches IMDS");
    }
    return found;
}

/**
 * Codes that never fix themselves (facts section 7): the only ones that make a run `error`. Every other code, and every
 * code of slui's event 8198, leaves it `pending`: Windows retries every two hours.
 */
export const PERMANENT_CODES: readonly string[] = ["0xC004F050", "0xC004F06C", "0xC004FD01", "0xC004FD02", "0xC004F035", "0xC004F069"];

/** The marker the result line starts with. */
export const RESULT_MARKER = "KMS_ACTIVATION_RESULT";

/**
 * Finds the guest's result line in the extension's or run command's output (the last one wins) and parses it.
 * Returns undefined when there is none (the script did not run to its end, or the output is another program's).
 */
export function parseActivationResult(output: string): ActivationResult | undefined {
    const lines = output.split(/\r?\n/).filter((line) => line.startsWith(`${RESULT_MARKER} `));
    if (lines.length === 0) {
        return undefined;
    }
    const json = lines[lines.length - 1].slice(RESULT_MARKER.length + 1).trim();
    let parsed: unknown;
    try {
        parsed = JSON.parse(json);
    } catch {
        throw new Error(`${RESULT_MARKER}: the line is not valid JSON: ${json.slice(0, 80)}`);
    }
    const result = parsed as Partial<ActivationResult>;
    if (typeof result !== "object" || result === null || typeof result.status !== "string" || typeof result.v !== "number") {
        throw new Error(`${RESULT_MARKER}: the JSON has no "v" and "status"; it is not an activation result`);
    }
    for (const nullable of ["os", "before", "probe", "after"] as const) {
        if (result[nullable] === null) {
            delete result[nullable];
        }
    }
    // PowerShell 5.1 writes a one-element array as a bare value; make the lists lists again.
    for (const list of ["codes", "events", "diagnosis", "drift"] as const) {
        const value = result[list] as unknown;
        result[list] = value === undefined || value === null ? [] : Array.isArray(value) ? value : [String(value)];
    }
    if (result.probe) {
        const tried = result.probe.tried as unknown;
        result.probe.tried = tried === undefined || tried === null ? [] : Array.isArray(tried) ? tried : [String(tried)];
    }
    result.diagnosis!.push(...stateDiagnoses(result as ActivationResult));
    for (const code of result.codes ?? []) {
        const text = CODE_DIAGNOSES[code];
        if (text !== undefined) {
            result.diagnosis!.push(`${code}: ${text}`);
        }
    }
    return result as ActivationResult;
}
