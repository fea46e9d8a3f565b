import { cloudKmsDestination, decideReachability } from "../src/reachability";
import { CASES, FW_IP, K1, K2, KMS, ROUND_2, base, denyInternet, destinationOf, hubFirewall, kmsRoutes, networkRule, nsg, route, table, tunnel } from "./reachability-cases";

describe("reachability engine: the case table (section 6 of the facts file)", () => {
    test("at least 40 cases, each citing a rule; every rule id is exercised", () => {
        expect(CASES.length).toBeGreaterThanOrEqual(40);
        const rules = new Set(CASES.map((c) => c.rule));
        for (const id of ["R1", "R2", "R3", "R4", "R5", "N1", "N2", "N3", "N4", "N5", "N6", "E1", "E2", "E3", "E4", "E5", "E6", "K1"]) {
            expect(rules).toContain(id);
        }
        expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
    });

    test("round 2 (issue 24): at least 25 rows cite N4–N6, E4–E6 or R5, each of them at least twice", () => {
        const round2 = ["N4", "N5", "N6", "E4", "E5", "E6", "R5"];
        const citing = ROUND_2.filter((c) => round2.includes(c.rule));
        expect(citing.length).toBeGreaterThanOrEqual(25);
        for (const id of round2) expect(citing.filter((c) => c.rule === id).length).toBeGreaterThanOrEqual(2);
        // A row blamed on a round-2 element shows that rule in some step (rows where the ASG rule is skipped and a
        // later deny-internet blocks are about N4 not matching; R5 rows are decided by the route step, R1's longest prefix).
        for (const c of citing.filter((c) => c.verdict !== "reachable" && c.rule !== "R5" && !c.blame?.includes("deny-internet"))) {
            const steps = decideReachability(c.facts, destinationOf(c)).addresses.flatMap((a) => a.steps);
            expect([c.name, steps.some((s) => s.rule === c.rule)]).toEqual([c.name, true]);
        }
    });

    test.each(CASES.map((c) => [`${c.rule}: ${c.name}`, c] as const))("%s", (_, c) => {
        const result = decideReachability(c.facts, destinationOf(c));
        expect(result.verdict).toBe(c.verdict);
        const failing = result.addresses.find((a) => a.verdict !== "reachable");
        if (c.verdict === "reachable") {
            expect(failing).toBeUndefined();
            expect(result.addresses.every((a) => a.blame === undefined && a.egress !== undefined)).toBe(true);
        } else {
            expect(failing?.blame).toBeDefined();
            expect(failing?.blame?.fix.length).toBeGreaterThan(20);
        }
        if (c.blame) {
            expect(failing?.blame?.element).toContain(c.blame);
        }
        if (c.detail) {
            expect(result.addresses.flatMap((a) => a.steps.map((s) => `${s.element}: ${s.detail}`)).join("\n")).toContain(c.detail);
        }
    });
});

