import * as pulumi from "@pulumi/pulumi";
import { cloudOfEnvironment, ENVIRONMENT_CONFIG_KEY } from "./kms/cloudConfig";
import { kmsClientKeyForSku, kmsClientKeyProduct } from "./kms/keys";
import { AzureCloud, CustomKmsServer } from "./types";

/**
 * A user input the package refuses; the message names the component, the field, and the fix. A Pulumi `RunError`:
 * the engine's Node.js host prints a RunError as its message alone, one line, where any other error thrown in an
 * `apply` is "failed with an unhandled exception" and a stack trace (@pulumi/pulumi cmd/run/run.js).
 */
export class KmsInputError extends pulumi.RunError {
    constructor(message: string) {
        super(message);
        this.name = "KmsInputError";
    }
}

/** Most addresses one address list may hold: each becomes a route or a rule prefix and a guest argument. */
export const MAX_ADDRESSES = 16;

function fail(field: string, problem: string, fix: string): never {
    throw new KmsInputError(`${field}: ${problem}; ${fix}`);
}

// The longest refused value shown whole: an Azure resource ID may be 1,024 characters, and the part that is wrong
// is often at its end (a long subnet ID cut at 60 characters hid the typo).
const SHOWN_WHOLE = 1100;

// Shows a refused value whole (JSON-quoted: control characters cannot forge the message), or, past SHOWN_WHOLE, its
// start and end with the length.
function shown(value: unknown): string {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > SHOWN_WHOLE ? `${text.slice(0, 500)}...${text.slice(-500)} (${text.length} characters)` : text;
}

/** Runs `checks`, prefixing any refusal with the component type and name so the user can find it. */
export function inComponent<T>(component: string, name: string, checks: () => T): T {
    try {
        return checks();
    } catch (err) {
        if (err instanceof KmsInputError) {
            throw new KmsInputError(`${component} "${name}": ${err.message}`);
        }
        throw err;
    }
}

/**
 * Checks an `Input`: a plain value now, an `Output` once it resolves (inside `apply`, so the
 * deployment fails with the same message). Secretness is kept.
 */
export function checkedInput<T>(
    context: { component: string; name: string },
    field: string,
    value: pulumi.Input<T>,
    check: (field: string, value: T) => void,
): pulumi.Input<T> {
    const run = (v: T) => inComponent(context.component, context.name, () => check(field, v));
    if (!pulumi.Output.isInstance(value) && !(value instanceof Promise)) {
        run(value as T);
        // Returned as it is: wrapping a plain value in an Output costs the SDK promises and changes nothing.
        return value;
    }
    return pulumi.output(value).apply((v) => {
        run(v as T);
        return v;
    }) as pulumi.Output<T>;
}

/** Runs `check` now when `value` is plain; an `Output` or a `Promise` is checked later, by `checkedInput`. */
export function ifPlain<T>(value: pulumi.Input<T> | undefined, check: (value: T) => void): void {
    if (!pulumi.Output.isInstance(value) && !(value instanceof Promise)) {
        check(value as T);
    }
}

export function required(field: string, value: unknown): void {
    if (value === "") {
        // Given, but empty (often a config value or an output that is not set yet): not "missing".
        fail(field, "is empty", `give ${field} a value`);
    }
    if (value === undefined || value === null) {
        fail(field, "is required", `set ${field}`);
    }
}

const IPV4_OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4 = new RegExp(`^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}$`);

export function isIpv4(value: string): boolean {
    return IPV4.test(value);
}

export function ipv4(field: string, value: string): void {
    if (typeof value !== "string" || !IPV4.test(value)) {
        fail(field, `${shown(value)} is not an IPv4 address`, "give dotted decimal such as 10.0.0.4");
    }
}

export function cidr(field: string, value: string): void {
    const [address, bits, extra] = typeof value === "string" ? value.split("/") : [];
    const prefix = Number(bits);
    if (extra !== undefined || !IPV4.test(address ?? "") || !/^\d{1,2}$/.test(bits ?? "") || prefix > 32) {
        fail(field, `${shown(value)} is not an IPv4 CIDR prefix`, "give address/bits such as 10.0.0.0/24");
    }
}

