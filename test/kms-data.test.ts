import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { AzureCloud } from "../src/types";
import { kmsClientKeyForSku, kmsEndpoint, ServerEdition, windowsServerReleases } from "../src/kms";

// The project's copy of the facts file; CI also has the shared original beside the clone.
const FACTS_PATH = path.join(__dirname, "..", "docs", "azure-kms-facts.md");
const SHARED_FACTS_PATH = path.join(__dirname, "..", "..", "shared", "docs", "azure-kms-facts.md");
const facts = readFileSync(FACTS_PATH, "utf8");

function tableRows(section: string): string[][] {
    const start = facts.indexOf(section);
    const body = facts.slice(start, facts.indexOf("\n## ", start + 1));
    return body
        .split("\n")
        .filter((line) => line.startsWith("|") && !/^\|\s*-/.test(line))
        .slice(1)
        .map((line) => line.split("|").slice(1, -1).map((cell) => cell.trim()));
}

// The address the legacy name (kms.core.*) answers at, per cloud: 23.102.135.246 was kms.core.windows.net's address
// before the 2023 move (facts section 1, Azure support Japan's 2017 blog).
const LEGACY_ADDRESS: Record<string, string> = { AzurePublic: "23.102.135.246", AzureUSGovernment: "23.97.0.13", AzureChina: "42.159.7.249" };

describe("facts file", () => {
    test("the project's copy matches the shared original when it is present", () => {
        const shared = existsSync(SHARED_FACTS_PATH) ? readFileSync(SHARED_FACTS_PATH, "utf8") : facts;
        expect(shared).toBe(facts);
    });
});

describe("kmsEndpoint", () => {
    const rows = tableRows("## 1. KMS endpoints per cloud");
    const cloudOfRow = (cell: string) => cell.split(" ")[0] as AzureCloud;

    test("covers exactly the clouds of the facts table", () => {
        expect(rows.map((r) => cloudOfRow(r[0])).sort()).toEqual(Object.values(AzureCloud).sort());
    });

    test.each(rows.map((r) => [cloudOfRow(r[0]), r] as const))("%s matches the facts table", (cloud, row) => {
        const endpoint = kmsEndpoint(cloud);
        expect(endpoint.cloud).toBe(cloud);
        expect(endpoint.host).toBe(row[1]);
        expect(endpoint.legacyHost).toBe(row[2]);
        // The same addresses as the table, ordered alike in every cloud: the current (azkms) name's first, the legacy
        // name's address (Microsoft's table lists it first for US Government) last.
        expect([...endpoint.ipAddresses].sort()).toEqual(row[3].split(",").map((ip) => ip.trim()).sort());
        expect(endpoint.ipAddresses[endpoint.ipAddresses.length - 1]).toBe(LEGACY_ADDRESS[cloud]);
        expect(endpoint.port).toBe(1688);
    });

    test("defaults to the public cloud", () => {
        expect(kmsEndpoint().host).toBe("azkms.core.windows.net");
    });

    test("refuses a cloud that does not exist, naming the field", () => {
        expect(() => kmsEndpoint("AzureGermany" as AzureCloud)).toThrow(/^cloud: "AzureGermany" is not a supported Azure cloud; use one of AzurePublic/);
    });
});

describe("server key table", () => {
    const rows = tableRows("## 3. KMS client setup keys");
    const columns = [ServerEdition.Standard, ServerEdition.Datacenter, ServerEdition.DatacenterAzureEdition, ServerEdition.Essentials];
    const versionOf = (cell: string) => cell.toLowerCase().replace(" ", "-");

    test("has the releases of the facts table, newest first", () => {
        expect(windowsServerReleases.map((r) => r.version)).toEqual(rows.map((r) => versionOf(r[0])));
    });

    test.each(rows.map((r) => [r[0], r] as const))("Windows Server %s keys match the facts table", (version, row) => {
        const release = windowsServerReleases.find((r) => r.version === versionOf(version));
        const expected: Partial<Record<ServerEdition, string>> = {};
        columns.forEach((edition, i) => {
            const cell = row[i + 1];
            const key = /^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$/.test(cell) ? cell : undefined;
            if (key) {
                expected[edition] = key;
            }
            const enterprise = /Enterprise ([A-Z0-9-]{29})/.exec(cell);
            if (enterprise) {
                expected[ServerEdition.Enterprise] = enterprise[1];
            }
        });
        expect(release?.keys).toEqual(expected);
    });

    test("builds match the facts file", () => {
        const builds = Object.fromEntries(windowsServerReleases.map((r) => [r.version, r.build]));
        expect(builds).toEqual({ "2025": 26100, "2022": 20348, "2019": 17763, "2016": 14393, "2012-r2": 9600, "2012": 9200, "2008-r2": 7601 });
        for (const [version, build] of Object.entries(builds)) {
            expect(facts).toContain(`${build} = ${version.replace("-r2", " R2")}`);
        }
    });
});

