/**
 * The web page in a real browser: Debian's chromium (/usr/bin/chromium, from
 * scripts/install-test-deps.sh) driven by playwright-core, which never downloads a browser of its
 * own. Against a real API with auth on, an in-process worker, a redis-server and a fixture site
 * (all on loopback), a user logs in, submits the site, watches the progress reach success over the
 * event stream, opens the llms.txt, registers the site as a website and sees its scheduled run,
 * and finds the completed job in Bull Board.
 * Screenshots go to artifacts/browser/ (gitignored) for a person to look at.
 */
import fs from "node:fs";
import path from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { type ApiHandle, runApiProcess } from "../../src/api/main";
import { loadConfig } from "../../src/config/env";
import { silentLogger } from "../../src/lib/logger";
import { hashPassword } from "../../src/security/password";
import { runWorkerProcess, type WorkerProcess } from "../../src/workers/main";
import { testFilesDir } from "../support/fileStore";
import { type RedisServer, startRedis } from "../support/redisServer";
import { type SiteServer, startSiteServer } from "../support/siteServer";

const CHROMIUM = "/usr/bin/chromium";
const PASSWORD = "correct horse battery staple";
const SHOTS = path.resolve(__dirname, "../../artifacts/browser");

let redis: RedisServer;
let site: SiteServer;
let api: ApiHandle;
let worker: WorkerProcess;
let browser: Browser;
let context: BrowserContext;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run scripts/install-test-deps.sh (it installs Debian's chromium)`);
  fs.mkdirSync(SHOTS, { recursive: true });
  redis = await startRedis();
  site = await startSiteServer("crawl-only");
  // A cheap scrypt cost: the test checks the login flow, not the hash's strength.
  const passwordHash = await hashPassword(PASSWORD, { N: 2 ** 10, r: 8, p: 1 });
  const config = loadConfig({
    REDIS_URL: redis.url,
    REDIS_PREFIX: `browser${process.pid}`,
    FILES_DIR: testFilesDir(),
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "silent",
    ENABLE_AUTH: "1",
    AUTH_PASSWORD_HASH: passwordHash,
    SESSION_SECRET: "a-test-secret-of-enough-length",
    ALLOW_PRIVATE_NETWORKS: "1", // the fixture site is on loopback
    LTX_PROVIDER: "extractive",
    RETRY_BASE_DELAY_MS: "100",
    EXTRACT_THREADS: "1",
  });
  api = await runApiProcess(config, silentLogger(), {
    connectionGraceMs: 200,
    sseHeartbeatMs: 500,
  });
  worker = await runWorkerProcess(config, silentLogger(), { worker: { drainDelaySeconds: 1 } });

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // A fresh profile each launch: playwright makes a temp user-data-dir and removes it on close.
    // No sandbox: CI runs as root. The rest keeps chromium from calling home: no QUIC, no
    // component updates, no sync, no background networking; the test's traffic is loopback only.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await worker?.shutdown.run("test done");
  await api?.close();
  await site?.close();
  await redis?.stop();
});