function list(field: string, value: unknown, each: (field: string, v: string) => void, max = MAX_ADDRESSES): void {
    if (!Array.isArray(value) || value.length === 0) {
        fail(field, "must be a non-empty list", `give at least one entry in ${field}, or leave it out`);
    }
    if (value.length > max) {
        fail(field, `has ${value.length} entries, more than ${max}`, `give at most ${max}`);
    }
    value.forEach((v, i) => each(`${field}[${i}]`, v));
    if (new Set(value).size !== value.length) {
        fail(field, "has duplicate entries", "list each entry once (Azure rejects duplicate route prefixes)");
    }
}

export function cidrList(field: string, value: string[] | undefined): void {
    if (value !== undefined) {
        list(field, value, cidr);
    }
}

export function kmsIpAddresses(field: string, value: string[] | undefined): void {
    if (value !== undefined) {
        list(field, value, ipv4);
    }
}

export function ipv4List(field: string, value: string[] | undefined): void {
    if (value !== undefined) {
        list(field, value, ipv4);
    }
}

const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

export function hostName(field: string, value: string): void {
    const ok =
        typeof value === "string" &&
        value.length <= 253 &&
        (IPV4.test(value) || (!/^[\d.]+$/.test(value) && value.split(".").every((label) => HOST_LABEL.test(label))));
    if (!ok) {
        fail(field, `${shown(value)} is not a host name or IPv4 address`, "give a DNS name such as kms.contoso.com or an IPv4 address");
    }
}

// A service tag (VirtualNetwork, AzureCloud.WestEurope), '*', an IPv4 address or CIDR prefix.
export function addressPrefixOrTag(field: string, value: string): void {
    const ok = typeof value === "string" && (value === "*" || /^[A-Za-z][A-Za-z0-9]{1,79}(?:\.[A-Za-z0-9]{1,40})?$/.test(value) || IPV4.test(value));
    if (!ok) {
        cidr(field, value);
    }
}

export function port(field: string, value: number): void {
    if (!Number.isInteger(value) || value < 1 || value > 65535) {
        fail(field, `${shown(value)} is not a TCP port`, "give a whole number from 1 to 65535 (KMS uses 1688)");
    }
}

export function customKmsServer(field: string, value: CustomKmsServer | undefined): void {
    if (value === undefined) {
        return;
    }
    if (typeof value !== "object" || value === null) {
        fail(field, "must be an object", "give { host, port?, addressPrefixes }");
    }
    hostName(`${field}.host`, value.host);
    if (value.port !== undefined) {
        port(`${field}.port`, value.port);
    }
    if (value.addressPrefixes === undefined) {
        fail(`${field}.addressPrefixes`, "is required", "list the CIDR prefixes of the KMS host(s), such as 10.10.0.5/32");
    }
    list(`${field}.addressPrefixes`, value.addressPrefixes, (f, v) => (isIpv4(v) ? undefined : cidr(f, v)));
}

export function securityRulePriority(field: string, value: number | undefined): void {
    if (value !== undefined && (!Number.isInteger(value) || value < 100 || value > 4096)) {
        fail(field, `${shown(value)} is not an NSG rule priority`, "give a whole number from 100 to 4096, lower than any outbound deny");
    }
}

/** Most source addresses one firewall rule takes here: the spokes' prefixes, not a host inventory. */
export const MAX_SOURCE_ADDRESSES = 64;

// The spokes a firewall rule lets out: IPv4 addresses or CIDR prefixes only. '*' or a service tag would open the rule to
// every source the firewall sees, which is what a least-privilege hub forbids.
export function sourceAddresses(field: string, value: string[]): void {
    if (!Array.isArray(value) || value.length === 0) {
        fail(field, value === undefined || value === null ? "is required" : "must be a non-empty list", "list the address prefixes of the spokes whose VMs activate, such as [\"10.20.0.0/16\"]");
    }
    list(field, value, (f, v) => (isIpv4(v) ? undefined : cidr(f, v)), MAX_SOURCE_ADDRESSES);
}

