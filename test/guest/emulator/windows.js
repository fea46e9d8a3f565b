// An emulated Windows licensing stack, written from Microsoft's documentation (docs/azure-kms-facts.md sections 4, 7
// and 8), not from the script under test. Every call reads and writes one JSON state file (KMS_EMU_STATE), so a test can
// set a machine up and assert what is left of it. The programs Windows offers (cscript running slmgr.vbs, netsh) are
// run here, in network.js's process: the executables on PATH (programs/program.c, or the node stand-ins in ./bin) only
// hand their arguments over. The cmdlets pwsh on Linux lacks come from Modules/WindowsEmulator, answered through management.js.
"use strict";
const fs = require("fs");
const net = require("net");
const dns = require("dns");

const WINDOWS_APP_ID = "55c92734-d682-4d71-983e-d6ec3f16059f";
const GRACE_180_DAYS = 259200;

// KMS client setup keys per build and EditionID, from Microsoft's "KMS client activation keys" page. The emulator's own
// copy: the product's table (src/kms/keys.ts) must agree with Windows, not the other way round.
const GVLKS = {
    26100: { ServerStandard: "TVRH6-WHNXV-R9WG3-9XRFY-MY832", ServerDatacenter: "D764K-2NDRG-47T6Q-P8T8W-YP6DF", ServerTurbine: "XGN3F-F394H-FD2MY-PP6FD-8MCRC" },
    20348: { ServerStandard: "VDYBN-27WPP-V4HQT-9VMD4-VMK7H", ServerDatacenter: "WX4NM-KYWYW-QJJR4-XV3QB-6VM33", ServerTurbine: "NTBV8-9K7Q8-V27C6-M2BTV-KHMXV" },
    17763: { ServerStandard: "N69G4-B89J2-4G8F4-WWYCC-J464C", ServerDatacenter: "WMDGN-G9PQG-XVVXX-R3X43-63DFG", ServerSolution: "WVDHN-86M7X-466P6-VHXV7-YY726", ServerRdsh: "CPWHC-NT2C7-VYW78-DHDB2-PG3GK" },
    14393: { ServerStandard: "WC2BQ-8NRM3-FDDYY-2BFGV-KHKQY", ServerDatacenter: "CB7KF-BWN84-R7R2Y-793K2-8XDDG", ServerSolution: "JCKRF-N37P4-C2D82-9YXRT-4M63B" },
    9600: { ServerStandard: "D2N9P-3P6X9-2R39C-7RTCD-MDVJX", ServerDatacenter: "W3GGN-FT8W3-Y4M27-J84CP-Q3VJ9", ServerSolution: "KNC87-3J2TX-XB4WP-VCPJV-M4FWM" },
    9200: { ServerStandard: "XC9B7-NBPP2-83J2H-RHMBY-92BT4", ServerDatacenter: "48HP8-DN98B-MYWDG-T2DCC-8W83P", ServerSolution: "HTDQM-NBMMG-KGYDT-2DTKT-J2MPV" },
    7601: { ServerStandard: "YC6KT-GKW9T-YTKYR-T4X34-R7VHC", ServerDatacenter: "74YFP-3QFB3-KQT8W-PMXWJ-7M648", ServerEnterprise: "489J6-VHDMP-X63PK-3K798-CPX3Y" },
    22631: { Enterprise: "NPPR9-FWDCX-D2C8J-H872K-2YT43", Professional: "W269N-WFGWX-YVC9B-4J6C9-T83GX" },
};

function statePath() {
    const file = process.env.KMS_EMU_STATE;
    if (!file) throw new Error("KMS_EMU_STATE is not set");
    return file;
}
function load() {
    const state = JSON.parse(fs.readFileSync(statePath(), "utf8"));
    // The licensing service finishes an /ipk it started even when the slmgr process that asked was killed.
    if (state.pendingIpk && Date.now() >= state.pendingIpk.at) {
        installKey(state, state.pendingIpk.key, state.pendingIpk.info);
        delete state.pendingIpk;
        save(state);
    }
    return state;
}

