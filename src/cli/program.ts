// A Pulumi program on disk (its Pulumi.yaml, stack file and entry point), and how to run it under the recording mock
// engine with the answers an offline run gives to invokes.
import { existsSync, readdirSync, readFileSync, statSync } from "fs";
import { createRequire } from "module";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { CliInputError } from "./errors";
import { readInputFile } from "./inputFile";
import { Harness, InvokeMock, isSecretValue, mockPulumi, SUBSCRIPTION } from "./mock-engine";

/** How the plan shows a secret config value. */
export const SECRET_PLACEHOLDER = "[secret]";

/**
 * What the program gets for a secret the offline run cannot decrypt (`secure:` in the stack file): a value that
 * passes Azure's Windows password rules, so a VM's admin password is not refused. Other secrets with a format
 * (a product key) need `--config key=value`.
 */
export const OFFLINE_SECRET_VALUE = "Offline-Plan-Secret-1";

/**
 * Whether a config key's own name says it holds a secret (password, secret, token, key): the plan shows it as
 * `[secret]` whichever way it was set, since a value given in clear on a command line is still a credential.
 */
export function secretByName(key: string): boolean {
    return /password|secret|token|key/i.test(key.slice(key.lastIndexOf(":") + 1));
}

/** A program ready to run: where it is, what it is called, which stack and which config. */
export interface ProgramSpec {
    /** How the plan names the program: `examples/quickstart`, or the folder as the user gave it. */
    label: string;
    dir: string;
    project: string;
    stack: string;
    /** The entry point's absolute path. */
    main: string;
    /** Full keys (`project:key`, `azure-native:location`); structured values as JSON text, as Pulumi passes them. */
    config: Record<string, string>;
    secretKeys: string[];
}

interface ProjectFile {
    name?: unknown;
    runtime?: unknown;
    main?: unknown;
    config?: Record<string, unknown>;
}

function readYaml(file: string, what: string): Record<string, unknown> {
    let parsed: unknown;
    let text: string;
    try {
        // Bounded like every file the command reads: a regular file, at most 64 MB.
        text = readInputFile(file);
    } catch (err) {
        throw new CliInputError(`${what}: ${(err as Error).message}`);
    }
    try {
        parsed = parseYaml(text);
    } catch (err) {
        throw new CliInputError(`${what}: not valid YAML (${(err as Error).message.split("\n")[0]})`);
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new CliInputError(`${what}: expected a YAML mapping`);
    }
    return parsed as Record<string, unknown>;
}

function fullKey(project: string, key: string): string {
    return key.includes(":") ? key : `${project}:${key}`;
}

