// Runs the shipped guest script for real (pwsh) on the emulated machine, in its own network namespace.
import { spawn, spawnSync } from "child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "fs";
import { availableParallelism, homedir, tmpdir } from "os";
import * as path from "path";
import { ActivationResult, parseActivationResult } from "../../../src/guest/result";
import { MachineState } from "./machine";
import { precompiledPwsh } from "./precompile";
import { emulatedPrograms } from "./programs";

const HERE = __dirname;
const ROOT = path.join(HERE, "..", "..", "..");
const { STARTED_LINE } = require("./protocol") as { STARTED_LINE: string };

/**
 * Runs wait on timeouts most of their time, so the suite runs a dozen at once; but a dozen pwsh start-ups at once on
 * 2 cores cost ~40 % more CPU than the same start-ups two or three at a time (measured here: runs that took 125 CPU-s
 * one or two at a time took 170-200 CPU-s a dozen at a time). So a run holds one of these slots from its start until
 * its first request to the machine (pwsh's start-up is over: about three quarters of a run's CPU) or its end; its
 * waits hold nothing.
 */
class StartGate {
    private free: number;
    private readonly queue: (() => void)[] = [];
    constructor(slots: number) {
        this.free = slots;
    }
    /** Resolves with the slot's release (callable more than once) when a slot is free. */
    async enter(): Promise<() => void> {
        if (this.free > 0) this.free--;
        else await new Promise<void>((resolve) => this.queue.push(resolve));
        let held = true;
        return () => {
            if (!held) return;
            held = false;
            const next = this.queue.shift();
            if (next) next();
            else this.free++;
        };
    }
}
// As many slots as cores (measured here against cores + 1: 71 s and 129 CPU-s against 73 s and 133, twice each).
const startGate = new StartGate(availableParallelism());

/** pwsh of the repository's .NET local tool (`dotnet tool restore`), or undefined when it is not there. */
export function pwshPath(): string | undefined {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, ".config", "dotnet-tools.json"), "utf8"));
    const version: string = manifest.tools.powershell.version;
    const packages = process.env.NUGET_PACKAGES ?? path.join(homedir(), ".nuget", "packages");
    for (const framework of ["net10.0", "net9.0", "net8.0"]) {
        const candidate = path.join(packages, "powershell", version, "tools", framework, "any", "unix", "pwsh");
        if (existsSync(candidate)) {
            return candidate;
        }
    }
    return undefined;
}

let runnable: string | undefined;
/** The pwsh the runs use: the tool's, ReadyToRun-compiled once when crossgen2 can be had (see precompile.ts). */
export function runnablePwsh(): string | undefined {
    const pwsh = pwshPath();
    if (pwsh && runnable === undefined) runnable = precompiledPwsh(pwsh);
    return pwsh ? runnable : undefined;
}

/** Whether this machine can give a scenario its own network (unshare, ip); the suite needs it. */
export function namespacesWork(): string | undefined {
    const probe = spawnSync("unshare", [...unshareFlags(), "ip", "link", "set", "lo", "up"], { encoding: "utf8" });
    return probe.status === 0 ? undefined : `unshare ${unshareFlags().join(" ")} failed: ${(probe.stderr || probe.error?.message || "").trim()}`;
}

function unshareFlags(): string[] {
    return process.getuid?.() === 0 ? ["-mn"] : ["-rmn"];
}

export interface GuestRun {
    exitCode: number;
    stdout: string;
    stderr: string;
    result: ActivationResult | undefined;
    /** The emulated machine after the run. */
    state: MachineState;
    seconds: number;
}

/** A scenario's folder: the state file, %SystemRoot% with cscript.exe and slmgr.vbs, exit codes, temp. */
export function prepareMachine(name: string, state: MachineState): string {
    const dir = mkdtempSync(path.join(tmpdir(), `kms-guest-${name.replace(/[^A-Za-z0-9]+/g, "-").slice(0, 40)}-`));
    const system32 = path.join(dir, "Windows", "System32");
    mkdirSync(system32, { recursive: true });
    mkdirSync(path.join(dir, "exit"));
    mkdirSync(path.join(dir, "tmp"));
    const programs = emulatedPrograms().dir;
    symlinkSync(path.join(programs, "cscript.exe"), path.join(system32, "cscript.exe"));
    writeFileSync(path.join(system32, "slmgr.vbs"), "' emulated: see test/guest/emulator/windows.js\r\n");
    chmodSync(path.join(HERE, "bin", "cscript.exe"), 0o755);
    chmodSync(path.join(HERE, "bin", "netsh.exe"), 0o755);
    writeFileSync(path.join(dir, "state.json"), JSON.stringify(state, null, 2));
    return dir;
}

/** What a command run on the emulated machine left: its exit code, output and how long it took. */
export interface MachineRun {
    exitCode: number;
    stdout: string;
    stderr: string;
    seconds: number;
}

