/**
 * The pure parts of `fleet`: which route tables, NSGs and firewall rule collection groups hold stale KMS addresses
 * (bodies shaped as RouteTableListAll.json, NetworkSecurityGroupListAll.json and
 * FirewallPolicyRuleCollectionGroupList.json of azure-rest-api-specs network 2025-07-01), and how a status is read
 * from extension and run command instance views.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { staleNsg, staleRouteTable, staleRuleCollectionGroup } from "../src/fleet/stale";
import { statusFromExtensions, statusFromRunCommand, statusOfOutput } from "../src/fleet/status";
import { mapLimit } from "../src/fleet/read";
import { planFleetReport } from "../src/fleet/planReport";
import type { Plan } from "../src/cli/plan";
import { AzureCloud } from "../src/types";
import { RESULT } from "./fleet/mock-fleet";

const RG = "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Network";
const table = (routes: [string, string, string][]) => ({
    name: "rt",
    id: `${RG}/routeTables/rt`,
    properties: { routes: routes.map(([name, prefix, hop]) => ({ name, properties: { addressPrefix: prefix, nextHopType: hop } })) },
});

describe("stale route tables", () => {
    it.each([
        ["only the legacy address", [["kms", "23.102.135.246/32", "Internet"]], ["23.102.135.246"], ["20.118.99.224", "40.83.235.53"]],
        ["the two new ones, not the legacy name's", [["a", "20.118.99.224/32", "Internet"], ["b", "40.83.235.53/32", "Internet"]], ["20.118.99.224", "40.83.235.53"], ["23.102.135.246"]],
        ["a /24 around one address", [["wide", "20.118.99.0/24", "Internet"]], ["20.118.99.224"], ["40.83.235.53", "23.102.135.246"]],
    ] as [string, [string, string, string][], string[], string[]][])("%s: listed", (_, routes, covers, missing) => {
        const found = staleRouteTable(table(routes), AzureCloud.AzurePublic)!;
        expect([found.covers, found.missing]).toEqual([covers, missing]);
        expect(found).toMatchObject({ kind: "route-table", name: "rt", subscriptionId: "s1", resourceGroup: "rg1" });
    });

    it.each([
        ["all three", [["a", "20.118.99.224/32", "Internet"], ["b", "40.83.235.53/32", "Internet"], ["c", "23.102.135.246/32", "Internet"]]],
        ["no KMS route at all", [["onprem", "10.0.0.0/8", "VirtualNetworkGateway"]]],
        // A default route covers every address: it is not a KMS route gone stale.
        ["only 0.0.0.0/0 to Internet", [["default", "0.0.0.0/0", "Internet"]]],
        // A KMS address sent to an appliance is not the KMS fix (next hop Internet); --paths judges that route.
        ["a KMS /32 to an appliance", [["kms", "23.102.135.246/32", "VirtualAppliance"]]],
    ] as [string, [string, string, string][]][])("%s: not listed", (_, routes) => {
        expect(staleRouteTable(table(routes), AzureCloud.AzurePublic)).toBeUndefined();
    });

    it("judges against the cloud asked for (US Government has two addresses)", () => {
        const found = staleRouteTable(table([["kms", "23.97.0.13/32", "Internet"]]), AzureCloud.AzureUSGovernment)!;
        expect([found.covers, found.missing]).toEqual([["23.97.0.13"], ["52.126.105.2"]]);
    });
});

describe("stale NSGs", () => {
    const nsg = (rule: Record<string, unknown>) => ({
        name: "nsg",
        id: `${RG}/networkSecurityGroups/nsg`,
        properties: { securityRules: [{ name: "allow-kms", properties: { protocol: "Tcp", sourcePortRange: "*", sourceAddressPrefix: "VirtualNetwork", access: "Allow", priority: 200, direction: "Outbound", destinationPortRange: "1688", ...rule } }] },
    });
    it("an outbound allow for 1688 to the legacy address only is listed with what to add", () => {
        const found = staleNsg(nsg({ destinationAddressPrefix: "23.102.135.246" }), AzureCloud.AzurePublic)!;
        expect(found).toEqual({
            kind: "nsg",
            id: `${RG}/networkSecurityGroups/nsg`,
            name: "nsg",
            subscriptionId: "s1",
            resourceGroup: "rg1",
            rules: ["allow-kms (priority 200) → 23.102.135.246:1688"],
            covers: ["23.102.135.246"],
            missing: ["20.118.99.224", "40.83.235.53"],
            fix: 'add 20.118.99.224, 40.83.235.53 to the destination of rule "allow-kms" in NSG "nsg" (TCP 1688, outbound Allow)',
        });
    });
    it.each([
        ["all three addresses", { destinationAddressPrefixes: ["20.118.99.224", "40.83.235.53", "23.102.135.246"] }],
        ["another port", { destinationAddressPrefix: "23.102.135.246", destinationPortRange: "443" }],
        ["inbound", { destinationAddressPrefix: "23.102.135.246", direction: "Inbound" }],
        ["a deny", { destinationAddressPrefix: "23.102.135.246", access: "Deny" }],
        ["UDP", { destinationAddressPrefix: "23.102.135.246", protocol: "Udp" }],
        ["a service tag", { destinationAddressPrefix: "Internet" }],
    ])("%s: not listed", (_, rule) => {
        expect(staleNsg(nsg(rule), AzureCloud.AzurePublic)).toBeUndefined();
    });
});

describe("stale firewall policy rule collection groups", () => {
    const group = (rule: Record<string, unknown>, action = "Allow") => ({
        name: "rcg",
        id: "/subscriptions/s1/resourceGroups/rg-hub/providers/Microsoft.Network/firewallPolicies/fwpol/ruleCollectionGroups/rcg",
        properties: {
            priority: 110,
            ruleCollections: [{ name: "kms", ruleCollectionType: "FirewallPolicyFilterRuleCollection", priority: 120, action: { type: action }, rules: [{ name: "kms-rule", ruleType: "NetworkRule", sourceAddresses: ["10.1.0.0/16"], ipProtocols: ["TCP"], destinationPorts: ["1688"], ...rule }] }],
        },
    });
    it("a network rule to the legacy address only is listed", () => {
        const found = staleRuleCollectionGroup(group({ destinationAddresses: ["23.102.135.246"] }), AzureCloud.AzurePublic)!;
        expect(found.name).toBe("fwpol/rcg");
        expect(found.rules).toEqual(["kms/kms-rule → 23.102.135.246:1688"]);
        expect(found.missing).toEqual(["20.118.99.224", "40.83.235.53"]);
        expect(found.fix).toBe('add 20.118.99.224, 40.83.235.53 to the destination addresses of network rule "kms-rule" (collection "kms") in firewall policy "fwpol", group "rcg" (or deploy KmsFirewallRules)');
    });
    it.each([
        ["every address", group({ destinationAddresses: ["20.118.99.224", "40.83.235.53", "23.102.135.246"] })],
        ["a deny collection", group({ destinationAddresses: ["23.102.135.246"] }, "Deny")],
        ["an application rule", group({ ruleType: "ApplicationRule", destinationAddresses: ["23.102.135.246"] })],
        ["port 443", group({ destinationAddresses: ["23.102.135.246"], destinationPorts: ["443"] })],
    ])("%s: not listed", (_, body) => {
        expect(staleRuleCollectionGroup(body, AzureCloud.AzurePublic)).toBeUndefined();
    });
});

describe("status from instance views", () => {
    const stdout = (message: string) => [{ code: "ComponentStatus/StdOut/succeeded", message }];
    it("our extension's result line gives the status and the parser's diagnosis", () => {
        const read = statusFromExtensions([{ name: "KmsActivation", type: "Microsoft.Compute.CustomScriptExtension", substatuses: stdout(RESULT.pending) }])!;
        expect([read.status, read.source, read.result?.codes]).toEqual(["pending", "extension", ["0xC004F074"]]);
        expect(read.diagnosis).toContain(
            "TCP 20.118.99.224 port 1688 timed out (silently dropped): forced tunnel (add /32 Internet routes), NSG or guest firewall deny, NVA or Azure Firewall without a network rule, or private subnet without explicit outbound (NAT gateway)",
        );
    });
    it("another extension whose output holds our line counts; one without it does not", () => {
        expect(statusFromExtensions([{ name: "cse-by-hand", substatuses: stdout(RESULT.licensed) }])?.status).toBe("licensed");
        expect(statusFromExtensions([{ name: "cse-other", substatuses: stdout("hello") }])).toBeUndefined();
        expect(statusFromExtensions(undefined)).toBeUndefined();
    });
    it("a line that is not JSON is unknown, said, never a guess", () => {
        expect(statusOfOutput("KMS_ACTIVATION_RESULT {not json", "extension", "extension KmsActivation")).toEqual({
            status: "unknown",
            source: "extension",
            diagnosis: ["extension KmsActivation: KMS_ACTIVATION_RESULT: the line is not valid JSON: {not json"],
        });
    });
    it.each([
        [{ executionState: "Running", output: "" }, "unknown", "run command KmsActivation is Running: no result yet"],
        [{ executionState: "Succeeded", output: RESULT.activated }, "activated", undefined],
        [{ executionState: "Failed", output: "", error: "Exception calling Activate\r\nmore" }, "unknown", "run command KmsActivation error output: Exception calling Activate"],
    ])("managed run command %j → %s", (view, status, last) => {
        const read = statusFromRunCommand(view);
        expect(read.status).toBe(status);
        expect(read.diagnosis.at(-1)).toBe(last);
    });
});

describe("mapLimit", () => {
    it("keeps the order of the input and never more than the limit at once", async () => {
        let open = 0;
        let most = 0;
        const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n) => {
            most = Math.max(most, ++open);
            await new Promise((r) => setTimeout(r, n * 3));
            open--;
            return n * 10;
        });
        expect(out).toEqual([50, 10, 40, 20, 30, 0]);
        expect(most).toBe(2);
    });
});

describe("a plan's own KMS routes and rules, checked like a fleet's", () => {
    it("lists a planned route table, NSG and firewall group that name only the legacy address", () => {
        const plan = {
            project: "p",
            stack: "dev",
            reachability: [],
            activations: [],
            routes: [{ routeTable: "rt-old", name: "kms", addressPrefix: "23.102.135.246/32", nextHop: "Internet", addedByPackage: false }],
            securityRules: [{ networkSecurityGroup: "nsg-old", name: "kms", priority: 300, direction: "Outbound", access: "Allow", protocol: "Tcp", source: "*", destinations: ["23.102.135.246"], ports: "1688", addedByPackage: false }],
            firewallRules: [
                { firewallPolicy: "fw", ruleCollectionGroup: "rcg", groupPriority: 100, ruleCollection: "c", collectionPriority: 100, action: "Allow", name: "kms", ruleType: "NetworkRule", protocols: ["TCP"], sources: ["10.0.0.0/8"], destinations: ["23.102.135.246"], ports: ["1688"], addedByPackage: false },
            ],
        } as unknown as Plan;
        const report = planFleetReport(plan);
        expect(report.stale.map((r) => [r.kind, r.name, r.missing])).toEqual([
            ["route-table", "rt-old", ["20.118.99.224", "40.83.235.53"]],
            ["nsg", "nsg-old", ["20.118.99.224", "40.83.235.53"]],
            ["firewall-policy", "fw/rcg", ["20.118.99.224", "40.83.235.53"]],
        ]);
        expect(report.summary.stale).toBe(3);
    });
});

describe("the Azure SDK is loaded only by fleet", () => {
    it("loading the package and the command line (plan, audit) loads no @azure/* module", () => {
        const root = path.join(__dirname, "..");
        const script = [
            `require("ts-node").register({ transpileOnly: true, project: ${JSON.stringify(path.join(root, "tsconfig.json"))} });`,
            `require(${JSON.stringify(path.join(root, "src", "index.ts"))});`,
            `require(${JSON.stringify(path.join(root, "src", "cli", "main.ts"))});`,
            `const loaded = Object.keys(require.cache).filter((f) => f.includes("node_modules/@azure/"));`,
            `const { fleetClients } = require(${JSON.stringify(path.join(root, "src", "fleet", "clients.ts"))});`,
            `fleetClients({ credential: { getToken: async () => null }, cloud: "AzurePublic" }).compute("s");`,
            `const after = Object.keys(require.cache).some((f) => f.includes("node_modules/@azure/arm-compute/"));`,
            `process.stdout.write(JSON.stringify({ loaded, after }));`,
        ].join("\n");
        const r = spawnSync(process.execPath, ["-e", script], { cwd: root, encoding: "utf8" });
        expect(r.stderr).toBe("");
        expect(JSON.parse(r.stdout)).toEqual({ loaded: [], after: true });
    });
});
