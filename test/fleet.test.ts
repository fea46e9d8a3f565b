/**
 * `fleet` through Azure's real SDK clients against the local ARM stand-in (test/fleet/arm-standin.ts): statuses,
 * paging, throttling, a denied subscription, long-running operations, --paths, --probe, --resolve, exit codes.
 */
import { decodeSettings } from "../src/guest/render";
import { FLEET_USAGE, FleetEnvironment, parseFleetArgs, runFleet } from "../src/cli/fleet";
import { main } from "../src/cli/main";
import { FleetReport, cloudOfArmEndpoint } from "../src/fleet";
import { StandIn, StandInWorld, fixedTokenCredential, startStandIn } from "./fleet/arm-standin";
import { RESULT, SUB_LAB, SUB_PROD, activationExtension, mockFleet } from "./fleet/mock-fleet";

interface Run {
    code: number;
    out: string;
    err: string;
    report?: FleetReport;
    progress: string[];
}

async function run(standIn: StandIn, argv: string[], env: Partial<FleetEnvironment> = {}): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    const progress: string[] = [];
    let report: FleetReport | undefined;
    const code = await runFleet(
        argv,
        { out: (s) => out.push(s), err: (s) => err.push(s) },
        { credential: fixedTokenCredential, endpoint: standIn.url, ca: standIn.ca, progress: { isTTY: false, write: (s) => progress.push(s) }, onReport: (r) => (report = r), ...env },
    );
    return { code, out: out.join(""), err: err.join("\n"), report, progress };
}

async function withStandIn<T>(world: StandInWorld, fn: (s: StandIn) => Promise<T>): Promise<T> {
    const standIn = await startStandIn(world);
    try {
        return await fn(standIn);
    } finally {
        await standIn.close();
    }
}

const PROD = ["--subscription", SUB_PROD];

