import * as fs from "fs";
import * as path from "path";
import { runAudit } from "../src/cli/audit";
import {
    AzureJsonError,
    cloudKmsDestination,
    decideReachability,
    effectiveNsgsFromJson,
    effectiveRoutesFromJson,
    nicFromJson,
    pathFactsFromArm,
    subnetFromJson,
} from "../src/reachability";

const DIR = path.join(__dirname, "fixtures", "azure");
const SPEC = path.join(DIR, "spec-examples");
const BGP = path.join(DIR, "bgp-forced-tunnel");
const read = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));

function audit(...argv: string[]): { code: number; out: string; err: string } {
    let out = "";
    let err = "";
    const code = runAudit(argv, { out: (s) => (out += s), err: (s) => (err += s), readFile: (p) => fs.readFileSync(p, "utf8") });
    return { code, out, err };
}

const specArgs = ["--routes", path.join(SPEC, "NetworkInterfaceEffectiveRouteTableList.json"), "--nsgs", path.join(SPEC, "NetworkInterfaceEffectiveNSGList.json")];
const bgpArgs = (routes: string) => ["--routes", path.join(BGP, routes), "--nsgs", path.join(BGP, "effective-nsgs.json"), "--subnet", path.join(BGP, "subnet-show.json"), "--nic", path.join(BGP, "nic-show.json")];

describe("Azure JSON to engine input", () => {
    test("Azure's effective route table example: six system routes, prefixes and states kept", () => {
        const routes = effectiveRoutesFromJson(read(path.join(SPEC, "NetworkInterfaceEffectiveRouteTableList.json")), "routes");
        expect(routes).toHaveLength(6);
        expect(routes[1]).toEqual({ source: "Default", state: "Active", addressPrefixes: ["0.0.0.0/0"], nextHopType: "Internet" });
    });

    test("the REST body, the bare array and the spec example read the same", () => {
        const example = read(path.join(SPEC, "NetworkInterfaceEffectiveRouteTableList.json"));
        const body = example.responses["200"].body;
        const a = effectiveRoutesFromJson(example, "f");
        expect(effectiveRoutesFromJson(body, "f")).toEqual(a);
        expect(effectiveRoutesFromJson(body.value, "f")).toEqual(a);
    });

    test("Azure's effective NSG example: one NSG, rule names without their prefix, protocol All, the expanded tag kept", () => {
        const { nicNsg, subnetNsg } = effectiveNsgsFromJson(read(path.join(SPEC, "NetworkInterfaceEffectiveNSGList.json")), "nsgs");
        expect(subnetNsg).toBeNull();
        expect(nicNsg?.name).toBe("test-nsg");
        expect(nicNsg?.rules[2]).toEqual({
            name: "defaultSecurityRules/AllowInternetOutBound",
            priority: 65001,
            direction: "Outbound",
            access: "Allow",
            protocol: "All",
            sourceAddressPrefixes: ["0.0.0.0/0"],
            sourcePortRanges: ["0-65535"],
            destinationAddressPrefixes: ["Internet"],
            destinationPortRanges: ["0-65535"],
            expandedDestinationAddressPrefixes: ["32.0.0.0/3", "4.0.0.0/6", "2.0.0.0/7", "1.0.0.0/8"],
        });
    });

    test("an NSG associated with the subnet goes to the subnet layer", () => {
        const { nicNsg, subnetNsg } = effectiveNsgsFromJson(read(path.join(BGP, "effective-nsgs.json")), "nsgs");
        expect(nicNsg).toBeNull();
        expect(subnetNsg?.name).toBe("nsg-spoke");
    });

    test("subnet and NIC: NAT gateway, private subnet, public IP, load-balancer pools", () => {
        expect(subnetFromJson(read(path.join(BGP, "subnet-show.json")), "s")).toEqual({
            subnetName: "snet-app",
            natGateway: { name: "nat-spoke" },
            defaultOutboundAccess: false,
            nsgName: "nsg-spoke",
            routeTableName: "rt-spoke",
        });
        expect(subnetFromJson({ name: "s", addressPrefix: "10.0.0.0/24" }, "s").defaultOutboundAccess).toBe(true);
        expect(nicFromJson(read(path.join(BGP, "nic-show.json")), "n")).toEqual({ nicName: "vm-app-01-nic", privateIpAddress: "10.1.0.4", nicPublicIp: null, loadBalancerOutbound: null });
        const withPip = nicFromJson({ ipConfigurations: [{ privateIPAddress: "10.0.0.4", publicIPAddress: { id: "/x/publicIPAddresses/pip-1" }, loadBalancerBackendAddressPools: [{ id: "/x/backendAddressPools/p" }] }] }, "n");
        expect(withPip).toEqual({ privateIpAddress: "10.0.0.4", nicPublicIp: { name: "pip-1" } });
    });

    test.each([
        [() => effectiveRoutesFromJson({ foo: 1 }, "--routes file \"r.json\""), '--routes file "r.json": not the output of az network nic show-effective-route-table (expected {"value": [...]} or the array the CLI prints)'],
        [() => effectiveRoutesFromJson({ value: [{ addressPrefix: ["0.0.0.0/0"] }] }, "r"), "r: route 1 has no addressPrefix or nextHopType; expected the output of az network nic show-effective-route-table"],
        [() => effectiveRoutesFromJson({ value: [] }, "r"), "r: no routes listed; every NIC has system routes: this is not a NIC's effective route table (az network nic show-effective-route-table)"],
        [() => effectiveRoutesFromJson([], "r"), "r: no routes listed; every NIC has system routes"],
        [() => effectiveNsgsFromJson({ value: [{ networkSecurityGroup: {} }] }, "n"), "n: NSG 1 has no effectiveSecurityRules; expected the output of az network nic list-effective-nsg"],
        [() => effectiveNsgsFromJson({ value: [1, 2, 3].map(() => ({ effectiveSecurityRules: [] })) }, "n"), "n: 3 NSGs listed; a NIC has at most two (its own and its subnet's)"],
        [() => subnetFromJson([], "s"), "s: not the output of az network vnet subnet show (expected an object with addressPrefix and a subnet id)"],
        [() => nicFromJson({ name: "nic" }, "c"), "c: not the output of az network nic show (expected an object with ipConfigurations)"],
    ])("another shape is refused: %#", (fn, message) => {
        expect(fn).toThrow(AzureJsonError);
        expect(fn).toThrow(message);
    });
});