function installKey(state, key, info) {
    const product = windowsProduct(state) ?? state.products.find((p) => p.applicationId === WINDOWS_APP_ID && !p.licenseIsAddon);
    product.partialProductKey = key.slice(-5);
    product.productKeyChannel = info.channel;
    product.description = `Windows(R) Operating System, ${CHANNEL_DESCRIPTION[info.channel] ?? "RETAIL channel"}`;
    // A new key starts over: licensed only once activated, in the machine's remaining initial grace.
    product.licenseStatus = state.initialGraceMinutes > 0 ? 2 : 5;
    product.gracePeriodRemaining = state.initialGraceMinutes ?? 0;
    product.kmsActivated = false;
}
function save(state) {
    fs.writeFileSync(statePath(), JSON.stringify(state, null, 2));
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// A program that hangs (a licensing service or firewall that does not answer) never returns: its caller's timeout ends it.
const hang = () => new Promise(() => undefined);

// One call of an emulated program. When its process is killed, the call is abandoned where it stood: nothing it would
// have done after that point happens (an /ipk already handed to the service still lands, see load()).
class Call {
    constructor() {
        this.cancelled = false;
        this.onCancel = [];
    }
    cancel() {
        this.cancelled = true;
        for (const f of this.onCancel.splice(0)) f();
    }
    /** After every wait: stops here when the caller is gone. */
    check() {
        if (this.cancelled) throw new Abandoned();
    }
}
class Abandoned extends Error {
    constructor() {
        super("the calling process was killed");
    }
}
const scaled = (state, seconds) => Math.round(seconds * 1000 * (state.timeScale ?? 1));

// ---------------------------------------------------------------- WMI ------------------------------------------------

function osObject(state) {
    const os = state.os;
    return {
        BuildNumber: String(os.build),
        Version: os.version ?? `10.0.${os.build}`,
        OperatingSystemSKU: os.sku,
        ProductType: os.productType ?? 3,
        Caption: os.caption ?? `Microsoft Windows Server (build ${os.build})`,
        Locale: os.locale === "de-DE" ? "0407" : "0409",
        OSLanguage: os.locale === "de-DE" ? 1031 : 1033,
        MUILanguages: [os.locale ?? "en-US"],
    };
}

// Windows 7 / 2008 R2 has no ProductKeyChannel on SoftwareLicensingProduct (facts section 8).
function productObject(state, p) {
    const o = {
        ID: p.id,
        Name: p.name,
        Description: p.description,
        ApplicationID: p.applicationId,
        LicenseIsAddon: p.licenseIsAddon,
        PartialProductKey: p.partialProductKey,
        LicenseStatus: p.licenseStatus,
        GracePeriodRemaining: p.gracePeriodRemaining,
        KeyManagementServiceMachine: p.kmsMachine ?? null,
        KeyManagementServicePort: p.kmsPort ?? 0,
        ProductKeyChannel: p.productKeyChannel,
    };
    if (state.os.build < 9200) delete o.ProductKeyChannel;
    return o;
}

function classObjects(state, cls) {
    switch (cls.toLowerCase()) {
        case "win32_operatingsystem":
            return [osObject(state)];
        case "softwarelicensingproduct":
            return state.products.map((p) => productObject(state, p));
        case "softwarelicensingservice":
            // KeyManagementServicePort reads 0 until a port is set (slmgr /skms without a port clears it); Windows then
            // uses 1688 (SoftwareLicensingService class, Microsoft Learn).
            return [{ KeyManagementServiceMachine: state.service.kmsMachine ?? null, KeyManagementServicePort: state.service.kmsPort ?? 0, Version: `10.0.${state.os.build}` }];
        default:
            throw new Error(`Invalid class "${cls}"`);
    }
}

// The WQL subset slmgr and activation scripts use: SELECT list FROM class [WHERE cond AND cond ...] with =, <>,
// IS [NOT] NULL, quoted strings, TRUE/FALSE, numbers and null. A property the class lacks is an invalid query, as in WMI.
function wql(state, query) {
    const m = /^\s*SELECT\s+(.+?)\s+FROM\s+(\w+)(?:\s+WHERE\s+(.+?))?\s*$/is.exec(query);
    if (!m) throw new Error("Invalid query");
    const objects = classObjects(state, m[2]);
    const known = new Set(Object.keys(objects[0] ?? {}).map((k) => k.toLowerCase()));
    const prop = (name) => {
        if (!known.has(name.toLowerCase())) throw new Error("Invalid query");
        return name.toLowerCase();
    };
    const select = m[1].trim() === "*" ? null : m[1].split(",").map((s) => prop(s.trim()));
    const conditions = (m[3] ?? "")
        .split(/\s+AND\s+/i)
        .filter((c) => c.trim() !== "")
        .map((c) => {
            let cm = /^\s*(\w+)\s+IS\s+(NOT\s+)?NULL\s*$/i.exec(c);
            if (cm) {
                const p = prop(cm[1]);
                const not = Boolean(cm[2]);
                return (o) => (get(o, p) === null || get(o, p) === undefined) !== not;
            }
            cm = /^\s*(\w+)\s*(=|<>|!=)\s*('([^']*)'|"([^"]*)"|TRUE|FALSE|NULL|-?\d+)\s*$/i.exec(c);
            if (!cm) throw new Error("Invalid query");
            const p = prop(cm[1]);
            const raw = cm[3];
            const literal = /^'|^"/.test(raw) ? (cm[4] ?? cm[5]) : /^true$/i.test(raw) ? true : /^false$/i.test(raw) ? false : /^null$/i.test(raw) ? null : Number(raw);
            const equal = (o) => {
                const v = get(o, p);
                if (literal === null) return v === null || v === undefined;
                if (typeof literal === "string" && typeof v === "string") return v.toLowerCase() === literal.toLowerCase();
                return v === literal;
            };
            return cm[2] === "=" ? equal : (o) => !equal(o) && !(literal !== null && (get(o, p) === null || get(o, p) === undefined));
        });
    return objects
        .filter((o) => conditions.every((c) => c(o)))
        .map((o) => (select ? Object.fromEntries(Object.entries(o).filter(([k]) => select.includes(k.toLowerCase()))) : o));
}
function get(o, lowerName) {
    const key = Object.keys(o).find((k) => k.toLowerCase() === lowerName);
    return key === undefined ? undefined : o[key];
}

