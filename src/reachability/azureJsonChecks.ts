/**
 * Checks every value `audit` reads from Azure's JSON before the engine sees it. The readers in `azureJson.ts` and
 * `arm.ts` are lenient by design (they also read ARM bodies and azure-native results the components hold), and a
 * lenient reading of hostile or hand-edited JSON fails open: a `priority` of `"x"` becomes NaN, which sorts before a
 * real Deny at 100, and the verdict becomes `reachable`. So a rule, route or NSG with a value Azure would never report
 * refuses the whole input, naming the file, the element and the field; it never becomes a verdict.
 *
 * An IPv6 prefix is valid Azure output (dual-stack VNets) but is not judged: KMS is reached over IPv4 (facts file,
 * section 1: every KMS address is IPv4), so an IPv6 route or rule prefix can never match. It is reported, never
 * silently skipped (`notJudged`).
 */
import { isIPv6 } from "net";
import { flatten } from "./arm";
import { AzureCliOutputs, AzureJsonError } from "./azureJson";
import { parseIpv4Prefix } from "./cidr";

type Json = { [key: string]: unknown };

/** What the checks found that is valid but not judged: each IPv6 prefix, with the file and element it is in. */
export interface AzureJsonNotes {
    notJudged: string[];
}

// Azure's enums (Microsoft.Network REST API, SecurityRule: SecurityRuleAccess, SecurityRuleDirection,
// SecurityRuleProtocol; the effective list (EffectiveNetworkSecurityRule) says `All` for `*`). Matched without case,
// as the engine matches them.
const ACCESS = ["Allow", "Deny"];
const DIRECTION = ["Inbound", "Outbound"];
const PROTOCOL = ["Tcp", "Udp", "Icmp", "Esp", "Ah", "*", "All"];
// EffectiveRoute.state and .source (EffectiveRouteState, EffectiveRouteSource).
const ROUTE_STATE = ["Active", "Invalid"];
const ROUTE_SOURCE = ["Unknown", "User", "VirtualNetworkGateway", "Default"];

// A service tag (`Internet`, `VirtualNetwork`, `Storage.WestEurope`, `AzureCloud.eastus2`): letters first, then
// letters, digits, dots and hyphens. Anything that starts with a digit is meant as an address and must parse as one.
const SERVICE_TAG = /^[A-Za-z][A-Za-z0-9.-]{0,79}$/;