// Azure Firewall policy priorities (rule collection groups and rule collections): 100 (first) to 65000 (last).
export function firewallPriority(field: string, value: number): void {
    if (!Number.isInteger(value) || value < 100 || value > 65000) {
        fail(field, `${shown(value)} is not an Azure Firewall policy priority`, "give a whole number from 100 to 65000, lower than any network rule that denies the KMS addresses");
    }
}

export function enumValue(field: string, value: string | undefined, allowed: Record<string, string>): void {
    if (value !== undefined && !Object.values(allowed).includes(value)) {
        fail(field, `${shown(value)} is not allowed`, `use one of ${Object.values(allowed).join(", ")}`);
    }
}

// The key itself is never echoed: it may be a MAK or retail key.
export function productKey(field: string, value: string | undefined): void {
    if (value !== undefined && (typeof value !== "string" || !/^[A-Z0-9]{5}(?:-[A-Z0-9]{5}){4}$/.test(value))) {
        fail(field, "is not a product key", "give five groups of five upper-case letters or digits joined by hyphens (XXXXX-XXXXX-XXXXX-XXXXX-XXXXX)");
    }
}

/**
 * A product key the guest may install: a KMS client setup key (GVLK) from the key table, and the one `imageSku` picks
 * when the SKU names an edition. The key itself is never echoed; the product it belongs to is public.
 */
export function kmsClientKey(field: string, value: string | undefined, imageSku?: string): void {
    productKey(field, value);
    if (value === undefined) {
        return;
    }
    const product = kmsClientKeyProduct(value);
    if (product === undefined) {
        fail(
            field,
            "is not a KMS client setup key (GVLK); a MAK or retail key activates against Microsoft, not KMS, and would be written into the guest's logs",
            "leave productKey out (the key follows imageSku or the edition the guest detects), or give the edition's KMS client key from Microsoft's \"KMS client activation keys\" page",
        );
    }
    const expected = typeof imageSku === "string" ? kmsClientKeyForSku(imageSku) : undefined;
    if (expected !== undefined && expected !== value.trim().toUpperCase()) {
        fail(
            field,
            `is the KMS client key of ${product}, but imageSku ${shown(imageSku)} is ${kmsClientKeyProduct(expected)}`,
            "leave productKey out (imageSku picks the right key) or give that edition's KMS client key",
        );
    }
}

export function imageSku(field: string, value: string | undefined): void {
    if (value !== undefined && (typeof value !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(value))) {
        fail(field, `${shown(value)} is not a marketplace SKU`, "give the image SKU such as 2022-datacenter-azure-edition");
    }
}

export function rerunToken(field: string, value: string | undefined): void {
    if (value !== undefined && (typeof value !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(value))) {
        fail(field, `${shown(value)} is not a rerun token`, "use 1 to 64 letters, digits, '.', '_' or '-' (a date or a counter)");
    }
}

export function azureName(field: string, value: string, max = 80): void {
    const ok = typeof value === "string" && value.length <= max && /^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/.test(value);
    if (!ok) {
        fail(field, `${shown(value)} is not a valid Azure resource name`, `use 1 to ${max} letters, digits, '_', '.' or '-', starting with a letter or digit and not ending with '.' or '-'`);
    }
}

export function resourceGroupName(field: string, value: string): void {
    if (typeof value !== "string" || !/^[-\w.()]{1,90}$/.test(value) || value.endsWith(".")) {
        fail(field, `${shown(value)} is not a resource group name`, "use 1 to 90 letters, digits, '_', '-', '.', '(' or ')', not ending with '.'");
    }
}

export function location(field: string, value: string | undefined): void {
    if (value !== undefined && (typeof value !== "string" || !/^[A-Za-z0-9][A-Za-z0-9 ]{1,39}$/.test(value))) {
        fail(field, `${shown(value)} is not an Azure location`, "give a region name such as westeurope");
    }
}

export function computerName(field: string, value: string): void {
    if (typeof value !== "string" || !/^(?!-)[A-Za-z0-9-]{1,15}$/.test(value) || /^\d+$/.test(value)) {
        fail(field, `${shown(value)} is not a Windows computer name`, "use 1 to 15 letters, digits or '-', not all digits (set computerName when the VM name is longer)");
    }
}