// ---------------------------------------------------------------- events ---------------------------------------------

const MESSAGES = {
    "en-US": {
        12288: (d) => `The client has sent an activation request to the key management service machine.\r\nInfo:\r\n${d}`,
        12289: (d) => `The client has processed an activation response from the key management service machine.\r\nInfo:\r\n${d}`,
        8198: (d) => `License Activation (slui.exe) failed with the following error code:\r\n${d}`,
    },
    "de-DE": {
        12288: (d) => `Der Client hat eine Aktivierungsanforderung an den Computer mit dem Schlüsselverwaltungsdienst gesendet.\r\nInfo:\r\n${d}`,
        12289: (d) => `Der Client hat eine Aktivierungsantwort vom Computer mit dem Schlüsselverwaltungsdienst verarbeitet.\r\nInfo:\r\n${d}`,
        8198: (d) => `Fehler bei der Lizenzaktivierung (slui.exe). Fehlercode:\r\n${d}`,
    },
};

// Security-SPP events are classic events: EventID with Qualifiers (the severity bits of the message id: 16384 =
// informational, 49152 = error) and a Level (4 Information, 2 Error), as Event Viewer's XML view shows them.
// 12288 and 12289 are Information; 8198 (slui.exe's failure) is an Error.
const EVENT_LEVEL = { 12288: { level: 4, qualifiers: 16384 }, 12289: { level: 4, qualifiers: 16384 }, 8198: { level: 2, qualifiers: 49152 } };

/** `data`: the inserted strings (one string, or several for an event with more than one). */
function addEvent(state, id, data) {
    state.events.push({ id, time: new Date().toISOString(), data });
}

function eventXml(e) {
    const level = EVENT_LEVEL[e.id] ?? { level: 4, qualifiers: 16384 };
    const data = (Array.isArray(e.data) ? e.data : [e.data]).map((d) => `<Data>${d}</Data>`).join("");
    return (
        `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Security-SPP' ` +
        `Guid='{E23B33B0-C8C9-472C-A5F9-F2BDFEA0F156}' EventSourceName='Software Protection Platform Service'/>` +
        `<EventID Qualifiers='${level.qualifiers}'>${e.id}</EventID><Level>${level.level}</Level><TimeCreated SystemTime='${e.time}'/><Channel>Application</Channel></System>` +
        `<EventData>${data}</EventData></Event>`
    );
}

// What Get-WinEvent returns: newest first. `messages: false` models the known case where the message cannot be
// rendered in the reader's culture (Get-WinEvent then gives an empty Message): only the XML is reliable.
// StartTime is exact: Get-WinEvent turns it into TimeCreated[@SystemTime>='...'] in its XPath query, so an event from
// before the run is never in it, however close.
function events(state, filter) {
    const since = filter.startTime ? Date.parse(filter.startTime) : 0;
    const ids = filter.ids ?? [];
    const messages = MESSAGES[state.os.locale] ?? MESSAGES["en-US"];
    return state.events
        .filter((e) => (ids.length === 0 || ids.includes(e.id)) && Date.parse(e.time) >= since)
        .reverse()
        .slice(0, filter.maxEvents ?? 1000)
        .map((e) => ({
            Id: e.id,
            ProviderName: "Microsoft-Windows-Security-SPP",
            LogName: "Application",
            Level: (EVENT_LEVEL[e.id] ?? { level: 4 }).level,
            TimeCreated: e.time,
            Message: state.eventMessages === false ? null : messages[e.id]((Array.isArray(e.data) ? e.data : [e.data]).join("\r\n")),
            Xml: eventXml(e),
        }));
}

// ---------------------------------------------------------------- slmgr ----------------------------------------------

const TEXT = {
    "en-US": {
        installed: (k) => `Installed product key ${k} successfully.`,
        skms: (a) => `Key Management Service machine name set to ${a} successfully.`,
        ckms: "Key Management Service machine name cleared successfully.",
        activating: (n, id) => `Activating ${n} (${id}) ...`,
        activated: "Product activated successfully.",
        failed: "Error: Product activation failed.",
        error: "Error: ",
        notFound: (id) => `Error: Activation ID (${id}) not found.`,
        noKey: "Error: product key not found.",
    },
    "de-DE": {
        installed: (k) => `Der Product Key ${k} wurde erfolgreich installiert.`,
        skms: (a) => `Der Name des Computers mit dem Schlüsselverwaltungsdienst wurde erfolgreich auf ${a} festgelegt.`,
        ckms: "Der Name des Computers mit dem Schlüsselverwaltungsdienst wurde erfolgreich gelöscht.",
        activating: (n, id) => `${n} (${id}) wird aktiviert...`,
        activated: "Das Produkt wurde erfolgreich aktiviert.",
        failed: "Fehler: Fehler bei der Produktaktivierung.",
        error: "Fehler: ",
        notFound: (id) => `Fehler: Aktivierungs-ID (${id}) wurde nicht gefunden.`,
        noKey: "Fehler: Product Key nicht gefunden.",
    },
};

