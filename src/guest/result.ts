/** The licence state the guest read (before or after activation). */
export interface GuestLicence {
    /** `LicenseStatus`: 1 Licensed, 0 Unlicensed, 2-6 grace states, -1 no Windows product key found. */
    status: number;
    /** `ProductKeyChannel`, such as `Volume:GVLK`. */
    channel: string;
    /** Last five characters of the installed key. */
    partialKey: string;
    /** The KMS host the guest is configured with. */
    kms: string;
}

/** The guest OS as the script read it. */
export interface GuestOs {
    /** `Win32_OperatingSystem.BuildNumber`. */
    build: number;
    /** `OperatingSystemSKU`. */
    sku: number;
    /** Registry `EditionID`, such as `ServerDatacenter`. */
    editionId: string;
    /** The edition the script derived, such as `Datacenter`. */
    edition: string;
}

/** The DNS and TCP probe of the KMS. */
export interface KmsProbe {
    /** `ok`, `failed`, `timeout` or `skipped`. */
    dns: string;
    /** `open`, `refused`, `timeout` or `untested`. */
    tcp: string;
    /** The address the TCP probe tried. */
    address: string;
}

// Optional fields rather than `| null` (the JSON's null becomes absent): Pulumi's schema inference takes no unions, and
// `activationResult` is a component output.
/** The one line the guest script ends with, `KMS_ACTIVATION_RESULT <json>`, parsed. */
export interface ActivationResult {
    /** Format version (1). */
    v: number;
    /** The rerun token of the run. */
    tag: string;
    /** Build, SKU number, EditionID and derived edition of the guest OS. */
    os?: GuestOs;
    /** Licence state before the script changed anything. */
    before?: GuestLicence;
    /** Key action: `installed-*`, `kept-*`, `failed-*`, `skipped-multisession`, `skipped-client`, `unknown-edition` or `none`. */
    key: string;
    /** `host:port` the guest was pointed at. */
    endpoint: string;
    /** Guest firewall rule: `allowed`, `failed` or `skipped`. */
    firewall: string;
    /** DNS (`ok`, `failed`, `timeout`, `skipped`) and TCP (`open`, `refused`, `timeout`, `untested`) probe of the KMS. */
    probe?: KmsProbe;
    /** How many times `slmgr /ato` ran. */
    attempts: number;
    /** Licence state at the end. */
    after?: GuestLicence;
    /** Error codes seen, such as `0xC004F074`. */
    codes: string[];
    /** Security-SPP events of the run, as `<id>:<first code>`. */
    events: string[];
    /** Plain-language causes and fixes. */
    diagnosis: string[];
    /** `activated`, `licensed` (already), `pending` (KMS retries by itself) or `error`. */
    status: string;
    /** Seconds the script ran. */
    seconds: number;
}

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
    for (const list of ["codes", "events", "diagnosis"] as const) {
        const value = result[list] as unknown;
        result[list] = value === undefined || value === null ? [] : Array.isArray(value) ? value : [String(value)];
    }
    return result as ActivationResult;
}