/** Runs `argv` on the machine in `dir`, in its own network (network.js); resolves when it ends (killed after `limitSeconds`). */
export function runInMachine(dir: string, argv: string[], limitSeconds = 240): Promise<MachineRun> {
    const env = {
        ...process.env,
        PATH: `${emulatedPrograms().dir}:${process.env.PATH}`,
        PSModulePath: path.join(HERE, "Modules"),
        SystemRoot: path.join(dir, "Windows"),
        KMS_EMU_STATE: path.join(dir, "state.json"),
        KMS_EMU_EXIT_DIR: path.join(dir, "exit"),
        TMPDIR: path.join(dir, "tmp"),
        POWERSHELL_TELEMETRY_OPTOUT: "1",
        POWERSHELL_UPDATECHECK: "Off",
        DOTNET_CLI_TELEMETRY_OPTOUT: "1",
        // A run lives a few seconds: tiering hot methods up to optimised code costs more CPU than it ever gives back
        // (measured: ~1 CPU-s less a run, behaviour unchanged). The ReadyToRun/tier-0 code runs as is.
        DOTNET_TC_CallCounting: "0",
        DOTNET_TieredPGO: "0",
        // pwsh starts .NET's multi-core JIT, which replays its start-up profile on a background thread: with the
        // precompiled assemblies most of that work is wasted (measured: ~0.2 CPU-s less a run, behaviour unchanged).
        DOTNET_MultiCoreJitMinNumCpus: "64",
        // W^X flips code pages between writable and executable (mprotect, and a TLB flush on every CPU each time):
        // with a dozen runs on 2 cores that cost a fifth of the suite's CPU. Only where code is written changes.
        DOTNET_EnableWriteXorExecute: "0",
    };
    return startGate.enter().then((leave) => runWithSlot(argv, env, limitSeconds, leave));
}

function runWithSlot(argv: string[], env: NodeJS.ProcessEnv, limitSeconds: number, leave: () => void): Promise<MachineRun> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
        // A process group of its own, so a run past its limit is ended whole (pwsh included) and reported.
        const child = spawn("unshare", [...unshareFlags(), process.execPath, path.join(HERE, "network.js"), "--", ...argv], { env, detached: true });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d.toString()));
        child.stderr.on("data", (d) => {
            stderr += d.toString();
            if (stderr.includes(STARTED_LINE)) {
                stderr = stderr.replace(STARTED_LINE, "");
                leave();
            }
        });
        let overrun = false;
        const timer = setTimeout(() => {
            overrun = true;
            try {
                process.kill(-child.pid!, "SIGKILL");
            } catch {
                child.kill("SIGKILL");
            }
        }, limitSeconds * 1000);
        child.on("error", (e) => {
            leave();
            reject(e);
        });
        child.on("close", (code) => {
            clearTimeout(timer);
            leave();
            resolve({
                exitCode: code ?? -1,
                stdout: overrun ? `${stdout}\n(ended after ${limitSeconds} s: the run did not finish)` : stdout,
                stderr,
                seconds: (Date.now() - started) / 1000,
            });
        });
    });
}

/** Runs pwsh with `args` on the machine in `dir`; resolves when it ends (killed after `limitSeconds`). */
export async function runOnMachine(dir: string, pwshArgs: string[], limitSeconds = 240): Promise<GuestRun> {
    const pwsh = runnablePwsh();
    if (!pwsh) {
        throw new Error("pwsh not found: run `dotnet tool restore`");
    }
    const run = await runInMachine(dir, [pwsh, ...pwshArgs], limitSeconds);
    let result: ActivationResult | undefined;
    try {
        result = parseActivationResult(run.stdout);
    } catch (e) {
        throw new Error(`${(e as Error).message}\n${run.stdout}\n${run.stderr}`);
    }
    return { ...run, result, state: readMachine(dir) };
}

/** The emulated machine's state as it is now. */
export function readMachine(dir: string): MachineState {
    return JSON.parse(readFileSync(path.join(dir, "state.json"), "utf8"));
}

/** Removes a scenario's folder once its end state has been read. */
export function removeMachine(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
}

/** The CustomScriptExtension's command line, run as Windows would but with pwsh for powershell.exe. */
export function cseArguments(commandToExecute: string): string[] {
    const m = /^powershell\.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command "([^"]*)"$/.exec(commandToExecute);
    if (!m) {
        throw new Error(`not the rendered command line: ${commandToExecute.slice(0, 80)}`);
    }
    return ["-NoLogo", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-Command", m[1]];
}

/**
 * Arguments for pwsh as Windows PowerShell 2.0 would start: `$PSVersionTable.PSVersion` reads 2.0 before the guest's
 * first line runs (the only part of 2.0 emulated here: pwsh 7 still parses everything). The Run Command's -File form
 * becomes `-Command "& '<file>' -Name 'value' ..."` (the values are hex, a key or digits: nothing to quote).
 */
export function asPowerShell2(args: string[]): string[] {
    const mark = "$PSVersionTable['PSVersion'] = [version]'2.0'; ";
    const command = args.indexOf("-Command");
    if (command >= 0) {
        return [...args.slice(0, command + 1), mark + args[command + 1]];
    }
    const file = args.indexOf("-File");
    const rest = args.slice(file + 2);
    const invocation = [`& '${args[file + 1]}'`];
    for (let i = 0; i < rest.length; i += 2) invocation.push(`${rest[i]} '${rest[i + 1]}'`);
    return [...args.slice(0, file), "-Command", mark + invocation.join(" ")];
}

/** The Run Command form: the script as a file, `-Name value` for each parameter and protected parameter. */
export function runCommandArguments(dir: string, script: string, parameters: { name: string; value: string }[]): string[] {
    const file = path.join(dir, "script.ps1");
    writeFileSync(file, script);
    return ["-NoLogo", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", file, ...parameters.flatMap((p) => [`-${p.name}`, p.value])];
}