function configText(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** The project's own config defaults (`config:` in Pulumi.yaml: `{ default: … }` or a plain value). */
function projectDefaults(project: string, declared: Record<string, unknown> | undefined): Record<string, string> {
    const defaults: Record<string, string> = {};
    for (const [key, spec] of Object.entries(declared ?? {})) {
        const isSpec = spec !== null && typeof spec === "object" && !Array.isArray(spec);
        const value = isSpec ? (spec as { default?: unknown }).default : spec;
        if (value !== undefined && value !== null) {
            defaults[fullKey(project, key)] = configText(value);
        }
    }
    return defaults;
}

/** The stacks a folder has: `Pulumi.<stack>.yaml` files. */
export function stackNames(dir: string): string[] {
    return readdirSync(dir)
        .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/** The stack file's config: `secure:` values cannot be decrypted offline and become `[secret]` secrets. */
function stackConfig(project: string, file: string, label: string): { config: Record<string, string>; secretKeys: string[] } {
    const stack = readYaml(file, `${label}/${path.basename(file)}`);
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries((stack.config ?? {}) as Record<string, unknown>)) {
        const k = fullKey(project, key);
        if (value !== null && typeof value === "object" && "secure" in (value as object)) {
            config[k] = OFFLINE_SECRET_VALUE;
            secretKeys.push(k);
        } else {
            config[k] = configText(value);
        }
    }
    return { config, secretKeys };
}

/** The file Node would load for `main` (Pulumi.yaml `main`, else the folder): a file, or a folder's package.json main or index. */
function entryPoint(dir: string, main: string, label: string): string {
    const target = path.resolve(dir, main);
    if (!existsSync(target)) {
        throw new CliInputError(`${label}/Pulumi.yaml: main "${main}" does not exist`);
    }
    if (statSync(target).isFile()) {
        return target;
    }
    const pkgFile = path.join(target, "package.json");
    const pkgMain = existsSync(pkgFile) ? (JSON.parse(readFileSync(pkgFile, "utf8")) as { main?: string }).main : undefined;
    const candidates = [...(pkgMain ? [pkgMain, `${pkgMain}.ts`, `${pkgMain}.js`] : []), "index.ts", "index.js"].map((f) => path.join(target, f));
    const found = candidates.find((f) => existsSync(f) && statSync(f).isFile());
    if (!found) {
        throw new CliInputError(`${label}: no program entry point (index.ts or index.js, or "main" in Pulumi.yaml or package.json)`);
    }
    return found;
}

export interface FolderOptions {
    /** `Pulumi.<stack>.yaml` to read; by default the folder's only stack file, or none. */
    stack?: string;
    /** `--config key=value` pairs, applied over the stack file. */
    config?: Record<string, string>;
    /** `--secret-config key=value` pairs: applied like `--config`, and secret (the program gets them as secrets, the plan shows `[secret]`). */
    secretConfig?: Record<string, string>;
    /** Read no stack file (the examples' offline runs bring their own config). */
    withoutStackFile?: boolean;
}

/**
 * Reads a Pulumi program folder: `Pulumi.yaml` (a Node.js program: TypeScript or JavaScript), the stack's
 * `Pulumi.<stack>.yaml` and the `--config` values. Throws `CliInputError` with the fix when it cannot be planned.
 */
export function readProgramFolder(dir: string, label: string, options: FolderOptions = {}): ProgramSpec {
    if (!existsSync(dir)) {
        throw new CliInputError(`${label}: no such folder`);
    }
    if (!statSync(dir).isDirectory()) {
        throw new CliInputError(`${label}: not a folder; give the folder that holds Pulumi.yaml`);
    }
    if (existsSync(path.join(dir, "PulumiPolicy.yaml")) && !existsSync(path.join(dir, "Pulumi.yaml"))) {
        throw new CliInputError(`${label}: a policy pack (PulumiPolicy.yaml), not a program; use it with \`pulumi preview --policy-pack ${label}\``);
    }
    const projectFile = ["Pulumi.yaml", "Pulumi.yml"].map((f) => path.join(dir, f)).find((f) => existsSync(f));
    if (!projectFile) {
        throw new CliInputError(`${label}: no Pulumi.yaml; give the folder of a Pulumi program`);
    }
    const project = readYaml(projectFile, `${label}/Pulumi.yaml`) as ProjectFile;
    if (typeof project.name !== "string" || project.name === "") {
        throw new CliInputError(`${label}/Pulumi.yaml: no project name`);
    }
    const runtime = typeof project.runtime === "string" ? project.runtime : (project.runtime as { name?: unknown } | undefined)?.name;
    if (runtime !== "nodejs") {
        throw new CliInputError(
            `${label}: a ${String(runtime ?? "runtime-less")} program; the offline plan runs Node.js programs (TypeScript or JavaScript, runtime: nodejs)`,
        );
    }
    const pkgFile = path.join(dir, "package.json");
    if (existsSync(pkgFile) && (JSON.parse(readFileSync(pkgFile, "utf8")) as { type?: string }).type === "module") {
        throw new CliInputError(`${label}: an ES module program ("type": "module" in package.json); the offline plan runs CommonJS programs`);
    }
    const stacks = options.withoutStackFile ? [] : stackNames(dir);
    let stack = options.stack;
    if (stack !== undefined && !stacks.includes(stack)) {
        throw new CliInputError(`${label}: no Pulumi.${stack}.yaml${stacks.length ? `; stacks here: ${stacks.join(", ")}` : ""}`);
    }
    if (stack === undefined && stacks.length > 1) {
        throw new CliInputError(`${label}: stacks ${stacks.join(", ")}; pick one with --stack <name>`);
    }
    stack ??= stacks[0];
    const fromStack = stack === undefined ? { config: {}, secretKeys: [] } : stackConfig(project.name, path.join(dir, `Pulumi.${stack}.yaml`), label);
    const overrides = Object.fromEntries(Object.entries(options.config ?? {}).map(([k, v]) => [fullKey(project.name as string, k), v]));
    const secretOverrides = Object.fromEntries(Object.entries(options.secretConfig ?? {}).map(([k, v]) => [fullKey(project.name as string, k), v]));
    const config = { ...projectDefaults(project.name, project.config), ...fromStack.config, ...overrides, ...secretOverrides };
    return {
        label,
        dir,
        project: project.name,
        stack: stack ?? "offline",
        main: entryPoint(dir, typeof project.main === "string" ? project.main : ".", label),
        config,
        secretKeys: [
            ...new Set([...fromStack.secretKeys.filter((k) => !(k in overrides)), ...Object.keys(secretOverrides), ...Object.keys(config).filter(secretByName)]),
        ],
    };
}

/** An invoke the offline run answered by assumption, so the plan can say what it assumed. */
export interface OfflineAnswer {
    token: string;
    assumption: string;
}

/** The result of running a program offline. */
export interface ProgramRun {
    spec: ProgramSpec;
    harness: Harness;
    /** Existing subnets the program pointed at, which an offline run cannot read. */
    unreadSubnets: string[];
    /** Existing route tables and NSGs (`<resource group>/<name>`) the program read, answered offline as empty. */
    unreadNetworkObjects: string[];
    /** Invokes answered with an assumption (everything except a subnet the program itself declares). */
    offlineAnswers: OfflineAnswer[];
    /** The stack's outputs (the program's exports), resolved as a preview resolves them. */
    stackOutputs: Record<string, StackOutput>;
    /** Every secret value the run saw (secret config values, secret stack outputs): no text the plan prints holds one. */
    secretValues: string[];
}

const CLIENT_CONFIG = {
    clientId: "00000000-0000-0000-0000-000000000000",
    objectId: "00000000-0000-0000-0000-000000000000",
    subscriptionId: SUBSCRIPTION,
    tenantId: "00000000-0000-0000-0000-000000000000",
};

/**
 * How an offline run answers invokes (no Azure to ask). Reads of the subnets, route tables and NSGs the program
 * declares are answered by the mock engine from their registrations; `azure` (a test's picture of the brownfield)
 * answers first for everything else; then:
 * - `network.getSubnet` for an existing subnet: an older subnet with default outbound access (listed as unread);
 * - `network.getRouteTable` / `getNetworkSecurityGroup` for an existing one: empty (listed as unread);
 * - `authorization.getClientConfig`: the all-zero subscription, tenant and client;
 * - any other invoke: its own arguments echoed back, with an `id` built from them.
 */
function offlineInvokes(unread: { subnets: string[]; networkObjects: string[] }, answers: OfflineAnswer[], azure: InvokeMock) {
    return (token: string, inputs: Record<string, unknown>): Record<string, unknown> => {
        const answer = azure(token, inputs);
        if (answer !== undefined) {
            return answer;
        }
        switch (token) {
            case "azure-native:network:getSubnet":
                unread.subnets.push(`${String(inputs.virtualNetworkName)}/${String(inputs.subnetName)}`);
                return { name: inputs.subnetName };
            case "azure-native:network:getRouteTable":
                unread.networkObjects.push(`${String(inputs.resourceGroupName)}/${String(inputs.routeTableName)}`);
                return { name: inputs.routeTableName, routes: [] };
            case "azure-native:network:getNetworkSecurityGroup":
                unread.networkObjects.push(`${String(inputs.resourceGroupName)}/${String(inputs.networkSecurityGroupName)}`);
                return { name: inputs.networkSecurityGroupName, securityRules: [] };
            case "azure-native:authorization:getClientConfig":
                answers.push({ token, assumption: "the all-zero subscription, tenant and client IDs" });
                return { ...CLIENT_CONFIG };
        }
        answers.push({ token, assumption: "its own arguments echoed back, with an id made from them" });
        const named = Object.values(inputs).filter((v): v is string => typeof v === "string");
        return { ...inputs, id: `/subscriptions/${SUBSCRIPTION}/offline/${named.join("/") || token}` };
    };
}

/** The key of Pulumi's error for a missing `config.require*`, or undefined for any other error. */
function missingKey(err: unknown): string | undefined {
    return /Missing required configuration variable '([^']+)'/.exec(String((err as Error)?.message ?? err))?.[1];
}

