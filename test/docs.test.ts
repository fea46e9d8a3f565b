// Docs that cannot rot: every TypeScript block in README.md and the examples' READMEs type-checks against the
// package (imported by name, as a reader copies it), with the placeholders a snippet leaves to the reader declared.
import { readdirSync, readFileSync } from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.join(__dirname, "..");

/** Names a snippet uses without defining: the reader's own values. */
const PLACEHOLDERS: Record<string, string> = {
    output: "string",
    subnetId: "string",
    adminPassword: "import(\"@pulumi/pulumi\").Output<string>",
    // Azure resource bodies as `network.getSubnet` and friends or `az ... show` return them.
    subnet: "unknown",
    routeTable: "unknown",
    subnetNsg: "unknown",
    nic: "unknown",
};

interface Block {
    file: string;
    line: number;
    code: string;
}

function typescriptBlocks(file: string): Block[] {
    const lines = readFileSync(path.join(ROOT, file), "utf8").split("\n");
    const blocks: Block[] = [];
    for (let i = 0; i < lines.length; i++) {
        if (/^```(ts|typescript)\s*$/.test(lines[i])) {
            const end = lines.findIndex((l, j) => j > i && l.startsWith("```"));
            blocks.push({ file, line: i + 2, code: lines.slice(i + 1, end).join("\n") });
            i = end;
        }
    }
    return blocks;
}

const DOCS = [
    "README.md",
    ...readdirSync(path.join(ROOT, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => `docs/${f}`),
    ...readdirSync(path.join(ROOT, "examples"))
        .map((e) => `examples/${e}/README.md`)
        .filter((f) => readdirSync(path.join(ROOT, path.dirname(f))).includes("README.md")),
];
const BLOCKS = DOCS.flatMap(typescriptBlocks);

/** The block as a module, with `declare const` for each placeholder it uses and does not define (at the end, so line numbers match). */
function asModule(block: Block): string {
    const defines = (name: string) => new RegExp(`\\b(const|let|var|function|class)\\s+${name}\\b|import[^;]*\\b${name}\\b`).test(block.code);
    const preamble = Object.entries(PLACEHOLDERS)
        .filter(([name]) => new RegExp(`\\b${name}\\b`).test(block.code) && !defines(name))
        .map(([name, type]) => `declare const ${name}: ${type};`);
    return `${block.code}\n${preamble.join("\n")}\nexport {};\n`;
}

test("the docs have TypeScript blocks to check (README: quick start, brownfield; docs/; policy pack README)", () => {
    expect(BLOCKS.map((b) => b.file)).toEqual(expect.arrayContaining(["README.md", "docs/components.md", "docs/guest.md", "docs/reachability.md", "examples/policy-pack/README.md"]));
    expect(BLOCKS.filter((b) => b.file === "README.md").length).toBeGreaterThanOrEqual(2);
    expect(BLOCKS.filter((b) => b.file.startsWith("docs/")).length).toBeGreaterThanOrEqual(5);
});

// Sentences that were true once and are not any more: a reader who meets one stops trusting the page.
const STALE: [RegExp, string][] = [
    [/not available in this build/i, "audit ships: it is a command of this build"],
    [/uses the repository's `node_modules` and `src\/`/, "a tarball has no src/: the policy pack is made from the installed package"],
    [/from "@pulumi\/policy";/, "import PolicyPack from @pulumi/policy/policy (the index does not compile without skipLibCheck)"],
    [/is not JSON: .*table/i, "az's table output is recognised and refused with the fix"],
];

test("no stale sentence in the README, docs/ or the examples' READMEs", () => {
    const found = DOCS.flatMap((file) => {
        const text = readFileSync(path.join(ROOT, file), "utf8");
        return STALE.filter(([re]) => re.test(text)).map(([re, why]) => `${file}: ${re} (${why})`);
    });
    expect(found).toEqual([]);
});

test("the README fits on a page: at most 360 lines, requirements first, the user's sections in order", () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    expect(readme.split("\n").length).toBeLessThanOrEqual(360);
    const sections = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(sections).toEqual(["Requirements", "Install", "Quick start", "Components", "Command line", "Policy pack", "Troubleshooting", "Developing", "Links"]);
    // Every docs/ page is linked from the README.
    for (const file of readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md"))) {
        expect(readme).toContain(`](docs/${file}`);
    }
});

test("every TypeScript block in the docs type-checks", () => {
    const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
    const virtual = new Map(BLOCKS.map((b, i) => [path.join(ROOT, "docs-check", `block-${i}.ts`), asModule(b)]));
    const host = ts.createCompilerHost({ ...config.options, noEmit: true });
    const getSourceFile = host.getSourceFile;
    host.getSourceFile = (file, language, ...rest) =>
        virtual.has(file) ? ts.createSourceFile(file, virtual.get(file)!, language) : getSourceFile.call(host, file, language, ...rest);
    const fileExists = host.fileExists;
    host.fileExists = (file) => virtual.has(file) || fileExists.call(host, file);
    const program = ts.createProgram([...virtual.keys()], { ...config.options, noEmit: true, noUnusedLocals: false }, host);
    const problems = ts
        .getPreEmitDiagnostics(program)
        .filter((d) => d.file && virtual.has(d.file.fileName))
        .map((d) => {
            const block = BLOCKS[[...virtual.keys()].indexOf(d.file!.fileName)];
            const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
            return `${block.file}:${block.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`;
        });
    expect(problems).toEqual([]);
});
