import { PolicyResource } from "@pulumi/policy";
import { kmsEndpoint } from "../src/kms/endpoints";
import { createKmsActivationPolicies, kmsActivationPolicies, KmsActivationPolicy } from "../src/policy";
import { AzureCloud } from "../src/types";
import { UNKNOWN_VALUE, preview, resource, runStack } from "./policy-args";

const RT = "azure-native:network:RouteTable";
const ROUTE = "azure-native:network:Route";
const NAME = "kms-route-table-internet-routes";
const policy = kmsActivationPolicies.find((p) => p.name === NAME) as KmsActivationPolicy;
const PUBLIC = kmsEndpoint(AzureCloud.AzurePublic).ipAddresses;
const [P1, P2, P3] = PUBLIC;

const tunnel = (nextHopType = "VirtualAppliance") => ({ name: "default", addressPrefix: "0.0.0.0/0", nextHopType, nextHopIpAddress: "10.0.0.4" });
const kmsRoutes = (ips: readonly string[]) => ips.map((ip) => ({ name: `kms-${ip}`, addressPrefix: `${ip}/32`, nextHopType: "Internet" }));
const table = (name: string, routes?: unknown[], extra: Record<string, unknown> = {}) =>
    resource(RT, name, { resourceGroupName: "rg", routeTableName: name, ...(routes ? { routes } : {}), ...extra });
const route = (name: string, props: Record<string, unknown>, deps?: Record<string, PolicyResource[]>) =>
    resource(ROUTE, name, { resourceGroupName: "rg", ...props }, { propertyDependencies: deps });

function message(tableName: string, missing: readonly string[], source = "AzurePublic", hop = "VirtualAppliance", routeName = "default"): string {
    return (
        `Route table "${tableName}" sends 0.0.0.0/0 to ${hop} (route "${routeName}") but has no /32 route with next hop Internet to the KMS at ` +
        `${missing.join(", ")} (${source}): Windows VMs on its subnets cannot activate, because Azure KMS accepts requests only from an ` +
        `Azure public IP. Remediation: add routes with next hop type Internet for ${missing.map((ip) => `${ip}/32`).join(", ")} to this ` +
        "route table (KmsEgressRules from azure-kms-activation adds them as standalone routes; do not mix inline and standalone routes); " +
        "the longest prefix wins over the 0.0.0.0/0 route."
    );
}

