import { parseIpv4Prefix, prefixContains } from "./cidr";
import { KmsTarget } from "./config";
import { Tri, UNKNOWN, Unknown, get, list, numberAt, text, textAt, textIs } from "./props";

/** The parts of an NSG rule the KMS policies read, from an inline entry or a standalone rule alike. */
export interface RuleView {
    name: string;
    direction: string | Unknown | undefined;
    access: string | Unknown | undefined;
    protocol: string | Unknown | undefined;
    priority: number | Unknown | undefined;
    /** `destinationAddressPrefix` and `destinationAddressPrefixes` together. */
    destinations: string[] | Unknown;
    /** `destinationPortRange` and `destinationPortRanges` together. */
    ports: string[] | Unknown;
}

// The single and the plural form are alternatives in the API; a rule uses one or the other.
function joined(props: unknown, single: string, plural: string): string[] | Unknown {
    const one = text(get(props, single));
    const many = list(get(props, plural));
    if (one === UNKNOWN || many === UNKNOWN) {
        return UNKNOWN;
    }
    const entries = [one, ...(many ?? []).map(text)];
    if (entries.includes(UNKNOWN)) {
        return UNKNOWN;
    }
    return entries.filter((e): e is string => typeof e === "string" && e.trim() !== "").map((e) => e.trim());
}

/** Reads a rule, inline entry or standalone resource: azure-native gives both the same flat shape. */
export function ruleView(name: string, props: unknown): RuleView {
    return {
        name,
        direction: textAt(props, "direction"),
        access: textAt(props, "access"),
        protocol: textAt(props, "protocol"),
        priority: numberAt(props, "priority"),
        destinations: joined(props, "destinationAddressPrefix", "destinationAddressPrefixes"),
        ports: joined(props, "destinationPortRange", "destinationPortRanges"),
    };
}

export function isOutbound(rule: RuleView): Tri {
    return textIs(rule.direction, "Outbound");
}

export function hasAccess(rule: RuleView, access: "Allow" | "Deny"): Tri {
    return textIs(rule.access, access);
}

type PortEntry = "any" | { from: number; to: number } | undefined;

function parsePort(entry: string): PortEntry {
    if (entry === "*") {
        return "any";
    }
    const match = /^(\d{1,5})(?:\s*-\s*(\d{1,5}))?$/.exec(entry);
    if (!match) {
        return undefined;
    }
    return { from: Number(match[1]), to: Number(match[2] ?? match[1]) };
}

function portEntries(ports: string[]): PortEntry[] {
    return ports.flatMap((p) => p.split(",")).map((p) => parsePort(p.trim()));
}

/** The rule names `port` explicitly (an exact port, a list or a range containing it; `*` does not count). */
export function portsNamePort(ports: string[] | Unknown, port: number): Tri {
    if (ports === UNKNOWN) {
        return undefined;
    }
    return portEntries(ports).some((e) => e !== undefined && e !== "any" && e.from <= port && port <= e.to);
}

/**
 * The destinations that reach beyond the KMS: anything but a prefix inside a KMS address (and, for
 * Azure's KMS, its service tag, which stands for exactly those addresses).
 */
export function widerDestinations(destinations: string[], target: KmsTarget): string[] {
    return destinations.filter((d) => {
        if (!target.custom && textIs(d, "AzurePlatformLKM")) {
            return false;
        }
        const prefix = parseIpv4Prefix(d);
        return prefix === undefined || !target.prefixes.some((kms) => prefixContains(kms, prefix));
    });
}