export function vmSize(field: string, value: string): void {
    if (typeof value !== "string" || !/^(?:Standard|Basic)_[A-Za-z0-9_]{1,60}$/.test(value)) {
        fail(field, `${shown(value)} is not a VM size`, "give a size such as Standard_D2s_v5");
    }
}

// Azure refuses these Windows admin names (Compute API "disallowed user names").
const RESERVED_ADMIN_NAMES = new Set(
    ("administrator admin user user1 test user2 test1 user3 admin1 1 123 a actuser adm admin2 aspnet backup " +
        "console david guest john owner root server sql support support_388945a0 sys test2 test3 user4 user5").split(" "),
);

export function adminUsername(field: string, value: string): void {
    if (typeof value !== "string" || !/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,19}$/.test(value) || value.endsWith(".")) {
        fail(field, `${shown(value)} is not a Windows admin user name`, "use 1 to 20 letters, digits, '_', '-' or '.', not ending with '.'");
    }
    if (RESERVED_ADMIN_NAMES.has(value.toLowerCase())) {
        fail(field, `${shown(value)} is reserved by Azure`, "choose another name (Azure refuses common names such as admin or administrator)");
    }
}

// The password is never echoed.
export function adminPassword(field: string, value: string): void {
    const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((re) => re.test(value ?? "")).length;
    if (typeof value !== "string" || value.length < 12 || value.length > 123 || classes < 3) {
        fail(field, "does not meet Azure's Windows password rules", "use 12 to 123 characters with three of: lower case, upper case, digit, symbol (keep it a Pulumi secret)");
    }
}

const ID_SEGMENT = "[A-Za-z0-9][A-Za-z0-9._()-]*";

// A full Azure resource ID of the given provider type, every segment in a plain form.
export function resourceId(field: string, value: string, providerType: string): void {
    const type = providerType.replace(/\./g, "\\.");
    const re = new RegExp(`^/subscriptions/${ID_SEGMENT}/resourceGroups/${ID_SEGMENT}/providers/${type}(?:/${ID_SEGMENT})+$`, "i");
    if (typeof value !== "string" || value.length > 1024 || !re.test(value)) {
        fail(field, `${shown(value)} is not a ${providerType} resource ID`, `give the full ID: /subscriptions/<id>/resourceGroups/<group>/providers/${providerType}/<name>`);
    }
}

// A subnet ID, segment by segment: a fixed word, or a name.
const SUBNET_ID_SEGMENTS = ["subscriptions", null, "resourceGroups", null, "providers", "Microsoft.Network", "virtualNetworks", null, "subnets", null];

/** Where a string that is not a subnet ID goes wrong: the first segment that does not fit, said as the fix. */
function subnetIdProblem(value: string): string {
    if (value === "") {
        return "is empty";
    }
    if (value.length > 1024) {
        return `${shown(value)} is ${value.length} characters, more than an Azure resource ID's 1024`;
    }
    if (!value.startsWith("/")) {
        return `${shown(value)} is not a subnet ID (a full ID starts with /subscriptions/)`;
    }
    const segments = value.slice(1).split("/");
    for (let i = 0; i < SUBNET_ID_SEGMENTS.length; i++) {
        const want = SUBNET_ID_SEGMENTS[i];
        const got = segments[i];
        if (got === undefined) {
            return `${shown(value)} is not a subnet ID: it ends after ${i} segments, before ${want === null ? `the ${SUBNET_ID_SEGMENTS[i - 1]} name` : `"${want}"`}`;
        }
        if (want === null ? !new RegExp(`^${ID_SEGMENT}$`).test(got) : got.toLowerCase() !== want.toLowerCase()) {
            return `${shown(value)} is not a subnet ID: segment ${i + 1} is ${shown(got)}, where ${want === null ? `a ${SUBNET_ID_SEGMENTS[i - 1]} name` : `"${want}"`} belongs`;
        }
    }
    return `${shown(value)} is not a subnet ID: ${segments.length - SUBNET_ID_SEGMENTS.length} segment(s) after the subnet name`;
}