const HRESULT_TEXT = {
    "0xC004F074": "The Software Licensing Service reported that the computer could not be activated. No Key Management Service (KMS) could be contacted. Please see the Application Event Log for additional information.",
    "0x8007232B": "DNS name does not exist.",
    "0xC004F050": "The Software Licensing Service reported that the product key is invalid.",
    "0xC004F069": "The Software Licensing Service reported that the product SKU is not found.",
    "0xC004F06C": "The Software Licensing Service reported that the computer could not be activated. The Key Management Service (KMS) determined that the request timestamp is invalid.",
    "0x800705B4": "This operation returned because the timeout period expired.",
    "0xC004F038": "The Software Licensing Service reported that the computer could not be activated. The count reported by your Key Management Service (KMS) is insufficient.",
    "0x80072EE7": "The server name or address could not be resolved.",
    "0xC004F035": "The Software Licensing Service reported that the computer could not be activated with a Volume license product key.",
};

function windowsProduct(state, activationId) {
    if (activationId) return state.products.find((p) => p.id.toLowerCase() === activationId.toLowerCase());
    // slmgr.vbs: products with a key, the Windows application, not an add-on.
    return state.products.find((p) => p.partialProductKey && p.applicationId === WINDOWS_APP_ID && p.licenseIsAddon === false);
}

function keyInfo(state, key) {
    const extra = (state.keys ?? {})[key];
    if (extra) return extra;
    for (const [build, editions] of Object.entries(GVLKS)) {
        for (const [editionId, gvlk] of Object.entries(editions)) {
            if (gvlk === key) return { channel: "Volume:GVLK", editionId, build: Number(build) };
        }
    }
    return undefined;
}

const CHANNEL_DESCRIPTION = { "Volume:GVLK": "VOLUME_KMSCLIENT channel", "Volume:MAK": "VOLUME_MAK channel", "Volume:CSVLK": "VOLUME_KMS channel", Retail: "RETAIL channel" };

/**
 * The licensing service's WMI methods (SoftwareLicensingService, SoftwareLicensingProduct), which slmgr.vbs itself
 * calls (facts section 8): InstallProductKey, SetKeyManagementServiceMachine/Port, ClearKeyManagementServiceMachine/Port,
 * RefreshLicenseStatus, Activate. A failure is a WmiError carrying the HRESULT, as WMI raises it to its caller
 * (VBScript's Err.Number, CIM's error_Code). Once called, a method runs to its end in the service, whether or not its
 * caller is still there: a killed slmgr (or a timed-out Invoke-CimMethod) does not cancel it, so it may still land.
 */
class WmiError extends Error {
    constructor(hr) {
        super(`${HRESULT_TEXT[hr] ?? "The Software Licensing Service reported an error."} (${hr})`);
        this.hr = hr;
    }
}

/** `direct`: called through WMI by a script (recorded in `calls` as `wmi <Class>.<Method>`), not by slmgr. */
async function wmiMethod(className, id, method, args = {}, direct = true) {
    let state = load();
    if (direct) {
        if ((state.hang ?? []).includes("wmi")) await hang();
        state.calls.push(`wmi ${className}.${method}`);
        save(state);
    }
    const cls = className.toLowerCase();
    const m = method.toLowerCase();
    if (cls === "softwarelicensingservice" && m === "installproductkey") {
        const key = String(args.ProductKey ?? "");
        if (!/^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$/.test(key)) throw new WmiError("0xC004F050");
        const info = keyInfo(state, key);
        const editionId = state.os.editionId;
        if (/Eval$/.test(editionId)) throw new WmiError("0xC004F069");
        if (!info || info.editionId !== editionId || (info.build !== undefined && info.build !== state.os.build)) throw new WmiError("0xC004F050");
        const delay = scaled(state, state.timings?.ipkSeconds ?? 1);
        state.pendingIpk = { key, info, at: Date.now() + delay };
        save(state);
        await sleep(delay);
        load();
        return 0;
    }
    if (cls === "softwarelicensingservice" && m === "refreshlicensestatus") return 0;
    const target = cls === "softwarelicensingservice" ? state.service : state.products.find((p) => p.id.toLowerCase() === String(id ?? "").toLowerCase());
    if (!target) throw new WmiError("0xC004F069");
    if (m === "setkeymanagementservicemachine" || m === "clearkeymanagementservicemachine" || m === "setkeymanagementserviceport" || m === "clearkeymanagementserviceport") {
        await sleep(scaled(state, state.timings?.skmsSeconds ?? 0));
        state = load();
        const t = cls === "softwarelicensingservice" ? state.service : state.products.find((p) => p.id === target.id);
        if (m === "setkeymanagementservicemachine") t.kmsMachine = String(args.MachineName);
        if (m === "clearkeymanagementservicemachine") t.kmsMachine = null;
        if (m === "setkeymanagementserviceport") t.kmsPort = Number(args.PortNumber);
        if (m === "clearkeymanagementserviceport") t.kmsPort = 0;
        save(state);
        return 0;
    }
    if (cls === "softwarelicensingproduct" && m === "activate") {
        const hr = await activate(state, target);
        if (hr !== "0x00000000") throw new WmiError(hr);
        return 0;
    }
    throw new Error(`Invalid method ${className}.${method}`);
}

