import { readFileSync } from "fs";
import * as path from "path";
import { guestKeyAction, GivenKey, GuestLicenseState } from "../src/guest/decision";
import { windowsServerReleases } from "../src/kms";

const SCRIPT = readFileSync(path.join(__dirname, "..", "src", "guest", "activate.ps1"), "utf8");
const GVLK_2022_DC = "WX4NM-KYWYW-QJJR4-XV3QB-6VM33";
const USER_KEY = "NPPR9-FWDCX-D2C8J-H872K-2YT43";
const state = (build: number, edition: string, channel: string, partialKey: string, licenseStatus = 0): GuestLicenseState => ({ build, edition, channel, partialKey, licenseStatus });
const explicit: GivenKey = { key: USER_KEY, source: "explicit" };
const fromSku: GivenKey = { key: GVLK_2022_DC, source: "imageSku" };

// (build, edition, installed channel and key) x given key -> what the guest does.
const table: [string, GuestLicenseState, GivenKey, string, string | undefined][] = [
    ["VHD with a retail key: detect and install the GVLK", state(20348, "Datacenter", "Retail", "ABCDE"), {}, "install-detected", GVLK_2022_DC],
    ["VHD with a MAK: detect and install the GVLK", state(26100, "DatacenterAzureEdition", "Volume:MAK", "ABCDE"), {}, "install-detected", "XGN3F-F394H-FD2MY-PP6FD-8MCRC"],
    ["the right GVLK is already in: keep it", state(20348, "Datacenter", "Volume:GVLK", "6VM33"), {}, "kept-detected", undefined],
    ["another edition's GVLK is in: install this edition's", state(20348, "Datacenter", "Volume:GVLK", "VMK7H"), {}, "install-detected", GVLK_2022_DC],
    ["GVLK channel but no partial key read: install", state(20348, "Datacenter", "Volume:GVLK", ""), {}, "install-detected", GVLK_2022_DC],
    ["marketplace image, SKU key already in: keep", state(20348, "Datacenter", "Volume:GVLK", "6VM33"), fromSku, "kept-imageSku", undefined],
    ["SKU key beats detection", state(20348, "Standard", "Retail", "ABCDE"), fromSku, "install-imageSku", GVLK_2022_DC],
    ["explicit key beats everything but multi-session", state(20348, "Datacenter", "Volume:GVLK", "6VM33"), explicit, "install-explicit", USER_KEY],
    ["explicit key on an edition we cannot tell", state(20348, "Unknown", "Retail", "ABCDE"), explicit, "install-explicit", USER_KEY],
    ["multi-session is never re-keyed, even with an explicit key", state(19045, "MultiSession", "Volume:GVLK", "PG3GK"), explicit, "skipped-multisession", undefined],
    ["multi-session is never re-keyed by detection", state(22631, "MultiSession", "Retail", "ABCDE"), {}, "skipped-multisession", undefined],
    ["client edition: no key on a guess", state(22631, "Client", "Retail", "ABCDE"), {}, "skipped-client", undefined],
    ["client edition: not from a server image SKU", state(22631, "Client", "Retail", "ABCDE"), fromSku, "skipped-client", undefined],
    ["client edition: the user's explicit key", state(22631, "Client", "Retail", "ABCDE"), explicit, "install-explicit", USER_KEY],
    ["unknown edition, no key given", state(26100, "Unknown", "Retail", "ABCDE"), {}, "unknown-edition", undefined],
    ["unknown build (newer than the table)", state(30000, "Datacenter", "Retail", "ABCDE"), {}, "unknown-edition", undefined],
    ["Azure Edition did not exist in 2019", state(17763, "DatacenterAzureEdition", "Retail", "ABCDE"), {}, "unknown-edition", undefined],
    ["2008 R2 Enterprise", state(7601, "Enterprise", "Retail", "ABCDE"), {}, "install-detected", "489J6-VHDMP-X63PK-3K798-CPX3Y"],
    ["2012 R2 Standard with its GVLK", state(9600, "Standard", "Volume:GVLK", "MDVJX"), {}, "kept-detected", undefined],
    ["2008 R2 with its GVLK (channel read from Description): kept", state(7601, "Datacenter", "Volume:GVLK", "7M648"), {}, "kept-detected", undefined],
    ["2008 R2 KMS host (channel read from Description): never re-keyed", state(7601, "Enterprise", "Volume:CSVLK", "J7TVH", 1), {}, "skipped-kmshost", undefined],
    ["evaluation edition: never /ipk, even with a key", state(20348, "Evaluation", "Retail:TB:Eval", "XVCFW", 1), explicit, "skipped-evaluation", undefined],
    ["a KMS host (CSVLK) is never re-keyed", state(20348, "Datacenter", "Volume:CSVLK", "J7TVH", 1), fromSku, "skipped-kmshost", undefined],
    ["a KMS host (CSVLK) is never re-keyed, even with an explicit key", state(20348, "Datacenter", "Volume:CSVLK", "J7TVH", 1), explicit, "skipped-kmshost", undefined],
    ["MAK-activated: left alone", state(20348, "Datacenter", "Volume:MAK", "7J9KQ", 1), {}, "skipped-licensed", undefined],
    ["MAK-activated, image SKU key: left alone", state(20348, "Datacenter", "Volume:MAK", "7J9KQ", 1), fromSku, "skipped-licensed", undefined],
    ["retail-activated: left alone", state(20348, "Datacenter", "Retail", "3V66T", 1), {}, "skipped-licensed", undefined],
    ["OEM-activated: left alone", state(20348, "Datacenter", "OEM:DM", "3V66T", 1), {}, "skipped-licensed", undefined],
    ["licensed with a key the table does not know: left alone, even on an unknown edition", state(26100, "Unknown", "Retail", "3V66T", 1), {}, "skipped-licensed", undefined],
    ["licensed with another KMS client key: left alone", state(20348, "Datacenter", "Volume:GVLK", "VMK7H", 1), {}, "skipped-licensed", undefined],
    ["retail-activated, explicit key: re-keyed (the user asked)", state(20348, "Datacenter", "Retail", "3V66T", 1), explicit, "install-explicit", USER_KEY],
    ["MAK not activated: re-keyed (nothing to lose)", state(20348, "Datacenter", "Volume:MAK", "7J9KQ", 0), {}, "install-detected", GVLK_2022_DC],
    ["MAK in its grace period (not licensed): re-keyed", state(20348, "Datacenter", "Volume:MAK", "7J9KQ", 2), {}, "install-detected", GVLK_2022_DC],
];