export function subnetId(field: string, value: string): void {
    const re = new RegExp(`^/subscriptions/${ID_SEGMENT}/resourceGroups/${ID_SEGMENT}/providers/Microsoft\\.Network/virtualNetworks/${ID_SEGMENT}/subnets/${ID_SEGMENT}$`, "i");
    if (typeof value !== "string" || value.length > 1024 || !re.test(value)) {
        fail(
            field,
            typeof value === "string" ? subnetIdProblem(value) : `${shown(value)} is not a subnet ID`,
            "give /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>",
        );
    }
}

export function vhdUri(field: string, value: string): void {
    if (typeof value !== "string" || !/^https:\/\/[a-z0-9]{3,24}\.blob\.[A-Za-z0-9.-]+\/[^?#\s]+\.vhd$/i.test(value)) {
        fail(field, `${shown(value)} is not a page-blob VHD URL`, "give https://<account>.blob.<cloud suffix>/<container>/<name>.vhd");
    }
}

/** Azure's tag limits (Microsoft Learn, "Use tags to organize your Azure resources", Limitations). */
export const MAX_TAGS = 50;
const MAX_TAG_NAME = 512;
const MAX_TAG_VALUE = 256;
const TAG_NAME_FORBIDDEN = /[<>%&\\?/]/;

/**
 * `tags`: at most 50 per resource, names of 1 to 512 characters without `<`, `>`, `%`, `&`, `\`, `?` or `/`, values of
 * at most 256 characters. Azure refuses the others at deployment, after the plan looked fine. A value that is
 * still an Output is checked by Azure (the names and the count are known here).
 */
export function tags(field: string, value: Record<string, unknown> | undefined): void {
    if (value === undefined || value === null) return;
    if (typeof value !== "object" || Array.isArray(value)) {
        fail(field, `${shown(value)} is not a map of tag names to values`, 'give an object, e.g. { environment: "prod" }');
    }
    const names = Object.keys(value);
    if (names.length > MAX_TAGS) {
        fail(field, `${names.length} tags; Azure allows at most ${MAX_TAGS} on a resource`, "keep 50 or fewer (several values can share one tag as JSON)");
    }
    for (const name of names) {
        const bad = TAG_NAME_FORBIDDEN.exec(name);
        if (name.length === 0 || name.length > MAX_TAG_NAME) {
            fail(field, `tag name ${shown(name)} is ${name.length} characters`, `use 1 to ${MAX_TAG_NAME} characters`);
        }
        if (bad) {
            fail(field, `tag name ${shown(name)} contains ${shown(bad[0])}`, "Azure forbids < > % & \\ ? / in tag names; rename the tag");
        }
        const v = value[name];
        if (typeof v === "string" && v.length > MAX_TAG_VALUE) {
            fail(field, `the value of tag ${shown(name)} is ${v.length} characters`, `Azure allows at most ${MAX_TAG_VALUE}; shorten it`);
        }
        if (v !== undefined && typeof v !== "string" && !pulumi.Output.isInstance(v) && !(v instanceof Promise)) {
            fail(field, `the value of tag ${shown(name)} is ${shown(v)}, not a string`, "give tag values as strings");
        }
    }
}

/**
 * `cloud` when given (it wins), else the cloud of the stack's default azure-native provider (`azure-native:environment`;
 * unset means public), refused when that names no cloud this package knows. An explicit provider resource passed in
 * `opts.provider` is not read: its cloud cannot be known while the program runs, so give `cloud` explicitly with one.
 */
export function effectiveCloud(cloud: AzureCloud | undefined): AzureCloud {
    if (cloud !== undefined) {
        return cloud;
    }
    const environment = new pulumi.Config("azure-native").get("environment");
    const fromConfig = cloudOfEnvironment(environment);
    if (fromConfig === undefined) {
        const text = environment ?? "";
        const shownEnvironment = JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text);
        throw new KmsInputError(
            `cloud: ${ENVIRONMENT_CONFIG_KEY} is ${shownEnvironment}, not a cloud this package knows; set ${ENVIRONMENT_CONFIG_KEY} to public, usgovernment or china, or set cloud explicitly`,
        );
    }
    return fromConfig;
}
