/*
 * One headless Chromium per worker process, shared by every render session of the process:
 * launched on first use (a process that only sees static sites never starts one), relaunched after
 * `recyclePages` pages (a long-lived browser's memory only grows) or when it died (crash, OOM,
 * kill -9), and at most `concurrency` pages rendering at once.
 *
 * A recycled browser is closed once its last context is: the sessions still on it finish their
 * page, then move to the new browser for their next one.
 */
import fs from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { coerceError } from "../lib/coerceError";
import { RenderError } from "../lib/errors";
import type { Logger } from "../lib/logger";
import { launchOptions, sandboxVerdict } from "./launchOptions";
import type { ForwardProxy } from "./forwardProxy";

export interface BrowserPoolOptions {
  /** BROWSER_PATH: Debian's chromium, never a downloaded browser. */
  executablePath: string;
  /** BROWSER_CONCURRENCY: pages rendering at once in this process. */
  concurrency: number;
  /** BROWSER_RECYCLE_PAGES: pages one browser renders before it is replaced. */
  recyclePages: number;
  /** BROWSER_MAX_OLD_SPACE_MB: V8 heap cap of each renderer process. */
  maxOldSpaceMb: number;
  /** The browser-wide proxy (it refuses everything); each session's context names its own. */
  defaultProxy: ForwardProxy;
  logger?: Logger;
}

export interface PoolStats {
  launches: number;
  /** Browsers that went away without us closing them. */
  crashes: number;
  pagesRendered: number;
}

export interface Lease {
  browser: Browser;
  /** Ends the page: frees the slot and counts the page against the browser's recycle budget. */
  release(): void;
}

interface Instance {
  browser: Browser;
  pages: number;
  /** Pages rendering on it right now. */
  active: number;
  /** Replaced (recycled, or closed by us): takes no new pages, and its going away is no crash. */
  retired: boolean;
}

export class BrowserPool {
  readonly stats: PoolStats = { launches: 0, crashes: 0, pagesRendered: 0 };
  private current: Promise<Instance> | undefined;
  private currentInstance: Instance | undefined;
  private readonly instances = new Set<Instance>();
  private slotsInUse = 0;
  private readonly waiting: (() => void)[] = [];
  private closing: Promise<void> | undefined;
  private sandboxWarned = false;

  constructor(private readonly opts: BrowserPoolOptions) {}

  /** Whether the browser binary is there; a root checks it before offering rendering at all. */
  static available(executablePath: string): boolean {
    try {
      fs.accessSync(executablePath, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }

  /** Waits for a page slot, then hands out the current browser (launching one when needed). */
  async acquire(signal?: AbortSignal): Promise<Lease> {
    await this.takeSlot(signal);
    let instance: Instance;
    try {
      instance = await this.instance();
    } catch (e) {
      this.freeSlot();
      throw e;
    }
    instance.active++;
    let released = false;
    return {
      browser: instance.browser,
      release: () => {
        if (released) return;
        released = true;
        instance.active--;
        instance.pages++;
        this.stats.pagesRendered++;
        if (instance.pages >= this.opts.recyclePages) this.retire(instance);
        this.closeIfIdle(instance);
        this.freeSlot();
      },
    };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const all = [...this.instances];
      this.instances.clear();
      this.current = undefined;
      this.currentInstance = undefined;
      for (const i of all) {
        i.retired = true;
        try {
          await i.browser.close();
        } catch (e) {
          this.opts.logger?.warn({ err: coerceError(e) }, "browser close failed");
        }
      }
    })();
    return this.closing;
  }

  private instance(): Promise<Instance> {
    if (this.closing) return Promise.reject(new RenderError("the browser pool is closed", { retryable: false }));
    this.current ??= this.launch().catch((e: unknown) => {
      this.current = undefined; // the next page tries again
      throw e;
    });
    return this.current;
  }

  private async launch(): Promise<Instance> {
    const verdict = sandboxVerdict();
    if (!verdict.sandbox && !this.sandboxWarned) {
      this.sandboxWarned = true;
      this.opts.logger?.warn({ reason: verdict.reason }, "chromium runs without its sandbox");
    }
    let browser: Browser;
    try {
      browser = await chromium.launch(launchOptions(this.opts, verdict.sandbox));
    } catch (e) {
      throw new RenderError(`could not start chromium (${this.opts.executablePath}): ${coerceError(e).message}`, {
        cause: e,
      });
    }
    this.stats.launches++;
    const instance: Instance = { browser, pages: 0, active: 0, retired: false };
    this.instances.add(instance);
    this.currentInstance = instance;
    browser.on("disconnected", () => {
      this.instances.delete(instance);
      if (!instance.retired) {
        this.stats.crashes++;
        this.opts.logger?.warn({ pages: instance.pages }, "chromium went away: the next page starts a new one");
      }
      this.retire(instance);
    });
    this.opts.logger?.debug({ launches: this.stats.launches }, "chromium started");
    return instance;
  }

  /** No new pages on this browser; the next acquire launches another. */
  private retire(instance: Instance): void {
    instance.retired = true;
    if (this.currentInstance === instance) {
      this.currentInstance = undefined;
      this.current = undefined;
    }
  }

  private closeIfIdle(instance: Instance): void {
    if (!instance.retired || instance.active > 0) return;
    this.instances.delete(instance);
    instance.browser.close().catch((e: unknown) => {
      this.opts.logger?.warn({ err: coerceError(e) }, "closing a recycled browser failed");
    });
  }

  private takeSlot(signal?: AbortSignal): Promise<void> {
    if (this.slotsInUse < this.opts.concurrency) {
      this.slotsInUse++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener("abort", onAbort);
        this.slotsInUse++;
        resolve();
      };
      const onAbort = (): void => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new RenderError("aborted while waiting for a browser slot", { retryable: false }));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(grant);
    });
  }

  private freeSlot(): void {
    this.slotsInUse--;
    this.waiting.shift()?.();
  }
}
