import { createHash } from "crypto";
import { readFileSync } from "fs";
import * as path from "path";
import { gzipSync } from "zlib";
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
    /** The PowerShell script, exactly as shipped in the package (`activate.ps1`). */
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
    /** The PowerShell script as shipped. */
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
 * Resolves everything but the key itself. `hasExplicitKey` says whether a product key will be given, so a
 * secret key changes nothing here but its own protected argument.
 */
export function resolveActivation(options: Omit<ActivationScriptOptions, "productKey">, hasExplicitKey: boolean): ResolvedActivation {
    const endpoint = kmsEndpoint(options.cloud ?? AzureCloud.AzurePublic);
    validate.kmsIpAddresses("kmsIpAddresses", options.kmsIpAddresses);
    validate.customKmsServer("customKmsServer", options.customKmsServer);
    validate.enumValue("kmsHostForm", options.kmsHostForm, KmsHostForm);
    validate.imageSku("imageSku", options.imageSku);
    validate.rerunToken("rerunToken", options.rerunToken);

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
    const script = activationScript();
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

/** Renders the guest activation for the given options; throws on any option that is not in its strict form. */
export function renderActivationScript(options: ActivationScriptOptions = {}): RenderedActivationScript {
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
const payloads = new Map<string, string>();

/**
 * `powershell -Command` that inflates the gzipped script and its arguments and runs them. Only base64 appears on
 * the command line: nothing for cmd.exe or PowerShell to interpret, and no key in the bootstrap, which PowerShell's
 * script block logging records (it calls FromBase64String and MemoryStream "suspicious").
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
        payload = gzipSync(Buffer.from(invocation, "utf8"), { level: 9 }).toString("base64");
        payloads.set(invocation, payload);
    }
    const bootstrap = [
        "$ErrorActionPreference='Stop'",
        `$b=[Convert]::FromBase64String('${payload}')`,
        "$z=New-Object IO.Compression.GZipStream((New-Object IO.MemoryStream(,$b)),[IO.Compression.CompressionMode]::Decompress)",
        "& ([ScriptBlock]::Create((New-Object IO.StreamReader($z)).ReadToEnd()))",
    ].join(";");
    return `powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command "${bootstrap}"`;
}