/** Every missing required config key, as one input error with the flags that fix them all. */
function missingConfig(keys: string[], spec: ProgramSpec): CliInputError {
    const short = (k: string) => (k.startsWith(`${spec.project}:`) ? k.slice(spec.project.length + 1) : k);
    if (keys.length === 1) {
        return new CliInputError(`${spec.label}: the program needs config ${keys[0]}: pass --config ${short(keys[0])}=<value> or set it in Pulumi.<stack>.yaml`);
    }
    return new CliInputError(
        `${spec.label}: the program needs config ${keys.join(", ")}: pass ${keys.map((k) => `--config ${short(k)}=<value>`).join(" ")} or set them in Pulumi.<stack>.yaml`,
    );
}

// What a missing key gets while the run goes on to find the next one: first a value that passes Azure's password
// rules, then, when Pulumi refuses it for the type the program asks for (`Configuration 'k' value '…' is not a valid
// number`), a value of that type.
const TYPED_PLACEHOLDERS: Record<string, string> = { number: "1", boolean: "true", "JSON object": "{}" };

/**
 * Runs a program under Pulumi's mock engine with its config. `load` runs the entry point (Node's `require`, after
 * the TypeScript loader is in place; tests pass an isolated require). A program that stops at a missing required
 * config key runs again with a placeholder for it, until it stops at none: the error names every missing key at once
 * (a user fixes them in one go, not one per run). `load` must therefore run the program afresh on each call.
 */
