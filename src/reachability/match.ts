/** Three-valued matching shared by NSG and firewall rules: `true`, `false`, or `undefined` (only part, or not known). */
export type Tri = boolean | undefined;

export function anyTri(values: Tri[]): Tri {
    if (values.includes(true)) return true;
    return values.includes(undefined) ? undefined : false;
}

export function allTri(values: Tri[]): Tri {
    if (values.includes(false)) return false;
    return values.includes(undefined) ? undefined : true;
}

/** Ranges as `*`, `1688`, `1000-2000`, or comma lists of them; empty means any. */
export function portsMatch(ranges: readonly string[] | undefined, port: number): Tri {
    if (!ranges || ranges.length === 0) return true;
    return anyTri(
        ranges
            .flatMap((r) => r.split(","))
            .map((r) => r.trim())
            .map((entry) => {
                if (entry === "*" || entry.toLowerCase() === "any") return true;
                const m = /^(\d{1,5})(?:\s*-\s*(\d{1,5}))?$/.exec(entry);
                if (!m) return undefined;
                return Number(m[1]) <= port && port <= Number(m[2] ?? m[1]);
            }),
    );
}

/** True when the ranges cover every port (`*` or `0-65535`): a client's ephemeral source port always matches. */
export function allPorts(ranges: readonly string[] | undefined): boolean {
    return !ranges || ranges.length === 0 || ranges.every((r) => r.trim() === "*" || /^0?\s*-\s*65535$/.test(r.trim()) || r.trim() === "0-65535");
}

/** The first rule (in the given order) that decides, with partial matches resolved when the rest agrees. */
export interface FirstMatch<R> {
    /** `Allow`/`Deny` (as the rule says), or `unknown` when a partial match and the rest disagree. */
    access: string;
    rule?: R;
}

/**
 * First match over ordered rules, three-valued: a rule that matches only part of the traffic (or cannot be told)
 * decides only if every later outcome agrees with it; otherwise the outcome is unknown and names that rule.
 */
export function firstMatch<R>(rules: readonly R[], matches: (rule: R) => Tri, accessOf: (rule: R) => string, fallback: FirstMatch<R>, from = 0): FirstMatch<R> {
    for (let i = from; i < rules.length; i++) {
        const m = matches(rules[i]);
        if (m === false) continue;
        const access = accessOf(rules[i]);
        if (m === true) return { access, rule: rules[i] };
        const rest = firstMatch(rules, matches, accessOf, fallback, i + 1);
        return rest.access.toLowerCase() === access.toLowerCase() ? rest : { access: "unknown", rule: rules[i] };
    }
    return fallback;
}
