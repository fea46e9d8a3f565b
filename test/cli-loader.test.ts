// How the command finds a program's TypeScript compiler and its dependencies (src/cli/loader.ts).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { checkInstalled, findTypeScript, PACKAGE_ROOT, registerTypeScript } from "../src/cli/loader";

const ROOT = path.join(__dirname, "..");
const scratch = mkdtempSync(path.join(tmpdir(), "kms-loader-"));
const bare = path.join(scratch, "bare");
const pulumiOnly = path.join(scratch, "pulumi-only");

beforeAll(() => {
    mkdirSync(bare);
    // A program with @pulumi/pulumi installed and no typescript of its own.
    mkdirSync(path.join(pulumiOnly, "node_modules", "@pulumi"), { recursive: true });
    symlinkSync(path.join(ROOT, "node_modules", "@pulumi", "pulumi"), path.join(pulumiOnly, "node_modules", "@pulumi", "pulumi"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test("the package root is the repository (src/cli is two folders below it)", () => {
    expect(PACKAGE_ROOT).toBe(ROOT);
});

test("TypeScript: the program's own compiler first", () => {
    expect(findTypeScript(ROOT)).toEqual({ path: require.resolve("typescript"), version: require("typescript").version, source: "program" });
});

test("TypeScript: without one, the compiler @pulumi/pulumi vendors (Pulumi's own fallback); without either, none", () => {
    const vendored = findTypeScript(pulumiOnly)!;
    expect(vendored.source).toBe("pulumi-vendored");
    expect(vendored.path).toMatch(/[/\\]@pulumi[/\\]pulumi[/\\]vendor[/\\]typescript@[\d.]+[/\\]typescript\.js$/);
    expect(vendored.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(findTypeScript(bare)).toBeUndefined();
});

test("a TypeScript program with no compiler and no SDK: one line with the fix", () => {
    expect(() => registerTypeScript(path.join(bare, "index.ts"), bare, "./bare")).toThrow(
        "./bare: index.ts is TypeScript and neither typescript nor @pulumi/pulumi is installed there; run `npm install` in the program's folder",
    );
    expect(registerTypeScript(path.join(bare, "index.js"), bare, "./bare")).toBeUndefined();
});

test("a program whose dependencies are not installed: one line with the fix", () => {
    expect(() => checkInstalled(bare, "./bare")).toThrow("./bare: @pulumi/pulumi is not installed for this program; run `npm install` in its folder");
    expect(() => checkInstalled(pulumiOnly, "./app")).not.toThrow();
});

test("a program file that does not parse: ProgramSyntaxError with file, line and column (1-based); one that parses: CommonJS", () => {
    const { ProgramSyntaxError, transpileProgramFile } = require("../src/cli/loader") as typeof import("../src/cli/loader");
    const ts = require("typescript") as typeof import("typescript");
    const options = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020 };
    let thrown: unknown;
    try {
        transpileProgramFile(ts, 'import * as x from "y";\n\nconst group = { location: "westeurope" ;\n', "/app/index.ts", options);
    } catch (err) {
        thrown = err;
    }
    expect(thrown).toBeInstanceOf(ProgramSyntaxError);
    expect(thrown).toMatchObject({ file: "/app/index.ts", line: 3, column: 40, message: "',' expected." });
    expect(transpileProgramFile(ts, 'export const a: number = 1;\n', "/app/ok.ts", options)).toContain("exports.a = 1;");
});
