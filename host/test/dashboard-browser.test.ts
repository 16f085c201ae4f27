/**
 * The dashboard in a real browser (Debian's chromium through playwright-core) against a real
 * host with real plugins: the SDK example `hello`, the job fixture `jobs`, the printing
 * fixture `talk` and the built-in `clock`. Signed in through a one-time link as a person
 * would be; each step waits for what the page shows, never for a fixed time. Screenshots go
 * to docs/img/ for docs/dashboard.md.
 */
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { describeWithBrowser, launchBrowser, type TestBrowser } from "./helpers/browser.js";
import { HELLO_PLUGIN, adminHeaders, http, jobPluginTable, startTestHost, type TestHost } from "./harness.js";

const FLOOD_PLUGIN = fileURLToPath(new URL("./fixtures/flood-plugin.mjs", import.meta.url));
const SHOTS = fileURLToPath(new URL("../../docs/img/", import.meta.url));

let t: TestHost;
let b: TestBrowser;
let signedIn: BrowserContext;
let page: Page;

/** A browser context signed in through a fresh one-time link, on the dashboard's plugins page. */
async function signedInContext(viewport = { width: 1280, height: 800 }): Promise<{ context: BrowserContext; page: Page }> {
  const link = (await http(`${t.url}/api/dashboard/login-link`, { method: "POST", headers: adminHeaders(t) })).json().url as string;
  const context = await b.browser.newContext({ viewport });
  const p = await context.newPage();
  await p.goto(link);
  await p.waitForSelector('[data-testid="session"]:has-text("signed in")');
  return { context, page: p };
}

