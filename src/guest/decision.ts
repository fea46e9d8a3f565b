import { windowsServerReleases } from "../kms";

/** What the guest script reads before it chooses a key. */
export interface GuestLicenseState {
    /** `Win32_OperatingSystem.BuildNumber`. */
    build: number;
    /** The edition the script derives from `EditionID`: a `ServerEdition`, `MultiSession`, `Evaluation`, `Client` or `Unknown`. */
    edition: string;
    /**
     * `SoftwareLicensingProduct.ProductKeyChannel` of the installed key, such as `Volume:GVLK` or `Retail`; on 2008 R2
     * (no such property) the guest reads it from `Description`, as slmgr.vbs does.
     */
    channel: string;
    /** Last five characters of the installed key. */
    partialKey: string;
    /** `LicenseStatus` of the OS licence (1 = licensed). Default 0. */
    licenseStatus?: number;
}

/** The key the guest was given: by the user (`explicit`), from the image SKU (`imageSku`), or none (detect it). */
export interface GivenKey {
    /** The key, when one was given. */
    key?: string;
    /** `explicit` or `imageSku`, when a key was given. */
    source?: string;
}

/** What the guest does about the product key, and which key it installs. */
export interface KeyAction {
    /**
     * `install-<source>`, `kept-<source>`, `skipped-multisession`, `skipped-evaluation`, `skipped-kmshost`, `skipped-client`,
     * `skipped-licensed` or `unknown-edition`.
     */
    action: string;
    /** The key `/ipk` installs; only with `install-*`. */
    key?: string;
}

/**
 * The guest script's key decision (`Select-KeyAction` in activate.ps1), as data the plan and the tests can use.
 * Never re-keyed: multi-session (cannot be undone), an evaluation edition (it takes no KMS client key: DISM
 * /Set-Edition), a KMS host (`Volume:CSVLK`); a client edition only with an explicit key. Explicit or image-SKU key beats
 * detection; a matching KMS client key is kept; a licensed product of any channel (MAK, retail, OEM, another KMS client
 * key) is re-keyed only by an explicit key. Whether the KMS accepts TCP never decides a key change: an appliance can
 * complete the handshake with nothing behind it (facts section 7).
 */
export function guestKeyAction(state: GuestLicenseState, given: GivenKey = {}): KeyAction {
    if (state.edition === "MultiSession") {
        return { action: "skipped-multisession" };
    }
    if (state.edition === "Evaluation") {
        return { action: "skipped-evaluation" };
    }
    if (state.channel === "Volume:CSVLK") {
        return { action: "skipped-kmshost" };
    }
    if (state.edition === "Client" && given.source !== "explicit") {
        return { action: "skipped-client" };
    }
    const licensed = state.licenseStatus === 1 && given.source !== "explicit";
    if (licensed && state.channel !== "Volume:GVLK") {
        return { action: "skipped-licensed" };
    }
    let key = given.key;
    let source = given.source;
    if (key === undefined || key === "") {
        source = "detected";
        key = windowsServerReleases.find((r) => r.build === state.build)?.keys[state.edition as keyof typeof windowsServerReleases[number]["keys"]];
        if (key === undefined) {
            return { action: "unknown-edition" };
        }
    }
    if (state.channel === "Volume:GVLK" && state.partialKey !== "" && key.endsWith(state.partialKey)) {
        return { action: `kept-${source}` };
    }
    if (licensed) {
        return { action: "skipped-licensed" };
    }
    return { action: `install-${source}`, key };
}
