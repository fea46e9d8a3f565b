// The example programs, and how to run one under the recording mock engine with its offline config.
import { existsSync, readdirSync, readFileSync } from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { forgetReads } from "../src/network/azureReads";
import { forgetEgressClaims } from "../src/network/ownership";
import { forgetProgramEgress } from "../src/network/programEgress";
import { forgetSubnetChecks } from "../src/network/subnetOutbound";
import { Harness, InvokeMock, mockPulumi } from "./mock-engine";

// Each run is its own program: nothing read, claimed or planned by an earlier run in this process carries over.
function forgetProgramState(): void {
    forgetReads();
    forgetEgressClaims();
    forgetProgramEgress();
    forgetSubnetChecks();
}

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
    /** Existing route tables and NSGs (`<resource group>/<name>`) the program read, answered offline as empty. */
    unreadNetworkObjects: string[];
}

/**
 * Runs an example program under Pulumi's mock engine, with the config of its offline-config file. Reads of the
 * subnets, route tables and NSGs the program declares are answered from their registrations (mock-engine.ts); `azure`
 * answers reads of existing objects (a test's picture of the brownfield); what neither answers cannot be read
 * offline: a subnet is answered as an older subnet with default outbound access (listed in `unreadSubnets`), a route
 * table or NSG as empty (listed in `unreadNetworkObjects`).
 */
export async function runExample(target: string, load: (file: string) => unknown = require, azure: InvokeMock = () => undefined): Promise<ExampleRun> {
    const [example, variant] = target.split(":");
    if (!listTargets().includes(target)) {
        throw new Error(`unknown example "${target}"; known: ${listTargets().join(", ")}`);
    }
    const project = projectName(example);
    const configFile = path.join(EXAMPLES_DIR, example, variant ? `offline-config.${variant}.json` : "offline-config.json");
    const offline = JSON.parse(readFileSync(configFile, "utf8")) as { config: Record<string, unknown> };
    const harness = await mockPulumi(project, "offline");
    const unreadSubnets: string[] = [];
    const unreadNetworkObjects: string[] = [];
    harness.defaultInvoke = (token, inputs) => {
        const answer = azure(token, inputs);
        if (answer !== undefined) {
            return answer;
        }
        switch (token) {
            case "azure-native:network:getSubnet":
                unreadSubnets.push(`${String(inputs.virtualNetworkName)}/${String(inputs.subnetName)}`);
                return { name: inputs.subnetName };
            case "azure-native:network:getRouteTable":
                unreadNetworkObjects.push(`${String(inputs.resourceGroupName)}/${String(inputs.routeTableName)}`);
                return { name: inputs.routeTableName, routes: [] };
            case "azure-native:network:getNetworkSecurityGroup":
                unreadNetworkObjects.push(`${String(inputs.resourceGroupName)}/${String(inputs.networkSecurityGroupName)}`);
                return { name: inputs.networkSecurityGroupName, securityRules: [] };
            default:
                return undefined;
        }
    };
    harness.reset();
    forgetProgramState();
    for (const [key, value] of Object.entries(offline.config)) {
        pulumi.runtime.setConfig(key.includes(":") ? key : `${project}:${key}`, typeof value === "string" ? value : JSON.stringify(value));
    }
    load(path.join(EXAMPLES_DIR, example, "index.ts"));
    await harness.settle();
    return { example, variant, project, harness, unreadSubnets, unreadNetworkObjects };
}