export async function runProgram(spec: ProgramSpec, load: (file: string) => unknown = require, azure: InvokeMock = () => undefined): Promise<ProgramRun> {
    const missing: string[] = [];
    const placeholders: Record<string, string> = {};
    // Bounded: each pass finds a new key or gives a placeholder a new type.
    for (let pass = 0; pass < 100; pass++) {
        let run: ProgramRun;
        try {
            run = await runOnce({ ...spec, config: { ...spec.config, ...placeholders } }, load, azure);
        } catch (err) {
            const key = missingKey(err);
            if (key !== undefined && !missing.includes(key)) {
                missing.push(key);
                placeholders[key] = OFFLINE_SECRET_VALUE;
                continue;
            }
            const typed = /^Configuration '([^']+)' value .* is not a valid (number|boolean|JSON object)$/.exec(String((err as Error)?.message ?? "").split("\n")[0]);
            if (typed && missing.includes(typed[1]) && placeholders[typed[1]] !== TYPED_PLACEHOLDERS[typed[2]]) {
                placeholders[typed[1]] = TYPED_PLACEHOLDERS[typed[2]];
                continue;
            }
            // The program failed for another reason: the missing keys come first (a placeholder may be what it refused).
            throw missing.length > 0 ? missingConfig(missing, spec) : err;
        }
        if (missing.length > 0) {
            throw missingConfig(missing, spec);
        }
        return run;
    }
    throw missingConfig(missing, spec);
}

// The `Config` methods that read a value as a secret (Pulumi marks what they return secret).
const SECRET_READS = ["getSecret", "requireSecret", "getSecretBoolean", "getSecretNumber", "getSecretObject", "requireSecretBoolean", "requireSecretNumber", "requireSecretObject"];

/**
 * Records the keys the program reads as secrets, on the `Config` class of this package's `@pulumi/pulumi` and of the
 * program's own (when it resolves another copy). Returns the undo. A copy loaded elsewhere (a test's isolated module
 * registry) is not seen here: the secrets it reads are found in the registered inputs and outputs instead.
 */
function watchSecretReads(dir: string, read: Set<string>): () => void {
    const classes = new Set<any>([pulumi.Config]);
    try {
        classes.add(createRequire(path.join(dir, "package.json"))("@pulumi/pulumi").Config);
    } catch {
        // the program resolves no @pulumi/pulumi of its own: it uses this package's
    }
    const undo: (() => void)[] = [];
    for (const cls of classes) {
        for (const method of SECRET_READS) {
            const original = cls.prototype[method];
            if (typeof original !== "function") continue;
            cls.prototype[method] = function (this: { fullKey(k: string): string }, key: string, ...rest: unknown[]) {
                read.add(this.fullKey(key));
                return original.call(this, key, ...rest);
            };
            undo.push(() => (cls.prototype[method] = original));
        }
    }
    return () => undo.forEach((u) => u());
}

/** Every string inside a Pulumi secret in a serialized value (a registration's inputs). */
function secretStrings(value: unknown, inSecret = false): string[] {
    if (typeof value === "string") {
        return inSecret ? [value] : [];
    }
    if (Array.isArray(value)) {
        return value.flatMap((v) => secretStrings(v, inSecret));
    }
    if (value && typeof value === "object") {
        const secret = inSecret || isSecretValue(value);
        return Object.values(value as Record<string, unknown>).flatMap((v) => secretStrings(v, secret));
    }
    return [];
}

/** A stack output as the plan shows it: its value, or that it is a secret or known only after deploy. */
export interface StackOutput {
    value: unknown;
    secret: boolean;
    known: boolean;
}

async function resolveOutput(value: unknown): Promise<StackOutput> {
    // Internal but stable members of every Output (any copy of the SDK): whether it is known, secret, and its value.
    const o = pulumi.output(value) as unknown as { isKnown: Promise<boolean>; isSecret: Promise<boolean>; promise(): Promise<unknown> };
    const [known, secret, resolved] = await Promise.all([o.isKnown, o.isSecret, o.promise()]);
    return { value: known ? resolved : undefined, secret, known };
}

