/**
 * Reading resource properties that may be missing or not known yet.
 *
 * The policy engine hands policies a proxy that throws when code touches a value that is unknown
 * during preview (an output of a resource not created yet). A policy that let that throw would be
 * reported as "can't run during preview" as a whole, so every read here turns such a value into
 * `UNKNOWN` instead, and each policy decides what an unknown means for it (usually: skip).
 */

/** A value that exists but is not known yet (preview). */
export const UNKNOWN: unique symbol = Symbol("unknown");
export type Unknown = typeof UNKNOWN;

/**
 * Three-valued answer: `true`, `false`, or `undefined` when it cannot be decided
 * (an unknown value took part).
 */
export type Tri = boolean | undefined;

export function and(...values: Tri[]): Tri {
    if (values.includes(false)) {
        return false;
    }
    return values.includes(undefined) ? undefined : true;
}

export function or(...values: Tri[]): Tri {
    if (values.includes(true)) {
        return true;
    }
    return values.includes(undefined) ? undefined : false;
}

// Any throw from a property read is the engine's unknown-value error: the data are deserialized
// plain values, so nothing else can throw. Its class is not part of @pulumi/policy's typed surface.
function read(source: object, key: string | number): unknown {
    try {
        return (source as Record<string | number, unknown>)[key];
    } catch {
        return UNKNOWN;
    }
}

/** Follows `path` into `value`; `UNKNOWN` as soon as a step is unknown, `undefined` when a step is missing. */
export function get(value: unknown, ...path: string[]): unknown {
    let current = value;
    for (const key of path) {
        if (current === UNKNOWN) {
            return UNKNOWN;
        }
        if (current === null || typeof current !== "object") {
            return undefined;
        }
        current = read(current, key);
    }
    return current;
}

/** A string (numbers are shown as text), `UNKNOWN`, or `undefined` for anything else. */
export function text(value: unknown): string | Unknown | undefined {
    if (value === UNKNOWN || typeof value === "string") {
        return value;
    }
    return typeof value === "number" ? String(value) : undefined;
}

/** The text at `path`, see `text`. */
export function textAt(value: unknown, ...path: string[]): string | Unknown | undefined {
    return text(get(value, ...path));
}

/** The first of `candidates` that is not `undefined`. */
export function firstDefined<T>(...candidates: (T | undefined)[]): T | undefined {
    return candidates.find((c) => c !== undefined);
}

/** The elements of a list (each read safely), `UNKNOWN`, or `undefined` when it is not a list. */
export function list(value: unknown): unknown[] | Unknown | undefined {
    if (value === UNKNOWN) {
        return UNKNOWN;
    }
    if (!Array.isArray(value)) {
        return undefined;
    }
    return Array.from({ length: value.length }, (_, i) => read(value, i));
}

/** The list at `path`, see `list`. */
export function listAt(value: unknown, ...path: string[]): unknown[] | Unknown | undefined {
    return list(get(value, ...path));
}

/** A number, `UNKNOWN`, or `undefined`. Numeric strings count: the API accepts both for priorities. */
export function numberAt(value: unknown, ...path: string[]): number | Unknown | undefined {
    const v = get(value, ...path);
    if (v === UNKNOWN || typeof v === "number") {
        return v;
    }
    return typeof v === "string" && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** Case-insensitive comparison of a possibly unknown text with one of `expected`. */
export function textIs(value: string | Unknown | undefined, ...expected: string[]): Tri {
    if (value === UNKNOWN) {
        return undefined;
    }
    return value !== undefined && expected.some((e) => e.toLowerCase() === value.toLowerCase());
}
