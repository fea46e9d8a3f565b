// Behaviour scenarios of the guest script: a machine, the options KmsActivation is given, and what must be true after.
import { ActivationScriptOptions } from "../../src/guest/render";
import { ActivationResult } from "../../src/guest/result";
import { CustomKmsServer, KmsHostForm } from "../../src/types";
import { AZKMS, ESU_ACTIVATION_ID, machine, MachineState, osOf, osProduct, PUBLIC_IPS, WINDOWS_APP_ID } from "./emulator/machine";

export interface Expectation {
    exit: number;
    status: string;
    key: string;
    /** Channel and last five characters of the OS key at the end. */
    channel?: string;
    partialKey?: string;
    /** The KMS host Windows uses at the end (per-product if set, else machine-wide). */
    kms?: string;
    firewallRules: number;
    codes?: string[];
    /** Each must match one diagnosis line. */
    diagnosis?: RegExp[];
    /** Each must match no diagnosis line. */
    noDiagnosis?: RegExp[];
    /** slmgr operations, in order (first word of each call). */
    slmgr?: string[];
    check?: (result: ActivationResult, end: MachineState) => void;
}

export interface Scenario {
    name: string;
    options: ActivationScriptOptions;
    machine: MachineState;
    expect: Expectation;
    /** TimeScalePercent (default 20: every wait and timeout at 20 %). */
    scale?: number;
    /** Run the script this many times in a row on the same machine (default 1); the expectation is for the last. */
    runs?: number;
    /**
     * Most of the run is spent waiting on timeouts (silent drops, refusals, back-off between /ato, a slow service): the
     * suite starts these first, so their waits overlap the other runs' work instead of trailing at the end.
     */
    waits?: boolean;
}

const GVLK_2022_DC = "WX4NM-KYWYW-QJJR4-XV3QB-6VM33";
const GVLK_2022_STD = "VDYBN-27WPP-V4HQT-9VMD4-VMK7H";
const MAK_2022_DC = "QH4N2-M8V6C-RBXT7-GJ4PD-7J9KQ";
const DNS_ONLY = { mode: "ok" as const, records: { [AZKMS]: ["20.118.99.224"] } };
const ONPREM: CustomKmsServer = { host: "kms01.corp.contoso.com", port: 1700, addressPrefixes: ["10.50.0.10/32"] };

function kms(behaviour: "open" | "tunnel" | "refuse" | "drop" | "unreachable", extra: object = {}) {
    return PUBLIC_IPS.map((address) => ({ address, behaviour, ...extra }));
}
function licensedGvlk(partialProductKey: string, fields: object = {}) {
    return osProduct({ partialProductKey, productKeyChannel: "Volume:GVLK", licenseStatus: 1, gracePeriodRemaining: 259200, description: "Windows(R) Operating System, VOLUME_KMSCLIENT channel", ...fields });
}
function on(base: Partial<MachineState>): MachineState {
    return machine(base);
}
const withOs = (os: Partial<MachineState["os"]>, rest: Partial<MachineState> = {}) => on({ os: { ...machine().os, ...os }, ...rest });