describe("reachability engine: the path it reports", () => {
    test("one entry per KMS address, in order, each with the route, both NSG layers and the egress", () => {
        const result = decideReachability(base({ routeTable: table(tunnel("VirtualNetworkGateway"), ...kmsRoutes()) }), cloudKmsDestination());
        expect(result.addresses.map((a) => a.address)).toEqual(KMS);
        const first = result.addresses[0];
        expect(first.route?.route.name).toBe(`kms-${K1}`);
        expect(first.route?.why).toBe("longest matching prefix (/32)");
        expect(first.steps.map((s) => [s.rule, s.kind, s.outcome])).toEqual([
            ["R1", "route", "pass"],
            ["N1", "nsg", "pass"],
            ["N1", "nsg", "pass"],
            ["E1", "egress", "pass"],
        ]);
        expect(first.egress).toBe("default outbound access (an Azure-chosen public IP)");
    });

    test("a forced tunnel names the route, the table and the fix with the missing /32", () => {
        const result = decideReachability(base({ routeTable: table(tunnel("VirtualNetworkGateway"), ...kmsRoutes([K1])) }), cloudKmsDestination());
        expect(result.addresses.map((a) => a.verdict)).toEqual(["reachable", "blocked", "blocked"]);
        expect(result.addresses[1].blame).toEqual({
            rule: "R3",
            kind: "route",
            element: 'user route "default" of route table "rt-spoke" (0.0.0.0/0 -> VirtualNetworkGateway)',
            reason:
                'user route "default" of route table "rt-spoke" (0.0.0.0/0 -> VirtualNetworkGateway) carries 40.83.235.53: equal prefix /0: a user route beats BGP and system routes. ' +
                "The gateway sends it on-premises, so it does not leave from an Azure public IP and Azure KMS refuses it.",
            fix: 'add a route 40.83.235.53/32 with next hop type Internet to route table "rt-spoke" (the longest prefix beats the 0.0.0.0/0; KmsEgressRules adds one per KMS IP).',
        });
    });

    test("a blocking element wins the blame over an earlier unknown one", () => {
        const facts = base({ nicNsg: undefined, routeTable: table(route("kms-drop", `${K2}/32`, "None")) });
        const blocked = decideReachability(facts, cloudKmsDestination()).addresses[1];
        expect(blocked.verdict).toBe("blocked");
        expect(blocked.blame?.element).toContain("kms-drop");
    });

    test("the NSG fix names the NSG and a priority below the deny", () => {
        const facts = base({ routeTable: table(tunnel(), ...kmsRoutes()), subnetNsg: nsg("nsg-app", denyInternet) });
        expect(decideReachability(facts, cloudKmsDestination()).addresses[0].blame?.fix).toBe(
            `add an outbound Allow rule for TCP 1688 to ${K1} to NSG "nsg-app" with a priority number below 4000 (KmsEgressRules adds one).`,
        );
    });

    test("the hub firewall's SNAT public IP is the egress", () => {
        const result = decideReachability(base({ routeTable: table(tunnel()), nextHops: hubFirewall([networkRule("allow-kms")]) }), cloudKmsDestination());
        expect(result.addresses[0].egress).toBe('Azure Firewall "fw-hub" (policy "fwp-hub") (SNAT to its public IP 52.1.2.3)');
    });

    test("an unknown appliance says what it must do", () => {
        const result = decideReachability(base({ routeTable: table(tunnel()) }), cloudKmsDestination());
        expect(result.addresses[0].blame?.reason).toBe(`the appliance at ${FW_IP} is outside what is known: it must SNAT to a public IP of its own and allow TCP 1688 to ${K1}.`);
    });

    test("a source given as the NIC's subnet (address not assigned yet): an NSG rule covering all of it decides, part of it does not", () => {
        // With a 0/0 route the KMS platform rule is off, so the NSG decides alone.
        const denyFrom = (source: string) =>
            decideReachability(
                base({ privateIpAddress: "10.1.0.0/24", routeTable: table(tunnel("Internet"), ...kmsRoutes()), subnetNsg: nsg("nsg-app", { ...denyInternet, name: "deny-from", priority: 100, sourceAddressPrefixes: [source] }) }),
                cloudKmsDestination(),
            ).addresses[0];
        expect(denyFrom("10.1.0.0/16")).toMatchObject({ verdict: "blocked", blame: { element: 'NSG "nsg-app" rule "deny-from"' } });
        expect(denyFrom("10.1.0.0/25")).toMatchObject({ verdict: "unknown", blame: { element: 'NSG "nsg-app" rule "deny-from"' } });
        expect(denyFrom("10.9.0.0/16").verdict).toBe("reachable");
    });

    test("an address that is not IPv4 is unknown, not a crash", () => {
        const result = decideReachability(base(), { ...cloudKmsDestination(), addressPrefixes: ["kms.example"] });
        expect(result.verdict).toBe("unknown");
        expect(result.addresses[0].blame?.element).toBe('KMS address "kms.example"');
    });
});