/** Runs slmgr.vbs with its arguments; returns { out, err, exit } with exit as a signed 32-bit code. */
async function slmgr(args, call) {
    let state = load();
    const t = TEXT[state.os.locale] ?? TEXT["en-US"];
    state.calls.push(`slmgr ${args.join(" ")}`);
    save(state);
    const lines = [];
    const fail = (hr) => {
        lines.push(`${t.error}${hr} ${state.os.locale === "de-DE" ? "" : HRESULT_TEXT[hr] ?? ""}`.trimEnd());
        return { out: lines.join("\r\n") + "\r\n\r\n", err: "", exit: hresult(hr) };
    };
    const done = () => ({ out: lines.join("\r\n") + "\r\n\r\n", err: "", exit: 0 });
    // slmgr.vbs raises what the WMI method raised: Err.Number is the HRESULT, its exit code.
    const method = async (cls, id, name, methodArgs) => {
        try {
            await wmiMethod(cls, id, name, methodArgs, false);
            return undefined;
        } catch (e) {
            if (e instanceof WmiError) return e.hr;
            throw e;
        }
    };
    const op = (args[0] ?? "").toLowerCase();
    // A hung call (a licensing service that does not answer) never returns; the caller's timeout must end it.
    if ((state.hang ?? []).includes(op)) await hang();
    if (op === "/ipk") {
        const key = args[1] ?? "";
        const hr = await method("SoftwareLicensingService", undefined, "InstallProductKey", { ProductKey: key });
        if (hr) return fail(hr);
        await method("SoftwareLicensingService", undefined, "RefreshLicenseStatus", {});
        lines.push(t.installed(key));
        return done();
    }
    if (op === "/skms" || op === "/ckms") {
        // The WMI calls are made whether or not this process lives on (a killed /skms may still land).
        const activationId = op === "/skms" ? args[2] : args[1];
        const cls = activationId ? "SoftwareLicensingProduct" : "SoftwareLicensingService";
        if (activationId && !state.products.some((p) => p.id.toLowerCase() === activationId.toLowerCase())) {
            lines.push(t.notFound(activationId));
            return done();
        }
        if (op === "/ckms") {
            await method(cls, activationId, "ClearKeyManagementServiceMachine", {});
            await method(cls, activationId, "ClearKeyManagementServicePort", {});
            lines.push(t.ckms);
            return done();
        }
        const value = args[1] ?? "";
        const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(value);
        if (!m) {
            lines.push("Invalid combination of command parameters.");
            return { out: lines.join("\r\n") + "\r\n\r\n", err: "", exit: 1 };
        }
        await method(cls, activationId, "SetKeyManagementServiceMachine", { MachineName: m[1] });
        // No port given: slmgr.vbs clears it (KeyManagementServicePort reads 0, Windows uses 1688).
        if (m[2]) await method(cls, activationId, "SetKeyManagementServicePort", { PortNumber: Number(m[2]) });
        else await method(cls, activationId, "ClearKeyManagementServicePort", {});
        lines.push(t.skms(value));
        return done();
    }
    if (op === "/ato") {
        const product = windowsProduct(state, args[1]);
        if (!product) {
            lines.push(t.noKey);
            return { out: lines.join("\r\n") + "\r\n\r\n", err: "", exit: hresult("0xC004F069") };
        }
        lines.push(t.activating(product.name, product.id));
        // Activate() runs in the service: a killed slmgr leaves it running, and its result still lands.
        const hr = await method("SoftwareLicensingProduct", product.id, "Activate", {});
        call.check();
        state = load();
        const p = state.products.find((x) => x.id === product.id);
        if (!hr) {
            lines.push(p.licenseStatus === 1 ? t.activated : t.failed);
            return done();
        }
        return fail(hr);
    }
    lines.push("Invalid combination of command parameters.");
    return { out: lines.join("\r\n") + "\r\n\r\n", err: "", exit: 1 };
}

function hresult(hex) {
    return Number.parseInt(hex.slice(2), 16) | 0;
}

