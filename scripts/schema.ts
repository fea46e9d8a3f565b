// `npm run schema`: writes schema.json, the Pulumi package schema inferred from the TypeScript sources, exactly
// as `pulumi package add` infers it. test/schema.test.ts fails when the committed file drifts from the sources.
import { writeFileSync } from "fs";
import * as path from "path";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { KmsActivation, KmsEgressRules, KmsFirewallRules, KmsNetwork, KmsWindowsVm } from "../src";

export const ROOT = path.join(__dirname, "..");
export const SCHEMA_PATH = path.join(ROOT, "schema.json");
export const PACKAGE_NAME = "azure-kms-activation";

/** The component provider Pulumi runs for this package (`cmd/run-plugin` builds the same from the exports). */
export function componentProvider(): ComponentProvider {
    return new ComponentProvider({
        name: PACKAGE_NAME,
        dirname: ROOT,
        components: [KmsEgressRules, KmsFirewallRules, KmsNetwork, KmsActivation, KmsWindowsVm],
    } as ConstructorParameters<typeof ComponentProvider>[0]);
}

/** The inferred schema as committed: stable key order, two-space indent, final newline. */
export async function inferredSchemaText(provider: ComponentProvider = componentProvider()): Promise<string> {
    const schema = JSON.parse(await provider.getSchema());
    return `${JSON.stringify(schema, null, 2)}\n`;
}

if (require.main === module) {
    inferredSchemaText().then((text) => {
        writeFileSync(SCHEMA_PATH, text);
        process.stdout.write(`wrote ${path.relative(process.cwd(), SCHEMA_PATH)} (${text.length} characters)\n`);
    });
}
