// The one output sanitizer of the command line. What `audit` and `plan` print comes partly from their input (rule,
// route and NSG names, resource names, config values, a program's own messages), and a terminal obeys control
// characters wherever they come from: `\x1b[2J` clears the screen, `\x1b[1A\x1b[2K\r` erases the line above, so a
// name could overwrite a BLOCKS line with a fake `ok`. Every human-readable line goes through here; JSON output needs
// nothing (JSON.stringify escapes every control character), and Mermaid labels have their own escaping below.

// C0 controls (newline and tab included: inside a value they would start a fake line or column), DEL, C1 controls
// (0x9b is a one-byte CSI on some terminals), the line and paragraph separators, and the bidirectional overrides
// and isolates, which reorder what is shown (Trojan Source, CVE-2021-42574).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeChar(c: string): string {
    const code = c.charCodeAt(0);
    return NAMED[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`);
}

/** One value as it may appear inside a line: every control character shown escaped (`\x1b`, `\n`), nothing obeyed. */
export function safeText(value: string): string {
    return value.replace(UNSAFE, escapeChar);
}

/** A block of lines the command built itself: its own line breaks kept, every other control character escaped. */
export function safeLines(text: string): string {
    return text.split("\n").map(safeText).join("\n");
}

/**
 * A copy of `value` with every string in it (keys too) made safe by `safeText`, so a renderer that joins lines with
 * `\n` can no longer be given a line break, or an escape sequence, by its data.
 */
export function safeStrings<T>(value: T): T {
    if (typeof value === "string") return safeText(value) as T;
    if (Array.isArray(value)) return value.map(safeStrings) as T;
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [safeText(k), safeStrings(v)])) as T;
    }
    return value;
}

// Mermaid's entity codes (https://mermaid.js.org/syntax/flowchart.html#entity-codes-to-escape-characters): `#quot;`
// and the numeric `#<decimal>;` form. In a quoted label `"` ends the label and a line break ends the statement, so
// `a"]\n click r_a "javascript:alert(1)"` would become a node and a click handler. `#` starts an entity, brackets
// shape nodes, `<`/`>` are HTML in labels and a backtick starts a markdown string: each is written as its entity,
// and a line break (like every control character) as the visible two characters `\n`.
const MERMAID: Record<string, string> = { '"': "#quot;", "#": "#35;", "[": "#91;", "]": "#93;", "<": "#lt;", ">": "#gt;", "`": "#96;" };

/** Text for inside a quoted Mermaid label (`["…"]`, `-- "…" -->`): no input can close the label or start a statement. */
export function mermaidLabel(value: string): string {
    return safeText(value).replace(/["#[\]<>`]/g, (c) => MERMAID[c]);
}