// slui.exe's own auto-activation runs after a failed activation and fails where the internet is blocked: event 8198
// with "hr=<code>" (0x8007139F, 0xC0020017, 0x80072EE7 are common, facts section 7); nothing to do with the KMS call.
function sluiFails(product) {
    const s = load();
    if (!s.slui) return;
    addEvent(s, 8198, [`hr=${s.slui}`, `Command-line arguments:\r\n-ArchiveProduct ${product.id}`]);
    save(s);
}

// SoftwareLicensingProduct.Activate(): a KMS client asks its KMS host (per-product host first, then the machine-wide
// one); a KMS host or a MAK/retail key activates with Microsoft online.
async function activate(state, product) {
    if (product.productKeyChannel !== "Volume:GVLK") {
        if (product.licenseStatus === 1) return "0x00000000";
        if (state.onlineActivation === "ok") {
            mutate(product.id, (p) => {
                p.licenseStatus = 1;
                p.gracePeriodRemaining = 0;
            });
            return "0x00000000";
        }
        await sleep(scaled(state, 2));
        sluiFails(product);
        return "0x80072EE7";
    }
    const host = product.kmsMachine || state.service.kmsMachine;
    const port = (product.kmsMachine ? product.kmsPort : state.service.kmsPort) || 1688;
    // No KMS host set: the client looks up _vlmcs._tcp SRV records in its DNS domain; the emulated zone has none, and
    // that lookup fails with 0x8007232B, DNS name does not exist ("KMS activation timing and discovery", facts §4).
    if (!host) {
        sluiFails(product);
        return "0x8007232B";
    }
    let addresses;
    const literal = host.replace(/^\[|\]$/g, "");
    if (net.isIP(literal)) {
        addresses = [literal];
    } else {
        try {
            addresses = (await dns.promises.lookup(host, { all: true, family: 4 })).map((a) => a.address);
        } catch (e) {
            sluiFails(product);
            return e.code === "ENOTFOUND" ? "0x8007232B" : "0xC004F074";
        }
    }
    const clientId = state.clientId ?? "6c2b4a3e-0000-4000-8000-000000000001";
    for (const address of addresses) {
        const s = load();
        const p = s.products.find((x) => x.id === product.id);
        const sent = new Date().toISOString();
        const reply = await kmsRequest(s, address, port, { activationId: product.id, clientTime: Date.now() + (s.os.clockSkewMinutes ?? 0) * 60000 });
        // 12288 is written after the RPC submit, with its result (Volume Activation Operations Guide, "KMS events",
        // table 11: HRESULT, flags, host:port, client machine id, client time, VM info, licence status, minutes left,
        // activation id, minimum count). 12289 only after a KMS reply.
        const after = load();
        addEvent(after, 12288, `${reply.transport ?? "0x0"}, 0x0, ${host}:${port}, ${clientId}, ${sent}, 1, ${p.licenseStatus}, ${p.gracePeriodRemaining}, ${p.id}, 5`);
        if (reply.hr === undefined) {
            save(after);
            continue;
        }
        // 12289's own layout (same table): HRESULT, flags, activated flag (fBound), unused, the KMS current count,
        // activation interval and renewal interval (minutes).
        const licensed = reply.hr === "0x00000000";
        addEvent(after, 12289, `${reply.hr}, ${licensed ? "0x0" : "0x4000000"}, ${licensed ? 1 : 0}, 0, ${reply.count ?? 50}, 120, 10080`);
        if (licensed) {
            const p2 = after.products.find((x) => x.id === product.id);
            p2.licenseStatus = 1;
            p2.gracePeriodRemaining = GRACE_180_DAYS;
            p2.kmsActivated = `${host}:${port}`;
        }
        save(after);
        if (!licensed) sluiFails(product);
        return reply.hr;
    }
    sluiFails(product);
    // No KMS host answered: Activate() fails with 0xC004F074 whatever the transport said (in 12288).
    return "0xC004F074";
}

function mutate(id, fn) {
    const s = load();
    fn(s.products.find((p) => p.id === id));
    save(s);
}

/**
 * TCP to the KMS with Windows' timing: a silent drop gives up after about 21 s, a refusal after about 2 s (facts §8).
 * The result is { hr } from a KMS reply, or { transport } with the error the RPC transport met, as 12288 carries it:
 * HRESULT_FROM_WIN32 of the Winsock error (WSAECONNREFUSED 0x8007274D, WSAETIMEDOUT 0x8007274C, WSAECONNRESET
 * 0x80072746, WSAEACCES 0x80072713 where Windows Firewall blocks the connect) or ERROR_TIMEOUT 0x800705B4 when a
 * connection was accepted and nothing answered (a forced-tunnel appliance, azure-docs #45703, or a busy host). Which
 * exact code sppsvc writes is not documented; these are the errors Windows' sockets give for each failure.
 * The call is the service's, not its caller's: it runs on when the slmgr that asked is killed.
 */
