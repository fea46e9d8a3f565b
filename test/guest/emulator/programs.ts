// The emulated programs on PATH (cscript.exe, netsh.exe): program.c compiled once by the machine's C compiler and cached
// under node_modules/.cache, keyed by its source. Without a compiler the node clients in ./bin stand in: the same
// requests to the same emulated machine, one node start-up slower per call.
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync } from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..", "..");
const SOURCE = path.join(__dirname, "programs", "program.c");
export const PROGRAM_NAMES = ["cscript.exe", "netsh.exe"] as const;

export interface Programs {
    /** The folder holding cscript.exe and netsh.exe, for PATH. */
    dir: string;
    native: boolean;
    /** Why the native client is not used, when it is not. */
    problem?: string;
}

let built: Programs | undefined;

/** The folder of the emulated programs: the native client when it builds here, else the node clients. */
export function emulatedPrograms(): Programs {
    if (built) return built;
    const fallback = (problem: string): Programs => ({ dir: path.join(__dirname, "bin"), native: false, problem });
    const source = readFileSync(SOURCE);
    const hash = createHash("sha256").update(source).digest("hex").slice(0, 16);
    const dir = path.join(ROOT, "node_modules", ".cache", "kms-guest-programs", hash);
    if (PROGRAM_NAMES.every((name) => existsSync(path.join(dir, name)))) return (built = { dir, native: true });
    const building = `${dir}.${process.pid}`;
    rmSync(building, { recursive: true, force: true });
    mkdirSync(building, { recursive: true });
    const binary = path.join(building, PROGRAM_NAMES[0]);
    const compiled = spawnSync(process.env.CC ?? "cc", ["-O2", "-Wall", "-o", binary, SOURCE], { encoding: "utf8" });
    if (compiled.status !== 0) {
        rmSync(building, { recursive: true, force: true });
        return (built = fallback(`${process.env.CC ?? "cc"} could not build ${path.relative(ROOT, SOURCE)}: ${(compiled.stderr || compiled.error?.message || "").trim().split("\n")[0]}`));
    }
    // One executable under each name: it tells the programs apart by the name it was started as.
    for (const name of PROGRAM_NAMES.slice(1)) linkSync(binary, path.join(building, name));
    try {
        renameSync(building, dir);
    } catch {
        rmSync(building, { recursive: true, force: true }); // another jest worker finished first
    }
    return (built = existsSync(path.join(dir, PROGRAM_NAMES[0])) ? { dir, native: true } : fallback("the built client went missing"));
}