describe("guest key decision", () => {
    test.each(table)("%s", (_label, guest, given, action, key) => {
        expect(guestKeyAction(guest, given)).toEqual(key === undefined ? { action } : { action, key });
    });

    test.each(windowsServerReleases.flatMap((r) => Object.entries(r.keys).map(([edition, key]) => [r.version, edition, r.build, key] as const)))(
        "Windows Server %s %s (build %i) from retail media gets %s",
        (_version, edition, build, key) => {
            expect(guestKeyAction(state(build, edition, "Retail", "ABCDE"))).toEqual({ action: "install-detected", key });
        },
    );

    test("the script's Select-KeyAction decides in the same order, with the same actions", () => {
        const body = SCRIPT.slice(SCRIPT.indexOf("function Select-KeyAction"), SCRIPT.indexOf("function Invoke-Bounded"));
        const actionsIn = (text: string) =>
            [...text.matchAll(/["'`](skipped-multisession|skipped-evaluation|skipped-kmshost|skipped-client|skipped-licensed|unknown-edition|kept-|install-)/g)].map((m) => m[1]);
        const expected = ["skipped-multisession", "skipped-evaluation", "skipped-kmshost", "skipped-client", "skipped-licensed", "unknown-edition", "kept-", "skipped-licensed", "install-"];
        expect(actionsIn(body)).toEqual(expected);
        expect(actionsIn(guestKeyAction.toString())).toEqual(expected);
        // The same guards, in PowerShell: edition names, the explicit-only client rule, the channels and the licence.
        expect(body).toContain("$Edition -eq 'MultiSession'");
        expect(body).toContain("$Edition -eq 'Evaluation'");
        expect(body).toContain("$State.channel -eq 'Volume:CSVLK'");
        expect(body).toContain("$Edition -eq 'Client' -and $source -ne 'explicit'");
        expect(body).toContain("$State.channel -eq 'Volume:GVLK' -and $State.partialKey -ne '' -and $KeyToInstall.EndsWith($State.partialKey)");
        expect(body).toContain("$licensed = $State.status -eq 1 -and $source -ne 'explicit'");
        expect(body).toContain("if ($licensed -and $State.channel -ne 'Volume:GVLK') { return 'skipped-licensed' }");
        // No probe result reaches the decision.
        expect(body).not.toMatch(/KmsAnswered|probe/i);
    });

    test("the script maps EditionID to the editions of the key table", () => {
        const mapping = SCRIPT.slice(SCRIPT.indexOf("function Get-OsEdition"), SCRIPT.indexOf("function Select-KeyAction"));
        for (const [id, edition] of [
            ["Eval", "Evaluation"],
            ["ServerRdsh", "MultiSession"],
            ["ServerTurbine", "DatacenterAzureEdition"],
            ["ServerDatacenter", "Datacenter"],
            ["ServerStandard", "Standard"],
            ["ServerSolution", "Essentials"],
            ["ServerEnterprise", "Enterprise"],
        ]) {
            expect(mapping).toMatch(new RegExp(`'\\^?${id}\\$?' \\{ '${edition}'; break \\}`));
        }
        // Evaluation first: ServerDatacenterEval must not read as Datacenter.
        expect(mapping.indexOf("'Eval$'")).toBeLessThan(mapping.indexOf("'^ServerDatacenter'"));
        expect(mapping).toContain("if ([int]$os.ProductType -eq 1) { 'Client' } else { 'Unknown' }");
    });
});
