import { execFileSync, spawnSync } from "child_process";
import * as path from "path";
import { runExample } from "../scripts/examples";
import { buildPlan, parseArgs, Plan, renderMermaid, renderText } from "../scripts/plan";

const ROOT = path.join(__dirname, "..");
let plan: Plan;

beforeAll(async () => {
    plan = buildPlan(await runExample("quickstart"));
});

describe("offline plan (quickstart)", () => {
    test("says it is offline, and reads like pulumi preview", () => {
        const text = renderText(plan);
        expect(text.split("\n").slice(0, 2)).toEqual([
            'Offline plan of examples/quickstart (stack "offline")',
            "Pulumi's mock engine ran the program: no Azure credentials, no network, nothing deployed.",
        ]);
        expect(text).toContain(" +   pulumi:pulumi:Stack ");
        expect(text).toMatch(/ \+   │  ├─ azure-native:network:NatGateway\s+kms-net-nat\s+create/);
        expect(text).toContain("    + 19 to create (14 Azure resources, 4 components)");
        expect(text).toMatch(/\+ KMS  kms-20-118-99-224\s+20\.118\.99\.224\/32\s+-> Internet/);
        expect(text).toMatch(/\+ KMS  allow-kms-tcp-1688-out\s+priority 100\s+Outbound Allow Tcp VirtualNetwork -> 20\.118\.99\.224, 40\.83\.235\.53, 23\.102\.135\.246 port 1688/);
        expect(text).toContain("    subnet kms-net-subnet: NAT gateway kms-net-nat, private subnet (defaultOutboundAccess: false)");
        expect(text).toContain("    VM kms-vm-01: CustomScriptExtension -> slmgr /skms azkms.core.windows.net:1688");
        expect(text).toMatch(/guest script: [\d,]+ characters; command line [\d,]+ of 8,191\n        activationStatus: known after deploy\n/);
        expect(text.trimEnd().split("\n").pop()).toBe("This was an offline plan. With Azure credentials, `pulumi preview` shows the real diff against your subscription.");
    });

    test("the model: every resource with its parent, the package's routes and rule, the activation", () => {
        expect(plan.offline).toBe(true);
        expect(plan.summary).toEqual({ toCreate: 19, azureResources: 14, components: 4 });
        expect(plan.resources.find((r) => r.name === "kms-net-nat")).toEqual({ type: "azure-native:network:NatGateway", name: "kms-net-nat", parent: "kms-net", azure: true });
        expect(plan.routes.filter((r) => r.addedByPackage).map((r) => r.addressPrefix)).toEqual(["20.118.99.224/32", "40.83.235.53/32", "23.102.135.246/32"]);
        expect(plan.activations).toEqual([
            expect.objectContaining({ vm: "kms-vm-01", mechanism: "CustomScriptExtension", kmsEndpoint: "azkms.core.windows.net:1688", keySource: "imageSku", activationStatus: "known after deploy" }),
        ]);
        expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
    });

    test("--mermaid: a flowchart of the resource tree", () => {
        const mermaid = renderMermaid(plan);
        expect(mermaid.split("\n")[0]).toBe("flowchart TD");
        expect(mermaid).toContain("    r_kms_net --> r_kms_net_nat");
        expect(mermaid).toContain('    r_kms_net_nat["NatGateway<br/>kms-net-nat"]');
        expect(mermaid).toContain("    class r_kms_net component");
    });

    test("arguments: example, --json, --mermaid; anything else is refused with the fix", () => {
        expect(parseArgs([])).toEqual({ target: "quickstart", format: "text" });
        expect(parseArgs(["on-prem-kms", "--json"])).toEqual({ target: "on-prem-kms", format: "json" });
        expect(parseArgs(["--mermaid", "sovereign-clouds:china"])).toEqual({ target: "sovereign-clouds:china", format: "mermaid" });
        expect(() => parseArgs(["--yaml"])).toThrow("unknown option --yaml; use: npm run plan [-- <example>] [--json] [--mermaid]");
        expect(() => parseArgs(["nope"])).toThrow(
            'unknown example "nope"; known examples: byo-vhd-forced-tunnel, fleet-remediation, on-prem-kms, quickstart, sovereign-clouds, sovereign-clouds:china',
        );
    });
});

describe("npm run plan (the command users run)", () => {
    test("--json prints one valid JSON document", () => {
        const out = execFileSync("npm", ["run", "--silent", "plan", "--", "byo-vhd-forced-tunnel", "--json"], { cwd: ROOT, encoding: "utf8" });
        const parsed = JSON.parse(out);
        expect(parsed.example).toBe("byo-vhd-forced-tunnel");
        expect(parsed.routes.map((r: { name: string; addedByPackage: boolean }) => `${r.addedByPackage ? "+" : " "}${r.name}`)).toEqual([
            " spoke-default-to-nva",
            "+kms-20-118-99-224",
            "+kms-40-83-235-53",
            "+kms-23-102-135-246",
        ]);
        expect(parsed.activations[0]).toMatchObject({ vm: "legacy-app-01", kmsEndpoint: "20.118.99.224:1688", keySource: "detected" });
    });

    test("an unknown example: a clear error listing the known ones, and a non-zero exit", () => {
        const run = spawnSync("npm", ["run", "--silent", "plan", "--", "hub-and-spoke"], { cwd: ROOT, encoding: "utf8" });
        expect(run.status).toBe(2);
        expect(run.stderr).toContain('plan: unknown example "hub-and-spoke"; known examples: byo-vhd-forced-tunnel, fleet-remediation');
        expect(run.stdout).toBe("");
    });
});
