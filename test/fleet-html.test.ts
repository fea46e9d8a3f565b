/**
 * The `--html` report opened in headless Chromium (Debian's, installed by scripts/chromium.js when missing): no
 * console error, no request beyond the file itself, the summary counts, one row per VM, each VM's path drawn,
 * sorting by a column header, the stale list. The screenshot is kept in test-artifacts/ (git-ignored).
 */
import { mkdirSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { pathToFileURL } from "url";
import type { Browser } from "playwright-core";
import { runFleet } from "../src/cli/fleet";
import { buildPlan, parseArgs } from "../src/cli/plan";
import { runExample } from "../src/cli/examples";
import { planFleetReport, writePlanHtml } from "../src/fleet/planReport";
import { renderFleetHtml } from "../src/fleet/html";
import { FleetReport } from "../src/fleet/types";
import { fixedTokenCredential, startStandIn } from "./fleet/arm-standin";
import { mockFleet } from "./fleet/mock-fleet";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ensureChromium } = require("../scripts/chromium.js") as { ensureChromium: () => { path?: string; reason?: string } };

const ARTIFACTS = path.join(__dirname, "..", "test-artifacts");
const HTML = path.join(ARTIFACTS, "fleet-report.html");

// The test's tsconfig has no DOM library: a table row as far as these tests read it.
type Row = { cells: { textContent: string | null }[] };

let browser: Browser;
let report: FleetReport;