export const scenarios: Scenario[] = [
    {
        name: "marketplace image already licensed",
        options: { imageSku: "2022-datacenter" },
        machine: on({ products: [licensedGvlk("6VM33")], service: { kmsMachine: AZKMS, kmsPort: 1688 } }),
        expect: { exit: 0, status: "licensed", key: "kept-imageSku", channel: "Volume:GVLK", partialKey: "6VM33", kms: `${AZKMS}:1688`, firewallRules: 1, slmgr: ["/skms"] },
    },
    {
        name: "BYO VHD with a retail key, KMS reachable",
        options: {},
        machine: on({}),
        expect: { exit: 0, status: "activated", key: "installed-detected", channel: "Volume:GVLK", partialKey: "6VM33", kms: `${AZKMS}:1688`, firewallRules: 1, slmgr: ["/ipk", "/skms", "/ato"] },
    },
    {
        name: "BYO VHD, KMS refuses TCP (fast refusal)",
        waits: true,
        options: {},
        machine: on({ network: { dns: DNS_ONLY, kms: kms("refuse") } }),
        expect: {
            exit: 0, status: "pending", key: "installed-detected", channel: "Volume:GVLK", firewallRules: 1, codes: ["0xC004F074"],
            diagnosis: [/TCP 20\.118\.99\.224 port 1688 refused/], slmgr: ["/ipk", "/skms", "/ato", "/ato", "/ato"],
            check: (r) => expect(r.probe).toMatchObject({ dns: "ok", tcp: "refused" }),
        },
    },
    {
        name: "BYO VHD, KMS silently dropped",
        waits: true,
        options: {},
        machine: on({ network: { dns: DNS_ONLY, kms: kms("drop") } }),
        expect: {
            exit: 0, status: "pending", key: "installed-detected", firewallRules: 1, codes: ["0xC004F074"], diagnosis: [/timed out \(silently dropped\)/],
            check: (r, end) => {
                expect(r.probe!.tcp).toBe("timeout");
                // 12288 (request sent) for each /ato, never a 12289 (no reply).
                expect(end.events.map((e) => e.id)).toEqual([12288, 12288, 12288]);
                expect(r.events).toEqual(["12288:", "12288:", "12288:"].map((e) => e + "0x00000000"));
            },
        },
    },
    {
        name: "custom DNS cannot resolve the KMS name (NXDOMAIN)",
        options: {},
        machine: on({ network: { dns: { mode: "nxdomain" }, kms: kms("open") } }),
        expect: {
            exit: 1, status: "error", key: "installed-detected", firewallRules: 1, codes: ["0x8007232B"], diagnosis: [/DNS nxdomain: .*kmsHostForm IpAddress/],
            check: (r) => expect(r.attempts).toBe(1),
        },
    },
    {
        name: "DNS server does not answer",
        waits: true,
        options: {},
        machine: on({ network: { dns: { mode: "timeout" }, kms: kms("open") } }),
        expect: { exit: 0, status: "pending", key: "installed-detected", firewallRules: 1, codes: ["0xC004F074"], diagnosis: [/DNS (timeout|failed)/] },
    },
    {
        name: "no network at all: not blamed on DNS",
        waits: true,
        options: {},
        machine: on({ network: { available: false } }),
        expect: {
            exit: 0, status: "pending", key: "installed-detected", firewallRules: 1, codes: ["0xC004F074"],
            diagnosis: [/no network connection at all/], noDiagnosis: [/DNS servers|kmsHostForm/],
            check: (r) => expect(r.probe).toMatchObject({ network: "none", dns: "skipped", tcp: "untested" }),
        },
    },
    {
        name: "KMS busy twice, then answers",
        waits: true,
        options: {},
        machine: on({ network: { dns: DNS_ONLY, kms: kms("open", { busy: 2 }) } }),
        expect: {
            exit: 0, status: "activated", key: "installed-detected", firewallRules: 1, codes: ["0x800705B4"], slmgr: ["/ipk", "/skms", "/ato", "/ato", "/ato"],
            check: (r) => expect(r.attempts).toBe(3),
        },
    },
    {
        name: "guest clock skew",
        options: {},
        machine: withOs({ clockSkewMinutes: 600 }),
        expect: {
            exit: 1, status: "error", key: "installed-detected", firewallRules: 1, codes: ["0xC004F06C"], diagnosis: [/clock/],
            check: (r) => {
                expect(r.attempts).toBe(1);
                expect(r.events).toContain("12289:0xC004F06C");
            },
        },
    },
    {
        name: "explicit key of another edition",
        options: { productKey: GVLK_2022_STD },
        machine: on({}),
        expect: { exit: 1, status: "error", key: "failed-explicit", channel: "Retail", partialKey: "3V66T", firewallRules: 1, codes: ["0xC004F050"], slmgr: ["/ipk"] },
    },
    {
        name: "Windows 11 Enterprise multi-session: never re-keyed, even with a key",
        options: { productKey: "NPPR9-FWDCX-D2C8J-H872K-2YT43" },
        machine: withOs(
            { build: 22631, sku: 175, editionId: "ServerRdsh", productType: 1 },
            { products: [osProduct({ name: "Windows(R), ServerRdsh edition", partialProductKey: "PG3GK", productKeyChannel: "Volume:GVLK", licenseStatus: 5 })] },
        ),
        expect: { exit: 0, status: "activated", key: "skipped-multisession", channel: "Volume:GVLK", partialKey: "PG3GK", kms: `${AZKMS}:1688`, firewallRules: 1, slmgr: ["/skms", "/ato"] },
    },
    {
        name: "Windows 11 Enterprise single-session without a key: subscription activation, not KMS",
        options: {},
        machine: withOs(
            { build: 22631, sku: 4, editionId: "Enterprise", productType: 1 },
            { products: [osProduct({ name: "Windows(R), Enterprise edition", partialProductKey: "3V66T", productKeyChannel: "Retail", licenseStatus: 1 })] },
        ),
        expect: { exit: 0, status: "licensed", key: "skipped-client", channel: "Retail", firewallRules: 1, slmgr: [], diagnosis: [/subscription activation/] },
    },
    {
        name: "Datacenter: Azure Edition, IMDS attestation answers",
        options: { imageSku: "2022-datacenter-azure-edition" },
        machine: withOs({ sku: 407, editionId: "ServerTurbine" }, { products: [osProduct({ partialProductKey: "KHMXV", productKeyChannel: "Volume:GVLK", licenseStatus: 2 })] }),
        expect: { exit: 0, status: "activated", key: "kept-imageSku", partialKey: "KHMXV", firewallRules: 1, check: (r) => expect(r.imds).toBe("ok") },
    },
    {
        name: "Datacenter: Azure Edition, IMDS attestation fails",
        options: {},
        machine: withOs({ sku: 407, editionId: "ServerTurbine" }, { network: { ...machine().network, imds: "error" } }),
        expect: { exit: 0, status: "activated", key: "installed-detected", partialKey: "KHMXV", firewallRules: 1, diagnosis: [/IMDS attested document/], check: (r) => expect(r.imds).toBe("failed") },
    },
    {
        name: "Windows Server 2025 Datacenter Core from retail media",
        options: {},
        machine: withOs({ build: 26100, sku: 12 }),
        expect: { exit: 0, status: "activated", key: "installed-detected", channel: "Volume:GVLK", partialKey: "YP6DF", firewallRules: 1 },
    },
    {
        name: "Windows Server 2012 R2 Standard",
        options: {},
        machine: withOs({ build: 9600, sku: 7, editionId: "ServerStandard" }),
        expect: { exit: 0, status: "activated", key: "installed-detected", channel: "Volume:GVLK", partialKey: "MDVJX", firewallRules: 1 },
    },
    {
        name: "Windows Server 2008 R2 Enterprise (no ProductKeyChannel)",
        options: {},
        machine: withOs({ build: 7601, sku: 10, editionId: "ServerEnterprise" }),
        expect: { exit: 0, status: "activated", key: "installed-detected", partialKey: "CPX3Y", firewallRules: 1, check: (r) => expect(r.after!.channel).toBe("") },
    },
    {
        name: "evaluation edition: no /ipk, DISM /Set-Edition named",
        options: {},
        machine: withOs({ sku: 80, editionId: "ServerDatacenterEval" }, { products: [osProduct({ partialProductKey: "XVCFW", productKeyChannel: "Retail:TB:Eval", licenseStatus: 1, gracePeriodRemaining: 216000 })] }),
        expect: { exit: 0, status: "licensed", key: "skipped-evaluation", channel: "Retail:TB:Eval", partialKey: "XVCFW", firewallRules: 1, slmgr: [], diagnosis: [/DISM \/Online \/Set-Edition/] },
    },
    {
        name: "a KMS host VM (Volume:CSVLK) is never re-keyed",
        options: { imageSku: "2022-datacenter" },
        machine: on({ products: [osProduct({ partialProductKey: "J7TVH", productKeyChannel: "Volume:CSVLK", licenseStatus: 1, description: "Windows(R) Operating System, VOLUME_KMS channel" })] }),
        expect: { exit: 0, status: "licensed", key: "skipped-kmshost", channel: "Volume:CSVLK", partialKey: "J7TVH", firewallRules: 1, slmgr: [] },
    },
    {
        name: "ESU add-on licence next to an unlicensed OS",
        options: {},
        machine: withOs({ build: 9600, sku: 8, editionId: "ServerDatacenter" }, {
            products: [
                {
                    id: ESU_ACTIVATION_ID, name: "Windows Server 2012 R2 ESU Year 1", description: "Windows(R) Operating System, VOLUME_MAK channel", applicationId: WINDOWS_APP_ID,
                    licenseIsAddon: true, partialProductKey: "RT7QD", productKeyChannel: "Volume:MAK", licenseStatus: 1, gracePeriodRemaining: 0,
                },
                osProduct({ partialProductKey: "3V66T", productKeyChannel: "Retail", licenseStatus: 5 }),
            ],
        }),
        expect: {
            exit: 0, status: "activated", key: "installed-detected", channel: "Volume:GVLK", partialKey: "Q3VJ9", firewallRules: 1,
            check: (r, end) => {
                expect(r.before).toMatchObject({ status: 5, channel: "Retail" });
                expect(end.products.find((p) => p.id === ESU_ACTIVATION_ID)).toMatchObject({ partialProductKey: "RT7QD", licenseStatus: 1 });
            },
        },
    },
    {
        name: "per-product KMS host left by an on-premises setup",
        options: {},
        machine: on({ products: [licensedGvlk("6VM33", { licenseStatus: 2, gracePeriodRemaining: 20000, kmsMachine: "kms01.corp.contoso.com", kmsPort: 1688 })] }),
        expect: {
            exit: 0, status: "activated", key: "kept-detected", kms: `${AZKMS}:1688`, firewallRules: 1, slmgr: ["/skms", "/skms", "/ato"],
            check: (r, end) => {
                expect(r.before!.kms).toBe("kms01.corp.contoso.com:1688");
                expect(r.after!.productKms).toBe(`${AZKMS}:1688`);
                expect(osOf(end).kmsMachine).toBe(AZKMS);
            },
        },
    },
    {
        name: "MAK-activated VM with KMS unreachable is not de-activated",
        waits: true,
        options: {},
        machine: on({ products: [osProduct({ partialProductKey: "7J9KQ", productKeyChannel: "Volume:MAK", licenseStatus: 1 })], keys: { [MAK_2022_DC]: { channel: "Volume:MAK", editionId: "ServerDatacenter" } }, network: { dns: DNS_ONLY, kms: kms("drop") } }),
        expect: { exit: 0, status: "licensed", key: "skipped-activated", channel: "Volume:MAK", partialKey: "7J9KQ", firewallRules: 1, slmgr: [] },
    },
    {
        name: "MAK-activated VM with KMS reachable moves to KMS",
        options: {},
        machine: on({ products: [osProduct({ partialProductKey: "7J9KQ", productKeyChannel: "Volume:MAK", licenseStatus: 1 })] }),
        expect: { exit: 0, status: "activated", key: "installed-detected", channel: "Volume:GVLK", partialKey: "6VM33", firewallRules: 1 },
    },
    {
        name: "Windows Firewall service stopped: a diagnosis, /skms and /ato still run",
        options: {},
        machine: on({ firewall: { serviceRunning: false, rules: [] } }),
        expect: { exit: 0, status: "activated", key: "installed-detected", firewallRules: 0, diagnosis: [/firewall rule was not added/], slmgr: ["/ipk", "/skms", "/ato"], check: (r) => expect(r.firewall).toBe("failed") },
    },
    {
        name: "slow /ipk on a first boot outlasts its timeout but installs the key",
        waits: true,
        // No firewall step: at 5 % its timeout is shorter than a process start on a busy machine.
        options: { configureGuestFirewall: false },
        // 125 s of install against a 120 s timeout (both at 5 %).
        scale: 5,
        machine: on({ timings: { ipkSeconds: 125 } }),
        expect: { exit: 0, status: "activated", key: "installed-detected", partialKey: "6VM33", firewallRules: 0, diagnosis: [/timed out but installed the key/] },
    },
    {
        name: "re-run after success: same end state, one firewall rule",
        options: {},
        runs: 2,
        machine: on({}),
        expect: {
            exit: 0, status: "licensed", key: "kept-detected", channel: "Volume:GVLK", partialKey: "6VM33", kms: `${AZKMS}:1688`, firewallRules: 1,
            check: (_r, end) => expect(end.calls.filter((c) => c.startsWith("slmgr /ipk"))).toHaveLength(1),
        },
    },
    {
        name: "IpAddress host form: the first KMS address is dead, the second answers",
        waits: true,
        options: { kmsHostForm: KmsHostForm.IpAddress },
        machine: on({ network: { dns: { mode: "nxdomain" }, kms: [{ address: "20.118.99.224", behaviour: "drop" }, { address: "40.83.235.53", behaviour: "open" }, { address: "23.102.135.246", behaviour: "open" }] } }),
        expect: {
            exit: 0, status: "activated", key: "installed-detected", kms: "40.83.235.53:1688", firewallRules: 1,
            check: (r) => {
                expect(r.endpoint).toBe("40.83.235.53:1688");
                expect(r.probe!.tried).toEqual(["20.118.99.224=timeout", "40.83.235.53=open"]);
            },
        },
    },
    {
        name: "German slmgr output and unreadable event messages: codes from exit code and event XML",
        options: {},
        machine: withOs({ locale: "de-DE" }, { eventMessages: false, network: { dns: DNS_ONLY, kms: kms("open", { reply: "0xC004F038" }) } }),
        expect: {
            exit: 1, status: "error", key: "installed-detected", firewallRules: 1, codes: ["0xC004F038"],
            check: (r) => expect(r.events).toContain("12289:0xC004F038"),
        },
    },
    {
        name: "on-premises KMS on a custom port",
        options: { customKmsServer: ONPREM },
        machine: on({ network: { dns: { mode: "ok", records: { "kms01.corp.contoso.com": ["10.50.0.10"] } }, kms: [{ address: "10.50.0.10", port: 1700, behaviour: "open" }] } }),
        expect: {
            exit: 0, status: "activated", key: "installed-detected", kms: "kms01.corp.contoso.com:1700", firewallRules: 1,
            check: (_r, end) => expect(end.firewall.rules[0]).toMatchObject({ remoteport: "1700", remoteip: "10.50.0.10/32", dir: "out" }),
        },
    },
    {
        name: "forced tunnel: the NVA completes the handshake, no KMS reply",
        waits: true,
        options: { kmsHostForm: KmsHostForm.IpAddress },
        machine: on({ network: { kms: kms("tunnel") } }),
        expect: {
            exit: 0, status: "pending", key: "installed-detected", firewallRules: 1, codes: ["0xC004F074"], diagnosis: [/forced tunnel|\/32 Internet routes/],
            check: (r, end) => {
                expect(r.probe!.tcp).toBe("open");
                expect(end.events.every((e) => e.id === 12288)).toBe(true);
            },
        },
    },
    {
        name: "failOnActivationError with KMS unreachable exits 2",
        waits: true,
        options: { failOnActivationError: true, kmsHostForm: KmsHostForm.IpAddress },
        machine: on({ network: { kms: kms("refuse") } }),
        expect: { exit: 2, status: "pending", key: "installed-detected", firewallRules: 1, codes: ["0xC004F074"], check: (r) => expect(r.probe!.tried).toHaveLength(3) },
    },
    {
        name: "Windows Server 2019 Essentials from retail media",
        options: {},
        machine: withOs({ build: 17763, sku: 50, editionId: "ServerSolution" }),
        expect: { exit: 0, status: "activated", key: "installed-detected", partialKey: "YY726", firewallRules: 1 },
    },
    {
        name: "guest firewall off: no rule, activation still runs",
        options: { configureGuestFirewall: false, rerunToken: "2026-11-30.1" },
        machine: on({}),
        expect: { exit: 0, status: "activated", key: "installed-detected", firewallRules: 0, check: (r) => expect([r.tag, r.firewall]).toEqual(["2026-11-30.1", "skipped"]) },
    },
];

