// `npm run dump-inputs [-- --out <dir>] [--show-secrets]`: runs every example target under Pulumi's mock engine
// and writes every registered resource with its full inputs, one JSON file per target, so a deployability review
// can be repeated by anyone. Targets: each example with its offline-config.json (and each offline-config.<variant>
// .json), and each stack file an example has (Pulumi.<stack>.yaml, with the offline config for what the stack file
// leaves to `pulumi config set --secret`). Secrets are written as "[secret]" unless --show-secrets.
// The output (inputs-dump/ by default) is not committed.
import { mkdirSync, writeFileSync } from "fs";
import * as path from "path";
import { EXAMPLES_DIR, exampleSpec, listExamples, listTargets } from "../src/cli/examples";
import { resolveOwnPackage } from "../src/cli/loader";
import { isSecretValue } from "../src/cli/mock-engine";
import { ProgramSpec, readProgramFolder, runProgram, SECRET_PLACEHOLDER, stackNames } from "../src/cli/program";

export const DEFAULT_OUT = path.join(__dirname, "..", "inputs-dump");

/** A target to dump: its file name and the program spec. */
export interface DumpTarget {
    id: string;
    spec: () => ProgramSpec;
}

/** Every example target and every example stack. */
export function dumpTargets(): DumpTarget[] {
    const offline = listTargets().map((target) => ({ id: target.replace(":", "."), spec: () => exampleSpec(target) }));
    const stacks = listExamples().flatMap((example) =>
        stackNames(path.join(EXAMPLES_DIR, example)).map((stack) => ({
            id: `${example}@${stack}`,
            spec: () => {
                const base = exampleSpec(example);
                const fromStack = readProgramFolder(path.join(EXAMPLES_DIR, example), `examples/${example}`, { stack });
                return {
                    ...fromStack,
                    label: `examples/${example} (stack ${stack})`,
                    config: { ...base.config, ...fromStack.config },
                    secretKeys: [...new Set([...base.secretKeys, ...fromStack.secretKeys])],
                };
            },
        })),
    );
    return [...offline, ...stacks];
}

function showValue(value: unknown, showSecrets: boolean): unknown {
    if (isSecretValue(value)) {
        return showSecrets ? { secret: showValue((value as { value: unknown }).value, showSecrets) } : SECRET_PLACEHOLDER;
    }
    if (Array.isArray(value)) {
        return value.map((v) => showValue(v, showSecrets));
    }
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, showValue(v, showSecrets)]));
    }
    return value;
}

/** Runs a program again in this process: its own files are loaded afresh (the package and SDK stay loaded). */
function freshRequire(dir: string) {
    return (file: string) => {
        for (const cached of Object.keys(require.cache)) {
            if (cached.startsWith(dir + path.sep) && !cached.includes(`${path.sep}node_modules${path.sep}`)) {
                delete require.cache[cached];
            }
        }
        return require(file);
    };
}

export async function dumpInputs(out: string, showSecrets: boolean): Promise<string[]> {
    mkdirSync(out, { recursive: true });
    resolveOwnPackage();
    const written: string[] = [];
    for (const target of dumpTargets()) {
        const spec = target.spec();
        const run = await runProgram(spec, freshRequire(spec.dir));
        const h = run.harness;
        // A dependency is named by its resource name; where two resources share one (hub-firewall: the resource group
        // and the firewall), the type's last part says which.
        const counts = new Map<string, number>();
        h.registrations.forEach((r) => counts.set(r.name, (counts.get(r.name) ?? 0) + 1));
        const dependencyName = (urn: string) => {
            const r = h.byUrn(urn);
            return r === undefined ? urn : (counts.get(r.name) ?? 0) > 1 ? `${r.name} (${r.type.split(":").pop()})` : r.name;
        };
        const resources = h.registrations.map((r) => ({
            type: r.type,
            name: r.name,
            parent: h.byUrn(r.parentUrn)?.name ?? null,
            custom: r.custom,
            dependsOn: r.dependencies.map(dependencyName),
            inputs: showValue(r.inputs, showSecrets),
        }));
        const file = path.join(out, `${target.id}.json`);
        const config = Object.fromEntries(Object.entries(spec.config).map(([k, v]) => [k, spec.secretKeys.includes(k) && !showSecrets ? SECRET_PLACEHOLDER : v]));
        writeFileSync(file, `${JSON.stringify({ target: target.id, program: spec.label, project: spec.project, config, unreadSubnets: run.unreadSubnets, resources }, null, 2)}\n`);
        written.push(file);
        process.stdout.write(`${target.id}: ${resources.length} resources -> ${path.relative(process.cwd(), file)}\n`);
    }
    return written;
}

if (require.main === module) {
    const argv = process.argv.slice(2);
    const outAt = argv.indexOf("--out");
    const unknown = argv.filter((a, i) => a !== "--show-secrets" && a !== "--out" && i !== outAt + 1);
    if (unknown.length > 0 || (outAt >= 0 && argv[outAt + 1] === undefined)) {
        process.stderr.write("Usage: npm run dump-inputs [-- --out <dir>] [--show-secrets]\n");
        process.exit(2);
    }
    dumpInputs(outAt >= 0 ? path.resolve(argv[outAt + 1]) : DEFAULT_OUT, argv.includes("--show-secrets")).then(
        () => process.exit(0),
        (err) => {
            process.stderr.write(`dump-inputs: ${(err as Error).stack ?? err}\n`);
            process.exit(1);
        },
    );
}
