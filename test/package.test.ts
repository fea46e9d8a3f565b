// The package as a consumer gets it: `npm pack`, installed into a fresh folder next to @pulumi/pulumi and
// @pulumi/azure-native, compiled under each module resolution, and its command run on the consumer's program.
//
// Offline and fast: the consumer's node_modules is seeded with hard links to this repository's installed packages
// (no copying, no registry), then `npm install --offline` installs the tarball and prunes what the consumer does not
// depend on. npm's hidden lockfile is the one file npm rewrites in place, so it is not linked.
import { execFileSync, spawnSync } from "child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
const rootPackage = require("../package.json");
const rootLock = require("../package-lock.json");

let work: string;
let consumer: string;
const timings: Record<string, number> = {};

function timed<T>(step: string, run: () => T): T {
    const start = Date.now();
    try {
        return run();
    } finally {
        timings[step] = Date.now() - start;
    }
}

function run(cmd: string, args: string[], cwd: string): string {
    return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

const PROGRAM = `import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";
import { KmsNetwork, KmsWindowsVm, KmsNetworkArgs } from "azure-kms-activation";

const config = new pulumi.Config();
const group = new resources.ResourceGroup("shop", { location: "northeurope" });
const args: KmsNetworkArgs = { resourceGroupName: group.name, location: group.location, addressPrefixes: ["10.60.0.0/16"], subnetAddressPrefix: "10.60.1.0/24" };
const network = new KmsNetwork("shop-net", args);
const vm = new KmsWindowsVm("shop-01", {
    resourceGroupName: group.name,
    location: group.location,
    subnetId: network.subnetId,
    adminUsername: "shopadmin",
    adminPassword: config.requireSecret("adminPassword"),
    kmsHostForm: network.kmsHostForm,
    activationWaitsFor: network.egressRuleIds,
});
export const kmsEndpoint = vm.kmsEndpoint;
`;

// As examples/policy-pack/index.ts: PolicyPack from the module that declares it (see its README).
const POLICY = `import { PolicyPack } from "@pulumi/policy/policy";
import { createKmsActivationPolicies, kmsActivationPolicies } from "azure-kms-activation/policy";

const policies: typeof kmsActivationPolicies = createKmsActivationPolicies({});
new PolicyPack("shop-kms", { policies });
`;

/** `compilerOptions` of Pulumi's TypeScript templates (`pulumi new typescript`, `pulumi policy new azure-typescript`). */
const PULUMI_TEMPLATE_OPTIONS = {
    strict: true,
    outDir: "bin",
    target: "es2020",
    module: "commonjs",
    moduleResolution: "node",
    sourceMap: true,
    experimentalDecorators: true,
    pretty: true,
    noFallthroughCasesInSwitch: true,
    noImplicitReturns: true,
    forceConsistentCasingInFileNames: true,
};

const RESOLUTIONS: Record<string, { module: string; moduleResolution: string }> = {
    node: { module: "commonjs", moduleResolution: "node" },
    node16: { module: "node16", moduleResolution: "node16" },
    bundler: { module: "esnext", moduleResolution: "bundler" },
};

beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), "kms-package-"));
    consumer = path.join(work, "shop");
    timed("npm pack (runs prepare: build)", () => run("npm", ["pack", "--pack-destination", work], ROOT));
    const tarball = path.join(work, `${rootPackage.name}-${rootPackage.version}.tgz`);

    // A fresh program folder with its own package.json, depending on the tarball and the Pulumi SDKs.
    const dependencies = {
        "azure-kms-activation": `file:${tarball}`,
        "@pulumi/pulumi": rootPackage.dependencies["@pulumi/pulumi"],
        "@pulumi/azure-native": rootPackage.dependencies["@pulumi/azure-native"],
        "@pulumi/policy": rootPackage.devDependencies["@pulumi/policy"],
        typescript: rootPackage.devDependencies.typescript,
    };
    timed("seed node_modules (hard links)", () => {
        mkdirSync(consumer);
        run("cp", ["-al", path.join(ROOT, "node_modules"), path.join(consumer, "node_modules")], work);
    });
    // The hard links stand in for npm's cache; the lockfile pins what this repository tested.
    const hidden = path.join(consumer, "node_modules", ".package-lock.json");
    if (existsSync(hidden)) {
        unlinkSync(hidden);
    }
    writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "shop", version: "1.0.0", private: true, dependencies }, null, 2));
    writeFileSync(
        path.join(consumer, "package-lock.json"),
        JSON.stringify({ ...rootLock, name: "shop", version: "1.0.0", packages: { ...rootLock.packages, "": { name: "shop", version: "1.0.0", dependencies } } }, null, 2),
    );
    timed("npm install --offline", () => run("npm", ["install", "--offline", "--no-audit", "--no-fund"], consumer));

    writeFileSync(path.join(consumer, "Pulumi.yaml"), "name: shop\nruntime:\n  name: nodejs\n  options:\n    typescript: true\nmain: index.ts\n");
    writeFileSync(path.join(consumer, "Pulumi.dev.yaml"), "config:\n  shop:adminPassword:\n    secure: v1:AAAAAAAAAAAAAAAA:BBBBBBBBBBBBBBBBBBBBBBBB\n");
    writeFileSync(path.join(consumer, "index.ts"), PROGRAM);
    writeFileSync(path.join(consumer, "policy.ts"), POLICY);
}, 600_000);

