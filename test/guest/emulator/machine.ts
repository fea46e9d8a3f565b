// Builders for the emulated machine's state (the JSON every emulated call reads and writes; see windows.js).

export const WINDOWS_APP_ID = "55c92734-d682-4d71-983e-d6ec3f16059f";
export const OS_ACTIVATION_ID = "ed655016-a9e8-4434-95d9-4345352c2552";
export const ESU_ACTIVATION_ID = "77db037b-95c3-48d7-a3ab-a9c6d41093e0";

export interface Product {
    id: string;
    name: string;
    description: string;
    applicationId: string;
    licenseIsAddon: boolean;
    partialProductKey: string | null;
    productKeyChannel: string | null;
    licenseStatus: number;
    gracePeriodRemaining: number;
    kmsMachine?: string | null;
    kmsPort?: number;
}

export interface KmsEndpoint {
    address: string;
    port?: number;
    behaviour: "open" | "tunnel" | "silent" | "refuse" | "drop" | "unreachable";
    /** Requests the KMS host leaves unanswered before it answers (overloaded). */
    busy?: number;
    /** What the KMS host answers (default 0x00000000). */
    reply?: string;
    /** Seconds the KMS host takes to answer (scaled by timeScale). */
    delaySeconds?: number;
}

export interface MachineState {
    timeScale: number;
    os: { build: number; sku: number; editionId: string; productType: number; locale: string; caption?: string; clockSkewMinutes?: number };
    service: { kmsMachine: string | null; kmsPort: number };
    products: Product[];
    keys: Record<string, { channel: string; editionId: string; build?: number }>;
    initialGraceMinutes: number;
    timings: { ipkSeconds: number; skmsSeconds?: number };
    /** What never returns: slmgr operations (`/ipk`, `/skms`, `/ato`), `netsh`, `wmi` (every WMI read and method), `events`. */
    hang?: string[];
    /** slui.exe's auto-activation fails with this code after each failed activation (event 8198, `hr=<code>`). */
    slui?: string;
    /** false: VBScript is an optional feature turned off, cscript cannot run slmgr.vbs. */
    vbscript?: boolean;
    onlineActivation?: string;
    eventMessages?: boolean;
    firewall: {
        serviceRunning: boolean;
        /** The profile's default outbound action (Windows' default: allow). */
        defaultOutbound?: "allow" | "block";
        rules: FirewallRule[];
    };
    network: {
        available?: boolean;
        dns?: { mode: "ok" | "nxdomain" | "timeout"; records?: Record<string, string[]> };
        kms?: KmsEndpoint[];
        imds?: "ok" | "error" | "drop" | "none";
    };
    /** `time` "start": logged just before the run (stamped when the emulated machine starts). */
    events: { id: number; time: string; data: string | string[] }[];
    calls: string[];
}

export interface FirewallRule {
    name: string;
    dir: string;
    action?: string;
    protocol?: string;
    enable?: string;
    remoteip?: string;
    remoteport?: string;
    localport?: string;
}

export const AZKMS = "azkms.core.windows.net";
export const PUBLIC_IPS = ["20.118.99.224", "40.83.235.53", "23.102.135.246"];

/** Windows Server 2022 Datacenter from a VHD with a retail key, not activated, Azure's KMS reachable by name. */
export function machine(overrides: Partial<MachineState> = {}): MachineState {
    const base: MachineState = {
        timeScale: 0.05,
        os: { build: 20348, sku: 8, editionId: "ServerDatacenter", productType: 3, locale: "en-US" },
        // KeyManagementServicePort is 0 until a port is set.
        service: { kmsMachine: null, kmsPort: 0 },
        products: [
            osProduct({ partialProductKey: "3V66T", productKeyChannel: "Retail", licenseStatus: 2, gracePeriodRemaining: 14400 }),
            {
                id: "b3ca044e-a358-4d68-9883-aaa2941aca99",
                name: "Windows(R), ServerStandard edition",
                description: "Windows(R) Operating System, VOLUME_KMSCLIENT channel",
                applicationId: WINDOWS_APP_ID,
                licenseIsAddon: false,
                partialProductKey: null,
                productKeyChannel: null,
                licenseStatus: 0,
                gracePeriodRemaining: 0,
            },
        ],
        keys: {},
        initialGraceMinutes: 14400,
        timings: { ipkSeconds: 1 },
        firewall: { serviceRunning: true, rules: [] },
        network: {
            dns: { mode: "ok", records: { [AZKMS]: ["20.118.99.224"] } },
            kms: PUBLIC_IPS.map((address) => ({ address, behaviour: "open" as const })),
            imds: "ok",
        },
        events: [],
        calls: [],
    };
    return { ...base, ...overrides };
}

export function osProduct(fields: Partial<Product>): Product {
    return {
        id: OS_ACTIVATION_ID,
        name: "Windows(R), ServerDatacenter edition",
        description: "Windows(R) Operating System, RETAIL channel",
        applicationId: WINDOWS_APP_ID,
        licenseIsAddon: false,
        partialProductKey: null,
        productKeyChannel: null,
        licenseStatus: 0,
        gracePeriodRemaining: 0,
        kmsMachine: null,
        kmsPort: 0,
        ...fields,
    };
}

/** The machine's Windows OS product (the first non-add-on Windows product with a key). */
export function osOf(state: MachineState): Product {
    return state.products.find((p) => p.applicationId === WINDOWS_APP_ID && !p.licenseIsAddon && p.partialProductKey !== null)!;
}
