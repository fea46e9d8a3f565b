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
     * 2: Windows PowerShell 2.0 as 2008 R2 ships it. Emulated only as `$PSVersionTable.PSVersion` 2.0 (pwsh 7 still
     * parses and runs everything): that the bootstrap also parses in 2.0 is test/guest-ps51.test.ts's 2.0 profile.
     */
    powershell?: 2;
    /** Render the settings with `reportOnly` (what `fleet --probe` runs). */
    reportOnly?: boolean;
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

function kms(behaviour: "open" | "tunnel" | "silent" | "refuse" | "drop" | "unreachable", extra: object = {}) {
    return PUBLIC_IPS.map((address) => ({ address, behaviour, ...extra }));
}
function licensedGvlk(partialProductKey: string, fields: object = {}) {
    return osProduct({ partialProductKey, productKeyChannel: "Volume:GVLK", licenseStatus: 1, gracePeriodRemaining: 259200, description: "Windows(R) Operating System, VOLUME_KMSCLIENT channel", ...fields });
}
function on(base: Partial<MachineState>): MachineState {
    return machine(base);
}
const withOs = (os: Partial<MachineState["os"]>, rest: Partial<MachineState> = {}) => on({ os: { ...machine().os, ...os }, ...rest });
const MAK_LICENSED = osProduct({ partialProductKey: "7J9KQ", productKeyChannel: "Volume:MAK", licenseStatus: 1, description: "Windows(R) Operating System, VOLUME_MAK channel" });
const REPORTED = on({
    products: [osProduct({ partialProductKey: "3V66T", productKeyChannel: "Retail", licenseStatus: 5, gracePeriodRemaining: 0 })],
    service: { kmsMachine: "kms01.corp.contoso.com", kmsPort: 1688 },
    firewall: { serviceRunning: true, rules: [{ name: "corp-allow", dir: "out", action: "allow", remoteip: "10.0.0.0/8" }] },
});

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
        // An event logged just before the run (exact StartTime filter: never in this run's events or codes).
        machine: on({ events: [{ id: 12289, time: "start", data: "0xC004F06C, 0x4000000, 0, 0, 50, 120, 10080" }] }),
        expect: {
            exit: 0, status: "activated", key: "installed-detected", channel: "Volume:GVLK", partialKey: "6VM33", kms: `${AZKMS}:1688`, firewallRules: 1, slmgr: ["/ipk", "/skms", "/ato"],
            codes: [], check: (r) => expect(r.events).toEqual(["12289:0x00000000", "12288:0x00000000"]),
        },
    },
    {
        name: "BYO VHD, KMS refuses TCP (fast refusal)",
        waits: true,
        options: {},
        machine: on({ network: { dns: DNS_ONLY, kms: kms("refuse") } }),
        expect: {
            exit: 0, status: "pending", key: "installed-detected", channel: "Volume:GVLK", firewallRules: 1, codes: ["0xC004F074", "0x8007274D"],
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
            exit: 0, status: "pending", key: "installed-detected", firewallRules: 1, codes: ["0xC004F074", "0x8007274C"], diagnosis: [/timed out \(silently dropped\)/],
            check: (r, end) => {
                expect(r.probe!.tcp).toBe("timeout");
                // 12288 (written after the request, with its result) for each /ato, never a 12289 (no reply).
                expect(end.events.map((e) => e.id)).toEqual([12288, 12288, 12288]);
                expect(r.events).toEqual(["12288:0x8007274C", "12288:0x8007274C", "12288:0x8007274C"]);
            },
        },
    },
    {
        name: "custom DNS cannot resolve the KMS name (NXDOMAIN): transient, pending",
        waits: true,
        options: {},
        machine: on({ network: { dns: { mode: "nxdomain" }, kms: kms("open") } }),
        expect: {
            exit: 0, status: "pending", key: "installed-detected", firewallRules: 1, codes: ["0x8007232B"], diagnosis: [/DNS nxdomain: .*kmsHostForm IpAddress/, /0x8007232B: the KMS DNS name does not resolve/],
            check: (r) => expect(r.attempts).toBe(3),
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
            exit: 0, status: "activated", key: "installed-detected", firewallRules: 1, codes: ["0xC004F074", "0x800705B4"], slmgr: ["/ipk", "/skms", "/ato", "/ato", "/ato"],
            check: (r) => {
                expect(r.attempts).toBe(3);
                // Accepted and unanswered twice (12288 with ERROR_TIMEOUT), then the reply (12288 0x0, 12289).
                expect([...r.events].reverse()).toEqual(["12288:0x800705B4", "12288:0x800705B4", "12288:0x00000000", "12289:0x00000000"]);
            },
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
        // No ProductKeyChannel: the channel is read from Description, as slmgr.vbs does.
        expect: { exit: 0, status: "activated", key: "installed-detected", partialKey: "CPX3Y", firewallRules: 1, check: (r) => expect([r.before!.channel, r.after!.channel]).toEqual(["Retail", "Volume:GVLK"]) },
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
        machine: on({ products: [MAK_LICENSED], keys: { [MAK_2022_DC]: { channel: "Volume:MAK", editionId: "ServerDatacenter" } }, network: { dns: DNS_ONLY, kms: kms("drop") } }),
        expect: { exit: 0, status: "licensed", key: "skipped-licensed", channel: "Volume:MAK", partialKey: "7J9KQ", firewallRules: 1, slmgr: [] },
    },
    {
        name: "MAK-activated VM with a real KMS reachable keeps its MAK licence",
        options: {},
        machine: on({ products: [MAK_LICENSED] }),
        expect: { exit: 0, status: "licensed", key: "skipped-licensed", channel: "Volume:MAK", partialKey: "7J9KQ", firewallRules: 1, slmgr: [], diagnosis: [/licensed \(Volume:MAK\): left as it is/] },
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
        waits: true,
        options: {},
        machine: withOs({ locale: "de-DE" }, { eventMessages: false, network: { dns: DNS_ONLY, kms: kms("open", { reply: "0xC004F038" }) } }),
        expect: {
            // Too few clients on the KMS host: not on the list of codes that never fix themselves (the count grows).
            exit: 0, status: "pending", key: "installed-detected", firewallRules: 1, codes: ["0xC004F038"],
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
            exit: 0, status: "pending", key: "installed-detected", firewallRules: 1, codes: ["0xC004F074", "0x80072746"], diagnosis: [/accepted the connection but no KMS answered/],
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
        expect: { exit: 2, status: "pending", key: "installed-detected", firewallRules: 1, codes: ["0xC004F074", "0x8007274D"], check: (r) => expect(r.probe!.tried).toHaveLength(3) },
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
    // ---- Round 2 (issue 23): each of these failed on the script before it (see the closing note).
    {
        // 1. An open TCP port is not a KMS: the appliance completes the handshake and never answers (azure-docs #45703).
        name: "MAK-activated VM behind an appliance that accepts TCP 1688 and never answers keeps its licence",
        options: {},
        machine: on({ products: [MAK_LICENSED], network: { dns: DNS_ONLY, kms: kms("silent") } }),
        expect: {
            exit: 0, status: "licensed", key: "skipped-licensed", channel: "Volume:MAK", partialKey: "7J9KQ", firewallRules: 1, slmgr: [],
            check: (r) => {
                expect(r.probe!.tcp).toBe("open");
                expect(r.after).toMatchObject({ status: 1, channel: "Volume:MAK", partialKey: "7J9KQ" });
            },
        },
    },
    {
        // 2. slui's own 8198 (internet blocked) next to an unreachable KMS: transient, listed, pending, exit 0.
        name: "KMS unreachable and slui's event 8198 (0x8007139F): pending, not error",
        waits: true,
        options: {},
        machine: on({ slui: "0x8007139F", network: { dns: DNS_ONLY, kms: kms("drop") } }),
        expect: {
            exit: 0, status: "pending", key: "installed-detected", firewallRules: 1, codes: ["0xC004F074", "0x8007139F", "0x8007274C"],
            diagnosis: [/0x8007139F: slui\.exe's own online activation attempt failed/],
            check: (r) => {
                expect(r.attempts).toBe(3);
                expect(r.events).toContain("8198:0x8007139F");
            },
        },
    },
    {
        // 3. 2008 R2 has no ProductKeyChannel: the channel comes from Description, as slmgr.vbs reads it.
        name: "Windows Server 2008 R2 with its GVLK in place is not re-keyed (channel from Description)",
        options: {},
        machine: withOs({ build: 7601, sku: 10, editionId: "ServerEnterprise" }, {
            products: [osProduct({ name: "Windows(R) 7, ServerEnterprise edition", partialProductKey: "CPX3Y", productKeyChannel: "Volume:GVLK", licenseStatus: 2, description: "Windows Operating System - Windows(R) 7, VOLUME_KMSCLIENT channel" })],
        }),
        expect: { exit: 0, status: "activated", key: "kept-detected", partialKey: "CPX3Y", firewallRules: 1, slmgr: ["/skms", "/ato"], check: (r) => expect(r.before!.channel).toBe("Volume:GVLK") },
    },
    {
        name: "Windows Server 2008 R2 KMS host (VOLUME_KMS_R2_C) is never re-keyed",
        options: {},
        machine: withOs({ build: 7601, sku: 10, editionId: "ServerEnterprise" }, {
            products: [osProduct({ partialProductKey: "J7TVH", productKeyChannel: "Volume:CSVLK", licenseStatus: 1, description: "Windows Operating System - Windows(R) 7, VOLUME_KMS_R2_C channel" })],
        }),
        expect: { exit: 0, status: "licensed", key: "skipped-kmshost", partialKey: "J7TVH", firewallRules: 1, slmgr: [], check: (r) => expect(r.before!.channel).toBe("Volume:CSVLK") },
    },
    {
        // 5. 2008 R2's default shell: the bootstrap stops before the 5.1 body is parsed, with a result line.
        name: "PowerShell 2.0: a result line naming WMF 5.1, exit 1, nothing changed",
        options: {},
        powershell: 2,
        machine: withOs({ build: 7601, sku: 10, editionId: "ServerEnterprise" }),
        expect: {
            exit: 1, status: "error", key: "none", channel: "Retail", partialKey: "3V66T", firewallRules: 0, slmgr: [], diagnosis: [/Windows PowerShell 2\.0 cannot run the activation: install WMF 5\.1/],
            check: (_r, end) => expect(end.calls).toEqual([]),
        },
    },
    {
        // 6. A stuck licensing service: every WMI read is bounded; the run still ends with its result line.
        name: "licensing service stuck (WMI never answers): a result line inside the budget",
        waits: true,
        scale: 5,
        options: {},
        machine: on({ hang: ["wmi"] }),
        expect: {
            exit: 1, status: "error", key: "none", channel: "Retail", firewallRules: 0, slmgr: [], diagnosis: [/WMI did not answer in 60 s \(Win32_OperatingSystem\)/],
            // One 60 s read at 5 %: 3 s, then the result line.
            check: (r) => expect(r.seconds).toBeLessThanOrEqual(10),
        },
    },
    {
        name: "event log stuck (Get-WinEvent never answers): activated, events not read",
        waits: true,
        scale: 5,
        options: {},
        machine: on({ hang: ["events"] }),
        expect: { exit: 0, status: "activated", key: "installed-detected", partialKey: "6VM33", firewallRules: 1, diagnosis: [/event log did not answer in 30 s/], check: (r) => expect(r.events).toEqual([]) },
    },
    {
        // 7. VBScript turned off: slmgr.vbs cannot run; the same steps through the licensing service's WMI methods.
        name: "VBScript unavailable: the same steps through WMI, via wmi",
        options: {},
        machine: on({ vbscript: false }),
        expect: {
            exit: 0, status: "activated", key: "installed-detected", channel: "Volume:GVLK", partialKey: "6VM33", kms: `${AZKMS}:1688`, firewallRules: 1, slmgr: [],
            diagnosis: [/cscript cannot run slmgr\.vbs/],
            check: (r, end) => {
                expect(r.via).toBe("wmi");
                expect(end.calls.filter((c) => c.startsWith("wmi "))).toEqual([
                    "wmi SoftwareLicensingService.InstallProductKey",
                    "wmi SoftwareLicensingService.RefreshLicenseStatus",
                    "wmi SoftwareLicensingService.SetKeyManagementServiceMachine",
                    "wmi SoftwareLicensingService.SetKeyManagementServicePort",
                    "wmi SoftwareLicensingService.RefreshLicenseStatus",
                    "wmi SoftwareLicensingProduct.Activate",
                    "wmi SoftwareLicensingService.RefreshLicenseStatus",
                ]);
            },
        },
    },
    {
        name: "VBScript unavailable and the key refused: the WMI error code, error",
        options: { productKey: GVLK_2022_STD },
        machine: on({ vbscript: false }),
        expect: { exit: 1, status: "error", key: "failed-explicit", channel: "Retail", firewallRules: 1, codes: ["0xC004F050"], slmgr: [], check: (r) => expect(r.via).toBe("wmi") },
    },
    {
        // 8. An enabled outbound block rule wins over the allow rule the script adds.
        name: "an outbound block rule wins over the allow rule: firewall blocked, the rule named",
        waits: true,
        options: {},
        machine: on({ firewall: { serviceRunning: true, rules: [{ name: "Block-KMS-out", dir: "out", action: "block", protocol: "TCP", remoteport: "1688", remoteip: "20.118.99.0/24", enable: "yes" }] } }),
        expect: {
            exit: 0, status: "pending", key: "installed-detected", firewallRules: 2, codes: ["0xC004F074", "0x80072713"],
            diagnosis: [/outbound block rule Block-KMS-out covers 20\.118\.99\.224 port 1688/],
            check: (r) => {
                expect([r.firewall, r.firewallRule]).toEqual(["blocked", "Block-KMS-out"]);
                expect(r.probe!.tcp).toBe("blocked");
            },
        },
    },
    {
        name: "a disabled block rule, or one for another port, blocks nothing",
        options: {},
        machine: on({ firewall: { serviceRunning: true, rules: [
            { name: "Old-block", dir: "out", action: "block", protocol: "TCP", remoteport: "1688", remoteip: "any", enable: "no" },
            { name: "Block-RDP-out", dir: "out", action: "block", protocol: "TCP", remoteport: "3389", remoteip: "any", enable: "yes" },
        ] } }),
        expect: { exit: 0, status: "activated", key: "installed-detected", firewallRules: 3, check: (r) => expect([r.firewall, r.firewallRule]).toEqual(["allowed", ""]) },
    },
    {
        // 9. The KMS name resolves outside the addresses the package routes and allows.
        name: "KMS address drift: the name resolves to an address the package does not route",
        options: {},
        machine: on({ network: { dns: { mode: "ok", records: { [AZKMS]: ["20.118.99.250"] } }, kms: [{ address: "20.118.99.250", behaviour: "open" }] } }),
        expect: {
            exit: 0, status: "activated", key: "installed-detected", firewallRules: 1, diagnosis: [/KMS address drift: the KMS name resolved to 20\.118\.99\.250.*update azure-kms-activation/],
            check: (r) => expect(r.drift).toEqual(["20.118.99.250"]),
        },
    },
    {
        // fleet --probe: read and report only.
        name: "reportOnly: reports the true licence state and changes nothing",
        options: {},
        reportOnly: true,
        machine: REPORTED,
        expect: {
            exit: 0, status: "unlicensed", key: "none", channel: "Retail", partialKey: "3V66T", firewallRules: 1, slmgr: [], diagnosis: [/report only: nothing was changed/],
            check: (r, end) => {
                expect(r.after).toMatchObject({ status: 5, channel: "Retail", partialKey: "3V66T" });
                expect(r.probe).toMatchObject({ dns: "ok", tcp: "open" });
                // The machine as it was: licence, KMS settings, firewall, events; only a read of the firewall rules.
                const { calls, events, ...rest } = end;
                const { calls: _c, events: _e, ...was } = REPORTED;
                expect(rest).toEqual(was);
                expect(events).toEqual([]);
                expect(calls).toEqual(["netsh advfirewall firewall show rule name=all dir=out"]);
            },
        },
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
        hang: ["/ato", "netsh", "events"],
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