describe("the ARM / azure-native adapter", () => {
    test("getSubnet, getRouteTable and getNetworkSecurityGroup results (flat) build the same facts as ARM bodies (nested)", () => {
        const routeTable = { name: "rt-spoke", routes: [{ name: "default", addressPrefix: "0.0.0.0/0", nextHopType: "VirtualNetworkGateway" }], disableBgpRoutePropagation: false };
        const nsg = { name: "nsg-app", securityRules: [{ name: "deny-internet", priority: 4000, direction: "Outbound", access: "Deny", protocol: "*", sourceAddressPrefix: "*", sourcePortRange: "*", destinationAddressPrefix: "Internet", destinationPortRange: "*" }] };
        const subnet = { name: "snet-app", addressPrefix: "10.1.0.0/24", defaultOutboundAccess: false, natGateway: { id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/natGateways/nat-app" } };
        const nest = (o: Record<string, unknown>) => ({ name: o.name, properties: { ...o, name: undefined } });
        const flat = pathFactsFromArm({ subnet, routeTable, subnetNsg: nsg, nicNsg: null });
        const nested = pathFactsFromArm({ subnet: nest(subnet), routeTable: nest(routeTable), subnetNsg: nest(nsg), nicNsg: null });
        expect(nested).toEqual(flat);
        expect(flat).toEqual({
            subnetName: "snet-app",
            routeTable: { name: "rt-spoke", routes: [{ name: "default", addressPrefix: "0.0.0.0/0", nextHopType: "VirtualNetworkGateway" }], disableBgpRoutePropagation: false },
            vnetAddressPrefixes: ["10.1.0.0/24"],
            nicNsg: null,
            subnetNsg: { name: "nsg-app", rules: [expect.objectContaining({ name: "deny-internet", destinationAddressPrefixes: ["Internet"] })] },
            natGateway: { name: "nat-app" },
            defaultOutboundAccess: false,
        });
        const result = decideReachability({ ...flat, nicPublicIp: null, loadBalancerOutbound: null }, cloudKmsDestination());
        expect(result.verdict).toBe("blocked");
        expect(result.addresses[0].blame?.rule).toBe("R3");
    });
});

describe("audit", () => {
    test("Azure's example alone: the path is open but the egress is unknown without --subnet and --nic (exit 1)", () => {
        const { code, out, err } = audit(...specArgs);
        expect(err).toBe("");
        expect(code).toBe(1);
        expect(out).toContain("KMS azkms.core.windows.net:1688 (AzurePublic) from the NIC (without --subnet and --nic)");
        expect(out).toContain('[N1] ok      NIC NSG: NSG "test-nsg" rule "AllowInternetOutBound" (priority 65001) allows TCP 1688 to 20.118.99.224.');
        expect(out).toContain("Verdict: unknown (0 of 3 KMS addresses reachable)");
    });

    test("Azure's example with its subnet and NIC: reachable over the system 0/0 and default outbound (exit 0)", () => {
        const { code, out } = audit(...specArgs, "--subnet", path.join(SPEC, "subnet-show.json"), "--nic", path.join(SPEC, "nic-show.json"));
        expect(code).toBe(0);
        expect(out).toContain("20.118.99.224:1688  REACHABLE\n  Next hop type: Internet   Next hop IP: -   Route: System Route 0.0.0.0/0 (longest matching prefix (/0))");
        expect(out).toContain('subnet NSG: NSG "test-nsg" rule "AllowInternetOutBound" (priority 65001) allows TCP 1688');
        expect(out).toContain("Verdict: reachable (3 of 3 KMS addresses reachable)");
    });

    test("BGP forced tunnel without /32 routes: blocked by the BGP 0/0, fix names the route table (exit 1)", () => {
        const { code, out } = audit(...bgpArgs("effective-routes.json"));
        expect(code).toBe(1);
        expect(out).toContain("Next hop type: VirtualNetworkGateway   Next hop IP: 10.255.0.12   Route: BGP (VirtualNetworkGateway) 0.0.0.0/0");
        expect(out).toContain("  Blame: [R3] BGP route 0.0.0.0/0 -> VirtualNetworkGateway 10.255.0.12 (learned from the gateway)");
        expect(out).toContain('  Fix: add a route 40.83.235.53/32 with next hop type Internet to route table "rt-spoke"');
        expect(out).toContain("Verdict: blocked (0 of 3 KMS addresses reachable)");
    });

    test("BGP forced tunnel with the /32 Internet routes: reachable through the NAT gateway (exit 0)", () => {
        const { code, out } = audit(...bgpArgs("effective-routes-with-kms-routes.json"));
        expect(code).toBe(0);
        expect(out).toContain('Route: route table "rt-spoke", route "kms-20-118-99-224" 20.118.99.224/32 (longest matching prefix (/32))');
        expect(out).toContain('  Egress: NAT gateway "nat-spoke"');
        expect(out).toContain("Verdict: reachable (3 of 3 KMS addresses reachable)");
    });

    test("--json prints the verdicts; --cloud changes the addresses", () => {
        const { code, out } = audit(...bgpArgs("effective-routes-with-kms-routes.json"), "--json", "--cloud", "AzureUSGovernment");
        expect(code).toBe(1);
        const parsed = JSON.parse(out);
        expect(parsed.kms).toEqual({ host: "azkms.core.usgovcloudapi.net", port: 1688, source: "AzureUSGovernment" });
        expect(parsed.addresses.map((a: { address: string; verdict: string }) => [a.address, a.verdict])).toEqual([
            ["52.126.105.2", "blocked"],
            ["23.97.0.13", "blocked"],
        ]);
    });

    test("--help prints the usage and exits 0", () => {
        const { code, out } = audit("--help");
        expect(code).toBe(0);
        expect(out).toMatch(/^Usage: azure-kms-activation audit --routes <file> --nsgs <file>/);
        expect(out).toContain("Exit: 0 every address reachable, 1 any blocked or unknown, 2 bad input (an empty route list too: every NIC has system routes).");
    });

    test.each([
        [["--routes", "missing.json", "--nsgs", "x.json"], 'audit: --routes file "missing.json" cannot be read: no such file\n'],
        [["--routes", path.join(DIR, "README.md"), "--nsgs", "x"], `audit: --routes file "${path.join(DIR, "README.md")}" is not JSON:`],
        [["--routes", path.join(BGP, "nic-show.json"), "--nsgs", path.join(BGP, "effective-nsgs.json")], `audit: --routes file "${path.join(BGP, "nic-show.json")}": not the output of az network nic show-effective-route-table`],
        [[...bgpArgs("effective-routes.json").slice(0, 4), "--subnet", path.join(BGP, "effective-nsgs.json")], `audit: --subnet file "${path.join(BGP, "effective-nsgs.json")}": not the output of az network vnet subnet show`],
        [["--routes", "r.json"], "audit: --nsgs is required\n"],
        [["--routes"], "audit: --routes needs a value\n"],
        [[...specArgs, "--cloud", "AzureGermany"], 'audit: --cloud "AzureGermany" is not one of AzurePublic, AzureUSGovernment, AzureChina\n'],
        [[...specArgs, "--verbose"], 'audit: unknown argument "--verbose"\n'],
        // Issue 24: no real NIC has zero routes (R2's system routes are always there); "blocked" would be a false alarm.
        [["--routes", path.join(DIR, "empty-routes.json"), "--nsgs", path.join(BGP, "effective-nsgs.json")], `audit: --routes file "${path.join(DIR, "empty-routes.json")}": no routes listed; every NIC has system routes: this is not a NIC's effective route table (az network nic show-effective-route-table)\n`],
    ])("bad input exits 2 with one line naming it: %j", (argv, message) => {
        const { code, out, err } = audit(...argv);
        expect(code).toBe(2);
        expect(out).toBe("");
        expect(err.startsWith(message)).toBe(true);
        expect(err.split("\n")[0]).not.toBe("");
    });
});

describe("audit: az's text output, and the subnet the files do not name", () => {
    const scratch = fs.mkdtempSync(path.join(require("os").tmpdir(), "kms-audit-"));
    afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

    test.each([
        [
            "table",
            "Source    State    Address Prefix    Next Hop Type    Next Hop IP\n--------  -------  ----------------  ---------------  -------------\nDefault   Active   10.0.0.0/16       VnetLocal\nUser      Active   0.0.0.0/0         VirtualAppliance 10.100.0.4\n",
        ],
        ["tsv", "Default\tActive\t10.0.0.0/16\tVnetLocal\nUser\tActive\t0.0.0.0/0\tVirtualAppliance\t10.100.0.4\n"],
    ])("az … -o %s is refused with the fix: use -o json (exit 2, one line)", (format, text) => {
        const file = path.join(scratch, `routes.${format}`);
        fs.writeFileSync(file, text);
        const { code, out, err } = audit("--routes", file, "--nsgs", path.join(BGP, "effective-nsgs.json"));
        expect(code).toBe(2);
        expect(out).toBe("");
        expect(err).toBe(`audit: --routes file "${file}" is az's ${format} output, not JSON; run the az command again with -o json (the text leaves out what the check needs)\n`);
    });

    test("without --subnet, the fix says the VM's subnet (never a made-up name) and a note names the flag and the az command", () => {
        const { out } = audit("--routes", path.join(BGP, "effective-routes.json"), "--nsgs", path.join(BGP, "effective-nsgs.json"));
        expect(out).not.toContain("(the VM's subnet)");
        expect(out).toContain("to a route table associated with the VM's subnet (the longest prefix");
        expect(out.trimEnd().split("\n").pop()).toBe(
            "Note: the VM's subnet: the files do not name it; give --subnet <file> from `az network vnet subnet show -g <rg> --vnet-name <vnet> -n <subnet> -o json` " +
                "(or --nic <file> from `az network nic show -g <rg> -n <nic> -o json`, which names it)",
        );
    });

    test("with --subnet and --nic the subnet is named and there is no note", () => {
        const { out } = audit(...bgpArgs("effective-routes.json"));
        expect(out).not.toContain("the VM's subnet");
        expect(out).not.toContain("Note:");
    });
});

describe("the documented audit output (docs/reachability.md)", () => {
    test("every line shown in docs/reachability.md is what audit prints for the BGP forced-tunnel fixtures", () => {
        const readme = fs.readFileSync(path.join(__dirname, "..", "docs", "reachability.md"), "utf8");
        const blocks = [...readme.matchAll(/```\n([^`]*?Verdict: [^`]*?)```/g)].map((m) => m[1]);
        expect(blocks).toHaveLength(2);
        const outputs = [audit(...bgpArgs("effective-routes.json")).out, audit(...bgpArgs("effective-routes-with-kms-routes.json")).out];
        blocks.forEach((block, i) => {
            for (const line of block.split("\n").filter((l) => l !== "" && l !== "...")) {
                expect(outputs[i].split("\n")).toContain(line);
            }
        });
    });
});
