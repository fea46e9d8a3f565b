import { execFileSync, spawnSync } from "child_process";
import { readFileSync } from "fs";
import * as path from "path";
import { droppingExitListeners, isolatedRequire } from "./harness";
import { runExample } from "../src/cli/examples";
import { buildPlan, parseArgs, Plan, renderMermaid, renderText } from "../src/cli/plan";
import { readProgramFolder, runProgram } from "../src/cli/program";
import { PlanAddress, PlanVmReachability, renderReachability, stackResources } from "../src/cli/reachability";
import { kmsActivationPolicies, KmsActivationPolicy } from "../src/policy";
import { runStack } from "./policy-args";

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
        expect(text).toMatch(/guest script: [\d,]+ characters; command line [\d,]+ of 8,191\n(?:        waits for: .*\n)?        activationStatus: known after deploy\n/);
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
        // As in the README's diagram: the guest activation waits for the KMS routes and the NSG rule, and for the subnet
        // the subnet check reads before it judges the path.
        expect(mermaid.split("\n").filter((l) => l.includes("activation waits for"))).toEqual([
            "    r_kms_net_kms_route_20_118_99_224 -. activation waits for .-> r_kms_vm_01_activation_extension",
            "    r_kms_net_kms_route_40_83_235_53 -. activation waits for .-> r_kms_vm_01_activation_extension",
            "    r_kms_net_kms_route_23_102_135_246 -. activation waits for .-> r_kms_vm_01_activation_extension",
            "    r_kms_net_kms_rule -. activation waits for .-> r_kms_vm_01_activation_extension",
            "    r_kms_net_subnet -. activation waits for .-> r_kms_vm_01_activation_extension",
        ]);
    });

    test("arguments: example or folder, --stack, --config, one of --json and --mermaid; anything else is refused with the fix", () => {
        const base = { isFolder: false, stack: undefined, config: {}, secretConfig: {}, strict: false };
        expect(parseArgs([])).toEqual({ ...base, target: "quickstart", format: "text" });
        expect(parseArgs(["on-prem-kms", "--json"])).toEqual({ ...base, target: "on-prem-kms", format: "json" });
        expect(parseArgs(["--mermaid", "sovereign-clouds:china"])).toEqual({ ...base, target: "sovereign-clouds:china", format: "mermaid" });
        expect(parseArgs([".", "--stack", "dev", "--config", "location=northeurope", "--config=vms=[\"a\"]", "--json"])).toEqual({
            target: ".",
            isFolder: true,
            stack: "dev",
            config: { location: "northeurope", vms: '["a"]' },
            secretConfig: {},
            format: "json",
            strict: false,
        });
        expect(parseArgs(["--secret-config", "adminPassword=p", "--secret-config=token=t"]).secretConfig).toEqual({ adminPassword: "p", token: "t" });
        expect(parseArgs(["--strict", "hub-firewall"])).toEqual({ ...base, target: "hub-firewall", format: "text", strict: true });
        expect(() => parseArgs(["--strict=yes"])).toThrow("--strict takes no value");
        expect(parseArgs(["--stack=usgov", "../infra"])).toMatchObject({ target: "../infra", isFolder: true, stack: "usgov" });
        expect(() => parseArgs(["--yaml"])).toThrow("unknown option --yaml");
        expect(() => parseArgs(["--json", "--mermaid"])).toThrow("--json and --mermaid cannot be used together; pick one");
        expect(() => parseArgs(["--stack"])).toThrow("--stack needs a value");
        expect(() => parseArgs(["--stack", "a", "--stack", "b"])).toThrow("--stack given twice; plan one stack at a time");
        expect(() => parseArgs(["--config", "location"])).toThrow("--config location: expected <key>=<value>");
        expect(() => parseArgs(["quickstart", "on-prem-kms"])).toThrow('one program at a time: got "quickstart" and "on-prem-kms"');
        expect(() => parseArgs(["nope"])).toThrow(
            'unknown example "nope"; known examples: byo-vhd-forced-tunnel, fleet-remediation, hub-firewall, on-prem-kms, quickstart, scale-set, sovereign-clouds, sovereign-clouds:china (a folder: ./nope)',
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
        // Forced tunnel to the NVA, yet reachable: each KMS /32 to Internet beats the 0/0, the allow (200) comes before
        // the deny (4000), and the packet leaves from the NAT gateway.
        const [vm] = parsed.reachability as PlanVmReachability[];
        expect(vm).toMatchObject({ vm: "legacy-app-01", subnet: "spoke-workloads", verdict: "reachable" });
        for (const a of vm.addresses) {
            expect(a.route).toMatchObject({ route: { name: `kms-${a.address.replace(/\./g, "-")}`, nextHopType: "Internet" }, why: "longest matching prefix (/32)" });
            expect(a.steps.map((s) => `${s.rule} ${s.outcome} ${s.element}`)).toEqual([
                `R1 pass user route "kms-${a.address.replace(/\./g, "-")}" of route table "spoke-routes" (${a.address}/32 -> Internet)`,
                "N1 pass NIC NSG",
                'N1 pass NSG "spoke-nsg" rule "allow-kms-tcp-1688-out"',
                'E1 pass NAT gateway "spoke-nat"',
            ]);
            expect(a.publicIpSource).toBe('public IP "spoke-nat-ip" (address assigned by Azure at deployment)');
        }
    });

    test("hub-firewall as text: both VMs reachable through the firewall's network rule", () => {
        const out = execFileSync("npm", ["run", "--silent", "plan", "--", "hub-firewall"], { cwd: ROOT, encoding: "utf8" });
        expect(out).toContain("    VMs app-01, app-02 in subnet spoke-workloads -> KMS azkms.core.windows.net:1688 (AzurePublic): REACHABLE (3 of 3 KMS addresses reachable)");
        expect(out).toContain('network rule "allow-kms-tcp-1688" (collection "allow-kms-activation", group "kms-activation") allows TCP 1688 to <address>');
        expect(out).toContain("        20.118.99.224, 40.83.235.53, 23.102.135.246 (port 1688)  reachable, each on the same path (<address> below):");
    });

    test("an unknown example: a clear error listing the known ones, and a non-zero exit", () => {
        const run = spawnSync("npm", ["run", "--silent", "plan", "--", "hub-and-spoke"], { cwd: ROOT, encoding: "utf8" });
        expect(run.status).toBe(2);
        expect(run.stderr).toContain('plan: unknown example "hub-and-spoke"; known examples: byo-vhd-forced-tunnel, fleet-remediation');
        expect(run.stdout).toBe("");
    });
});

