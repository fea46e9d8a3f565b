// How the command line reads a file the user names (`audit --routes`, a program's Pulumi.yaml): a regular file only,
// and never more than a cap. `readFileSync` alone reads `/dev/zero` until memory runs out, blocks forever on a FIFO
// with no writer, and reads a directory's error as if it were the file's.
import { closeSync, constants, fstatSync, openSync, readSync, Stats } from "fs";
import { CliInputError } from "./errors";
import { safeText } from "./sanitize";

/** The most a file the command reads may hold: far above what `az` prints for one NIC (a few hundred KB). */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

/** Stated in `--help`. */
export const MAX_INPUT_TEXT = "64 MB";

function kind(stats: Stats): string {
    if (stats.isDirectory()) return "a directory";
    if (stats.isFIFO()) return "a FIFO (named pipe)";
    if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
    if (stats.isSocket()) return "a socket";
    return "not a regular file";
}

/**
 * The file's text (UTF-8, a leading byte-order mark dropped). Throws `CliInputError` (`<file>: <why>; <fix>`) for a
 * file that is missing, not a regular file, or larger than `max` bytes. Opened non-blocking, so a FIFO is refused at
 * once instead of waiting for a writer; the cap is checked while reading too, since a file's size can lie (`/proc`).
 */
export function readInputFile(file: string, max: number = MAX_INPUT_BYTES): string {
    let fd: number;
    try {
        fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "a directory" : `cannot be opened (${code ?? "error"})`;
        throw new CliInputError(`cannot be read: ${why}`);
    }
    try {
        const stats = fstatSync(fd);
        if (!stats.isFile()) {
            throw new CliInputError(`cannot be read: ${kind(stats)}, not a regular file; save the output to a file and name that`);
        }
        if (stats.size > max) {
            throw new CliInputError(`cannot be read: ${stats.size} bytes, over the ${max === MAX_INPUT_BYTES ? MAX_INPUT_TEXT : `${max}-byte`} limit`);
        }
        const chunks: Buffer[] = [];
        let total = 0;
        for (;;) {
            const chunk = Buffer.alloc(Math.min(1024 * 1024, max + 1 - total));
            const n = readSync(fd, chunk, 0, chunk.length, null);
            if (n === 0) break;
            chunks.push(chunk.subarray(0, n));
            total += n;
            if (total > max) {
                throw new CliInputError(`cannot be read: over the ${max === MAX_INPUT_BYTES ? MAX_INPUT_TEXT : `${max}-byte`} limit`);
            }
        }
        return Buffer.concat(chunks).toString("utf8").replace(/^\uFEFF/, "");
    } finally {
        closeSync(fd);
    }
}

/**
 * Why `text` is not JSON, without quoting it: V8's own message repeats the start of the input (a stray
 * `/proc/self/environ` would print environment variables). Says the line and column, and at most a short escaped
 * excerpt around the error (20 characters).
 */
export function jsonParseError(text: string, err: unknown): string {
    const message = err instanceof Error ? err.message : "";
    const at = /position (\d+)/.exec(message);
    const token = /Unexpected token '(.)'/u.exec(message)?.[1];
    const found = token === undefined ? -1 : text.indexOf(token);
    const position = at ? Math.min(Number(at[1]), text.length) : /end of JSON input/.test(message) ? text.length : found >= 0 ? found : text.search(/\S|$/);
    const before = text.slice(0, position);
    const line = before.split("\n").length;
    const column = position - before.lastIndexOf("\n");
    const start = Math.max(0, position - 10);
    const excerpt = text.slice(start, start + 20);
    return position >= text.length
        ? `ends too early (line ${line}, column ${column})`
        : `unexpected "${safeText(text[position])}" at line ${line}, column ${column} (near "${safeText(excerpt)}")`;
}
