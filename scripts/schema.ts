// `npm run schema`: writes schema.json, the Pulumi package schema inferred from the TypeScript sources, exactly
// as `pulumi package add` infers it. test/schema.test.ts fails when the committed file drifts from the sources.
import { readFileSync, writeFileSync } from "fs";
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

/** What the Pulumi Registry shows and files the package under, beside what the inference gives. */
export const REGISTRY = {
    displayName: "Azure KMS Activation",
    publisher: "azure-kms-activation contributors",
    // The registry's facets: a component package, in the infrastructure category.
    registryKeywords: ["kind/component", "category/infrastructure"],
};

/**
 * The inferred schema as committed, with the registry metadata (display name, publisher, keywords, repository,
 * homepage, license: package.json is their one source) after name and version: stable key order, two-space
 * indent, final newline.
 */
export async function inferredSchemaText(provider: ComponentProvider = componentProvider()): Promise<string> {
    const { name, version, description, ...rest } = JSON.parse(await provider.getSchema());
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
        keywords: string[];
        license: string;
        homepage: string;
        repository: { url: string };
    };
    const schema = {
        name,
        displayName: REGISTRY.displayName,
        version,
        description,
        keywords: [...pkg.keywords, ...REGISTRY.registryKeywords],
        homepage: pkg.homepage,
        license: pkg.license,
        publisher: REGISTRY.publisher,
        repository: pkg.repository.url.replace(/^git\+/, "").replace(/\.git$/, ""),
        ...rest,
    };
    return `${JSON.stringify(schema, null, 2)}\n`;
}

if (require.main === module) {
    inferredSchemaText().then((text) => {
        writeFileSync(SCHEMA_PATH, text);
        process.stdout.write(`wrote ${path.relative(process.cwd(), SCHEMA_PATH)} (${text.length} characters)\n`);
    });
}