function watchErrors(page: Page): void {
  page.on("pageerror", (e) => pageErrors.push(e.message));
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

test("a user logs in, generates a site's llms.txt with live progress, opens it, and finds the job in Bull Board", async () => {
  const page = await context.newPage();
  watchErrors(page);
  const eventStreams: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("/events")) eventStreams.push(r.url());
  });

  // Not logged in: the API answers 401 and the page shows the login form, nothing else.
  await page.goto(`${api.url}/`);
  await page.locator("#login-panel").waitFor({ state: "visible" });
  expect(await page.locator("#app").isHidden()).toBe(true);
  await shot(page, "1-login");

  // A wrong password is refused with a message; the right one opens the app.
  await page.fill("#password", "not it");
  await page.click("#login-form button[type=submit]");
  await page.locator("#login-error", { hasText: "Wrong password" }).waitFor({ timeout: 5000 });
  await page.fill("#password", PASSWORD);
  await page.click("#login-form button[type=submit]");
  await page.locator("#app").waitFor({ state: "visible" });
  // The worker fleet from /readyz: this test's one worker, alive, with its slots.
  await page.locator("#workers", { hasText: /Workers: 1 alive · \d+ of 8 slots busy/ }).waitFor({ timeout: 10_000 });
  expect(await page.locator("#logout").isVisible()).toBe(true);

  // Submit the fixture site and watch its progress reach success, over the job's event stream.
  const statuses: string[] = [];
  await page.exposeFunction("recordStatus", (s: string) => void statuses.push(s));
  await page.evaluate(() => {
    const badge = document.getElementById("job-status");
    if (!badge) return;
    new MutationObserver(() =>
      (window as unknown as { recordStatus(s: string): void }).recordStatus(badge.textContent ?? ""),
    ).observe(badge, { childList: true, characterData: true, subtree: true });
  });
  await page.fill("#job-url", site.url);
  await page.click("#job-submit");
  await page.locator("#job-panel").waitFor({ state: "visible" });
  await page.locator("#job-status.success").waitFor({ timeout: 30_000 });
  expect(statuses.at(-1)).toBe("success");
  expect(eventStreams.length).toBeGreaterThanOrEqual(1);
  expect(await page.locator("#job-bar").evaluate((el) => (el as HTMLElement).style.width)).toBe("100%");

  // The result: the llms.txt is shown in the page and served at its link.
  await page.locator("#result").waitFor({ state: "visible" });
  await page.waitForFunction(() => (document.getElementById("file-view")?.textContent ?? "").startsWith("# "));
  const shown = await page.locator("#file-view").textContent();
  expect(shown).toMatch(/^# .+\n/);
  expect(shown).toContain(site.origin);
  await shot(page, "2-job-success");
  await page.click("#tab-full");
  await page.waitForFunction(
    () =>
      (document.getElementById("file-view")?.textContent ?? "").length > 0 &&
      document.getElementById("tab-full")?.classList.contains("active"),
  );

  const [filePage] = await Promise.all([context.waitForEvent("page"), page.click("#open-llms")]);
  await filePage.waitForLoadState();
  expect(filePage.url()).toMatch(/\/sites\/127\.0\.0\.1:\d+\/llms\.txt$/);
  expect(await filePage.locator("body").textContent()).toBe(shown);
  await shot(filePage, "2b-llms-txt");
  await filePage.close();

  // Register the site as a website: the table shows its schedule, and its first (scheduled) run.
  await page.fill("#website-url", site.url);
  await page.fill("#website-every", "1d");
  await page.click("#website-form button[type=submit]");
  const row = page.locator("#websites tbody tr", { hasText: site.url });
  await row.waitFor({ timeout: 10_000 });
  expect(await row.textContent()).toContain("every 1d");
  for (let i = 0; i < 60 && !(await row.locator(".badge.success, .badge.unchanged").count()); i++) {
    await page.waitForTimeout(500);
    await page.click("#websites-reload");
  }
  await row.locator(".badge.success, .badge.unchanged").first().waitFor({ timeout: 1000 });
  await shot(page, "3-websites");

  // The recent jobs list shows it; Bull Board (same login) lists it among the completed jobs.
  await page.click("#jobs-reload");
  const jobId = (await page.locator("#job-id").textContent()) ?? "";
  await page.locator("#jobs tbody tr", { hasText: jobId }).waitFor();
  const board = await context.newPage();
  watchErrors(board);
  await board.goto(`${api.url}/admin/queues/queue/generate?status=completed`);
  await board.getByText(site.url).first().waitFor({ timeout: 15_000 });
  await shot(board, "4-bull-board");
  await board.getByText(jobId).first().waitFor({ timeout: 5000 });
  await board.close();

  // Logging out brings the login form back, and the board is closed again.
  await page.click("#logout");
  await page.locator("#login-panel").waitFor({ state: "visible" });
  // context.request shares the browser's cookies: the session is gone, not just hidden.
  const res = await context.request.get(`${api.url}/admin/queues/api/queues`);
  expect(res.status()).toBe(401);

  expect(pageErrors).toEqual([]);
}, 90_000);