const KMS_IPS = ["20.118.99.224", "40.83.235.53", "23.102.135.246"];
const rulesOf = (a: { steps: { rule: string; outcome: string }[] }) => a.steps.map((s) => `${s.rule} ${s.outcome}`);
const reachabilityText = (p: Plan) => {
    const text = renderText(p);
    return text.slice(text.indexOf("KMS reachability"), text.indexOf("\nThis was an offline plan"));
};
/** A program folder planned in this process; the package name maps to src/ through jest. */
async function planFolder(folder: string) {
    const run = await droppingExitListeners(() => runProgram(readProgramFolder(path.join(ROOT, folder), folder), isolatedRequire));
    return { run, plan: buildPlan(run) };
}

describe("plan: each Windows VM's KMS verdict and path (the reachability engine, the policy's own resolution)", () => {
    test("quickstart: reachable by the /32 Internet routes, the subnet NSG's allow and the NAT gateway with its public IP", () => {
        expect(plan.reachability).toHaveLength(1);
        const [vm] = plan.reachability;
        expect(vm).toMatchObject({ vm: "kms-vm-01", inProgram: true, subnet: "kms-net-subnet", verdict: "reachable", unseen: [], blame: null, assuming: null });
        expect(vm.kms).toEqual({ endpoint: "azkms.core.windows.net:1688", source: "AzurePublic", custom: false, addresses: KMS_IPS });
        expect(vm.addresses.map((a) => [a.address, a.verdict, a.route?.route.name, a.route?.why, a.egress, a.publicIpSource])).toEqual(
            KMS_IPS.map((ip) => [ip, "reachable", `kms-${ip.replace(/\./g, "-")}`, "longest matching prefix (/32)", 'NAT gateway "kms-net-nat"', 'public IP "kms-net-nat-ip" (address assigned by Azure at deployment)']),
        );
        expect(rulesOf(vm.addresses[0])).toEqual(["R1 pass", "N1 pass", "N1 pass", "E1 pass"]);
        const text = reachabilityText(plan);
        expect(text).toContain("    VM kms-vm-01 in subnet kms-net-subnet -> KMS azkms.core.windows.net:1688 (AzurePublic): REACHABLE (3 of 3 KMS addresses reachable)");
        // Three paths that differ only by the address (each its own /32 route): one block, the addresses listed.
        expect(text).toContain("        20.118.99.224, 40.83.235.53, 23.102.135.246 (port 1688)  reachable, each on the same path (<address> below):");
        expect(text).toContain('            [R1] ok      user route "kms-<address>" of route table "kms-net-routes" (<address>/32 -> Internet) carries <address>: longest matching prefix (/32).');
        expect(text).toContain('            [N1] ok      subnet NSG: NSG "kms-net-nsg" rule "allow-kms-tcp-1688-out" (priority 100) allows TCP 1688 to <address>.');
        expect(text.match(/\[R1\]/g)).toHaveLength(1);
        expect(text).toContain('            egress: NAT gateway "kms-net-nat", public IP "kms-net-nat-ip" (address assigned by Azure at deployment)');
        expect(text).not.toMatch(/blocked|UNKNOWN|not seen offline/);
    });

    test("byo-vhd-forced-tunnel (IpAddress host form): every address the guest tries is named, in the activation and the verdict", async () => {
        const byo = buildPlan(await runExample("byo-vhd-forced-tunnel"));
        expect(byo.activations.map((a) => [a.vm, a.kmsEndpoint, a.kmsHosts])).toEqual([["legacy-app-01", "20.118.99.224:1688", KMS_IPS]]);
        const text = renderText(byo);
        expect(text).toContain(`    VM legacy-app-01: CustomScriptExtension -> slmgr /skms <the first of ${KMS_IPS.join(", ")} that accepts TCP>:1688`);
        expect(text).toContain(
            `    VM legacy-app-01 in subnet spoke-workloads -> KMS ${KMS_IPS.join(", ")} port 1688 (AzurePublic; IpAddress host form: the guest uses the first that accepts TCP): REACHABLE (3 of 3 KMS addresses reachable)`,
        );
    });

    test("only paths that differ get lines of their own: two addresses on /32 routes fold, the third on the forced tunnel stands alone", () => {
        const step = (rule: string, outcome: "pass" | "block", detail: string) => ({ rule, kind: "route", element: "e", outcome, detail }) as PlanAddress["steps"][number];
        const onRoute = (ip: string): PlanAddress => ({
            address: ip,
            port: 1688,
            verdict: "reachable",
            steps: [step("R1", "pass", `user route "kms-${ip.replace(/\./g, "-")}" (${ip}/32 -> Internet) carries ${ip}.`)],
            egress: 'NAT gateway "nat"',
            publicIpSource: null,
        }) as PlanAddress;
        const tunnelled: PlanAddress = {
            address: KMS_IPS[2],
            port: 1688,
            verdict: "blocked",
            steps: [step("R3", "block", `user route "default" (0.0.0.0/0 -> VirtualNetworkGateway) carries ${KMS_IPS[2]}.`)],
            publicIpSource: null,
        } as PlanAddress;
        const vm: PlanVmReachability = {
            vm: "app-01",
            inProgram: true,
            subnet: "spoke",
            kms: { endpoint: "azkms.core.windows.net:1688", source: "AzurePublic", custom: false, addresses: KMS_IPS },
            verdict: "blocked",
            addresses: [onRoute(KMS_IPS[0]), onRoute(KMS_IPS[1]), tunnelled],
            unseen: [],
            blame: null,
            assuming: null,
        };
        expect(renderReachability([vm])).toEqual([
            "    VM app-01 in subnet spoke -> KMS azkms.core.windows.net:1688 (AzurePublic): BLOCKED (2 of 3 KMS addresses reachable)",
            `        ${KMS_IPS[0]}, ${KMS_IPS[1]} (port 1688)  reachable, each on the same path (<address> below):`,
            '            [R1] ok      user route "kms-<address>" (<address>/32 -> Internet) carries <address>.',
            '            egress: NAT gateway "nat"',
            `        ${KMS_IPS[2]}:1688  blocked`,
            `            [R3] BLOCKS  user route "default" (0.0.0.0/0 -> VirtualNetworkGateway) carries ${KMS_IPS[2]}.`,
        ]);
    });

    test("hub-firewall: both VMs reachable through the Azure Firewall's network rule from KmsFirewallRules, on the spoke's 0/0 to its private IP", async () => {
        const hub = buildPlan(await runExample("hub-firewall"));
        expect(hub.reachability.map((v) => [v.vm, v.subnet, v.verdict])).toEqual([
            ["app-01", "spoke-workloads", "reachable"],
            ["app-02", "spoke-workloads", "reachable"],
        ]);
        // The rule that lets it through is the package's (KmsFirewallRules' group), not one of the program's own.
        const kmsRule = hub.firewallRules.find((r) => r.addedByPackage);
        expect(kmsRule).toMatchObject({ ruleCollectionGroup: "kms-activation", ruleCollection: "allow-kms-activation", name: "allow-kms-tcp-1688", ruleType: "NetworkRule" });
        for (const vm of hub.reachability) {
            expect(vm.addresses.map((a) => a.address)).toEqual(KMS_IPS);
            for (const a of vm.addresses) {
                expect(a.verdict).toBe("reachable");
                expect(a.route?.route).toMatchObject({ name: "spoke-default-to-firewall", routeTable: "spoke-routes", nextHopType: "VirtualAppliance", nextHopIpAddress: "10.100.0.4" });
                expect(rulesOf(a)).toEqual(["R3 pass", "N1 pass", "N1 pass", "E3 pass"]);
                expect(a.steps[3]).toMatchObject({
                    kind: "firewall",
                    element: 'Azure Firewall "hub-firewall" (policy "hub-firewall-policy") rule "allow-kms-tcp-1688" (collection "allow-kms-activation", group "kms-activation")',
                });
                expect(a.egress).toBe('Azure Firewall "hub-firewall" (policy "hub-firewall-policy") (SNAT to its public IP)');
                expect(a.publicIpSource).toBe('public IP "hub-firewall-ip" (address assigned by Azure at deployment)');
            }
        }
        const text = reachabilityText(hub);
        expect(text).toContain("    VMs app-01, app-02 in subnet spoke-workloads -> KMS azkms.core.windows.net:1688 (AzurePublic): REACHABLE (3 of 3 KMS addresses reachable)");
        expect(text).toContain(
            '            [E3] ok      Azure Firewall "hub-firewall" (policy "hub-firewall-policy") at 10.100.0.4: network rule "allow-kms-tcp-1688" (collection "allow-kms-activation", group "kms-activation") allows TCP 1688 to <address>; it SNATs to its public IP, an Azure public IP.',
        );
        expect(text).toContain('            egress: Azure Firewall "hub-firewall" (policy "hub-firewall-policy") (SNAT to its public IP), public IP "hub-firewall-ip" (address assigned by Azure at deployment)');
        // The README's sample is this output, line for line.
        const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
        const sample = [...readme.matchAll(/```\n(KMS reachability \(the reachability engine[^`]*?)```/g)].map((m) => m[1]);
        expect(sample).toHaveLength(1);
        const shown = sample[0].split("\n").filter((l) => l !== "" && l !== "...");
        expect(shown.length).toBeGreaterThanOrEqual(8);
        expect(text.split("\n")).toEqual(expect.arrayContaining(shown));
        const mermaid = renderMermaid(hub);
        expect(mermaid).toContain('    k0_vm["VM app-01"]');
        expect(mermaid).toContain('    k0_2 -- "[E3] pass" --> k0_3');
        expect(mermaid).toContain('    k0_3 -- "reachable" --> k0_kms');
    });

    test("on-prem-kms: the hub gateway's routes are not in the program, so unknown; reachable by K1 under the one assumption they must meet", async () => {
        const onPrem = buildPlan(await runExample("on-prem-kms"));
        expect(onPrem.reachability).toHaveLength(1);
        const [vm] = onPrem.reachability;
        expect(vm).toMatchObject({ vm: "app-01", subnet: "spoke-subnet", verdict: "unknown" });
        expect(vm.kms).toEqual({ endpoint: "kms01.corp.contoso.com:1688", source: "customKmsServer", custom: true, addresses: ["10.50.0.10/32", "10.50.0.11/32"] });
        expect(vm.unseen).toEqual([
            'the routes the gateway of virtual network "vnet-hub" (peering "spoke-to-hub" uses remote gateways) gives subnet "spoke-subnet" (learned by Azure from on-premises; the program cannot hold them)',
        ]);
        expect(vm.addresses.map((a) => [a.verdict, a.blame?.rule, rulesOf(a)])).toEqual([
            ["unknown", "R1", ["R1 unknown", "N1 pass", "N1 pass"]],
            ["unknown", "R1", ["R1 unknown", "N1 pass", "N1 pass"]],
        ]);
        expect(vm.assuming?.verdict).toBe("reachable");
        expect(vm.assuming?.condition).toContain("routes 10.50.0.10/32, 10.50.0.11/32 on-premises");
        for (const a of vm.assuming?.addresses ?? []) {
            expect(rulesOf(a)).toEqual(["K1 pass", "N1 pass", "N1 pass"]);
            expect(a.steps[2].detail).toContain('NSG "spoke-nsg" rule "allow-kms-tcp-1688-out" (priority 100) allows TCP 1688');
            expect(a.egress).toBe("VirtualNetworkGateway (private path)");
        }
        const text = reachabilityText(onPrem);
        expect(text).toContain("    VM app-01 in subnet spoke-subnet -> on-premises KMS kms01.corp.contoso.com:1688 (customKmsServer): UNKNOWN (0 of 2 KMS addresses reachable)");
        expect(text).toContain('        not seen offline: the routes the gateway of virtual network "vnet-hub"');
        expect(text).toMatch(/        if the gateway of virtual network "vnet-hub" .* routes 10\.50\.0\.10\/32, 10\.50\.0\.11\/32 on-premises .*: REACHABLE\n/);
        expect(text).toContain("                [K1] ok      BGP route 10.50.0.10/32, 10.50.0.11/32 -> VirtualNetworkGateway (learned from the gateway) carries 10.50.0.10/32");
    });

    test("fleet-remediation: VMs the program only names (KmsActivation by name) are unknown, never reachable", async () => {
        const fleet = buildPlan(await runExample("fleet-remediation"));
        expect(fleet.reachability.map((v) => [v.vm, v.inProgram, v.verdict, v.addresses.length])).toEqual([
            ["app-01", false, "unknown", 0],
            ["sql-01", false, "unknown", 0],
            ["web-01", false, "unknown", 0],
        ]);
        expect(fleet.reachability[0].blame?.element).toBe('VM "app-01": outside the program (a KmsActivation names it), so its NIC, subnet, route table and NSGs are not seen offline');
        expect(fleet.reachability[0].blame?.fix).toContain("azure-kms-activation audit");
        expect(reachabilityText(fleet)).toContain("    VM app-01 -> KMS azkms.core.windows.net:1688 (AzurePublic): UNKNOWN\n        not seen offline: VM \"app-01\": outside the program");
    });
});

describe("plan on programs whose path is blocked or not visible offline", () => {
    const reachabilityPolicy = kmsActivationPolicies.find((p) => p.name === "kms-reachability") as KmsActivationPolicy;

    test("a hub firewall with only an application rule for KMS: blocked, blaming the firewall's rule, with the fix; the policy reports the same", async () => {
        const { run, plan: blocked } = await planFolder("test/fixtures/hub-firewall-app-rule");
        expect(blocked.reachability.map((v) => [v.vm, v.verdict])).toEqual([["app-01", "blocked"]]);
        for (const a of blocked.reachability[0].addresses) {
            expect(a.verdict).toBe("blocked");
            expect(rulesOf(a)).toEqual(["R3 pass", "N1 pass", "N1 pass", "E3 block"]);
            expect(a.blame).toMatchObject({
                rule: "E3",
                kind: "firewall",
                element: 'Azure Firewall "hub-firewall" (policy "hub-firewall-policy") rule "allow-kms-by-name" (collection "allow-windows-services", group "spoke-web")',
            });
            expect(a.blame?.fix).toContain(`add a network rule (not an application rule) allowing TCP 1688 to ${a.address} from the VM's subnet to a rule collection group of policy "hub-firewall-policy" (KmsFirewallRules adds one)`);
            expect(a.egress).toBeUndefined();
            expect(a.publicIpSource).toBeNull();
        }
        const text = reachabilityText(blocked);
        expect(text).toContain("    VM app-01 in subnet spoke-workloads -> KMS azkms.core.windows.net:1688 (AzurePublic): BLOCKED (0 of 3 KMS addresses reachable)");
        expect(text).toContain('            [E3] BLOCKS  Azure Firewall "hub-firewall" (policy "hub-firewall-policy") at 10.100.0.4: only application rule "allow-kms-by-name"');
        expect(text).toContain('            blame: [E3] Azure Firewall "hub-firewall" (policy "hub-firewall-policy") rule "allow-kms-by-name"');
        // One engine, one resolution: the policy pack judges the same resources the same way.
        const reported = await runStack(reachabilityPolicy, stackResources(run.harness));
        expect(reported).toHaveLength(1);
        expect(reported[0].message).toContain('Windows VM "app-01" cannot reach Azure KMS (AzurePublic) on TCP 1688: 20.118.99.224:1688 is blocked by Azure Firewall "hub-firewall"');
    });

    test("a spoke the program only names by ID: unknown, saying what it could not see; never reachable", async () => {
        const { plan: brownfield } = await planFolder("test/fixtures/existing-spoke");
        const byVm = Object.fromEntries(brownfield.reachability.map((v) => [v.vm, v])) as Record<string, PlanVmReachability>;
        const sub = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-spoke/providers/Microsoft.Network";
        expect(byVm["app-01"]).toMatchObject({ verdict: "unknown", subnet: null, addresses: [] });
        expect(byVm["app-01"].unseen).toEqual([`subnet "workloads": outside the program (named by ID ${sub}/virtualNetworks/vnet-spoke/subnets/workloads)`]);
        expect(byVm["app-01"].blame?.element).toBe(byVm["app-01"].unseen[0]);
        expect(byVm["app-02"]).toMatchObject({ verdict: "unknown", subnet: "batch" });
        expect(byVm["app-02"].unseen).toEqual([
            `route table "rt-spoke": outside the program (named by ID ${sub}/routeTables/rt-spoke); this program adds to it, but its other contents are not known`,
            `subnet NSG "nsg-spoke": outside the program (named by ID ${sub}/networkSecurityGroups/nsg-spoke); this program adds to it, but its other contents are not known`,
        ]);
        expect(byVm["app-02"].addresses.map((a) => [a.verdict, rulesOf(a)])).toEqual(KMS_IPS.map(() => ["unknown", ["R1 unknown", "N1 pass", "N1 unknown"]]));
        const text = reachabilityText(brownfield);
        expect(text).toContain("    VM app-01 -> KMS azkms.core.windows.net:1688 (AzurePublic): UNKNOWN\n");
        expect(text).toContain('    VM app-02 in subnet batch -> KMS azkms.core.windows.net:1688 (AzurePublic): UNKNOWN (0 of 3 KMS addresses reachable)');
        expect(text).toContain('        not seen offline: route table "rt-spoke": outside the program');
        expect(text).not.toMatch(/reachable\n|REACHABLE/);
    });
});