function kmsRequest(state, address, port, request) {
    return new Promise((resolve) => {
        const socket = net.connect({ host: address, port });
        let connected = false;
        let buffer = "";
        let settled = false;
        const finish = (result, waitMs = 0) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            socket.destroy();
            setTimeout(() => resolve(result), waitMs);
        };
        const timer = setTimeout(() => finish({ transport: connected ? "0x800705B4" : "0x8007274C" }), scaled(state, 21));
        socket.on("connect", () => {
            connected = true;
            socket.write(JSON.stringify(request) + "\n");
        });
        socket.on("data", (d) => {
            buffer += d.toString();
            const nl = buffer.indexOf("\n");
            if (nl >= 0) {
                const reply = JSON.parse(buffer.slice(0, nl));
                finish({ hr: reply.hr, count: reply.count });
            }
        });
        socket.on("error", (e) => {
            const transport = { ECONNREFUSED: "0x8007274D", EACCES: "0x80072713", EPERM: "0x80072713", ECONNRESET: "0x80072746" }[e.code] ?? "0x8007274C";
            finish({ transport }, e.code === "ECONNREFUSED" ? scaled(state, 2) : 0);
        });
        socket.on("close", () => finish({ transport: "0x80072746" }));
    });
}

// ---------------------------------------------------------------- netsh ----------------------------------------------

// Windows Firewall decides what leaves the machine: with the service running, an enabled outbound block rule that
// matches wins over every allow rule ("Windows Firewall rules": block rules take precedence), and traffic no rule
// matches takes the profile's default outbound action (Allow unless set otherwise). A stopped service blocks nothing.
// network.js applies this to the emulated network after every netsh change.
function firewallBlocks(fw, address, port) {
    if (!fw.serviceRunning) return false;
    const matching = fw.rules.filter((r) => (r.dir ?? "").toLowerCase() === "out" && (r.enable ?? "yes").toLowerCase() === "yes" && protocolMatches(r.protocol) && portMatches(r.remoteport, port) && ipMatches(r.remoteip, address));
    if (matching.some((r) => (r.action ?? "").toLowerCase() === "block")) return true;
    if (matching.some((r) => (r.action ?? "").toLowerCase() === "allow")) return false;
    return (fw.defaultOutbound ?? "allow") === "block";
}
const protocolMatches = (protocol) => !protocol || /^(any|tcp|6)$/i.test(protocol);
function portMatches(spec, port) {
    if (!spec || /^any$/i.test(spec)) return true;
    return spec.split(",").some((part) => {
        const [lo, hi] = part.split("-").map(Number);
        return hi === undefined ? lo === port : port >= lo && port <= hi;
    });
}
const ipNumber = (ip) => ip.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
function ipMatches(spec, address) {
    if (!spec || /^any$/i.test(spec)) return true;
    const a = ipNumber(address);
    return spec.split(",").some((part) => {
        if (part.includes("-")) {
            const [lo, hi] = part.split("-");
            return a >= ipNumber(lo) && a <= ipNumber(hi);
        }
        const [base, bits = "32"] = part.split("/");
        if (!net.isIPv4(base)) return false;
        const size = 2 ** (32 - Number(bits));
        return Math.floor(a / size) === Math.floor(ipNumber(base) / size);
    });
}

// `netsh advfirewall firewall show rule name=all dir=out`, one block per rule as netsh prints it (facts section 7).
function showRule(rule) {
    const ip = (rule.remoteip ?? "any")
        .split(",")
        .map((x) => (/^any$/i.test(x) ? "Any" : x.includes("/") || x.includes("-") ? x : `${x}/32`))
        .join(",");
    const field = (name, value) => `${(name + ":").padEnd(38)}${value}`;
    return [
        field("Rule Name", rule.name),
        "----------------------------------------------------------------------",
        field("Enabled", (rule.enable ?? "yes").toLowerCase() === "yes" ? "Yes" : "No"),
        field("Direction", (rule.dir ?? "").toLowerCase() === "out" ? "Out" : "In"),
        field("Profiles", "Domain,Private,Public"),
        field("Grouping", ""),
        field("LocalIP", "Any"),
        field("RemoteIP", ip),
        field("Protocol", !rule.protocol || /^any$/i.test(rule.protocol) ? "Any" : rule.protocol.toUpperCase()),
        field("LocalPort", rule.localport ?? "Any"),
        field("RemotePort", rule.remoteport ?? "Any"),
        field("Edge traversal", "No"),
        field("Action", (rule.action ?? "").toLowerCase() === "block" ? "Block" : "Allow"),
        "",
    ].join("\r\n");
}

