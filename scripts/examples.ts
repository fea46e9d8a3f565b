// The example programs, and how to run one under the recording mock engine with its offline config.
import { existsSync, readdirSync, readFileSync } from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Harness, mockPulumi } from "./mock-engine";

export const EXAMPLES_DIR = path.join(__dirname, "..", "examples");

/** TypeScript example programs: folders with a Pulumi.yaml and an index.ts (not the policy pack, not the YAML program). */
export function listExamples(): string[] {
    const has = (dir: string, file: string) => existsSync(path.join(EXAMPLES_DIR, dir, file));
    return readdirSync(EXAMPLES_DIR, { withFileTypes: true })
        .filter((d) => d.isDirectory() && has(d.name, "Pulumi.yaml") && has(d.name, "index.ts"))
        .map((d) => d.name)
        .sort();
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

function projectName(example: string): string {
    const yaml = readFileSync(path.join(EXAMPLES_DIR, example, "Pulumi.yaml"), "utf8");
    const match = /^name:\s*(\S+)\s*$/m.exec(yaml);
    if (!match) {
        throw new Error(`examples/${example}/Pulumi.yaml has no name`);
    }
    return match[1];
}

/** The result of running an example offline. */
export interface ExampleRun {
    example: string;
    variant: string | undefined;
    project: string;
    harness: Harness;
    /** Existing subnets the program pointed at, which an offline run cannot read. */
    unreadSubnets: string[];
}

/**
 * Runs an example program under Pulumi's mock engine, with the config of its offline-config file. `network.getSubnet`
 * is answered from the subnets the program itself declares; an existing subnet cannot be read offline and is
 * answered as an older subnet with default outbound access (and listed in `unreadSubnets`).
 */
export async function runExample(target: string, load: (file: string) => unknown = require): Promise<ExampleRun> {
    const [example, variant] = target.split(":");
    if (!listTargets().includes(target)) {
        throw new Error(`unknown example "${target}"; known: ${listTargets().join(", ")}`);
    }
    const project = projectName(example);
    const configFile = path.join(EXAMPLES_DIR, example, variant ? `offline-config.${variant}.json` : "offline-config.json");
    const offline = JSON.parse(readFileSync(configFile, "utf8")) as { config: Record<string, unknown> };
    // A preview: what the guest reports (activationStatus) is known only after deploy, so nothing reads it offline.
    const harness = await mockPulumi(project, "offline", true);
    const unreadSubnets: string[] = [];
    harness.defaultInvoke = (token, inputs) => {
        if (token !== "azure-native:network:getSubnet") {
            return undefined;
        }
        const declared = harness.ofType("azure-native:network:Subnet").find((s) => s.name === inputs.subnetName);
        if (declared) {
            return { name: declared.name, defaultOutboundAccess: declared.inputs.defaultOutboundAccess, natGateway: declared.inputs.natGateway };
        }
        unreadSubnets.push(`${String(inputs.virtualNetworkName)}/${String(inputs.subnetName)}`);
        return { name: inputs.subnetName };
    };
    harness.reset();
    for (const [key, value] of Object.entries(offline.config)) {
        pulumi.runtime.setConfig(key.includes(":") ? key : `${project}:${key}`, typeof value === "string" ? value : JSON.stringify(value));
    }
    load(path.join(EXAMPLES_DIR, example, "index.ts"));
    await harness.settle();
    return { example, variant, project, harness, unreadSubnets };
}
