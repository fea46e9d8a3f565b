// How the command loads a user's program in Node: TypeScript through the program's own compiler (as Pulumi's
// nodejs runtime does), and this package's own name resolved to the copy the command belongs to.
import { existsSync, readdirSync, readFileSync } from "fs";
import { createRequire } from "module";
import * as path from "path";
import { CliInputError } from "./errors";

/** The package's root: `src/cli` or `dist/cli` is two folders below it. */
export const PACKAGE_ROOT = path.resolve(__dirname, "..", "..");
const PACKAGE_NAME = "azure-kms-activation";

type TypeScriptModule = typeof import("typescript");

/** Which TypeScript compiler a program's .ts files are transpiled with, and why that one. */
export interface TypeScriptChoice {
    path: string;
    version: string;
    source: "program" | "pulumi-vendored";
}

/**
 * The compiler for a program's TypeScript: the program's own `typescript` (resolved from its folder, as Pulumi's
 * nodejs runtime resolves it), else the TypeScript that `@pulumi/pulumi` vendors (Pulumi's own fallback).
 * Undefined when neither is installed.
 */
export function findTypeScript(dir: string): TypeScriptChoice | undefined {
    const fromProgram = createRequire(path.join(dir, "package.json"));
    try {
        const file = fromProgram.resolve("typescript");
        return { path: file, version: (fromProgram(file) as TypeScriptModule).version, source: "program" };
    } catch {
        // no typescript in the program's node_modules: try Pulumi's vendored copy
    }
    let pulumiDir: string;
    try {
        pulumiDir = path.dirname(fromProgram.resolve("@pulumi/pulumi"));
    } catch {
        return undefined;
    }
    const vendorDir = path.join(pulumiDir, "vendor");
    const vendored = existsSync(vendorDir) ? readdirSync(vendorDir).find((d) => d.startsWith("typescript@")) : undefined;
    if (!vendored) {
        return undefined;
    }
    const file = path.join(vendorDir, vendored, "typescript.js");
    return { path: file, version: (require(file) as TypeScriptModule).version, source: "pulumi-vendored" };
}

/** The program's tsconfig.json compiler options (if any), made to emit CommonJS for Node's `require`. */
function compilerOptions(ts: TypeScriptModule, dir: string): import("typescript").CompilerOptions {
    const file = path.join(dir, "tsconfig.json");
    let options: import("typescript").CompilerOptions = {};
    if (existsSync(file)) {
        const read = ts.readConfigFile(file, ts.sys.readFile);
        if (!read.error) {
            options = ts.parseJsonConfigFileContent(read.config, ts.sys, dir).options;
        }
    }
    return {
        ...options,
        module: ts.ModuleKind.CommonJS,
        target: options.target ?? ts.ScriptTarget.ES2020,
        esModuleInterop: options.esModuleInterop ?? true,
        sourceMap: false,
        inlineSourceMap: true,
        declaration: false,
        noEmit: false,
    };
}

/**
 * Makes Node's `require` run `.ts` files: transpiled one at a time (no type check; `tsc` and `pulumi preview` do
 * that). Does nothing when `.ts` already loads (under ts-node, as `npm run plan` runs). Throws `CliInputError` when
 * the program needs TypeScript and none is installed.
 */
export function registerTypeScript(main: string, dir: string, label: string): TypeScriptChoice | undefined {
    const extensions = require.extensions as NodeJS.RequireExtensions;
    if (!/\.[cm]?tsx?$/.test(main) || extensions[".ts"]) {
        return undefined;
    }
    const choice = findTypeScript(dir);
    if (!choice) {
        throw new CliInputError(
            `${label}: ${path.basename(main)} is TypeScript and neither typescript nor @pulumi/pulumi is installed there; run \`npm install\` in the program's folder`,
        );
    }
    const ts = require(choice.path) as TypeScriptModule;
    const options = compilerOptions(ts, dir);
    const compile = (module: NodeJS.Module, filename: string) => {
        (module as unknown as { _compile(code: string, file: string): void })._compile(transpileProgramFile(ts, readFileSync(filename, "utf8"), filename, options), filename);
    };
    extensions[".ts"] = compile;
    extensions[".tsx"] = compile;
    return choice;
}

/** A program file that does not parse: where (1-based line and column) and what the compiler says. */
export class ProgramSyntaxError extends Error {
    constructor(
        readonly file: string,
        readonly line: number,
        readonly column: number,
        message: string,
    ) {
        super(message);
        this.name = "ProgramSyntaxError";
    }
}