/** Shows a refused value in a message: JSON-quoted (control characters escaped), at most 40 characters. */
function shown(value: unknown): string {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function isObject(value: unknown): value is Json {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The list inside `{ value: [...] }`, a bare list, or a spec example's; anything else is left to the reader's message. */
function entriesOf(json: unknown): unknown[] {
    if (Array.isArray(json)) return json;
    if (!isObject(json)) return [];
    if (Array.isArray(json.value)) return json.value;
    const body = isObject(json.responses) && isObject(json.responses["200"]) ? json.responses["200"].body : undefined;
    return isObject(body) && Array.isArray(body.value) ? body.value : [];
}

class Checker {
    // IPv6 prefixes per element and field: a dual-stack effective list expands a tag to hundreds; one note each field.
    private readonly ipv6 = new Map<string, string[]>();

    constructor(private readonly file: string) {}

    get notes(): AzureJsonNotes {
        return {
            notJudged: [...this.ipv6].map(([where, prefixes]) =>
                prefixes.length === 1
                    ? `${this.file}: ${where} ${shown(prefixes[0])} is IPv6; not judged (every KMS address is IPv4)`
                    : `${this.file}: ${where} holds ${prefixes.length} IPv6 prefixes (the first ${shown(prefixes[0])}); not judged (every KMS address is IPv4)`,
            ),
        };
    }

    fail(element: string, field: string, value: unknown, expected: string): never {
        throw new AzureJsonError(`${this.file}: ${element}: ${field} ${shown(value)} is not ${expected}; fix the file, or save the command's output again unchanged`);
    }

    /** A single (`…Prefix`) or list (`…Prefixes`) field: strings only; `""` and `[]` mean "not used". */
    values(element: string, field: string, value: unknown): string[] {
        if (value === undefined || value === null) return [];
        const list = Array.isArray(value) ? value : [value];
        for (const v of list) {
            if (typeof v !== "string") this.fail(element, field, v, "a string");
        }
        return (list as string[]).filter((v) => v.trim() !== "");
    }

    prefix(element: string, field: string, value: string, tagsAllowed: boolean): void {
        const v = value.trim();
        if (tagsAllowed && (v === "*" || SERVICE_TAG.test(v))) return;
        if (parseIpv4Prefix(v)) return;
        const [address, bits, extra] = v.split("/");
        if (isIPv6(address) && extra === undefined && (bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= 128))) {
            const where = `${element}: ${field}`;
            this.ipv6.set(where, [...(this.ipv6.get(where) ?? []), v]);
            return;
        }
        this.fail(element, field, value, tagsAllowed ? "an IPv4 prefix (a.b.c.d/n), an IPv6 prefix, * or a service tag" : "an IPv4 or IPv6 prefix (a.b.c.d/n)");
    }

    ports(element: string, field: string, value: unknown): void {
        for (const entry of this.values(element, field, value).flatMap((v) => v.split(","))) {
            const e = entry.trim();
            if (e === "*") continue;
            const m = /^(\d{1,5})(?:\s*-\s*(\d{1,5}))?$/.exec(e);
            const low = m ? Number(m[1]) : NaN;
            const high = m ? Number(m[2] ?? m[1]) : NaN;
            if (!m || low > 65535 || high > 65535 || low > high) this.fail(element, field, entry, "*, a port 0-65535 or a range low-high within 0-65535");
        }
    }

    oneOf(element: string, field: string, value: unknown, allowed: string[], required: boolean): void {
        if (value === undefined && !required) return;
        if (typeof value !== "string" || !allowed.some((a) => a.toLowerCase() === value.toLowerCase())) {
            this.fail(element, field, value, `one of ${allowed.join(", ")}`);
        }
    }

    /** One effective security rule (facts file rule N1: the first match by priority decides). */
    securityRule(nsg: string, rule: unknown, index: number): void {
        const r = isObject(rule) ? flatten(rule) : undefined;
        const element = `${nsg} rule ${r && typeof r.name === "string" ? shown(r.name) : index + 1}`;
        if (!r) this.fail(element, "the rule", rule, "an object");
        if (r.name !== undefined && typeof r.name !== "string") this.fail(element, "name", r.name, "a string");
        // User rules 100-4096; Azure's default rules 65000 and up (65000, 65001, 65500): facts file section 5.
        const p = r.priority;
        if (typeof p !== "number" || !Number.isInteger(p) || !((p >= 100 && p <= 4096) || (p >= 65000 && p <= 65535))) {
            this.fail(element, "priority", p, "an integer 100-4096 (65000 and up for Azure's default rules)");
        }
        this.oneOf(element, "access", r.access, ACCESS, true);
        this.oneOf(element, "direction", r.direction, DIRECTION, true);
        this.oneOf(element, "protocol", r.protocol, PROTOCOL, true);
        for (const field of ["sourcePortRange", "sourcePortRanges", "destinationPortRange", "destinationPortRanges"]) {
            this.ports(element, field, r[field]);
        }
        for (const field of ["sourceAddressPrefix", "sourceAddressPrefixes", "destinationAddressPrefix", "destinationAddressPrefixes", "expandedSourceAddressPrefix", "expandedDestinationAddressPrefix"]) {
            for (const v of this.values(element, field, r[field])) this.prefix(element, field, v, true);
        }
    }

    /** One effective route (facts file rules R1-R4: longest prefix, then source). */
    route(route: unknown, index: number): void {
        const r = isObject(route) ? flatten(route) : undefined;
        const element = `route ${index + 1}${r && typeof r.name === "string" ? ` ${shown(r.name)}` : ""}`;
        if (!r) return; // the reader refuses it by shape
        if (r.name !== undefined && r.name !== null && typeof r.name !== "string") this.fail(element, "name", r.name, "a string");
        for (const v of this.values(element, "addressPrefix", r.addressPrefix)) this.prefix(element, "addressPrefix", v, false);
        for (const v of this.values(element, "nextHopIpAddress", r.nextHopIpAddress)) {
            if (parseIpv4Prefix(v)?.bits !== 32 && !isIPv6(v)) this.fail(element, "nextHopIpAddress", v, "an IP address");
        }
        // The engine answers `unknown` for a next hop type it does not know; a type that is not a word is not Azure's.
        if (r.nextHopType !== undefined && (typeof r.nextHopType !== "string" || !/^[A-Za-z]{1,40}$/.test(r.nextHopType))) {
            this.fail(element, "nextHopType", r.nextHopType, "a next hop type (Internet, VirtualAppliance, VnetLocal, VirtualNetworkGateway, None, ...)");
        }
        this.oneOf(element, "state", r.state, ROUTE_STATE, false);
        this.oneOf(element, "source", r.source, ROUTE_SOURCE, false);
    }
}

/**
 * Checks the four files' values; throws `AzureJsonError` naming the file, the element and the field for the first
 * value Azure would not report. Shapes that are not lists at all are left to the readers, which say what was expected.
 */
export function checkAzureCliOutputs(outputs: AzureCliOutputs): AzureJsonNotes {
    const routes = new Checker(outputs.routes.file);
    entriesOf(outputs.routes.json).forEach((r, i) => routes.route(r, i));
    const nsgs = new Checker(outputs.nsgs.file);
    entriesOf(outputs.nsgs.json).forEach((entry, i) => {
        if (!isObject(entry) || !Array.isArray(entry.effectiveSecurityRules)) return;
        const id = isObject(entry.networkSecurityGroup) ? entry.networkSecurityGroup.id : undefined;
        const name = typeof id === "string" ? id.split("/").filter(Boolean).pop() : undefined;
        const label = name ? `NSG ${shown(name)}` : `NSG ${i + 1}`;
        entry.effectiveSecurityRules.forEach((rule, j) => nsgs.securityRule(label, rule, j));
    });
    const notJudged = [...routes.notes.notJudged, ...nsgs.notes.notJudged];
    if (outputs.subnet) {
        const s = flatten(outputs.subnet.json);
        const subnet = new Checker(outputs.subnet.file);
        if (s.defaultOutboundAccess !== undefined && s.defaultOutboundAccess !== null && typeof s.defaultOutboundAccess !== "boolean") {
            subnet.fail("the subnet", "defaultOutboundAccess", s.defaultOutboundAccess, "true or false");
        }
    }
    if (outputs.nic) {
        const n = flatten(outputs.nic.json);
        const nic = new Checker(outputs.nic.file);
        (Array.isArray(n.ipConfigurations) ? n.ipConfigurations : []).forEach((c, i) => {
            const config = flatten(c);
            const ip = config.privateIPAddress ?? config.privateIpAddress;
            if (ip !== undefined && ip !== null && (typeof ip !== "string" || (parseIpv4Prefix(ip)?.bits !== 32 && !isIPv6(ip)))) {
                nic.fail(`IP configuration ${i + 1}`, "privateIPAddress", ip, "an IP address");
            }
        });
    }
    return { notJudged };
}