afterAll(() => {
    if (work) {
        rmSync(work, { recursive: true, force: true });
    }
    process.stdout.write(`package test timings (ms): ${JSON.stringify(timings)}\n`);
});

describe("the packed tarball in a fresh Pulumi program", () => {
    test("installs one @pulumi/pulumi: the package takes the consumer's SDK (a range, not a pin)", () => {
        const installed = JSON.parse(readFileSync(path.join(consumer, "node_modules", "azure-kms-activation", "package.json"), "utf8"));
        expect(installed.dependencies["@pulumi/pulumi"]).toMatch(/^\^3\./);
        expect(existsSync(path.join(consumer, "node_modules", "azure-kms-activation", "node_modules", "@pulumi", "pulumi"))).toBe(false);
        expect(existsSync(path.join(consumer, "node_modules", "jest"))).toBe(false);
    });

    test.each(Object.keys(RESOLUTIONS))("both entry points type-check under moduleResolution %s", (name) => {
        const config = path.join(consumer, `tsconfig.${name}.json`);
        writeFileSync(
            config,
            JSON.stringify({
                compilerOptions: { ...RESOLUTIONS[name], target: "ES2022", strict: true, noEmit: true, esModuleInterop: true, skipLibCheck: true, types: ["node"] },
                files: ["index.ts", "policy.ts"],
            }),
        );
        // skipLibCheck as in this repository: checking azure-native's declarations costs ~30 s per run (the policy
        // pack is also checked without it, below).
        const tsc = timed(`tsc ${name}`, () => spawnSync("node", [path.join(consumer, "node_modules", "typescript", "bin", "tsc"), "-p", config], { cwd: consumer, encoding: "utf8" }));
        expect(tsc.stdout + tsc.stderr).toBe("");
        expect(tsc.status).toBe(0);
    });

    test("the policy pack compiles under Pulumi's template tsconfig (strict, moduleResolution node, no skipLibCheck)", () => {
        const config = path.join(consumer, "tsconfig.json");
        // The compiler options of Pulumi's `pulumi new typescript` / policy pack templates, as they are.
        writeFileSync(
            config,
            JSON.stringify({ compilerOptions: PULUMI_TEMPLATE_OPTIONS, files: ["policy.ts"] }, null, 4),
        );
        const tsc = timed("tsc policy (template, no skipLibCheck)", () =>
            spawnSync("node", [path.join(consumer, "node_modules", "typescript", "bin", "tsc"), "-p", config, "--noEmit"], { cwd: consumer, encoding: "utf8" }),
        );
        expect(JSON.parse(readFileSync(config, "utf8")).compilerOptions.skipLibCheck).toBeUndefined();
        expect(tsc.stdout + tsc.stderr).toBe("");
        expect(tsc.status).toBe(0);
    });

    test("npx azure-kms-activation plan . prints the program's offline plan", () => {
        const plan = timed("npx azure-kms-activation plan .", () => spawnSync("npx", ["--no", "--", "azure-kms-activation", "plan", "."], { cwd: consumer, encoding: "utf8" }));
        expect(plan.stderr).toBe("");
        expect(plan.status).toBe(0);
        const lines = plan.stdout.split("\n");
        expect(lines[0]).toBe('Offline plan of . (stack "dev")');
        expect(plan.stdout).toContain("    shop:adminPassword  [secret]");
        expect(plan.stdout).toMatch(/\+ KMS {2}kms-20-118-99-224\s+20\.118\.99\.224\/32\s+-> Internet/);
        expect(plan.stdout).toContain("    subnet shop-net-subnet: NAT gateway shop-net-nat, private subnet (defaultOutboundAccess: false)");
        expect(plan.stdout).toContain("    VM shop-01: CustomScriptExtension -> slmgr /skms azkms.core.windows.net:1688");
        expect(plan.stdout).toContain("        waits for: shop-net-kms-route-20-118-99-224, shop-net-kms-route-40-83-235-53, shop-net-kms-route-23-102-135-246, shop-net-kms-rule");
    });

    test("the bundled examples plan from the installed package; --help works without a program", () => {
        const bin = path.join(consumer, "node_modules", ".bin", "azure-kms-activation");
        const example = spawnSync(bin, ["plan", "on-prem-kms", "--json"], { cwd: consumer, encoding: "utf8" });
        expect(example.status).toBe(0);
        expect(JSON.parse(example.stdout)).toMatchObject({ program: "examples/on-prem-kms", project: "azure-kms-on-prem-kms" });
        const help = spawnSync(bin, ["--help"], { cwd: consumer, encoding: "utf8" });
        expect(help.status).toBe(0);
        expect(help.stdout.split("\n")[0]).toBe("Usage: azure-kms-activation <command> [options]");
    });

    test("bad input from the installed command: exit 2 and one line", () => {
        const missing = spawnSync(path.join(consumer, "node_modules", ".bin", "azure-kms-activation"), ["plan", "./infra"], { cwd: consumer, encoding: "utf8" });
        expect(missing.status).toBe(2);
        expect(missing.stderr).toBe("plan: ./infra: no such folder\n");
    });
});
