import { readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";

// Pulumi YAML cannot run here (no Pulumi CLI), so the program is checked against the committed schema instead:
// every component it uses exists, gets every required input, and only inputs and outputs the schema has.
const ROOT = path.join(__dirname, "..", "..");
const program = parse(readFileSync(path.join(ROOT, "examples", "yaml-consumer", "Pulumi.yaml"), "utf8"));
const schema = JSON.parse(readFileSync(path.join(ROOT, "schema.json"), "utf8"));

test("the YAML program uses the package through packages:, pointing at this repository", () => {
    expect(program.runtime).toBe("yaml");
    expect(path.resolve(ROOT, "examples", "yaml-consumer", program.packages["azure-kms-activation"])).toBe(ROOT);
});

test("every component resource matches the schema: required inputs present, no unknown inputs", () => {
    const components = Object.entries<any>(program.resources).filter(([, r]) => r.type.startsWith("azure-kms-activation:"));
    expect(components.map(([, r]) => r.type)).toEqual(["azure-kms-activation:index:KmsNetwork", "azure-kms-activation:index:KmsWindowsVm"]);
    for (const [, resource] of components) {
        const spec = schema.resources[resource.type];
        expect(spec).toBeDefined();
        const given = Object.keys(resource.properties);
        expect(spec.requiredInputs.filter((name: string) => !given.includes(name))).toEqual([]);
        expect(given.filter((name) => !(name in spec.inputProperties))).toEqual([]);
    }
    expect(Object.keys(program.resources.vm.properties.image).sort()).toEqual(
        Object.keys(schema.types["azure-kms-activation:index:MarketplaceImage"].properties).sort(),
    );
});

test("every ${resource.output} it reads is an output of that resource, and enum values are the schema's", () => {
    const text = readFileSync(path.join(ROOT, "examples", "yaml-consumer", "Pulumi.yaml"), "utf8");
    for (const [, resource, output] of text.matchAll(/\$\{(network|vm)\.(\w+)\}/g)) {
        expect(Object.keys(schema.resources[program.resources[resource].type].properties)).toContain(output);
    }
    const outbound = schema.types["azure-kms-activation:index:ExplicitOutbound"].enum.map((e: { value: string }) => e.value);
    expect(outbound).toContain(program.resources.network.properties.outbound);
});