describeWithBrowser(import.meta.url, "the dashboard in chromium", () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    t = await startTestHost(
      `[plugins.hello]\nbinary = ${JSON.stringify(HELLO_PLUGIN)}\n\n${jobPluginTable("jobs")}` +
        `[plugins.talk]\nbinary = ${JSON.stringify(FLOOD_PLUGIN)}\nargs = ["--name", "talk"]\n\n[plugins.clock]\nbuiltin = "clock"\n`,
    );
    b = await launchBrowser();
    ({ context: signedIn, page } = await signedInContext());
  }, 60_000);

  afterAll(async () => {
    await b?.close();
    await t?.close();
  });

  it("renders the plugin list, and loads fast from the host", async () => {
    for (const name of ["clock", "hello", "jobs", "talk"]) {
      await page.waitForSelector(`tr[data-plugin="${name}"] [data-state="running"]`);
    }
    expect(await page.locator('tr[data-plugin="hello"] td').nth(3).textContent()).toMatch(/^\d+\.\d+\.\d+/);
    // Timed on a reload: the first load also pays for the sign-in redirect and a cold browser.
    await page.reload();
    await page.waitForSelector('tr[data-plugin="hello"] [data-state="running"]');
    const timing = await page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation").at(-1) as PerformanceNavigationTiming;
      return { load: nav.loadEventEnd - nav.startTime, bytes: performance.getEntriesByType("resource").reduce((sum, r) => sum + (r as PerformanceResourceTiming).transferSize, nav.transferSize) };
    });
    // Recorded, not asserted (a timing depends on the machine): docs/dashboard.md quotes it.
    process.stderr.write(`dashboard load: ${Math.round(timing.load)} ms, ${timing.bytes} bytes transferred\n`);
    await page.screenshot({ path: `${SHOTS}dashboard-plugins.png` });
  });

  it("shows a restart live: the state changes and the restart count goes up", async () => {
    // Records every state the row shows, so a passing state is seen however short.
    await page.evaluate(() => {
      const seen: string[] = ((window as unknown as { seen: string[] }).seen = []);
      const row = document.querySelector('tr[data-plugin="jobs"]')!;
      new MutationObserver(() => seen.push(row.querySelector("[data-state]")!.getAttribute("data-state")!)).observe(row, { subtree: true, childList: true, attributes: true, characterData: true });
    });
    await page.click('tr[data-plugin="jobs"] button[data-action="restart"]');
    await page.waitForSelector('tr[data-plugin="jobs"] [data-testid="restarts"]:text-is("1")');
    await page.waitForSelector('tr[data-plugin="jobs"] [data-state="running"]');
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    expect(seen).toEqual(expect.arrayContaining(["restarting", "running"]));
  });

  it("enqueues a job from the page and shows its progress bar moving, then its result", async () => {
    await page.click('a[data-page="jobs"]');
    await page.fill('[data-testid="enqueue"] input', "jobs/slow");
    await page.fill('[data-testid="enqueue"] textarea', JSON.stringify({ ms: 2000, steps: 8 }));
    await page.click('[data-testid="enqueue"] button[type="submit"]');
    await page.waitForSelector('[data-testid="job-detail"]');
    // The bar's value as each SSE event arrives: several values between 0 and 100 mean it moved.
    await page.evaluate(() => {
      const seen: number[] = ((window as unknown as { bars: number[] }).bars = []);
      const detail = document.querySelector('[data-testid="job-detail"]')!;
      new MutationObserver(() => seen.push(Number(detail.querySelector("progress")!.getAttribute("data-current")))).observe(detail, { subtree: true, attributes: true, childList: true });
    });
    await page.waitForSelector('[data-testid="job-detail"][data-status="running"]');
    await page.screenshot({ path: `${SHOTS}dashboard-job-running.png` });
    await page.waitForSelector('[data-testid="job-detail"][data-status="completed"]', { timeout: 20_000 });
    const bars = await page.evaluate(() => (window as unknown as { bars: number[] }).bars);
    expect(new Set(bars.filter((v) => v > 0 && v < 8)).size).toBeGreaterThanOrEqual(2);
    expect(await page.textContent('[data-testid="job-result"]')).not.toBe("-");
    await page.screenshot({ path: `${SHOTS}dashboard-jobs.png` });
  });

  it("streams a plugin's logs: its ring first, then new lines, filtered by text", async () => {
    await page.goto(`${t.url}/#/logs?plugin=talk`);
    await page.waitForSelector('[data-testid="log-lines"] :text("hello from stdout")');
    await page.waitForSelector('h1 [data-live="on"]');
    await http(`${t.url}/api/talk/say?text=from-the-browser-test`);
    await page.waitForSelector('[data-testid="log-lines"] :text("from-the-browser-test")');
    await page.fill('label:has-text("Text") input', "browser-test");
    await page.waitForSelector('[data-testid="log-lines"] :text("hello from stdout")', { state: "detached" });
    expect(await page.locator('[data-testid="log-lines"] .line').count()).toBe(1);
    await page.screenshot({ path: `${SHOTS}dashboard-logs.png` });
  });

  it("without a session: shows how to sign in, offers no actions, and a bad token is refused", async () => {
    const context = await b.browser.newContext();
    const anonymous = await context.newPage();
    await anonymous.goto(`${t.url}/`);
    await anonymous.waitForSelector('[data-testid="sign-in"]:has-text("qntx dashboard")');
    await anonymous.waitForSelector('tr[data-plugin="hello"]');
    expect(await anonymous.locator("button[data-action]").count()).toBe(0);
    const answer = await anonymous.evaluate(async () => {
      const res = await fetch("/api/plugins/hello/stop", { method: "POST", headers: { authorization: "Bearer not-the-token" } });
      return { status: res.status, body: await res.json() };
    });
    expect(answer).toMatchObject({ status: 401, body: { code: "UNAUTHORIZED" } });
    // A used login link signs nobody in.
    const link = (await http(`${t.url}/api/dashboard/login-link`, { method: "POST", headers: adminHeaders(t) })).json().url as string;
    await fetch(link, { redirect: "manual" });
    const reused = await anonymous.goto(link);
    expect(reused!.status()).toBe(401);
    expect(t.host.registry.get("hello")!.state).toBe("running");
    await context.close();
  });

  it("works at a phone's width (375 px): nothing overflows the page", async () => {
    const phone = await signedInContext({ width: 375, height: 740 });
    await phone.page.waitForSelector('tr[data-plugin="hello"] [data-state="running"]');
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.page.screenshot({ path: `${SHOTS}dashboard-phone.png` });
    await phone.context.close();
  });
});
