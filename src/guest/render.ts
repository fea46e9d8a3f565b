import { createHash } from "crypto";
import { readFileSync } from "fs";
import * as path from "path";
import { gunzipSync, gzipSync } from "zlib";
import { kmsClientKeyForSku, kmsEndpoint, KMS_PORT, windowsServerReleases } from "../kms";
import { AzureCloud, CustomKmsServer, KmsHostForm } from "../types";
import * as validate from "../validate";

/** Options of the guest activation, as plain values. */
export interface ActivationScriptOptions {
    /** Cloud whose KMS the guest uses. Default `AzurePublic`. */
    cloud?: AzureCloud;
    /** On-premises KMS host to use instead of the cloud's. */
    customKmsServer?: CustomKmsServer;
    /** Name the KMS by DNS name (default) or by IP address: every address of the cloud, tried in order in the guest. */
    kmsHostForm?: KmsHostForm;
    /** Override the cloud's KMS IP addresses (Azure moved them once, in 2023). */
    kmsIpAddresses?: string[];
    /** Marketplace image SKU: picks the KMS client key when `productKey` is not given. */
    imageSku?: string;
    /** KMS client setup key to install. Default: from `imageSku`, else detected in the guest. */
    productKey?: string;
    /** Add a guest firewall outbound allow for TCP 1688 to the KMS addresses. Default true. */
    configureGuestFirewall?: boolean;
    /** Fail the extension when the guest is not activated at the end. Default false (KMS retries by itself). */
    failOnActivationError?: boolean;
    /** Change it to run the activation again with unchanged options. */
    rerunToken?: string;
}

/** One named argument of the guest script. */
export interface ActivationScriptParameter {
    /** Parameter name in the script's `param` block. */
    name: string;
    /** Its value, always a string in a strict form. */
    value: string;
}

/** What the guest script's `Settings` parameter carries (as hex of UTF-8 JSON). */
export interface GuestSettings {
    /** KMS names or addresses to try, in order: the first that accepts TCP is the one `/skms` is set to. */
    kmsHosts: string[];
    /** KMS TCP port. */
    kmsPort: number;
    /** Guest firewall destinations (IPv4 addresses or prefixes). */
    kmsAddresses: string[];
    /** `explicit`, `imageSku`, or empty when the guest detects the key. */
    keySource: string;
    /** `build:edition:key` entries the guest detects the key from (only when it detects it). */
    detectionTable: string[];
    /** Add the guest firewall rule. */
    configureFirewall: boolean;
    /** Exit 2 when activation is only pending. */
    failOnActivationError: boolean;
    /** The rerun token, echoed in the result. */
    runTag: string;
    /** Read and report only (fleet --probe): no /ipk, /skms, /ato and no firewall change. */
    reportOnly?: boolean;
}

/**
 * The `Settings` argument: hex of the UTF-8 JSON. Only 0-9 and a-f, which no command line (cmd.exe, PowerShell,
 * whatever the Run Command handler builds) splits, expands or reads as an array or a statement end.
 */
export function encodeSettings(settings: GuestSettings): string {
    return Buffer.from(JSON.stringify(settings), "utf8").toString("hex");
}

/** The inverse of `encodeSettings`. */
export function decodeSettings(value: string): GuestSettings {
    return JSON.parse(Buffer.from(value, "hex").toString("utf8")) as GuestSettings;
}

/** Everything the guest needs, rendered from `ActivationScriptOptions`. */
export interface RenderedActivationScript {
    /** The PowerShell the guest runs: `activate.ps1` as shipped, inside the bootstrap of `guestScript`. */
    script: string;
    /** Its non-secret arguments: `Settings` only. */
    parameters: ActivationScriptParameter[];
    /** Its secret arguments (`ProductKey`); empty when the guest detects the key. */
    protectedParameters: ActivationScriptParameter[];
    /** `host:port` the guest points `slmgr /skms` at (with `IpAddress`, the first address that answers). */
    kmsEndpoint: string;
    /** Where the key comes from: `explicit`, `imageSku` or `detected` (in the guest). */
    keySource: string;
    /** The whole CustomScriptExtension command line (holds the key: keep it secret). */
    commandToExecute: string;
    /** Hash of script and non-secret arguments: changes exactly when the guest would do something else. */
    fingerprint: string;
}

/** cmd.exe's limit on one command line; the CustomScriptExtension runs its command through it. */
export const MAX_COMMAND_LENGTH = 8191;

const SCRIPT_PATH = path.join(__dirname, "activate.ps1");
let scriptText: string | undefined;

