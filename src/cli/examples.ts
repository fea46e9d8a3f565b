// The bundled example programs (examples/ in the repository and in the package), and how each runs offline: the
// config of its offline-config.json (or offline-config.<variant>.json), never deployed.
import { existsSync, readdirSync, readFileSync } from "fs";
import * as path from "path";
import { CliInputError } from "./errors";
import { Harness, InvokeMock } from "./mock-engine";
import { ProgramRun, ProgramSpec, readProgramFolder, runProgram, secretByName } from "./program";

/** The examples folder: beside src/ (or dist/) in the repository and in the installed package. */
export const EXAMPLES_DIR = path.join(__dirname, "..", "..", "examples");

/** Every folder in examples/ with a Pulumi.yaml or PulumiPolicy.yaml, runnable or not. */
function exampleFolders(): string[] {
    if (!existsSync(EXAMPLES_DIR)) {
        return [];
    }
    const has = (dir: string, file: string) => existsSync(path.join(EXAMPLES_DIR, dir, file));
    return readdirSync(EXAMPLES_DIR, { withFileTypes: true })
        .filter((d) => d.isDirectory() && (has(d.name, "Pulumi.yaml") || has(d.name, "PulumiPolicy.yaml")))
        .map((d) => d.name)
        .sort();
}

/** TypeScript example programs: folders with a Pulumi.yaml and an offline-config.json (not the policy pack, not the YAML program). */
export function listExamples(): string[] {
    return exampleFolders().filter((name) => existsSync(path.join(EXAMPLES_DIR, name, "offline-config.json")));
}

/** Every runnable target: `<example>` and `<example>:<variant>` for each `offline-config.<variant>.json`. */
export function listTargets(): string[] {
    return listExamples().flatMap((name) => [
        name,
        ...readdirSync(path.join(EXAMPLES_DIR, name))
            .map((f) => /^offline-config\.([a-z0-9-]+)\.json$/.exec(f)?.[1])
            .filter((v): v is string => v !== undefined)
            .map((variant) => `${name}:${variant}`),
    ]);
}

/** Whether `name` is a folder in examples/ (a runnable example or one the plan explains it cannot run). */
export function isExampleName(name: string): boolean {
    return exampleFolders().includes(name.split(":")[0]);
}

/** The spec of an example target, with its offline config; `config` overrides it. */
export function exampleSpec(target: string, config: Record<string, string> = {}, secretConfig: Record<string, string> = {}): ProgramSpec {
    const [example, variant] = target.split(":");
    if (!listTargets().includes(target)) {
        if (exampleFolders().includes(example) && variant === undefined) {
            // Not runnable offline (the YAML program, the policy pack): the folder reader says why.
            readProgramFolder(path.join(EXAMPLES_DIR, example), `examples/${example}`);
        }
        const known = listTargets();
        throw new CliInputError(
            known.length === 0
                ? `unknown example "${target}"; this installation has no examples: give the folder of a Pulumi program`
                : `unknown example "${target}"; known examples: ${known.join(", ")}`,
        );
    }
    const dir = path.join(EXAMPLES_DIR, example);
    const folder = readProgramFolder(dir, `examples/${target}`, { withoutStackFile: true });
    const configFile = path.join(dir, variant ? `offline-config.${variant}.json` : "offline-config.json");
    // `secrets` names the keys a real stack would hold encrypted: the plan shows them as [secret].
    const offline = JSON.parse(readFileSync(configFile, "utf8")) as { config: Record<string, unknown>; secrets?: string[] };
    const values = { ...offline.config, ...config, ...secretConfig };
    const key = (k: string) => (k.includes(":") ? k : `${folder.project}:${k}`);
    return {
        ...folder,
        stack: "offline",
        config: Object.fromEntries(
            Object.entries(values).map(([k, v]) => [key(k), typeof v === "string" ? v : JSON.stringify(v)]),
        ),
        // The offline file's secrets, the --secret-config keys and every key whose name says secret (see secretByName).
        secretKeys: [
            ...new Set([...(offline.secrets ?? []).filter((k) => !(k in config)), ...Object.keys(secretConfig)].map(key).concat(Object.keys(values).map(key).filter(secretByName))),
        ],
    };
}

/** The result of running an example offline (the program run, plus which example it was). */
export interface ExampleRun extends ProgramRun {
    example: string;
    variant: string | undefined;
    project: string;
    harness: Harness;
}

/** Runs an example program under Pulumi's mock engine, with the config of its offline-config file. */
export async function runExample(target: string, load: (file: string) => unknown = require, azure?: InvokeMock): Promise<ExampleRun> {
    const run = await runProgram(exampleSpec(target), load, azure);
    const [example, variant] = target.split(":");
    return { ...run, example, variant, project: run.spec.project };
}