describe("kms-route-table-internet-routes", () => {
    test("the exact message, for a forced-tunnelled table that routes only one KMS IP", async () => {
        const rt = table("rt-spoke", [tunnel(), ...kmsRoutes([P1])]);
        expect(await runStack(policy, [rt])).toEqual([
            {
                message:
                    'Route table "rt-spoke" sends 0.0.0.0/0 to VirtualAppliance (route "default") but has no /32 route with next hop Internet ' +
                    "to the KMS at 40.83.235.53, 23.102.135.246 (AzurePublic): Windows VMs on its subnets cannot activate, because Azure KMS " +
                    "accepts requests only from an Azure public IP. Remediation: add routes with next hop type Internet for 40.83.235.53/32, " +
                    "23.102.135.246/32 to this route table (KmsEgressRules from azure-kms-activation adds them as standalone routes; do not mix " +
                    "inline and standalone routes); the longest prefix wins over the 0.0.0.0/0 route.",
                urn: rt.urn,
            },
        ]);
    });

    test.each(["VirtualAppliance", "VirtualNetworkGateway", "virtualappliance"])("inline: 0.0.0.0/0 to %s with every KMS /32 passes", async (hop) => {
        expect(await runStack(policy, [table("rt", [tunnel(hop), ...kmsRoutes(PUBLIC)])])).toEqual([]);
    });

    test("inline: 0.0.0.0/0 to a virtual network gateway with no KMS route names every IP", async () => {
        const rt = table("rt-gw", [tunnel("VirtualNetworkGateway")]);
        expect(await runStack(policy, [rt])).toEqual([{ message: message("rt-gw", PUBLIC, "AzurePublic", "VirtualNetworkGateway"), urn: rt.urn }]);
    });

    test.each([
        ["no default route", [...kmsRoutes([P1])]],
        ["0.0.0.0/0 to the Internet", [{ name: "default", addressPrefix: "0.0.0.0/0", nextHopType: "Internet" }]],
        ["0.0.0.0/0 dropped (None)", [{ name: "default", addressPrefix: "0.0.0.0/0", nextHopType: "None" }]],
        ["a narrower prefix to an appliance", [{ name: "spokes", addressPrefix: "10.0.0.0/8", nextHopType: "VirtualAppliance" }]],
        ["no routes at all", []],
    ])("not forced-tunnelled (%s): nothing to check", async (_, routes) => {
        expect(await runStack(policy, [table("rt", routes)])).toEqual([]);
    });

    test("a KMS route must be the /32 with next hop Internet: a wider Internet prefix or an appliance hop does not count", async () => {
        const rt = table("rt", [
            tunnel(),
            { name: "wide", addressPrefix: "20.118.0.0/16", nextHopType: "Internet" },
            { name: "via-nva", addressPrefix: `${P2}/32`, nextHopType: "VirtualAppliance", nextHopIpAddress: "10.0.0.4" },
            { name: "ok", addressPrefix: `${P3}/32`, nextHopType: "internet" },
        ]);
        expect(await runStack(policy, [rt])).toEqual([{ message: message("rt", [P1, P2]), urn: rt.urn }]);
    });

    test("standalone routes of the same table, matched by routeTableName, count like inline ones", async () => {
        const rt = table("rt-hub");
        const routes = [
            route("default", { routeTableName: "rt-hub", ...tunnel("VirtualNetworkGateway") }),
            ...kmsRoutes(PUBLIC).map((r) => route(r.name, { routeTableName: "RT-HUB", routeName: r.name, ...r })),
        ];
        expect(await runStack(policy, [rt, ...routes])).toEqual([]);
        expect(await runStack(policy, [rt, ...routes.slice(0, 3)])).toEqual([
            { message: message("rt-hub", [P3], "AzurePublic", "VirtualNetworkGateway"), urn: rt.urn },
        ]);
    });

    test("inline default route plus standalone KMS routes (the KmsEgressRules brownfield case) pass", async () => {
        const rt = table("rt", [tunnel()]);
        const routes = kmsRoutes(PUBLIC).map((r) => route(r.name, { routeTableName: "rt", routeName: r.name, ...r }));
        expect(await runStack(policy, [rt, ...routes])).toEqual([]);
    });

    test("a standalone route of another table, or of the same name in another resource group, does not count", async () => {
        const rt = table("rt", [tunnel(), ...kmsRoutes([P1, P2])]);
        const other = route("elsewhere", { routeTableName: "rt-other", addressPrefix: `${P3}/32`, nextHopType: "Internet" });
        const otherGroup = route("other-rg", { resourceGroupName: "rg-2", routeTableName: "rt", addressPrefix: `${P3}/32`, nextHopType: "Internet" });
        expect(await runStack(policy, [rt, other, otherGroup])).toEqual([{ message: message("rt", [P3]), urn: rt.urn }]);
    });

    test("several route tables in one stack: each is judged on its own routes", async () => {
        const ok = table("rt-ok", [tunnel(), ...kmsRoutes(PUBLIC)]);
        const bad = table("rt-bad", [tunnel("VirtualNetworkGateway"), ...kmsRoutes([P2])]);
        const plain = table("rt-plain", []);
        const worse = table("rt-worse");
        const worseDefault = route("worse-default", { routeTableName: "rt-worse", ...tunnel() });
        expect(await runStack(policy, [ok, bad, plain, worse, worseDefault])).toEqual([
            { message: message("rt-bad", [P1, P3], "AzurePublic", "VirtualNetworkGateway"), urn: bad.urn },
            { message: message("rt-worse", PUBLIC), urn: worse.urn },
        ]);
    });

    test("a table owned by another stack: its forced-tunnel route here is reported on the route", async () => {
        const defaultRoute = route("hub-default", { routeTableName: "rt-hub", routeName: "to-firewall", ...tunnel(), name: undefined });
        expect(await runStack(policy, [defaultRoute])).toEqual([
            { message: message("rt-hub", PUBLIC, "AzurePublic", "VirtualAppliance", "to-firewall"), urn: defaultRoute.urn },
        ]);
    });

    test("deployed outputs: the table's name and a route's table come from name and id", async () => {
        const id = "/subscriptions/s/resourceGroups/rg-out/providers/Microsoft.Network/routeTables/rt-out";
        const rt = resource(RT, "rt-resource", { name: "rt-out", id, routes: [tunnel()] });
        const kms = kmsRoutes([P1, P2]).map((r) => resource(ROUTE, r.name, { ...r, id: `${id}/routes/${r.name}` }));
        expect(await runStack(policy, [rt, ...kms])).toEqual([{ message: message("rt-out", [P3]), urn: rt.urn }]);
    });

    test("a table with no name at all is shown by its resource name", async () => {
        const rt = resource(RT, "rt-logical", { routes: [tunnel()] });
        expect(await runStack(policy, [rt])).toEqual([{ message: message("rt-logical", PUBLIC), urn: rt.urn }]);
    });

    test.each(Object.values(AzureCloud))("%s: the routes required are that cloud's KMS IPs (policy config)", async (cloud) => {
        const ips = kmsEndpoint(cloud).ipAddresses;
        expect(ips.length).toBe(cloud === AzureCloud.AzureUSGovernment ? 2 : 3);
        const bare = table("rt", [tunnel()]);
        expect(await runStack(policy, [bare], { cloud })).toEqual([{ message: message("rt", ips, cloud), urn: bare.urn }]);
        expect(await runStack(policy, [table("rt", [tunnel(), ...kmsRoutes(ips)])], { cloud })).toEqual([]);
    });

    test.each(Object.values(AzureCloud))("%s: the cloud can be set in code too", async (cloud) => {
        const coded = createKmsActivationPolicies({ cloud }).find((p) => p.name === NAME) as KmsActivationPolicy;
        const ips = kmsEndpoint(cloud).ipAddresses;
        expect(await runStack(coded, [table("rt", [tunnel(), ...kmsRoutes(ips.slice(1))])])).toEqual([
            { message: message("rt", ips.slice(0, 1), cloud), urn: table("rt").urn },
        ]);
    });

    test("public-cloud routes do not satisfy a US Government stack", async () => {
        const rt = table("rt", [tunnel(), ...kmsRoutes(PUBLIC)]);
        const gov = kmsEndpoint(AzureCloud.AzureUSGovernment).ipAddresses;
        expect(await runStack(policy, [rt], { cloud: "AzureUSGovernment" })).toEqual([{ message: message("rt", gov, "AzureUSGovernment"), urn: rt.urn }]);
    });

    test("kmsIpAddresses replaces the cloud's list", async () => {
        const rt = table("rt", [tunnel(), ...kmsRoutes(["1.2.3.4"])]);
        expect(await runStack(policy, [rt], { kmsIpAddresses: ["1.2.3.4", "5.6.7.8"] })).toEqual([
            { message: message("rt", ["5.6.7.8"], "kmsIpAddresses"), urn: rt.urn },
        ]);
    });

    test("a custom KMS server checks nothing: no Internet routes are wanted", async () => {
        const rt = table("rt", [tunnel()]);
        const customKmsServer = { host: "kms.contoso.com", addressPrefixes: ["10.10.0.5/32"] };
        expect(await runStack(policy, [rt], { customKmsServer })).toEqual([]);
        const coded = createKmsActivationPolicies({ customKmsServer }).find((p) => p.name === NAME) as KmsActivationPolicy;
        expect(await runStack(coded, [rt])).toEqual([]);
    });

    test("missing properties never throw", async () => {
        const resources = [
            resource(RT, "empty", {}),
            resource(RT, "odd", { routes: "not-a-list", routeTableName: 42 }),
            resource(ROUTE, "bare", { routeTableName: "empty" }),
            resource(ROUTE, "nulls", { routeTableName: "empty", addressPrefix: null, nextHopType: null }),
            resource(RT, "holes", { routes: [null, 7, { addressPrefix: "0.0.0.0/0" }, { nextHopType: "VirtualAppliance" }] }),
        ];
        expect(await runStack(policy, resources)).toEqual([]);
        expect(await runStack(policy, [])).toEqual([]);
    });

    describe("preview: values not known yet", () => {
        test("an unknown inline route list is skipped", async () => {
            const rt = resource(RT, "rt", preview({ routeTableName: "rt", routes: UNKNOWN_VALUE }));
            const defaultRoute = route("d", { routeTableName: "rt", ...tunnel() });
            expect(await runStack(policy, [rt, defaultRoute])).toEqual([]);
        });

        test("an unknown prefix or next hop in the table is skipped", async () => {
            const rt = resource(RT, "rt", preview({ routeTableName: "rt", routes: [tunnel(), { name: "kms", addressPrefix: UNKNOWN_VALUE, nextHopType: "Internet" }] }));
            expect(await runStack(policy, [rt])).toEqual([]);
            const hop = resource(RT, "rt", preview({ routeTableName: "rt", routes: [tunnel(), { name: "kms", addressPrefix: `${P1}/32`, nextHopType: UNKNOWN_VALUE }] }));
            expect(await runStack(policy, [hop])).toEqual([]);
        });

        test("an unknown table name is resolved through the engine's property dependency", async () => {
            const rt = resource(RT, "rt", preview({ routes: [tunnel()], routeTableName: UNKNOWN_VALUE }));
            const kms = kmsRoutes([P1, P2]).map((r) => resource(ROUTE, r.name, preview({ routeTableName: UNKNOWN_VALUE, ...r }), { propertyDependencies: { routeTableName: [rt] } }));
            expect(await runStack(policy, [rt, ...kms])).toEqual([{ message: message("rt", [P3]), urn: rt.urn }]);
        });

        test("a route whose table cannot be told may be the missing one: nothing is reported", async () => {
            const rt = table("rt", [tunnel()]);
            const unplaced = resource(ROUTE, "kms", preview({ routeTableName: UNKNOWN_VALUE, addressPrefix: `${P1}/32`, nextHopType: "Internet" }));
            expect(await runStack(policy, [rt, unplaced])).toEqual([]);
        });
    });
});