beforeAll(async () => {
    const chromium = ensureChromium();
    if (!chromium.path) throw new Error(`the HTML report test needs Chromium: ${chromium.reason}`);
    mkdirSync(ARTIFACTS, { recursive: true });
    const standIn = await startStandIn({ ...mockFleet(false), throttleOnce: [] });
    try {
        const code = await runFleet(["--paths", "--html", HTML], { out: () => undefined, err: () => undefined }, {
            credential: fixedTokenCredential,
            endpoint: standIn.url,
            ca: standIn.ca,
            progress: { isTTY: false, write: () => 0 },
            onReport: (r) => (report = r),
        });
        expect(code).toBe(1);
    } finally {
        await standIn.close();
    }
    const { chromium: launcher } = await import("playwright-core");
    // Playwright gives the browser a fresh profile (user data dir) of its own for each launch.
    browser = await launcher.launch({
        executablePath: chromium.path,
        headless: true,
        args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
});

afterAll(async () => {
    await browser?.close();
});

describe("fleet --html", () => {
    it("is one self-contained file: no script, style, image or font from anywhere", () => {
        const html = readFileSync(HTML, "utf8");
        expect(html).not.toMatch(/\s(src|href)\s*=/i);
        expect(html).not.toMatch(/url\(|@import/i);
        expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'`);
    });

    it("opens in Chromium with no console error and no request, shows the counts, one row per VM, paths and the stale list", async () => {
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        const problems: string[] = [];
        const requests: string[] = [];
        page.on("console", (m) => {
            if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
        });
        page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
        page.on("request", (r) => requests.push(r.url()));
        const url = pathToFileURL(HTML).href;
        await page.goto(url);

        const count = async (id: string) => (await page.locator(`#${id} b`).textContent())?.trim();
        expect(await count("count-vms")).toBe("12");
        expect(
            await Promise.all(["activated", "licensed", "pending", "error", "skipped", "no-activation", "unknown", "path-reachable", "path-blocked", "stale"].map((id) => count(`count-${id}`))),
        ).toEqual(["4", "1", "3", "1", "0", "2", "1", "7", "2", "1"]);

        const rows = page.locator("#vms tbody tr.vm");
        expect(await rows.count()).toBe(12);
        const names = await rows.evaluateAll((trs) => trs.map((tr) => (tr as unknown as Row).cells[1].textContent));
        expect([...names].sort()).toEqual(report.vms.map((v) => (v.instanceId !== undefined ? `${v.scaleSet}/${v.instanceId}` : v.name)).sort());
        // Each judged VM's path: three KMS addresses, each a chain of hops ending in the address and its verdict.
        expect(await page.locator("#vms .path").count()).toBe(9 * 3);
        const tunnel = page.locator('#vms tr.vm:has(td:text-is("vm-tunnel-01")) .path').first();
        expect(await tunnel.locator(".hop.block").count()).toBeGreaterThan(0);
        expect(await tunnel.locator(".st.blocked").textContent()).toBe("20.118.99.224 blocked");

        await page.locator("#vms th", { hasText: "VM" }).first().click();
        expect(await rows.first().locator("td").nth(1).textContent()).toBe("vm-app-01");
        await page.locator("#vms th", { hasText: "VM" }).first().click();
        expect(await rows.first().locator("td").nth(1).textContent()).toBe("vmss-web/2");
        await page.locator("#vms th", { hasText: "Status" }).click();
        expect(await rows.evaluateAll((trs) => trs.slice(0, 4).map((tr) => (tr as unknown as Row).cells[0].textContent))).toEqual(["activated", "activated", "activated", "activated"]);

        expect(await page.locator("#stale li").count()).toBe(1);
        expect(await page.locator("#stale li").textContent()).toContain("route-table rt-legacy");

        // Back to the order the report prints, for the screenshot.
        await page.goto(url);
        await page.screenshot({ path: path.join(ARTIFACTS, "fleet-report.png"), fullPage: true });
        expect(problems).toEqual([]);
        expect(requests.filter((r) => r !== url)).toEqual([]);
        await page.close();
    });

    it("escapes what comes from Azure (a VM name or message cannot inject markup)", async () => {
        const hostile: FleetReport = { ...report, vms: [{ ...report.vms[0], name: '<img src=x onerror="console.error(1)">', diagnosis: ["<script>console.error(2)</script>"] }] };
        const file = path.join(ARTIFACTS, "fleet-report-hostile.html");
        writeFileSync(file, renderFleetHtml(hostile));
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on("console", (m) => problems.push(m.text()));
        page.on("pageerror", (e) => problems.push(e.message));
        await page.goto(pathToFileURL(file).href);
        expect(await page.locator("#vms tbody tr.vm td").nth(1).textContent()).toBe('<img src=x onerror="console.error(1)">');
        expect(await page.locator("img").count()).toBe(0);
        expect(problems).toEqual([]);
        await page.close();
    });
});

describe("plan --html", () => {
    it("takes a file", () => {
        expect(parseArgs(["quickstart", "--html", "plan.html"])).toMatchObject({ target: "quickstart", html: "plan.html", format: "text" });
        expect(() => parseArgs(["--html"])).toThrow("--html needs a value");
    });

    it("writes the same page for a planned stack: each Windows VM with its planned activation and judged path", async () => {
        const plan = buildPlan(await runExample("quickstart"));
        const report = planFleetReport(plan);
        expect(report.vms.map((v) => [v.name, v.status, v.path?.verdict])).toEqual(plan.reachability.map((r) => [r.vm, "unknown", r.verdict]));
        expect(report.vms[0].diagnosis[0]).toMatch(/^planned: .* points the guest at azkms\.core\.windows\.net:1688; the result is known after deploy$/);
        expect(report.stale).toEqual([]);
        const file = path.join(ARTIFACTS, "plan-quickstart.html");
        expect(writePlanHtml(plan, file)).toBeUndefined();
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on("console", (m) => problems.push(`${m.type()}: ${m.text()}`));
        page.on("pageerror", (e) => problems.push(e.message));
        await page.goto(pathToFileURL(file).href);
        expect(await page.locator("h1").textContent()).toBe(`KMS activation: plan of ${plan.project}/${plan.stack}`);
        expect(await page.locator("#count-vms b").textContent()).toBe(String(plan.reachability.length));
        expect(await page.locator("#vms tbody tr.vm").count()).toBe(plan.reachability.length);
        await page.screenshot({ path: path.join(ARTIFACTS, "plan-quickstart.png"), fullPage: true });
        expect(problems).toEqual([]);
        await page.close();
        expect(writePlanHtml(plan, path.join(ARTIFACTS, "no-such-dir", "x.html"))).toMatch(/^--html file ".*x\.html" cannot be written: ENOENT/);
    });
});