/** The program's exports are the stack's outputs; a program that exports a function has them as its result (as Pulumi runs it). */
async function stackOutputsOf(exported: unknown): Promise<Record<string, StackOutput>> {
    const outputs = typeof exported === "function" ? await (exported as () => unknown)() : exported;
    if (!outputs || typeof outputs !== "object") {
        return {};
    }
    const entries = await Promise.all(Object.entries(outputs as Record<string, unknown>).map(async ([k, v]) => [k, await resolveOutput(v)] as const));
    return Object.fromEntries(entries);
}

async function runOnce(spec: ProgramSpec, load: (file: string) => unknown, azure: InvokeMock): Promise<ProgramRun> {
    // A preview: what the guest reports (activationStatus) is known only after deploy, so nothing reads it offline.
    const harness = await mockPulumi(spec.project, spec.stack, true);
    const unread = { subnets: [] as string[], networkObjects: [] as string[] };
    const offlineAnswers: OfflineAnswer[] = [];
    harness.defaultInvoke = offlineInvokes(unread, offlineAnswers, azure);
    harness.reset();
    // Each run is its own program: nothing read, claimed or planned by an earlier run in this process carries over.
    (require("../network/programState") as typeof import("../network/programState")).forgetProgramState();
    pulumi.runtime.setAllConfig(spec.config, spec.secretKeys);
    // A component that fails once its inputs resolve (in an apply) fails a registration, not the program's import.
    const failures: unknown[] = [];
    // A registration whose inputs fail never completes its RPC, so waiting for the RPCs ends at the first failure.
    let failed = () => {};
    const failedOnce = new Promise<void>((resolve) => (failed = resolve));
    const settle = () => Promise.race([harness.settle(), failedOnce]);
    const onRejection = (reason: unknown) => {
        failures.push(reason);
        failed();
    };
    // The run's rejections are the program's failures, reported by the caller in one line: the process's own handlers
    // (the command's last resort prints a stack trace and exits) stand aside until the run ends.
    const others = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    process.on("unhandledRejection", onRejection);
    const readAsSecret = new Set<string>();
    const unwatch = watchSecretReads(spec.dir, readAsSecret);
    let stackOutputs: Record<string, StackOutput> = {};
    try {
        const exported = load(spec.main);
        stackOutputs = (await Promise.race([stackOutputsOf(exported), failedOnce])) ?? {};
        await settle();
        // Rejections surface on the next turns of the event loop; a refusal inside an Output (a component's check in
        // an apply) surfaces only once the registration that serializes it gives up, after the RPCs settle: without
        // these turns it reached the process's own handler and printed a stack trace.
        for (let turn = 0; turn < 3; turn++) {
            await new Promise((resolve) => setTimeout(resolve, 0));
            await settle();
        }
    } catch (err) {
        failures.unshift(err);
        // What the program started before it stopped still reaches the engine: let it land before the next run.
        await settle().catch(() => undefined);
    } finally {
        unwatch();
        process.off("unhandledRejection", onRejection);
        others.forEach((listener) => process.on("unhandledRejection", listener));
    }
    if (failures.length > 0) {
        throw failures[0];
    }
    // Secret: what the stack file or the command line says is, what the program reads as a secret, and any key whose
    // value reaches a resource or output as a secret (a secret read through an SDK copy the watch did not see).
    const seenSecret = new Set([
        ...harness.registrations.flatMap((r) => secretStrings(r.inputs)),
        ...Object.values(stackOutputs).flatMap((o) => (o.secret ? secretStrings(o.value, true) : [])),
    ]);
    const secretKeys = Object.keys(spec.config).filter((k) => spec.secretKeys.includes(k) || readAsSecret.has(k) || seenSecret.has(spec.config[k]));
    return {
        spec: { ...spec, secretKeys },
        harness,
        unreadSubnets: unread.subnets,
        unreadNetworkObjects: unread.networkObjects,
        offlineAnswers,
        stackOutputs,
        secretValues: [...new Set([...secretKeys.map((k) => spec.config[k]), ...Object.values(stackOutputs).flatMap((o) => (o.secret ? secretStrings(o.value, true) : []))])],
    };
}

/** Replaces every secret value in a text with `[secret]` (values under 6 characters stay: masking them would garble the text; the plan masks them where they are shown by key). */
export function maskSecrets(text: string, secretValues: readonly string[]): string {
    return [...secretValues]
        .filter((v) => v.length >= 6)
        .sort((a, b) => b.length - a.length)
        .reduce((t, v) => [v, JSON.stringify(v).slice(1, -1)].reduce((u, form) => u.split(form).join(SECRET_PLACEHOLDER), t), text);
}
