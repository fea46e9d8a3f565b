import { windowsServerReleases } from "../kms";

/** What the guest script reads before it chooses a key. */
export interface GuestLicenseState {
    /** `Win32_OperatingSystem.BuildNumber`. */
    build: number;
    /** The edition the script derives from `EditionID`: a `ServerEdition`, `MultiSession`, `Evaluation`, `Client` or `Unknown`. */
    edition: string;
    /** `SoftwareLicensingProduct.ProductKeyChannel` of the installed key, such as `Volume:GVLK` or `Retail` (empty on 2008 R2). */
    channel: string;
    /** Last five characters of the installed key. */
    partialKey: string;
    /** `LicenseStatus` of the OS licence (1 = licensed). Default 0. */
    licenseStatus?: number;
    /** Whether the KMS accepted TCP in the guest's probe. Default false. */
    kmsAnswered?: boolean;
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
     * `skipped-activated` or `unknown-edition`.
     */
    action: string;
    /** The key `/ipk` installs; only with `install-*`. */
    key?: string;
}

/**
 * The guest script's key decision (`Select-KeyAction` in activate.ps1), as data the plan and the tests can use.
 * Never re-keyed: multi-session (cannot be undone), an evaluation edition (it takes no KMS client key: DISM
 * /Set-Edition), a KMS host (`Volume:CSVLK`); a client edition only with an explicit key. Explicit or image-SKU key beats
 * detection; a matching KMS client key is kept; an activated MAK or retail licence is kept unless the key is explicit or
 * the KMS answered.
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
    if (state.licenseStatus === 1 && source !== "explicit" && !state.kmsAnswered) {
        return { action: "skipped-activated" };
    }
    return { action: `install-${source}`, key };
}