async function netsh(args) {
    const state = load();
    if ((state.hang ?? []).includes("netsh")) await hang();
    state.calls.push(`netsh ${args.join(" ")}`);
    const fw = state.firewall;
    const out = (text, exit) => {
        save(state);
        return { out: text + "\r\n", err: "", exit };
    };
    if (!fw.serviceRunning) {
        return out("An error occurred while attempting to contact the Windows Firewall service. Make sure that the service is running and try your request again.", 1);
    }
    const lower = args.map((a) => a.toLowerCase());
    if (lower[0] !== "advfirewall" || lower[1] !== "firewall") return out("The following command was not found: " + args.join(" ") + ".", 1);
    const options = {};
    for (const a of args.slice(4)) {
        const i = a.indexOf("=");
        if (i < 0) return out("The parameter is incorrect.", 1);
        options[a.slice(0, i).toLowerCase()] = a.slice(i + 1);
    }
    if (lower[2] === "delete" && lower[3] === "rule") {
        const before = fw.rules.length;
        fw.rules = fw.rules.filter((r) => r.name !== options.name);
        const deleted = before - fw.rules.length;
        return deleted === 0 ? out("No rules match the specified criteria.", 1) : out(`\r\nDeleted ${deleted} rule(s).\r\nOk.`, 0);
    }
    if (lower[2] === "add" && lower[3] === "rule") {
        const ipOk = (options.remoteip ?? "any").split(",").every((ip) => ip === "any" || net.isIP(ip.split("/")[0]));
        if (!options.name || !options.dir || !options.action || !ipOk || (options.remoteport && !/^\d+$/.test(options.remoteport))) {
            return out("The parameter is incorrect.", 1);
        }
        fw.rules.push({ name: options.name, dir: options.dir, action: options.action, protocol: options.protocol, remoteport: options.remoteport, remoteip: options.remoteip, localport: options.localport, enable: options.enable ?? "yes" });
        return out("Ok.", 0);
    }
    if (lower[2] === "show" && lower[3] === "rule") {
        const shown = fw.rules.filter((r) => (/^all$/i.test(options.name ?? "") || r.name === options.name) && (!options.dir || (r.dir ?? "").toLowerCase() === options.dir.toLowerCase()));
        if (shown.length === 0) return out("No rules match the specified criteria.", 1);
        return out("\r\n" + shown.map(showRule).join("\r\n") + "Ok.", 0);
    }
    return out("The syntax supplied for this command is not valid.", 1);
}

// ---------------------------------------------------------------- registry -------------------------------------------

function registry(state, path) {
    const normalized = path.replace(/^Registry::HKEY_LOCAL_MACHINE/i, "HKLM:").replace(/\//g, "\\").toLowerCase();
    if (normalized === "hklm:\\software\\microsoft\\windows nt\\currentversion") {
        return { EditionID: state.os.editionId, CurrentBuild: String(state.os.build), ProductName: state.os.caption ?? "", InstallationType: state.os.installationType ?? "Server" };
    }
    return undefined;
}

// ---------------------------------------------------------------- programs -------------------------------------------

/** cscript.exe: `cscript //nologo <path>\slmgr.vbs <options>`; any other script is not on this machine. */
async function cscript(args, call) {
    const rest = args.filter((a) => a.toLowerCase() !== "//nologo");
    const script = rest.shift() ?? "";
    if (!/slmgr\.vbs$/i.test(script) || !fs.existsSync(script)) {
        return { out: "", err: `Input Error: Can not find script file "${script}".\r\n`, exit: 1 };
    }
    // VBScript as a Windows optional feature, disabled (Microsoft's VBScript deprecation, facts section 7): cscript
    // itself still starts and says it cannot find the engine; slmgr.vbs never runs.
    if (load().vbscript === false) {
        return { out: `CScript Error: Can't find script engine "VBScript" for script "${script}".\r\n`, err: "", exit: 1 };
    }
    try {
        return await slmgr(rest, call);
    } catch (e) {
        if (e instanceof Abandoned) throw e;
        return { out: "", err: `${script}(1, 1) Microsoft VBScript runtime error: ${e.message}\r\n`, exit: 1 };
    }
}

const PROGRAMS = { "cscript.exe": cscript, "netsh.exe": netsh };

/**
 * Runs an emulated program for the process `pid`; resolves to { out, err, exit } (exit: the signed 32-bit code), or
 * rejects with Abandoned when `call` was cancelled. Windows keeps all 32 bits of an exit code and Linux only 8, so the
 * full code is left in KMS_EMU_EXIT_DIR/<pid>, where the Start-Process shim of the WindowsEmulator module finds it.
 */
async function program(name, args, pid, call) {
    const run = PROGRAMS[name.toLowerCase()];
    const result = run ? await run(args, call) : { out: "", err: `'${name}' is not recognized as an internal or external command.\r\n`, exit: 1 };
    call.check();
    const dir = process.env.KMS_EMU_EXIT_DIR;
    if (dir) fs.writeFileSync(`${dir}/${pid}`, String(result.exit));
    return result;
}

module.exports = { load, save, wql, events, program, registry, wmiMethod, WmiError, firewallBlocks, Call, Abandoned, GVLKS, WINDOWS_APP_ID, GRACE_180_DAYS, scaled };
