// No secret in a plan: a password given by each route the issue names never reaches the text, the JSON or the Mermaid
// output; each is `[secret]` instead (README "Command line": secrets).
import * as path from "path";
import { droppingExitListeners, isolatedRequire } from "./harness";
import { CliIo, main } from "../src/cli/main";

const ROOT = path.join(__dirname, "..");

async function plan(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s), readFile: () => "", cwd: ROOT, load: isolatedRequire } as CliIo;
    const code = await droppingExitListeners(async () => main(["plan", ...argv], io));
    return { code, out: out.join("\n"), err: err.join("\n") };
}

const ROUTE_SECRET = "Read-As-Secret-Pa55word!";
const FLAG_SECRET = "given-with-secret-config-Pa55";
const NAME_SECRET = "Named-Password-Pa55word!";
const FORMATS = [[], ["--json"], ["--mermaid"]];

describe("plan masks every secret in text, JSON and Mermaid", () => {
    test.each(FORMATS.map((f) => [f.join("") || "text", f]))("%s: read with requireSecret, given with --secret-config, a key named *Password", async (_name, format) => {
        const run = await plan(
            "test/fixtures/secret-routes",
            "--config",
            `vmCredential=${ROUTE_SECRET}`,
            "--secret-config",
            `deployNote=${FLAG_SECRET}`,
            "--config",
            `dbPassword=${NAME_SECRET}`,
            "--config",
            "ipCount=1",
            ...format,
        );
        expect(run).toMatchObject({ code: 0, err: "" });
        for (const secret of [ROUTE_SECRET, FLAG_SECRET, NAME_SECRET]) {
            expect(run.out).not.toContain(secret);
        }
        // Not even a part of one (a Mermaid node ID is made from a resource's name).
        expect(run.out).not.toMatch(/Pa55/);
        // Mermaid escapes the brackets of a label (#91; #93;).
        expect(run.out).toContain(format[0] === "--mermaid" ? "#91;secret#93;" : "[secret]");
        if (format.length === 0) {
            expect(run.out).toMatch(/^ {4}secret-routes:vmCredential +\[secret\]$/m);
            expect(run.out).toMatch(/^ {4}secret-routes:deployNote +\[secret\]$/m);
            expect(run.out).toMatch(/^ {4}secret-routes:dbPassword +\[secret\]$/m);
            expect(run.out).toMatch(/^ {4}credentialOut: +\[secret\]$/m);
            expect(run.out).toMatch(/^ {4}noteOut: +\[secret\]$/m);
            expect(run.out).toMatch(/^ {4}dbPasswordOut: +\[secret\]$/m);
            expect(run.out).toContain("ip-[secret]");
        }
        if (format[0] === "--json") {
            const parsed = JSON.parse(run.out);
            expect(parsed.config).toEqual({
                "secret-routes:vmCredential": "[secret]",
                "secret-routes:deployNote": "[secret]",
                "secret-routes:dbPassword": "[secret]",
                "secret-routes:ipCount": "1",
            });
            expect(parsed.outputs).toEqual({ credentialOut: "[secret]", noteOut: "[secret]", dbPasswordOut: "[secret]", groupName: "rg" });
        }
        if (format[0] === "--mermaid") {
            expect(run.out).toContain("PublicIPAddress<br/>ip-#91;secret#93;");
        }
    });

    test.each(FORMATS.map((f) => [f.join("") || "text", f]))("%s: the quickstart with --config adminPassword (the issue's report)", async (_name, format) => {
        const run = await plan("quickstart", "--config", `adminPassword=${NAME_SECRET}`, ...format);
        expect(run).toMatchObject({ code: 0, err: "" });
        expect(run.out).not.toContain(NAME_SECRET);
        if (format.length === 0) {
            expect(run.out).toMatch(/^ {4}azure-kms-quickstart:adminPassword +\[secret\]$/m);
        }
    });

    test("a failing program's error line masks the secrets it was given", async () => {
        const run = await plan("test/fixtures/platform-spoke", "--secret-config", "spokeResourceGroup=rg/Pa55word-in-a-name");
        expect(run.code).toBe(1);
        expect(run.err).not.toContain("Pa55word-in-a-name");
        expect(run.err).toContain('resourceGroupName: "[secret]" is not a resource group name');
    });

    test("a malformed --secret-config does not echo its value", async () => {
        const run = await plan("--secret-config", "NoEqualsSign-Pa55word");
        expect(run.code).toBe(2);
        expect(run.err.split("\n")[0]).toBe("plan: --secret-config: expected <key>=<value>");
    });
});