describe("kmsClientKeyForSku", () => {
    const key = (version: string, edition: ServerEdition) => windowsServerReleases.find((r) => r.version === version)?.keys[edition];
    const cases: [string, string | undefined][] = [
        ["2008-R2-SP1", key("2008-r2", ServerEdition.Datacenter)],
        ["2008-R2-SP1-smalldisk", key("2008-r2", ServerEdition.Datacenter)],
        ["2008-R2-SP1-zhcn", key("2008-r2", ServerEdition.Datacenter)],
        ["2012-Datacenter", key("2012", ServerEdition.Datacenter)],
        ["2012-datacenter-gensecond", key("2012", ServerEdition.Datacenter)],
        ["2012-datacenter-smalldisk-g2", key("2012", ServerEdition.Datacenter)],
        ["2012-R2-Datacenter", key("2012-r2", ServerEdition.Datacenter)],
        ["2012-r2-datacenter-smalldisk-g2", key("2012-r2", ServerEdition.Datacenter)],
        ["2016-Datacenter", key("2016", ServerEdition.Datacenter)],
        ["2016-Datacenter-Server-Core-smalldisk", key("2016", ServerEdition.Datacenter)],
        ["2016-datacenter-with-containers-g2", key("2016", ServerEdition.Datacenter)],
        ["2016-datacenter-gs", key("2016", ServerEdition.Datacenter)],
        ["2019-Datacenter", key("2019", ServerEdition.Datacenter)],
        ["2019-Datacenter-Core-with-Containers", key("2019", ServerEdition.Datacenter)],
        ["2019-datacenter-zhcn-g2", key("2019", ServerEdition.Datacenter)],
        ["2022-datacenter", key("2022", ServerEdition.Datacenter)],
        ["2022-datacenter-g2", key("2022", ServerEdition.Datacenter)],
        ["2022-datacenter-core-smalldisk-g2", key("2022", ServerEdition.Datacenter)],
        ["2022-datacenter-azure-edition", key("2022", ServerEdition.DatacenterAzureEdition)],
        ["2022-datacenter-azure-edition-core-smalldisk", key("2022", ServerEdition.DatacenterAzureEdition)],
        ["2022-datacenter-azure-edition-hotpatch", key("2022", ServerEdition.DatacenterAzureEdition)],
        ["2025-datacenter", key("2025", ServerEdition.Datacenter)],
        ["2025-datacenter-g2", key("2025", ServerEdition.Datacenter)],
        ["2025-datacenter-azure-edition", key("2025", ServerEdition.DatacenterAzureEdition)],
        ["2025-datacenter-azure-edition-core-smalldisk", key("2025", ServerEdition.DatacenterAzureEdition)],
        ["2025-DATACENTER-AZURE-EDITION", key("2025", ServerEdition.DatacenterAzureEdition)],
        // Not marketplace SKUs, but the form users give imageSku for a VHD of another edition.
        ["2019-standard", key("2019", ServerEdition.Standard)],
        ["2016-essentials", key("2016", ServerEdition.Essentials)],
        ["2025-essentials", undefined],
        // Azure Edition exists only from 2022 on.
        ["2019-datacenter-azure-edition", undefined],
        // Not Windows Server marketplace SKUs, or words we cannot read for certain: the guest detects instead.
        ["datacenter-core-20h2-with-containers-smalldisk-gs", undefined],
        ["win11-23h2-avd", undefined],
        ["2022-datacenter-mystery", undefined],
        ["2030-datacenter", undefined],
        ["", undefined],
    ];
    test.each(cases)("%s -> %s", (sku, expected) => {
        expect(kmsClientKeyForSku(sku)).toBe(expected);
    });

    test("every SKU case with a key maps to a real key of the table", () => {
        const allKeys = windowsServerReleases.flatMap((r) => Object.values(r.keys));
        for (const [, expected] of cases) {
            if (expected !== undefined) {
                expect(allKeys).toContain(expected);
            }
        }
    });
});