/**
 * One program file transpiled to CommonJS. `transpileModule` emits something even for text that does not parse
 * (and Node then fails somewhere else, naming neither file nor line): its syntax diagnostics are an error here.
 */
export function transpileProgramFile(ts: TypeScriptModule, source: string, file: string, options: import("typescript").CompilerOptions): string {
    const output = ts.transpileModule(source, { compilerOptions: options, fileName: file, reportDiagnostics: true });
    const error = output.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
    if (error) {
        const at = error.file && error.start !== undefined ? error.file.getLineAndCharacterOfPosition(error.start) : { line: 0, character: 0 };
        throw new ProgramSyntaxError(file, at.line + 1, at.character + 1, ts.flattenDiagnosticMessageText(error.messageText, " "));
    }
    return output.outputText;
}

/** This package's entry points, in the copy the command belongs to (src/ under ts-node, dist/ when installed). */
const OWN_ENTRIES: Record<string, string> = {
    [PACKAGE_NAME]: path.join(__dirname, "..", "index"),
    [`${PACKAGE_NAME}/policy`]: path.join(__dirname, "..", "policy", "index"),
    [`${PACKAGE_NAME}/reachability`]: path.join(__dirname, "..", "reachability", "index"),
};

/**
 * Resolves `azure-kms-activation` (and `/policy`, `/reachability`) in the program to the copy the command belongs to when Node would
 * resolve them into this same package anyway (the examples' self-reference, or the consumer's installed copy), so
 * the plan and the components share one module instance. An import that resolves to another copy is left alone.
 */
export function resolveOwnPackage(): () => void {
    const Module = require("module") as { _resolveFilename: (request: string, parent: unknown, ...rest: unknown[]) => string };
    const original = Module._resolveFilename;
    Module._resolveFilename = function (this: unknown, request: string, parent: unknown, ...rest: unknown[]): string {
        const own = OWN_ENTRIES[request];
        if (own === undefined) {
            return original.call(this, request, parent, ...rest);
        }
        let resolved: string | undefined;
        try {
            resolved = original.call(this, request, parent, ...rest);
        } catch {
            resolved = undefined;
        }
        if (resolved !== undefined && !resolved.startsWith(PACKAGE_ROOT + path.sep)) {
            return resolved;
        }
        return original.call(this, own, parent, ...rest);
    };
    return () => {
        Module._resolveFilename = original;
    };
}

/** Checks the program's folder can load `@pulumi/pulumi` (its dependencies are installed). */
export function checkInstalled(dir: string, label: string): void {
    try {
        createRequire(path.join(dir, "package.json")).resolve("@pulumi/pulumi");
    } catch {
        throw new CliInputError(`${label}: @pulumi/pulumi is not installed for this program; run \`npm install\` in its folder`);
    }
}

/** Prepares Node to load the program (its TypeScript, this package's own name) and returns the loader: Node's `require`. */
export function nodeLoader(spec: { dir: string; main: string; label: string }): (file: string) => unknown {
    checkInstalled(spec.dir, spec.label);
    registerTypeScript(spec.main, spec.dir, spec.label);
    resolveOwnPackage();
    // Afresh on each call (runProgram runs a program again to find every missing config key): the program's own
    // files leave Node's module cache, its dependencies stay.
    return (file) => {
        for (const cached of Object.keys(require.cache)) {
            if (cached.startsWith(spec.dir + path.sep) && !cached.includes(`${path.sep}node_modules${path.sep}`)) {
                delete require.cache[cached];
            }
        }
        return require(file);
    };
}

/**
 * Where a program does not parse, as `file:line:column: message`: the loader's own `ProgramSyntaxError`, ts-node's
 * diagnostic (`file.ts(3,7): error TS1005: ...`, when the command runs under ts-node), or Node's SyntaxError for
 * JavaScript (the file and line head its stack, a caret marks the column). Undefined for any other error.
 */
export function syntaxLocation(err: unknown): string | undefined {
    if (err instanceof ProgramSyntaxError) return `${err.file}:${err.line}:${err.column}: ${err.message}`;
    if (!(err instanceof Error)) return undefined;
    const ts = /^(.+?)\((\d+),(\d+)\): error TS\d+: (.+)$/m.exec(err.message);
    if (err.name === "TSError" && ts) return `${ts[1]}:${ts[2]}:${ts[3]}: ${ts[4]}`;
    if (err.name === "SyntaxError" && err.stack) {
        const [head, , caret] = err.stack.split("\n");
        const at = /^(.+):(\d+)$/.exec(head ?? "");
        if (at) return `${at[1]}:${at[2]}:${(caret ?? "").indexOf("^") + 1}: ${err.message}`;
    }
    return undefined;
}