/** The guest script as shipped (read once). */
export function activationScript(): string {
    scriptText ??= readFileSync(SCRIPT_PATH, "utf8");
    return scriptText;
}

/** What the bootstrap prints under PowerShell 2.0: a result line `parseActivationResult` reads (status `error`). */
const POWERSHELL2_RESULT =
    '{"v":2,"tag":"","key":"none","via":"","endpoint":"","firewall":"skipped","imds":"skipped","drift":[],"attempts":0,"codes":[],"events":[],' +
    '"diagnosis":["Windows PowerShell \' + $PSVersionTable.PSVersion + \' cannot run the activation: install WMF 5.1 (Windows Management Framework 5.1), then run it again"],' +
    '"status":"error","seconds":0}';

/**
 * The script as the guest gets it, both ways (Run Command script, CustomScriptExtension payload): a bootstrap in
 * PowerShell 2.0 syntax (2008 R2's default shell; test/guest-ps51.test.ts checks it with the 2.0 profile) that stops
 * with a result line below PowerShell 3, and only then has `body` parsed, from a here-string. 2.0 parses a script
 * whole before running any of it, so a check inside the 5.1 body would never run.
 */
export function guestScript(body: string): string {
    if (/^\s*'@/m.test(body)) {
        throw new Error("internal: a line of activate.ps1 starts with '@, which would end the bootstrap's here-string");
    }
    const param = /\[CmdletBinding\(\)\]\s*param\([\s\S]*?\n\)\n/.exec(body);
    if (!param) {
        throw new Error("internal: activate.ps1 has no [CmdletBinding()] param block");
    }
    return [
        "<#",
        ".SYNOPSIS",
        "    azure-kms-activation: activates Windows against a KMS host (the script is activate.ps1, below).",
        "    Parses in Windows PowerShell 2.0; needs 3.0 or later (WMF 5.1) to run the script.",
        "#>",
        param[0].trimEnd(),
        "if (-not ($PSVersionTable.PSVersion.Major -ge 3)) {",
        `    Write-Output ('KMS_ACTIVATION_RESULT ${POWERSHELL2_RESULT}')`,
        "    exit 1",
        "}",
        "& ([ScriptBlock]::Create(@'",
        // Without its help comment: the command line form drops comment lines, which would leave a <# unclosed.
        body.replace(/\r\n/g, "\n").replace(/^\uFEFF?<#[\s\S]*?#>\s*/, "").trimEnd(),
        "'@)) @PSBoundParameters",
        "",
    ].join("\n");
}

/**
 * The detection table the guest picks a key from: `build:edition:key` entries joined by `;`,
 * rendered from the one key table in `src/kms/keys.ts`.
 */
export function renderDetectionTable(): string {
    return windowsServerReleases
        .flatMap((release) => Object.entries(release.keys).map(([edition, key]) => `${release.build}:${edition}:${key}`))
        .join(";");
}

/** The guest activation without its key: what plans, state and `forceUpdateTag` may show. */
export interface ResolvedActivation {
    /** The PowerShell the guest runs (`activate.ps1` in its bootstrap, see `guestScript`). */
    script: string;
    /** Its non-secret arguments. */
    parameters: ActivationScriptParameter[];
    /** `host:port` the guest points `slmgr /skms` at (with `IpAddress`, the first address; the guest takes the first that answers). */
    kmsEndpoint: string;
    /** What the `Settings` parameter carries, decoded. */
    settings: GuestSettings;
    /** `explicit`, `imageSku` or `detected`. */
    keySource: string;
    /** The key `imageSku` selects, if any (a public KMS client setup key). */
    imageSkuKey: string | undefined;
    /** Hash of script and non-secret arguments. */
    fingerprint: string;
}

/**
 * Resolves everything but the key itself, from options already in their strict form (checked where they were read:
 * a component's resolver, or `renderActivationScript`). `hasExplicitKey` says whether a product key will be given, so
 * a secret key changes nothing here but its own protected argument.
 */
export function resolveActivation(options: Omit<ActivationScriptOptions, "productKey">, hasExplicitKey: boolean): ResolvedActivation {
    const endpoint = kmsEndpoint(options.cloud ?? AzureCloud.AzurePublic);
    const kmsIps = options.kmsIpAddresses ?? [...endpoint.ipAddresses];
    const custom = options.customKmsServer;
    // IpAddress: every address of the cloud, azkms first; the guest points /skms at the first that accepts TCP.
    const hosts = custom ? [custom.host] : options.kmsHostForm === KmsHostForm.IpAddress ? kmsIps : [endpoint.host];
    const port = custom?.port ?? KMS_PORT;
    const addresses = custom ? custom.addressPrefixes : kmsIps;
    const imageSkuKey = options.imageSku === undefined ? undefined : kmsClientKeyForSku(options.imageSku);
    const keySource = hasExplicitKey ? "explicit" : imageSkuKey !== undefined ? "imageSku" : "detected";

    const settings: GuestSettings = {
        kmsHosts: hosts,
        kmsPort: port,
        kmsAddresses: addresses,
        keySource: keySource === "detected" ? "" : keySource,
        detectionTable: keySource === "detected" ? renderDetectionTable().split(";") : [],
        configureFirewall: options.configureGuestFirewall ?? true,
        failOnActivationError: options.failOnActivationError ?? false,
        runTag: options.rerunToken ?? "",
    };
    const parameters: ActivationScriptParameter[] = [{ name: "Settings", value: encodeSettings(settings) }];
    const script = guestScript(activationScript());
    return {
        script,
        parameters,
        kmsEndpoint: `${hosts[0]}:${port}`,
        settings,
        keySource,
        imageSkuKey,
        fingerprint: createHash("sha256").update(script).update(JSON.stringify(parameters)).digest("hex").slice(0, 32),
    };
}

/** The script's secret arguments for a key (none without one). */
export function activationKeyParameters(key: string | undefined): ActivationScriptParameter[] {
    return key === undefined ? [] : [{ name: "ProductKey", value: key }];
}

/** The options' strict forms, which `resolveActivation` takes as given. */
function checkScriptOptions(options: Omit<ActivationScriptOptions, "productKey">): void {
    validate.kmsIpAddresses("kmsIpAddresses", options.kmsIpAddresses);
    validate.customKmsServer("customKmsServer", options.customKmsServer);
    validate.enumValue("kmsHostForm", options.kmsHostForm, KmsHostForm);
    validate.imageSku("imageSku", options.imageSku);
    validate.rerunToken("rerunToken", options.rerunToken);
}

/** Renders the guest activation for the given options; throws on any option that is not in its strict form. */
export function renderActivationScript(options: ActivationScriptOptions = {}): RenderedActivationScript {
    // The input is read here (a public function, not a component): checked here, as a resolver checks a component's.
    checkScriptOptions(options);
    validate.productKey("productKey", options.productKey);
    const resolved = resolveActivation(options, options.productKey !== undefined);
    const protectedParameters = activationKeyParameters(options.productKey ?? resolved.imageSkuKey);
    return {
        script: resolved.script,
        parameters: resolved.parameters,
        protectedParameters,
        kmsEndpoint: resolved.kmsEndpoint,
        keySource: resolved.keySource,
        commandToExecute: renderCommandLine(resolved.script, [...resolved.parameters, ...protectedParameters]),
        fingerprint: resolved.fingerprint,
    };
}

/**
 * The script for the command line: comment lines and indentation removed (the command line is short),
 * everything else unchanged. The Run Command ships the script as it is.
 */
export function compactScript(script: string): string {
    return script
        .replace(/^\uFEFF?<#[\s\S]*?#>\s*/, "")
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line !== "" && !line.startsWith("#"))
        .join("\n");
}

// Single-quoted PowerShell literal. Only strict-form values get here; the check makes sure of it.
function quote(value: string): string {
    if (!/^[A-Za-z0-9.:;,/_-]*$/.test(value)) {
        throw new Error(`internal: a value outside the safe form reached the command line`);
    }
    return `'${value}'`;
}

// The settings JSON as a single-quoted literal: the values in it are in strict forms, none holds a quote.
function quoteJson(settings: GuestSettings): string {
    const json = JSON.stringify(settings);
    if (json.includes("'")) {
        throw new Error(`internal: a quote reached the settings`);
    }
    return `'${json}'`;
}

// A fleet's VMs mostly share one invocation: compress it once.
const payloads = new Map<string, { text: string; length: number }>();

/** The first character of the payload alphabet: U+4E00 (CJK), 32,768 code points up to U+CDFF, none a surrogate. */
const PAYLOAD_BASE = 0x4e00;

/**
 * Bytes as text of 15 bits a character (U+4E00 to U+CDFF). cmd.exe's limit is 8,191 characters, and a character here
 * carries 15 bits where base64 carries 6: the gzipped script, which outgrew base64 on that line, fits with room. None of
 * these characters means anything to cmd.exe or PowerShell (their special characters are ASCII, plus PowerShell's
 * typographic quotes and dashes at U+2013-U+201E), and the whole path is UTF-16: the extension's settings JSON,
 * CreateProcessW, cmd.exe's command line, powershell.exe's arguments.
 */
export function encodePayload(bytes: Buffer): string {
    let text = "";
    let acc = 0;
    let bits = 0;
    for (const byte of bytes) {
        acc = ((acc << 8) | byte) & 0x7fffff;
        bits += 8;
        if (bits >= 15) {
            bits -= 15;
            text += String.fromCharCode(PAYLOAD_BASE + ((acc >> bits) & 0x7fff));
        }
    }
    if (bits > 0) {
        text += String.fromCharCode(PAYLOAD_BASE + ((acc << (15 - bits)) & 0x7fff));
    }
    return text;
}

/** The inverse of `encodePayload`, `length` bytes. */
export function decodePayload(text: string, length: number): Buffer {
    const bytes: number[] = [];
    let acc = 0;
    let bits = 0;
    for (const char of text) {
        acc = ((acc << 15) | (char.charCodeAt(0) - PAYLOAD_BASE)) & 0x3fffff;
        bits += 15;
        while (bits >= 8) {
            bits -= 8;
            bytes.push((acc >> bits) & 0xff);
        }
    }
    return Buffer.from(bytes.slice(0, length));
}

/** The PowerShell a CustomScriptExtension command line inflates and runs (the inverse of `renderCommandLine`'s payload). */
export function inflateCommandLine(commandLine: string): string {
    const m = /\$s='([\u4e00-\ucdff]+)';[\s\S]*?IO\.MemoryStream\(\$b,0,(\d+)\)/.exec(commandLine);
    if (!m) {
        throw new Error(`not an activation command line: ${commandLine.slice(0, 80)}`);
    }
    return gunzipSync(decodePayload(m[1], Number(m[2]))).toString("utf8");
}

/**
 * `powershell -Command` that decodes, inflates and runs the gzipped script and its arguments. Only the payload's
 * characters (see `encodePayload`) and a fixed decoder appear on the command line: nothing for cmd.exe or PowerShell
 * to interpret, and no argument in the bootstrap (PowerShell logs it as suspicious for its MemoryStream).
 */
export function renderCommandLine(script: string, parameters: ActivationScriptParameter[]): string {
    // Settings travel as JSON inside the compressed payload (it compresses far better than its hex) and become the
    // hex the script takes when the payload runs.
    const args = parameters
        .filter((p) => p.value !== "")
        .map((p) => (p.name === "Settings" ? `Settings=-join([Text.Encoding]::UTF8.GetBytes(${quoteJson(decodeSettings(p.value))})|%{$_.ToString('x2')})` : `${p.name}=${quote(p.value)}`))
        .join(";");
    const invocation = `$a=@{${args}}\n& {\n${compactScript(script)}\n} @a\n`;
    let payload = payloads.get(invocation);
    if (payload === undefined) {
        const gz = gzipSync(Buffer.from(invocation, "utf8"), { level: 9 });
        payload = { text: encodePayload(gz), length: gz.length };
        payloads.set(invocation, payload);
    }
    // The decoder parses and runs in PowerShell 2.0: 15 bits a character into bytes, most significant first. If the
    // characters did not arrive intact (an ANSI round trip would leave "?"), the inflate fails: a result line says so.
    const failed =
        "{~v~:2,~status~:~error~,~key~:~none~,~codes~:[],~events~:[],~diagnosis~:[~the command line did not arrive intact (" +
        "its payload could not be inflated): use mechanism RunCommand~]}";
    const decode = [
        `$b=New-Object byte[] ${payload.length + 2}`,
        "$n=0;$v=0;$k=0",
        // No % (cmd.exe would read it as a variable): the remainder is taken by subtraction.
        "foreach($c in $s.ToCharArray()){$v=$v*32768+[int]$c-19968;$k+=15;while($k -ge 8){$k-=8;$p=[Math]::Pow(2,$k);$x=[Math]::Floor($v/$p);$b[$n]=$x;$n++;$v-=$x*$p}}",
        `$z=New-Object IO.Compression.GZipStream((New-Object IO.MemoryStream($b,0,${payload.length})),[IO.Compression.CompressionMode]::Decompress)`,
        "$t=(New-Object IO.StreamReader($z)).ReadToEnd()",
    ].join(";");
    const bootstrap = [
        "$ErrorActionPreference='Stop'",
        `$s='${payload.text}'`,
        `try{${decode}}catch{Write-Output ('KMS_ACTIVATION_RESULT ${failed}'.Replace('~',[string][char]34));exit 1}`,
        "& ([ScriptBlock]::Create($t))",
    ].join(";");
    return `powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command "${bootstrap}"`;
}
