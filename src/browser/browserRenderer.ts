/*
 * The PageRenderer the roots hand to runPipeline: a session per run (a fresh browser context with
 * its own cookies, storage and forward proxy), a page per URL under a time budget.
 *
 * A browser that dies under a page (crash, OOM kill, kill -9) fails only that try: the page is
 * rendered once more on a freshly launched browser before it counts as failed.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { coerceError } from "../lib/coerceError";
import { RenderError } from "../lib/errors";
import type { Logger } from "../lib/logger";
import type { PageRenderer, RenderedPage, RenderSession, RenderSessionOptions } from "../pipeline/types";
import { BrowserPool, type PoolStats } from "./browserPool";
import { type ForwardProxy, startForwardProxy } from "./forwardProxy";

export interface BrowserRendererOptions {
  executablePath: string;
  concurrency: number;
  recyclePages: number;
  maxOldSpaceMb: number;
  /** RENDER_TIMEOUT_MS: one page, from navigation to the serialised DOM. */
  pageTimeoutMs: number;
  connectTimeoutMs: number;
  /** The serialised DOM is cut here (PAGE_MAX_BYTES), as a fetched body is. */
  maxHtmlBytes: number;
  logger?: Logger;
}

export interface BrowserRenderer extends PageRenderer {
  readonly stats: PoolStats;
  close(): Promise<void>;
}

/** After "load", how long the page may keep the network busy (its data fetches) before we read the DOM. */
const SETTLE_MS = 3_000;

export function createBrowserRenderer(opts: BrowserRendererOptions): BrowserRenderer {
  let setup: Promise<{ pool: BrowserPool; denyProxy: ForwardProxy }> | undefined;
  const stats: PoolStats = { launches: 0, crashes: 0, pagesRendered: 0 };
  const ready = (): Promise<{ pool: BrowserPool; denyProxy: ForwardProxy }> =>
    (setup ??= (async () => {
      const denyProxy = await startForwardProxy({ denyAll: true, connectTimeoutMs: opts.connectTimeoutMs });
      const pool = new BrowserPool({ ...opts, defaultProxy: denyProxy });
      return { pool, denyProxy };
    })());
  let closing: Promise<void> | undefined;
  return {
    get stats() {
      return stats;
    },
    async openSession(session) {
      const { pool } = await ready();
      return openSession(pool, stats, opts, session);
    },
    close() {
      closing ??= (async () => {
        if (!setup) return;
        const { pool, denyProxy } = await setup;
        await pool.close();
        await denyProxy.close();
      })();
      return closing;
    },
  };
}

async function openSession(
  pool: BrowserPool,
  stats: PoolStats,
  opts: BrowserRendererOptions,
  session: RenderSessionOptions,
): Promise<RenderSession> {
  const proxy = await startForwardProxy({
    ...(session.addressPolicy ? { addressPolicy: session.addressPolicy } : {}),
    ...(session.allowUrl ? { allowUrl: session.allowUrl } : {}),
    connectTimeoutMs: opts.connectTimeoutMs,
  });
  let context: BrowserContext | undefined;
  const contextOn = async (browser: Browser): Promise<BrowserContext> => {
    if (context && context.browser() === browser) return context;
    await context?.close().catch(() => undefined); // its browser was recycled or died
    context = await browser.newContext({
      proxy: { server: proxy.url },
      userAgent: session.userAgent,
      acceptDownloads: false,
      serviceWorkers: "block",
      permissions: [],
      viewport: { width: 1280, height: 900 },
    });
    return context;
  };
  const sync = (): void => void Object.assign(stats, pool.stats);

  return {
    async render(url, { maxBytes, signal }) {
      proxy.resetBudget(maxBytes);
      proxy.takeBlocked();
      for (let attempt = 1; ; attempt++) {
        if (signal?.aborted) throw new RenderError("aborted", { retryable: false });
        const lease = await pool.acquire(signal);
        sync();
        let page: Page | undefined;
        try {
          const ctx = await contextOn(lease.browser);
          page = await ctx.newPage();
          const out = await renderIn(page, url, opts, signal);
          if (proxy.bytes > maxBytes)
            throw new RenderError(`${url}: over the job's byte budget while rendering`, { retryable: false });
          return { ...out, bytes: proxy.bytes, blocked: proxy.takeBlocked() };
        } catch (e) {
          const err = coerceError(e);
          const browserDied = !lease.browser.isConnected();
          if (browserDied && attempt < 2 && !signal?.aborted) {
            opts.logger?.warn({ url, err }, "the browser died under a page: rendering it again on a new one");
            continue;
          }
          if (err instanceof RenderError) throw err;
          throw new RenderError(`could not render ${url}: ${firstLine(err.message)}`, { cause: err });
        } finally {
          await page?.close().catch(() => undefined);
          lease.release();
          sync();
        }
      }
    },
    async close() {
      await context?.close().catch(() => undefined);
      await proxy.close();
    },
  };
}

async function renderIn(
  page: Page,
  url: string,
  opts: BrowserRendererOptions,
  signal: AbortSignal | undefined,
): Promise<Omit<RenderedPage, "bytes" | "blocked">> {
  const deadline = Date.now() + opts.pageTimeoutMs;
  const onAbort = (): void => void page.close().catch(() => undefined);
  signal?.addEventListener("abort", onAbort, { once: true });
  page.on("dialog", (d) => void d.dismiss().catch(() => undefined));
  // Pop-ups are closed at once; a page that opens windows gets nothing from them.
  page.on("popup", (p) => void p.close().catch(() => undefined));
  try {
    const response = await page.goto(url, { waitUntil: "load", timeout: opts.pageTimeoutMs });
    const settle = Math.min(SETTLE_MS, deadline - Date.now());
    if (settle > 0) await page.waitForLoadState("networkidle", { timeout: settle }).catch(() => undefined);
    const html = await contentOf(page);
    return {
      finalUrl: page.url(),
      status: response?.status() ?? null,
      html: html.length > opts.maxHtmlBytes ? html.slice(0, opts.maxHtmlBytes) : html,
    };
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

/** page.content() fails while a script navigates away; one more try once the navigation settled. */
async function contentOf(page: Page): Promise<string> {
  try {
    return await page.content();
  } catch {
    await page.waitForLoadState("load", { timeout: 2_000 }).catch(() => undefined);
    return page.content();
  }
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}
