// The command line (`azure-kms-activation`): the dispatcher, `plan` on programs that are not examples, bad input.
import { execFileSync, spawnSync } from "child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { droppingExitListeners, isolatedRequire } from "./harness";
import { CliIo, main } from "../src/cli/main";
import { Plan, PLAN_USAGE } from "../src/cli/plan";

const ROOT = path.join(__dirname, "..");

interface Ran {
    code: number;
    out: string;
    err: string;
}

/**
 * Runs the command in this process. The program loads through jest's require (the package name maps to src/), in
 * its own module registry so the same program can run again.
 */
async function cli(...argv: string[]): Promise<Ran> {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s), readFile: () => "", cwd: ROOT, load: isolatedRequire } as CliIo;
    const code = await droppingExitListeners(async () => main(argv, io));
    return { code, out: out.join("\n"), err: err.join("\n") };
}

const scratch = mkdtempSync(path.join(tmpdir(), "kms-cli-"));
beforeAll(() => {
    mkdirSync(path.join(scratch, "python-app"));
    writeFileSync(path.join(scratch, "python-app", "Pulumi.yaml"), "name: py-app\nruntime: python\n");
    writeFileSync(path.join(scratch, "python-app", "__main__.py"), "import pulumi\n");
    mkdirSync(path.join(scratch, "empty"));
    mkdirSync(path.join(scratch, "esm-app"));
    writeFileSync(path.join(scratch, "esm-app", "Pulumi.yaml"), "name: esm-app\nruntime: nodejs\n");
    writeFileSync(path.join(scratch, "esm-app", "package.json"), '{ "type": "module" }');
    writeFileSync(path.join(scratch, "not-a-folder.txt"), "");
    // Pulumi.yaml as a FIFO: read as a stream it would block the plan forever.
    mkdirSync(path.join(scratch, "fifo-app"));
    execFileSync("mkfifo", [path.join(scratch, "fifo-app", "Pulumi.yaml")]);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("azure-kms-activation (dispatcher)", () => {
    test("--help lists plan and audit; no command prints the usage and exits 2", async () => {
        const help = await cli("--help");
        expect(help.code).toBe(0);
        expect(help.out.split("\n")[0]).toBe("Usage: azure-kms-activation <command> [options]");
        expect(help.out).toMatch(/^ {2}plan {4}what a Pulumi program would deploy .*\(1 when a VM is blocked\)$/m);
        expect(help.out).toMatch(/^ {2}audit {3}whether VMs in an existing network can reach KMS/m);
        const none = await cli();
        expect(none).toMatchObject({ code: 2, out: "" });
        expect(none.err).toBe(help.out);
    });

    test("an unknown command or option exits 2 with the usage", async () => {
        for (const [arg, line] of [
            ["deploy", "azure-kms-activation: unknown command deploy"],
            ["--verbose", "azure-kms-activation: unknown option --verbose"],
        ]) {
            const run = await cli(arg);
            expect(run.code).toBe(2);
            expect(run.err.split("\n").slice(0, 2)).toEqual([line, "Usage: azure-kms-activation <command> [options]"]);
        }
    });

    test("audit runs through the dispatcher: help exits 0, a missing --nsgs exits 2 with the usage", async () => {
        const help = await cli("help", "audit");
        expect(help.code).toBe(0);
        expect(help.out).toBe((await cli("audit", "--help")).out);
        expect(help.out).toMatch(/^Usage: azure-kms-activation audit --routes <file> --nsgs <file>/);
        const bad = await cli("audit", "--routes", "routes.json");
        expect(bad.code).toBe(2);
        expect(bad.err.split("\n")[0]).toMatch(/^audit: /);
    });

    test("--version prints the package version; help plan is plan --help", async () => {
        expect(await cli("--version")).toEqual({ code: 0, out: require("../package.json").version, err: "" });
        const planHelp = await cli("help", "plan");
        expect(planHelp.code).toBe(0);
        expect(planHelp.out).toBe((await cli("plan", "--help")).out);
        expect(planHelp.out.split("\n")[0]).toBe(PLAN_USAGE);
        expect(planHelp.out).toContain("Exit status: 0 planned, 1 a Windows VM's KMS reachability is blocked (--strict: or unknown) or the program failed, 2 bad input.");
        expect(planHelp.out).toContain("  --strict                 exit 1 also when a Windows VM's KMS reachability is unknown (not only blocked)");
    });
});

describe("plan exit status gates CI (issue 24): 1 when a Windows VM is blocked, --strict also unknown", () => {
    test.each([
        ["a blocked program (hub firewall with only an application rule): exit 1", ["test/fixtures/hub-firewall-app-rule"], 1, "BLOCKED"],
        ["a reachable program (hub firewall with a network rule): exit 0", ["hub-firewall"], 0, "REACHABLE"],
        ["an unknown program (VMs outside it): exit 0", ["test/fixtures/platform-spoke"], 0, "UNKNOWN"],
        ["an unknown program with --strict: exit 1", ["test/fixtures/platform-spoke", "--strict"], 1, "UNKNOWN"],
        ["a reachable program with --strict: exit 0", ["hub-firewall", "--strict"], 0, "REACHABLE"],
        ["a blocked program with --json: the plan is still printed, exit 1", ["test/fixtures/hub-firewall-app-rule", "--json"], 1, '"verdict": "blocked"'],
        ["a program without Windows VMs: exit 0", ["test/fixtures/js-network"], 0, "(no Windows VM in this program)"],
    ])("%s", async (_, argv, code, shown) => {
        const run = await cli("plan", ...argv);
        expect(run.err).toBe("");
        expect(run.out).toContain(shown);
        expect(run.code).toBe(code);
    });
});

describe("plan <folder>: a program that is not one of the examples", () => {
    let plan: Plan;
    beforeAll(async () => {
        const run = await cli("plan", "test/fixtures/platform-spoke", "--json");
        expect(run.err).toBe("");
        expect(run.code).toBe(0);
        plan = JSON.parse(run.out);
    });

    test("reads Pulumi.yaml and the only stack file; secure config and keys named *Token/*Password are [secret]; project config defaults apply", () => {
        expect(plan).toMatchObject({ offline: true, program: "test/fixtures/platform-spoke", example: null, project: "platform-spoke", stack: "dev" });
        expect(plan.config).toEqual({
            // By its name (password, secret, token, key), as the README says, though this token only triggers a re-run.
            "platform-spoke:rerunToken": "[secret]",
            "azure-native:location": "westeurope",
            "platform-spoke:spokeResourceGroup": "rg-spoke-prod",
            "platform-spoke:vms": '["app-01","app-02"]',
            "platform-spoke:jumpHostPassword": "[secret]",
        });
    });

    test("every registered resource, the package's egress on the spoke's own table and NSG, one activation per VM", () => {
        expect(plan.resources.filter((r) => r.parent !== null).map((r) => `${r.name} <- ${r.parent}`)).toEqual([
            "spoke-route-20-118-99-224 <- spoke",
            "spoke-route-40-83-235-53 <- spoke",
            "spoke-route-23-102-135-246 <- spoke",
            "spoke-rule <- spoke",
            "app-01-run-command <- app-01",
            "app-02-run-command <- app-02",
        ]);
        expect(plan.resources.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
            "azure-kms-activation:index:KmsActivation app-01",
            "azure-kms-activation:index:KmsActivation app-02",
            "azure-kms-activation:index:KmsEgressRules spoke",
            "azure-native:compute:VirtualMachineRunCommandByVirtualMachine app-01-run-command",
            "azure-native:compute:VirtualMachineRunCommandByVirtualMachine app-02-run-command",
            "azure-native:network:PublicIPAddress jump-ip",
            "azure-native:network:Route spoke-route-20-118-99-224",
            "azure-native:network:Route spoke-route-23-102-135-246",
            "azure-native:network:Route spoke-route-40-83-235-53",
            "azure-native:network:SecurityRule spoke-rule",
        ]);
        expect(plan.summary).toEqual({ toCreate: 11, azureResources: 7, components: 3 });
        expect(plan.routes.map((r) => [r.routeTable, r.addressPrefix, r.addedByPackage])).toEqual([
            ["rt-spoke", "20.118.99.224/32", true],
            ["rt-spoke", "40.83.235.53/32", true],
            ["rt-spoke", "23.102.135.246/32", true],
        ]);
        expect(plan.securityRules).toEqual([expect.objectContaining({ networkSecurityGroup: "nsg-spoke", priority: 300, ports: "1688", addedByPackage: true })]);
        expect(plan.activations.map((a) => [a.vm, a.mechanism, a.resource, a.waitsFor.length])).toEqual([
            ["app-01", "RunCommand", "app-01-run-command", 4],
            ["app-02", "RunCommand", "app-02-run-command", 4],
        ]);
    });

    test("says what it assumed offline: the existing subnet is unread, getClientConfig is all zeros", () => {
        expect(plan.unreadSubnets).toEqual(["vnet-spoke/workloads"]);
        expect(plan.offlineAnswers).toEqual([{ token: "azure-native:authorization:getClientConfig", assumption: "the all-zero subscription, tenant and client IDs" }]);
    });

    test("--stack and --config: the stack named, values over the stack file (a password given in clear is still [secret])", async () => {
        const run = await cli("plan", "test/fixtures/platform-spoke", "--stack", "dev", "--config", "vms=[\"app-09\"]", "--config", "jumpHostPassword=x", "--json");
        const parsed: Plan = JSON.parse(run.out);
        expect(parsed.activations.map((a) => a.vm)).toEqual(["app-09"]);
        expect(parsed.config["platform-spoke:jumpHostPassword"]).toBe("[secret]");
    });

    test("a JavaScript program whose main is a folder; text output", async () => {
        const run = await cli("plan", "test/fixtures/js-network", "--config", "location=northeurope");
        expect(run.code).toBe(0);
        expect(run.out.split("\n")[0]).toBe('Offline plan of test/fixtures/js-network (stack "offline")');
        expect(run.out).toContain("    js-network:location  northeurope");
        expect(run.out).toContain("    subnet js-kms-subnet: NAT gateway js-kms-nat, private subnet (defaultOutboundAccess: false)");
        expect(run.out).toContain("    (no KmsActivation in this program)");
    });

    test("a component's input error: exit 1 with the program's message", async () => {
        const run = await cli("plan", "test/fixtures/platform-spoke", "--config", "spokeResourceGroup=rg/bad");
        expect(run.code).toBe(1);
        expect(run.err).toBe(
            `plan: test/fixtures/platform-spoke: the program failed: KmsEgressRules "spoke": resourceGroupName: "rg/bad" is not a resource group name; use 1 to 90 letters, digits, '_', '-', '.', '(' or ')', not ending with '.'`,
        );
        expect(run.out).toBe("");
    });
});

describe("plan: a refusal inside an Output is one line", () => {
    test.each([
        ["a typo deep in a long subnet ID", `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-network-prod/providers/Microsoft.Network/virtualNetwork/vnet-hub-westeurope-001/subnets/workloads`, 'is not a subnet ID: segment 7 is "virtualNetwork", where "virtualNetworks" belongs; give /subscriptions/'],
        ["an empty subnet ID", "", "subnetId: is empty; give /subscriptions/"],
    ])("%s: exit 1, the component, the field, the value whole and the fix, no stack", (_what, subnetId, part) => {
        // In a process of its own, as a user runs it: the refusal is an unhandled rejection, which jest's sandbox
        // does not deliver to the program run's handler, and which the command's last-resort handler used to print
        // with its stack.
        const ran = spawnSync("npm", ["run", "--silent", "plan", "--", "test/fixtures/output-subnet", "--config", `subnetId=${subnetId}`], { cwd: ROOT, encoding: "utf8" });
        const run = { code: ran.status, out: ran.stdout, err: ran.stderr.replace(/\n$/, "") };
        expect(run.code).toBe(1);
        expect(run.out).toBe("");
        expect(run.err.split("\n")).toHaveLength(1);
        expect(run.err).toContain(`plan: test/fixtures/output-subnet: the program failed: KmsWindowsVm "app-01": subnetId: `);
        expect(run.err).toContain(part);
        expect(run.err).toContain(subnetId);
    });
});

describe("plan: bad input exits 2 with one clear line", () => {
    const cases: [string, () => string[], string][] = [
        ["a missing folder", () => ["./no-such-program"], "plan: ./no-such-program: no such folder"],
        ["a file, not a folder", () => [path.join(scratch, "not-a-folder.txt")], `plan: ${path.join(scratch, "not-a-folder.txt")}: not a folder; give the folder that holds Pulumi.yaml`],
        ["a folder without Pulumi.yaml", () => [path.join(scratch, "empty")], `plan: ${path.join(scratch, "empty")}: no Pulumi.yaml; give the folder of a Pulumi program`],
        [
            "a Python program",
            () => [path.join(scratch, "python-app")],
            `plan: ${path.join(scratch, "python-app")}: a python program; the offline plan runs Node.js programs (TypeScript or JavaScript, runtime: nodejs)`,
        ],
        [
            "an ES module program",
            () => [path.join(scratch, "esm-app")],
            `plan: ${path.join(scratch, "esm-app")}: an ES module program ("type": "module" in package.json); the offline plan runs CommonJS programs`,
        ],
        [
            "a Pulumi.yaml that is a FIFO (read bounded, never blocking)",
            () => [path.join(scratch, "fifo-app")],
            `plan: ${path.join(scratch, "fifo-app")}/Pulumi.yaml: cannot be read: a FIFO (named pipe), not a regular file; save the output to a file and name that`,
        ],
        ["the YAML example", () => ["yaml-consumer"], "plan: examples/yaml-consumer: a yaml program; the offline plan runs Node.js programs (TypeScript or JavaScript, runtime: nodejs)"],
        ["the policy pack", () => ["policy-pack"], "plan: examples/policy-pack: a policy pack (PulumiPolicy.yaml), not a program; use it with `pulumi preview --policy-pack examples/policy-pack`"],
        ["a stack the folder does not have", () => ["test/fixtures/platform-spoke", "--stack", "prod"], "plan: test/fixtures/platform-spoke: no Pulumi.prod.yaml; stacks here: dev"],
        [
            "config the program requires and nobody set",
            () => ["examples/quickstart"],
            "plan: examples/quickstart: the program needs config azure-kms-quickstart:adminPassword: pass --config adminPassword=<value> or set it in Pulumi.<stack>.yaml",
        ],
    ];
    test("every missing required config key in one run, whatever type the program asks for (a number too)", async () => {
        const run = await cli("plan", "test/fixtures/secret-routes", "--config", "deployNote=n");
        expect(run).toEqual({
            code: 2,
            out: "",
            err:
                "plan: test/fixtures/secret-routes: the program needs config secret-routes:vmCredential, secret-routes:dbPassword, secret-routes:ipCount: " +
                "pass --config vmCredential=<value> --config dbPassword=<value> --config ipCount=<value> or set them in Pulumi.<stack>.yaml",
        });
    });

    test.each(cases)("%s", async (_what, argv, line) => {
        const run = await cli("plan", ...argv());
        expect(run).toEqual({ code: 2, out: "", err: line });
    });

    test("an unknown option, an unknown example, --json with --mermaid: the error, then the usage", async () => {
        for (const [argv, line] of [
            [["--yaml"], "plan: unknown option --yaml"],
            [["hub-and-spoke"], 'plan: unknown example "hub-and-spoke"; known examples: byo-vhd-forced-tunnel, fleet-remediation'],
            [["quickstart", "--json", "--mermaid"], "plan: --json and --mermaid cannot be used together; pick one"],
        ] as [string[], string][]) {
            const run = await cli("plan", ...argv);
            const [first, usage, more] = run.err.split("\n");
            expect(run.code).toBe(2);
            expect(first.startsWith(line)).toBe(true);
            expect([usage, more]).toEqual([PLAN_USAGE, "Run `azure-kms-activation plan --help` for more."]);
        }
    });
});

describe("the command as a process (npm run plan)", () => {
    test("a program folder with --json: stdout is one JSON document, exit 0", () => {
        const run = spawnSync("npm", ["run", "--silent", "plan", "--", "test/fixtures/js-network", "--json"], { cwd: ROOT, encoding: "utf8" });
        expect(run.status).toBe(0);
        expect(JSON.parse(run.stdout)).toMatchObject({ program: "test/fixtures/js-network", project: "js-network", summary: { toCreate: 14 } });
    });

    test("bad input: exit 2, nothing on stdout", () => {
        const run = spawnSync("npm", ["run", "--silent", "plan", "--", "--json", "--mermaid"], { cwd: ROOT, encoding: "utf8" });
        expect(run.status).toBe(2);
        expect(run.stdout).toBe("");
        expect(run.stderr.split("\n")[0]).toBe("plan: --json and --mermaid cannot be used together; pick one");
    });
});