export { GVLK_2022_DC };

/** TimeScalePercent of the worst-case run. */
export const WORST_SCALE = 2;

/**
 * Every wait at its limit: Azure Edition (IMDS check) with IMDS dropped, a per-product KMS host (two /skms), the IpAddress
 * form with every address silently dropped, /ipk outlasting its timeout and landing while the script looks again, netsh
 * and every /ato hung. A /skms just under its 90 s cannot be timed at 2 % (a process start on a busy machine is longer
 * than the margin), so the two /skms answer at once: each could add up to 90 s more.
 */
export const worstCase: Scenario = {
    name: "worst case",
    options: { kmsHostForm: KmsHostForm.IpAddress },
    scale: WORST_SCALE,
    machine: withOs({ sku: 407, editionId: "ServerTurbine" }, {
        timeScale: WORST_SCALE / 100,
        timings: { ipkSeconds: 140 },
        hang: ["/ato", "netsh"],
        products: [osProduct({ partialProductKey: "3V66T", productKeyChannel: "Retail", licenseStatus: 2, kmsMachine: "kms01.corp.contoso.com", kmsPort: 1688 })],
        network: { kms: kms("drop"), imds: "drop" },
    }),
    expect: {
        exit: 1, status: "error", key: "installed-detected", partialKey: "KHMXV", firewallRules: 0, slmgr: ["/ipk", "/skms", "/skms", "/ato", "/ato", "/ato"],
        check: (r) => {
            expect(r.attempts).toBe(3);
            expect(r.imds).toBe("failed");
            expect(r.probe!.tried).toEqual(["20.118.99.224=timeout", "40.83.235.53=timeout", "23.102.135.246=timeout"]);
        },
    },
};