describe("fleet against the ARM stand-in (12 Windows VMs, one stale route table)", () => {
    let standIn: StandIn;
    let result: Run;
    beforeAll(async () => {
        standIn = await startStandIn(mockFleet());
        result = await run(standIn, [...PROD, "--paths"]);
    });
    afterAll(() => standIn.close());

    it("exits 1 (not every VM is fine) and prints the summary counts first", () => {
        expect(result.code).toBe(1);
        expect(result.err).toBe("");
        const lines = result.out.split("\n");
        expect(lines[0]).toBe("KMS azkms.core.windows.net:1688 (AzurePublic: 20.118.99.224, 40.83.235.53, 23.102.135.246)");
        expect(lines[1]).toBe("Subscriptions: 1 of 1 read");
        expect(lines[2]).toBe(
            "12 Windows VMs: 4 activated, 1 licensed, 3 pending, 1 error, 0 unlicensed, 0 skipped, 2 no-activation, 1 unknown; paths: 7 reachable, 2 blocked, 0 unknown; 1 stale KMS route table/rule (1 non-Windows left out)",
        );
    });

    it.each([
        ["vm-app-01", "activated", "extension", "reachable"],
        ["vm-app-02", "licensed", "extension", "reachable"],
        ["vm-app-03", "activated", "run-command", "reachable"],
        ["vm-tunnel-01", "pending", "extension", "blocked"],
        ["vm-tunnel-02", "pending", "extension", "blocked"],
        ["vm-legacy-01", "error", "extension", "reachable"],
        ["vm-legacy-02", "no-activation", "none", "reachable"],
        ["vm-legacy-03", "no-activation", "none", "reachable"],
        ["vm-legacy-04", "unknown", "extension", "reachable"],
        ["vmss-web_0", "activated", "extension", undefined],
        ["vmss-web_1", "activated", "extension", undefined],
        ["vmss-web_2", "pending", "extension", undefined],
    ])("%s is %s (from %s), path %s", (name, status, source, verdict) => {
        const vm = result.report!.vms.find((v) => v.name === name)!;
        expect(vm).toBeDefined();
        expect([vm.status, vm.source, vm.path?.verdict]).toEqual([status, source, verdict]);
    });

    it("says why for the VMs that are not fine", () => {
        const byName = (n: string) => result.report!.vms.find((v) => v.name === n)!;
        expect(byName("vm-legacy-01").diagnosis).toContain("0xC004F050: the product key is not valid for this edition: give the KMS client setup key of this edition");
        expect(byName("vm-legacy-02").diagnosis[0]).toMatch(/^no KmsActivation extension or run command on the VM/);
        expect(byName("vm-legacy-03").diagnosis).toContain("the VM is deallocated");
        expect(byName("vm-legacy-04").diagnosis).toEqual([
            "extension KmsActivation holds no KMS_ACTIVATION_RESULT line: the script did not finish, or its output was cut",
            "extension KmsActivation: Provisioning failed: Command execution finished, but failed because it returned a non-zero exit code of: '1'.",
        ]);
        expect(byName("vmss-web_2").pathNote).toMatch(/^not judged: ARM has no effective-route operation for a scale set instance's NIC/);
    });

    it("judges the forced tunnel with the engine: the BGP 0.0.0.0/0 to the gateway blocks every KMS address", () => {
        const path = result.report!.vms.find((v) => v.name === "vm-tunnel-01")!.path!;
        expect(path.nic).toBe("vm-tunnel-01-nic");
        expect(path.addresses.map((a) => [a.address, a.verdict, a.blame?.rule])).toEqual([
            ["20.118.99.224", "blocked", "R3"],
            ["40.83.235.53", "blocked", "R3"],
            ["23.102.135.246", "blocked", "R3"],
        ]);
        expect(path.addresses[0].route).toBe("0.0.0.0/0 → VirtualNetworkGateway 10.255.0.4 (VirtualNetworkGateway)");
        expect(result.out).toContain('fix: add a route 20.118.99.224/32 with next hop type Internet to route table "rt-tunnel"');
    });

    it("lists the stale route table with what to add, and nothing else", () => {
        expect(result.report!.stale).toEqual([
            {
                kind: "route-table",
                id: `/subscriptions/${SUB_PROD}/resourceGroups/rg-legacy/providers/Microsoft.Network/routeTables/rt-legacy`,
                name: "rt-legacy",
                subscriptionId: SUB_PROD,
                resourceGroup: "rg-legacy",
                rules: ["kms 23.102.135.246/32 → Internet"],
                covers: ["23.102.135.246"],
                missing: ["20.118.99.224", "40.83.235.53"],
                fix: 'add a route per missing address to route table "rt-legacy": 20.118.99.224/32 next hop Internet, 40.83.235.53/32 next hop Internet (or deploy KmsEgressRules on it)',
            },
        ]);
    });

    it("was throttled once (429 with Retry-After) and the SDK pipeline retried", () => {
        const listAll = standIn.requests.filter((r) => r.path === `/subscriptions/${SUB_PROD}/providers/Microsoft.Compute/virtualMachines`);
        expect(listAll.map((r) => r.status)).toEqual([429, 200, 200, 200]);
        // Retry-After: 1 (seconds) was honoured before the retry.
        expect(listAll[1].at - listAll[0].at).toBeGreaterThanOrEqual(950);
    });

    it("followed nextLink with $skipToken across the VM pages (page size 4, 10 VMs)", () => {
        const listAll = standIn.requests.filter((r) => r.path.endsWith("/Microsoft.Compute/virtualMachines") && r.status === 200);
        expect(listAll.map((r) => r.query.get("$skipToken"))).toEqual([null, "4", "8"]);
    });

    it("polled the effective-route long-running operations to their end (202, then 200)", () => {
        const posts = standIn.requests.filter((r) => r.method === "POST" && r.path.endsWith("/effectiveRouteTable"));
        expect(posts).toHaveLength(9);
        expect(posts.every((r) => r.status === 202)).toBe(true);
        const polls = standIn.requests.filter((r) => /\/Microsoft\.Network\/locations\/westeurope\/operations\//.test(r.path));
        expect(polls.filter((r) => r.status === 200)).toHaveLength(18);
    });

    it("never ran anything in a guest without --probe", () => {
        expect(standIn.requests.filter((r) => r.path.endsWith("/runCommand"))).toEqual([]);
    });
});

describe("fleet: transient errors", () => {
    it("a 503 on an instance view is retried by the SDK pipeline; the VM's status is still read", async () => {
        await withStandIn({ ...mockFleet(false), throttleOnce: [], failOnce: [/\/vm-app-01\/instanceView$/] }, async (standIn) => {
            const r = await run(standIn, ["--resource-group", "rg-app"]);
            const views = standIn.requests.filter((q) => q.path.endsWith("/vm-app-01/instanceView"));
            expect(views.map((q) => q.status)).toEqual([503, 200]);
            expect(r.report!.vms.find((v) => v.name === "vm-app-01")!.status).toBe("activated");
            expect(r.code).toBe(0);
        });
    });
});

describe("fleet: access", () => {
    it("reads every subscription the credential sees; a 403 on one exits 2 with one line naming it, after reporting the rest", async () => {
        await withStandIn(mockFleet(), async (standIn) => {
            const r = await run(standIn, []);
            expect(r.code).toBe(2);
            expect(r.err.split("\n")).toHaveLength(1);
            // The compute client's pager keeps ARM's error code, not its message (@azure-rest/core-client createRestError).
            expect(r.err).toBe(
                `fleet: no access to subscription ${SUB_LAB} (virtualMachines.listAll: 403 AuthorizationFailed: Pagination failed with unexpected statusCode 403): grant the credential Reader there, or leave it out with --subscription`,
            );
            expect(r.report!.subscriptions.map((s) => [s.id, s.name, s.access])).toEqual([
                [SUB_PROD, "Contoso Production", "ok"],
                [SUB_LAB, "Contoso Lab", "denied"],
            ]);
            expect(r.report!.summary.vms).toBe(12);
            expect(r.out).toContain(`  ${SUB_LAB} (Contoso Lab): denied: virtualMachines.listAll: 403 AuthorizationFailed`);
        });
    });

    it("a credential that may read VMs but not route tables keeps the VMs in the report, and exits 2 naming the call", async () => {
        await withStandIn({ ...mockFleet(false), throttleOnce: [], denyPaths: [/\/Microsoft\.Network\/routeTables$/] }, async (standIn) => {
            const r = await run(standIn, []);
            expect(r.report!.summary.vms).toBe(12);
            expect(r.report!.subscriptions[0]).toMatchObject({ access: "denied", error: "routeTables.listAll: 403 AuthorizationFailed: The client 'fleet-reader' with object id '00000000-0000-0000-0000-0000000000aa' does not have authorization to perform action 'Microsoft.Network/routeTables/read' over scope '/subscriptions/11111111-1111-4111-8111-111111111111/providers/Microsoft.Network/routeTables' or the scope is invalid." });
            expect(r.code).toBe(2);
            expect(r.err).toMatch(/^fleet: no access to subscription 11111111-1111-4111-8111-111111111111 \(routeTables\.listAll: 403 AuthorizationFailed/);
        });
    });

    it("a --subscription ARM does not know exits 2 naming it", async () => {
        await withStandIn(mockFleet(false), async (standIn) => {
            const r = await run(standIn, ["--subscription", "33333333-3333-4333-8333-333333333333"]);
            expect(r.code).toBe(2);
            expect(r.report!.subscriptions).toEqual([{ id: "33333333-3333-4333-8333-333333333333", access: "failed", error: "virtualMachines.listAll: 404 SubscriptionNotFound: Pagination failed with unexpected statusCode 404" }]);
            expect(r.err).toMatch(/^fleet: no access to subscription 33333333-3333-4333-8333-333333333333 \(virtualMachines\.listAll: 404 SubscriptionNotFound/);
        });
    });

    it("exits 2 when the credential has no token to give", async () => {
        await withStandIn(mockFleet(), async (standIn) => {
            const failing = {
                getToken: async () => {
                    throw Object.assign(new Error("DefaultAzureCredential failed to retrieve a token from the included credentials.\nAzureCliCredential: Please run 'az login'"), { name: "AggregateAuthenticationError" });
                },
            };
            const r = await run(standIn, PROD, { credential: failing });
            expect(r.code).toBe(2);
            expect(r.err).toBe(
                "fleet: no Azure credential: DefaultAzureCredential failed to retrieve a token from the included credentials. (run az login, or set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET)",
            );
            expect(standIn.requests).toEqual([]);
        });
    });

    it("exits 2 when ARM refuses the token (401 on the subscription list)", async () => {
        await withStandIn(mockFleet(), async (standIn) => {
            const wrong = { getToken: async () => ({ token: "expired", expiresOnTimestamp: Date.now() + 60_000 }) };
            const r = await run(standIn, [], { credential: wrong });
            expect(r.code).toBe(2);
            expect(r.err).toMatch(/^fleet: no access: subscriptions\.list: 401 AuthenticationFailed: Authentication failed/);
        });
    });

    it("--resource-group reads only that group; one in no subscription exits 2", async () => {
        await withStandIn(mockFleet(false), async (standIn) => {
            const r = await run(standIn, ["--resource-group", "rg-app"]);
            expect(r.report!.vms.map((v) => v.name)).toEqual(["vm-app-01", "vm-app-02", "vm-app-03"]);
            expect(r.report!.stale).toEqual([]);
            expect(r.code).toBe(0);
            const missing = await run(standIn, ["--resource-group", "rg-nowhere"]);
            expect(missing.code).toBe(2);
            expect(missing.err).toBe(`fleet: no access: --resource-group "rg-nowhere" is in none of the subscriptions read (${SUB_PROD})`);
        });
    });
});

describe("fleet text output", () => {
    it("shows control characters from a guest's result line escaped, never obeyed (the one sanitizer)", async () => {
        const world = mockFleet(false);
        // A guest's diagnosis is the VM's own output: a compromised or careless guest could try to redraw the screen.
        world.scaleSets![0].instances.push({ instanceId: "5", extensions: [activationExtension(RESULT.error.replace('"slmgr /ipk failed"', '"\\u001b[2J\\u001b[1A\\u001b[2K\\rall fine"'))] });
        await withStandIn(world, async (standIn) => {
            const r = await run(standIn, []);
            expect(r.report!.vms.find((v) => v.instanceId === "5")!.diagnosis).toContain("\u001b[2J\u001b[1A\u001b[2K\rall fine");
            expect(r.out).toContain("\\x1b[2J\\x1b[1A\\x1b[2K\\rall fine");
            expect(r.out).not.toMatch(/[\u001b\r]/);
        });
    });
});

describe("fleet --probe", () => {
    it("asks only guests without a result line, read-only, and reads their answer", async () => {
        const world = mockFleet(false);
        // A scale set instance the package never reached: probed through the scale set VM Run Command API.
        world.scaleSets![0].instances.push({ instanceId: "3", probeOutput: RESULT.activated });
        // One the probe finds not activated: the read-only run's own status, counted as needing work.
        world.scaleSets![0].instances.push({ instanceId: "4", probeOutput: RESULT.unlicensed });
        await withStandIn(world, async (standIn) => {
            const r = await run(standIn, ["--probe"]);
            const posts = standIn.requests.filter((q) => q.method === "POST" && q.path.endsWith("/runCommand"));
            expect(posts.map((q) => [q.path.split("/").slice(-2)[0], q.status])).toEqual(
                expect.arrayContaining([
                    ["vm-legacy-02", 202],
                    ["vm-legacy-03", 409],
                    ["vm-legacy-04", 202],
                ]),
            );
            expect(posts).toHaveLength(5);
            expect(posts.filter((q) => q.path.endsWith("/vmss-web/virtualMachines/3/runCommand")).map((q) => q.status)).toEqual([202]);
            const instance = r.report!.vms.find((v) => v.instanceId === "3")!;
            expect([instance.status, instance.source]).toEqual(["activated", "probe"]);
            const notActivated = r.report!.vms.find((v) => v.instanceId === "4")!;
            expect([notActivated.status, notActivated.source, notActivated.diagnosis]).toEqual(["unlicensed", "probe", ["report only: nothing was changed"]]);
            expect(r.report!.summary.statuses.unlicensed).toBe(1);
            expect(r.code).toBe(1);
            const body = posts[0].body as { commandId: string; script: string[]; parameters: { name: string; value: string }[] };
            expect(body.commandId).toBe("RunPowerShellScript");
            expect(body.script.join("\n")).toContain("[Parameter(Mandatory = $true)][string]$Settings");
            expect(body.parameters.map((p) => p.name)).toEqual(["Settings"]);
            const settings = decodeSettings(body.parameters[0].value);
            expect(settings.reportOnly).toBe(true);
            expect(settings.configureFirewall).toBe(false);
            expect(settings.kmsHosts).toEqual(["azkms.core.windows.net"]);

            const vm = (n: string) => r.report!.vms.find((v) => v.name === n)!;
            expect([vm("vm-legacy-02").status, vm("vm-legacy-02").source]).toEqual(["licensed", "probe"]);
            expect(vm("vm-legacy-03").status).toBe("no-activation");
            expect(vm("vm-legacy-03").diagnosis.at(-1)).toBe(
                "probe (Run Command) of vm-legacy-03 failed: 409 OperationNotAllowed Operation 'RunCommand' is not allowed on VM 'vm-legacy-03' since the VM is deallocated.",
            );
            expect(vm("vm-legacy-04").status).toBe("unknown");
            expect(vm("vm-legacy-04").diagnosis.at(-1)).toBe("probe (Run Command) of vm-legacy-04 holds no KMS_ACTIVATION_RESULT line: the script did not finish, or its output was cut");
            expect(r.report!.options.probe).toBe(true);
        });
    });
});

describe("fleet --resolve and --cloud", () => {
    it("reports an address the KMS name resolves to that the package's table lacks (exit 1)", async () => {
        await withStandIn(mockFleet(false), async (standIn) => {
            const resolve4 = async (host: string) => (host === "azkms.core.windows.net" ? ["20.118.99.224", "52.148.3.17"] : ["23.102.135.246"]);
            const r = await run(standIn, ["--resource-group", "rg-app", "--resolve"], { resolve4 });
            expect(r.report!.drift).toEqual([
                { host: "azkms.core.windows.net", addresses: ["20.118.99.224", "52.148.3.17"], unknown: ["52.148.3.17"] },
                { host: "kms.core.windows.net", addresses: ["23.102.135.246"], unknown: [] },
            ]);
            expect(r.code).toBe(1);
            expect(r.out).toContain("Resolve azkms.core.windows.net: 20.118.99.224, 52.148.3.17; not in the package's table: 52.148.3.17");
            const failed = await run(standIn, ["--resource-group", "rg-app", "--resolve"], { resolve4: async () => Promise.reject(Object.assign(new Error("queryA ENOTFOUND"), { code: "ENOTFOUND" })) });
            expect(failed.report!.drift!.map((d) => d.error)).toEqual(["ENOTFOUND", "ENOTFOUND"]);
            expect(failed.code).toBe(0);
        });
    });

    it("--cloud AzureUSGovernment judges that cloud's KMS addresses (a Public-cloud route table is not stale there)", async () => {
        await withStandIn(mockFleet(false), async (standIn) => {
            const scopes = new Set<string>();
            const credential = { getToken: async (scope: string | string[]) => ([scope].flat().forEach((x) => scopes.add(x)), fixedTokenCredential.getToken()) };
            const r = await run(standIn, ["--cloud", "AzureUSGovernment"], { credential });
            // Every client asks for a token for US Government Resource Manager, whatever endpoint it was pointed at.
            expect([...scopes]).toEqual(["https://management.usgovcloudapi.net/.default"]);
            expect(r.report!.kms).toEqual({ host: "azkms.core.usgovcloudapi.net", port: 1688, addresses: ["52.126.105.2", "23.97.0.13"] });
            expect(r.report!.stale).toEqual([]);
        });
    });
});

describe("fleet: concurrency, progress, output forms", () => {
    it("keeps at most --concurrency per-VM reads open at once", async () => {
        await withStandIn({ ...mockFleet(false), delayMs: 25, throttleOnce: [] }, async (standIn) => {
            await run(standIn, ["--concurrency", "3"]);
            expect(standIn.maxInFlight).toBe(3);
        });
    });

    it("draws a progress bar on stderr only when it is a terminal", async () => {
        await withStandIn({ ...mockFleet(false), throttleOnce: [] }, async (standIn) => {
            const tty = await run(standIn, [], { progress: undefined });
            expect(tty.progress).toEqual([]);
            const writes: string[] = [];
            await run(standIn, [], { progress: { isTTY: true, write: (s) => writes.push(s) } });
            expect(writes).toHaveLength(12);
            expect(writes[0]).toMatch(/^\r\[#{3}-{27}\] 1\/12 VMs$/);
            expect(writes[11]).toBe(`\r[${"#".repeat(30)}] 12/12 VMs\r\x1b[K`);
        });
    });

    it("--json prints the documented report", async () => {
        await withStandIn({ ...mockFleet(false), throttleOnce: [] }, async (standIn) => {
            const r = await run(standIn, ["--json", "--resource-group", "rg-tunnel", "--paths"]);
            const json = JSON.parse(r.out) as FleetReport;
            expect(Object.keys(json)).toEqual(["schema", "cloud", "kms", "resourceGroup", "options", "subscriptions", "summary", "vms", "stale"]);
            expect(json.summary).toEqual({ vms: 2, statuses: { activated: 0, licensed: 0, pending: 2, error: 0, unlicensed: 0, skipped: 0, "no-activation": 0, unknown: 0 }, stale: 0, notWindows: 0, paths: { reachable: 0, blocked: 2, unknown: 0 } });
            const vm = json.vms[0];
            expect(Object.keys(vm)).toEqual(["id", "name", "subscriptionId", "resourceGroup", "location", "powerState", "status", "source", "diagnosis", "result", "path"]);
            expect(vm.result!.codes).toEqual(["0xC004F074"]);
            expect(r.code).toBe(1);
        });
    });

    it("is registered in the command front door", async () => {
        const out: string[] = [];
        expect(await main(["fleet", "--help"], { out: (s) => out.push(s), err: () => undefined, readFile: () => "" })).toBe(0);
        expect(out.join("")).toBe(FLEET_USAGE);
        const help: string[] = [];
        await main(["--help"], { out: (s) => help.push(s), err: () => undefined, readFile: () => "" });
        expect(help.join("")).toMatch(/\n {2}fleet +every Windows VM's activation and KMS path/);
    });
});

describe("fleet: bad input (exit 2, one line naming the option)", () => {
    it.each([
        [["--subscription", "prod"], 'fleet: --subscription "prod" is not a subscription ID: give its GUID (az account list -o table)'],
        [["--subscription"], "fleet: --subscription needs a value"],
        [["--resource-group", "rg."], 'fleet: --resource-group "rg." is not a resource group name (1-90 letters, digits, - _ . ( ), not ending in .)'],
        [["--concurrency", "0"], 'fleet: --concurrency "0" must be a whole number from 1 to 64'],
        [["--concurrency", "100"], 'fleet: --concurrency "100" must be a whole number from 1 to 64'],
        [["--cloud", "AzureGermany"], 'fleet: --cloud "AzureGermany" is not one of AzurePublic, AzureUSGovernment, AzureChina'],
        [["--verbose"], 'fleet: unknown argument "--verbose"'],
    ])("%j", async (argv, message) => {
        const err: string[] = [];
        const code = await runFleet(argv, { out: () => undefined, err: (s) => err.push(s) }, { credential: fixedTokenCredential, endpoint: "https://127.0.0.1:9" });
        expect(code).toBe(2);
        expect(err.join("").split("\n")[0]).toBe(message);
    });

    it.each([
        ["https://management.azure.com", "AzurePublic"],
        ["https://management.usgovcloudapi.net/", "AzureUSGovernment"],
        ["https://MANAGEMENT.chinacloudapi.cn", "AzureChina"],
        ["https://127.0.0.1:8443", undefined],
        ["not a url", undefined],
    ])("the cloud of ARM endpoint %s is %s", (endpoint, cloud) => {
        expect(cloudOfArmEndpoint(endpoint)).toBe(cloud);
    });

    it("parses repeatable subscriptions and the flags", () => {
        expect(parseFleetArgs(["--subscription", SUB_PROD, `--subscription=${SUB_LAB}`, "--paths", "--probe", "--concurrency=16", "--cloud", "azurechina"])).toEqual({
            subscriptions: [SUB_PROD, SUB_LAB],
            paths: true,
            probe: true,
            resolve: false,
            json: false,
            concurrency: 16,
            cloud: "AzureChina",
        });
    });
});
