/**
 * IPv4 prefix arithmetic for NSG destinations and route prefixes. Anything that is not IPv4
 * (service tags, `*`, IPv6) parses to `undefined`: callers treat it as a tag.
 */

/** An IPv4 prefix: the network address as an unsigned 32-bit number, host bits cleared. */
export interface Ipv4Prefix {
    readonly network: number;
    readonly bits: number;
}

const OCTET = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function mask(bits: number): number {
    return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** `a.b.c.d` as an unsigned 32-bit number, or `undefined`. */
export function parseIpv4(value: string): number | undefined {
    const octets = value.split(".");
    if (octets.length !== 4 || !octets.every((o) => OCTET.test(o))) {
        return undefined;
    }
    return octets.reduce((acc, o) => acc * 256 + Number(o), 0);
}

/** `a.b.c.d/n` or a bare address (a /32), or `undefined` for anything else. */
export function parseIpv4Prefix(value: string): Ipv4Prefix | undefined {
    const [address, bits, extra] = value.trim().split("/");
    if (extra !== undefined || (bits !== undefined && !/^\d{1,2}$/.test(bits))) {
        return undefined;
    }
    const ip = parseIpv4(address);
    const length = bits === undefined ? 32 : Number(bits);
    if (ip === undefined || length > 32) {
        return undefined;
    }
    return { network: (ip & mask(length)) >>> 0, bits: length };
}

/** True when every address of `inner` is in `outer`. */
export function prefixContains(outer: Ipv4Prefix, inner: Ipv4Prefix): boolean {
    return outer.bits <= inner.bits && ((inner.network & mask(outer.bits)) >>> 0) === outer.network;
}

/** True when the two prefixes share at least one address. */
export function prefixesOverlap(a: Ipv4Prefix, b: Ipv4Prefix): boolean {
    return prefixContains(a, b) || prefixContains(b, a);
}

/** True when the two prefixes are the same set of addresses. */
export function samePrefix(a: Ipv4Prefix, b: Ipv4Prefix): boolean {
    return a.bits === b.bits && a.network === b.network;
}

/** The prefix as text, `a.b.c.d/n`. */
export function formatPrefix(prefix: Ipv4Prefix): string {
    const n = prefix.network;
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/${prefix.bits}`;
}

const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"].map((p) => parseIpv4Prefix(p) as Ipv4Prefix);

/** True when the prefix lies in RFC 1918 or shared (100.64/10) space: never an Azure public IP. */
export function isPrivatePrefix(prefix: Ipv4Prefix): boolean {
    return PRIVATE_RANGES.some((range) => prefixContains(range, prefix));
}
