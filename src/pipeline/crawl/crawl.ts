/*
 * crawlSite: robots.txt → start page → sitemaps (else a breadth-first walk of links) → pages.
 *
 * Order matters: robots.txt first, because nothing (not even the start page) may be requested
 * before we know it is allowed; the start page next, because its redirect decides where the site
 * really is (http → https, / → /en/) and its failure is the job's failure; sitemaps after that.
 *
 * Page rules (the PageRecord's skipReason says which one applied):
 * - a page is recorded under its final URL; the redirect's source gets a row "redirects to …" and is
 *   never linked; a redirect leaving the site or into a robots-disallowed path is not followed;
 * - `<link rel=canonical>` on the site: the page is recorded under the canonical URL, or skipped if
 *   that URL is already a kept page; identical bodies (same sha256) are kept once — this is also what
 *   merges `/` and `/index.html` (see site.ts);
 * - only 2xx HTML, markdown and plain text are kept; a page whose readable text is shorter than
 *   THIN_TEXT_CHARS is kept but flagged `thin` (usually a JavaScript shell).
 */
import { setMaxListeners } from "node:events";
import { coerceError } from "../../lib/coerceError";
import { AbortedError, FetchError, LtxError, isLtxError, throwIfAborted } from "../../lib/errors";
import { createAgents, fetchPage, type FetchOptions } from "../fetch/fetch";
import { HostLimiter } from "../fetch/hostLimiter";
import { processFetched } from "./crawlPage";
import type { CrawlOptions, CrawlResult, CrawlState, PageWork } from "./crawlState";
import { pageKind } from "../extract/pageKind";
import { loadRobots, type RobotsRules } from "../fetch/robots";
import { MAX_ROBOTS_RULES } from "../fetch/robotsTxt";
import { readSitemaps } from "../fetch/sitemap";
import { enqueue, enqueueLinks, maxAttempts } from "./frontier";
import { PageQueue, type Tier } from "./pageQueue";
import { SiteLanguage } from "./language";
import { metaRefreshTarget } from "./metaRefresh";
import { ByteBudget, DEFAULT_JOB_MAX_BYTES } from "../fetch/byteBudget";
import { inScope, moveSite, tryNormalizeUrl } from "../site";
import { UrlPatterns } from "../urlPatterns";
import type { FetchedPage, FetchSettings, PageRecord, Progress, Site } from "../types";

export { THIN_TEXT_CHARS } from "./crawlPage";

export type { CrawlOptions, CrawlResult } from "./crawlState";

export async function crawlSite(site: Site, opts: CrawlOptions): Promise<CrawlResult> {
  const agents = createAgents(opts.fetch.perHostConcurrency);
  // Every page in flight (fetches, extractions) listens to the run's signal, so a crawl holds
  // more than Node's default 10 listeners by design: a child signal with no limit keeps the
  // caller's signal as it was and stops a "possible memory leak" warning on the CLI's stderr.
  const child = new AbortController();
  setMaxListeners(0, child.signal);
  const forward = (): void => child.abort(opts.signal?.reason);
  if (opts.signal?.aborted) forward();
  else opts.signal?.addEventListener("abort", forward, { once: true });
  try {
    return await runCrawl(site, { ...opts, signal: child.signal }, agents);
  } finally {
    opts.signal?.removeEventListener("abort", forward);
    agents.destroy();
  }
}

async function runCrawl(site: Site, opts: CrawlOptions, agents: ReturnType<typeof createAgents>): Promise<CrawlResult> {
  const { signal } = opts;
  throwIfAborted(signal);
  const progress = (s: CrawlState, phase: Progress["phase"], message?: string): void =>
    opts.onProgress?.({
      phase,
      pagesDiscovered: s.seen.size,
      pagesFetched: s.counts.fetched,
      pagesExtracted: s.counts.extracted,
      pagesTotal: Math.min(s.seen.size, opts.limits.maxPages),
      message,
    });
  // Compiled (and checked: a bad pattern is an InputError) before anything is fetched.
  const patterns = new UrlPatterns(opts.limits.include, opts.limits.exclude);
  // One byte budget for everything this job fetches: robots.txt, sitemaps, pages, redirects.
  const budget = new ByteBudget(opts.jobMaxBytes ?? DEFAULT_JOB_MAX_BYTES);
  const fetchOpts: FetchOptions = { signal, agents, budget };
  const robots = await robotsFor(site, site.startUrl, opts.fetch, fetchOpts);
  const s: CrawlState = {
    site,
    robots,
    opts,
    patterns,
    seen: new Set([site.startUrl]),
    done: new Set(),
    queue: new PageQueue(),
    records: [],
    pages: [],
    keptByUrl: new Map(),
    keptByHash: new Map(),
    prevRecords: previousRecords(opts),
    followLinks: true,
    conditional: false,
    language: new SiteLanguage(site.prefix, site.startUrl),
    warnings: [],
    counts: { fetched: 0, extracted: 0, reused: 0, seq: 0, attempts: 0, disallowed: 0, otherLanguage: 0, dropped: 0 },
    caps: { maxAttempts: maxAttempts(opts.limits.maxPages) },
    budget,
  };
  const limiter = new HostLimiter(opts.fetch.perHostConcurrency, robots.crawlDelayMs);
  if (robots.crawlDelayCapped)
    s.warnings.push(
      `robots.txt asks for a Crawl-delay above ${robots.crawlDelayMs / 1000} s; using ${robots.crawlDelayMs / 1000} s`,
    );
  if (robots.droppedRules !== undefined)
    s.warnings.push(`robots.txt has more than ${MAX_ROBOTS_RULES} rules; ${robots.droppedRules} were ignored`);
  progress(s, "discover", "robots.txt read");

  const start = await followMetaRefresh(s, await fetchStart(s, limiter, fetchOpts), limiter, fetchOpts);
  throwIfAborted(signal);
  const sitemap = await readSitemaps(s.site, s.robots, opts.fetch, {
    signal,
    agents,
    budget,
    // Enough URLs to pick the shallowest maxPages from, without reading a 50-file index for a 100-page crawl.
    limits: { maxUrls: Math.min(50_000, Math.max(1000, opts.limits.maxPages * 50)) },
    accept: (u) => inScope(s.site, u) && patterns.matches(u),
    schedule: (fn) => limiter.run(new URL(s.site.origin).host, fn, signal),
  });
  s.warnings.push(...sitemap.warnings);
  const seeds = sitemapSeeds(sitemap.urls).filter((u) => u !== s.site.startUrl);
  // Links are always walked: they give the site's own order and distances, which the page budget
  // is spent by; a sitemap's URLs join the queue after every linked page (pageQueue.ts).
  s.conditional = seeds.length > 0;
  const mode =
    seeds.length === 0 ? "no usable sitemap: following links" : `links, and a sitemap of ${seeds.length} URLs`;
  opts.logger?.debug({ site: s.site.key, crawlDelayMs: s.robots.crawlDelayMs, sitemaps: sitemap.files }, mode);
  progress(s, "discover", mode);

  // Under the URL we asked for, so that a redirect shows up as its own row.
  // The start page's language decides which URLs are other-language copies: known before its links are queued.
  s.language = new SiteLanguage(s.site.prefix, tryNormalizeUrl(start.finalUrl) ?? s.site.startUrl);
  const startLinks = await processFetched(s, { url: site.startUrl, depth: 0, seq: s.counts.seq++ }, start, true);
  s.language.setStartLang(s.pages[0]?.page.lang);
  await enqueueLinks(s, startLinks, 1);
  if (opts.limits.maxDepth >= 1) for (const url of seeds) enqueue(s, url, 1, false);
  progress(s, "fetch");

  await drain(s, limiter, fetchOpts, (phase) => progress(s, phase));
  limitWarnings(s);
  const out = result(s);
  opts.logger?.debug(
    {
      site: s.site.key,
      kept: out.pages.length,
      records: out.records.length,
      reused: out.reusedCount,
      bytes: budget.spent,
      attempts: s.counts.attempts,
    },
    "crawl done",
  );
  return out;
}

function previousRecords(opts: CrawlOptions): Map<string, PageRecord> {
  const map = new Map<string, PageRecord>();
  for (const r of opts.previous?.pages ?? []) if (r.hash !== undefined && !map.has(r.url)) map.set(r.url, r);
  return map;
}

/** robots.txt for the origin of `url`; throws unless `url` may be fetched. */
async function robotsFor(
  site: Site,
  url: string,
  settings: FetchSettings,
  fetchOpts: FetchOptions,
): Promise<RobotsRules> {
  const robots = await loadRobots(site.origin, settings, fetchOpts);
  if (robots.unreachable) {
    throw new FetchError(
      robots.url,
      `${robots.reason ?? "robots.txt is unreachable"}; per RFC 9309 the site may not be crawled until it answers`,
      { status: robots.status ?? undefined },
    );
  }
  if (!robots.allowed(url))
    throw new LtxError("ROBOTS_DISALLOWED", `robots.txt of ${site.origin} disallows ${url}`, { retryable: false });
  return robots;
}

/**
 * Fetches the start page. Its failures are the crawl's: 4xx and unusable content are permanent
 * (START_PAGE_FAILED), 5xx and network failures are retryable. A redirect elsewhere moves the site.
 */
async function fetchStart(s: CrawlState, limiter: HostLimiter, fetchOpts: FetchOptions): Promise<FetchedPage> {
  const url = s.site.startUrl;
  const origin = s.site.origin;
  let page: FetchedPage;
  try {
    page = await limiter.run(
      new URL(url).host,
      () =>
        fetchPage(url, s.opts.fetch, {
          ...fetchOpts,
          // Same-origin hops must be allowed by robots.txt; another origin gets its robots.txt checked after.
          checkRedirect: (to) => {
            if (new URL(to).origin === origin && !s.robots.allowed(to))
              throw new LtxError("ROBOTS_DISALLOWED", `${url} redirects to ${to}, which robots.txt disallows`, {
                retryable: false,
              });
          },
        }),
      fetchOpts.signal,
    );
  } catch (e) {
    const err = coerceError(e);
    if (err instanceof FetchError && !err.retryable)
      throw new FetchError(url, `start page ${url}: ${err.message}`, {
        cause: err,
        code: "START_PAGE_FAILED",
        retryable: false,
      });
    throw err;
  }
  s.counts.fetched++;
  s.counts.attempts++;
  if (page.status >= 400 && page.status < 500)
    throw new FetchError(url, `start page ${url} answered HTTP ${page.status}`, {
      status: page.status,
      code: "START_PAGE_FAILED",
      retryable: false,
    });
  if (page.status >= 500)
    throw new FetchError(url, `start page ${url} answered HTTP ${page.status} after ${s.opts.fetch.retries} retries`, {
      status: page.status,
    });
  const finalUrl = tryNormalizeUrl(page.finalUrl) ?? page.finalUrl;
  if (finalUrl !== url && !inScope(s.site, finalUrl)) {
    s.warnings.push(`the start URL ${url} redirects to ${finalUrl}; crawling there`);
    s.site = moveSite(s.site, finalUrl);
    s.seen.add(s.site.startUrl);
    if (s.site.origin !== origin) {
      s.robots = await robotsFor(s.site, s.site.startUrl, s.opts.fetch, fetchOpts);
      limiter.setDelayMs(s.robots.crawlDelayMs);
    }
  }
  return page;
}

/** Meta-refresh hops followed from the start page, at most (a loop of stubs ends here). */
const MAX_REFRESH_HOPS = 3;

/**
 * A start page whose meta refresh sends readers on at once (metaRefresh.ts) redirects: the site
 * moves to the target, prefix included, as for an HTTP redirect (a root that sends readers to
 * /en/ makes /en/ the site). Same origin and robots-allowed targets only. The page returned is
 * the target's, so that the start URL's row says "redirects to …".
 */
async function followMetaRefresh(
  s: CrawlState,
  start: FetchedPage,
  limiter: HostLimiter,
  fetchOpts: FetchOptions,
): Promise<FetchedPage> {
  let page = start;
  for (let hop = 0; hop < MAX_REFRESH_HOPS; hop++) {
    if (page.status < 200 || page.status >= 300 || pageKind(page.contentType, page.finalUrl) !== "html") break;
    const from = tryNormalizeUrl(page.finalUrl) ?? page.finalUrl;
    const raw = metaRefreshTarget(page.body, from);
    const target = raw === undefined ? undefined : tryNormalizeUrl(raw);
    if (target === undefined || target === from || s.seen.has(target)) break;
    if (new URL(target).origin !== s.site.origin || !s.robots.allowed(target)) break;
    s.warnings.push(`the start page ${from} is a meta refresh to ${target}; crawling there`);
    s.site = moveSite(s.site, target);
    s.seen.add(s.site.startUrl);
    page = await fetchStart(s, limiter, fetchOpts);
  }
  return page;
}

/** Sitemap URLs normalised, once each (their order is no ranking: links decide, see pageQueue.ts). */
function sitemapSeeds(urls: string[]): string[] {
  return [...new Set(urls.map((u) => tryNormalizeUrl(u)).filter((u): u is string => u !== undefined))];
}

/** Runs queued pages with bounded concurrency until the queue is empty or a limit is reached. */
function drain(
  s: CrawlState,
  limiter: HostLimiter,
  fetchOpts: FetchOptions,
  progress: (p: Progress["phase"]) => void,
): Promise<void> {
  // More pages in flight than fetch slots, so that extraction of some overlaps fetching of others;
  // the HostLimiter still caps concurrent requests at perHostConcurrency.
  const maxInFlight = s.opts.fetch.perHostConcurrency * 2 + 2;
  const { maxPages } = s.opts.limits;
  return new Promise<void>((resolve, reject) => {
    let inFlight = 0;
    let failed = false;
    // Pages in flight per queue tier: a later tier (sitemap-only, listings) waits until no page
    // of an earlier one is in flight, since that page's links may still come before it.
    const byTier = [0, 0, 0, 0];
    const earlierInFlight = (t: Tier): boolean => byTier.slice(0, t).some((n) => n > 0);
    const pump = (): void => {
      if (failed) return;
      if (fetchOpts.signal?.aborted) {
        failed = true;
        return reject(new AbortedError());
      }
      while (
        inFlight < maxInFlight &&
        s.queue.length > 0 &&
        s.pages.length + inFlight < maxPages &&
        s.counts.attempts < s.caps.maxAttempts &&
        !s.budget.exhausted
      ) {
        const tier = s.queue.peekTier();
        if (tier === undefined || earlierInFlight(tier)) break;
        const next = s.queue.shift();
        if (!next) break;
        const { work } = next;
        inFlight++;
        byTier[tier] = (byTier[tier] ?? 0) + 1;
        const settled = (): void => {
          inFlight--;
          byTier[tier] = (byTier[tier] ?? 1) - 1;
        };
        fetchAndProcess(s, work, limiter, fetchOpts, progress).then(
          () => {
            settled();
            pump();
          },
          (e: unknown) => {
            settled();
            if (!failed) {
              failed = true;
              reject(coerceError(e));
            }
          },
        );
      }
      if (inFlight === 0) resolve();
    };
    pump();
  });
}

async function fetchAndProcess(
  s: CrawlState,
  work: PageWork,
  limiter: HostLimiter,
  fetchOpts: FetchOptions,
  progress: (p: Progress["phase"]) => void,
): Promise<void> {
  if (s.done.has(work.url)) return;
  s.counts.attempts++;
  const prev = s.opts.previous;
  const prevRecord = prev?.content?.has(work.url) ? s.prevRecords.get(work.url) : undefined;
  let page: FetchedPage;
  try {
    page = await limiter.run(
      new URL(work.url).host,
      () =>
        fetchPage(work.url, s.opts.fetch, {
          ...fetchOpts,
          // A 304 has no body to find links in: only ask when links aren't needed (sitemap mode).
          conditional:
            s.conditional && prevRecord ? { etag: prevRecord.etag, lastModified: prevRecord.lastModified } : undefined,
          wantBody: (ct, url) => pageKind(ct, url) !== undefined,
          checkRedirect: (to) => checkRedirect(s, work.url, to),
        }),
      fetchOpts.signal,
    );
  } catch (e) {
    const err = coerceError(e);
    if (isLtxError(err) && err.code === "ABORTED") throw err;
    s.done.add(work.url);
    s.records.push({
      seq: work.seq,
      record: {
        url: work.url,
        status: err instanceof FetchError ? (err.status ?? null) : null,
        depth: work.depth,
        skipReason: err.message,
        skipCode: "fetch-failed",
      },
    });
    return;
  }
  progress("fetch");
  let links: string[];
  try {
    links = await processFetched(s, work, page, false);
  } catch (e) {
    // One page's surprise must not sink the crawl; an abort must.
    const err = coerceError(e);
    if (fetchOpts.signal?.aborted || (isLtxError(err) && err.code === "ABORTED")) throw err;
    s.opts.logger?.warn({ err, url: work.url }, "page processing failed");
    s.records.push({
      seq: work.seq,
      record: {
        url: work.url,
        status: page.status,
        depth: work.depth,
        skipReason: `internal error: ${err.message}`,
        skipCode: "internal-error",
      },
    });
    return;
  }
  progress("extract");
  if (s.followLinks) await enqueueLinks(s, links, work.depth + 1);
}

/** Refuses a redirect hop before it is requested: off the site, or into a disallowed path. */
function checkRedirect(s: CrawlState, from: string, to: string): void {
  const url = tryNormalizeUrl(to) ?? to;
  if (!inScope(s.site, url)) throw new FetchError(from, `redirects off the site to ${url}`, { retryable: false });
  if (!s.robots.allowed(url))
    throw new FetchError(from, `redirects to ${url}, which robots.txt disallows`, { retryable: false });
}

/** Says which cap stopped the crawl, if one did. */
function limitWarnings(s: CrawlState): void {
  const { maxPages } = s.opts.limits;
  const left = s.queue.length + s.counts.dropped;
  if (s.budget.exhausted)
    s.warnings.push(
      `stopped fetching after ${s.budget.spent} bytes: over the job's limit of ${s.budget.limit} bytes (JOB_MAX_BYTES)`,
    );
  else if (s.pages.length >= maxPages && left > 0)
    s.warnings.push(`stopped at ${maxPages} pages (maxPages); ${left} more URLs were found and not fetched`);
  else if (s.counts.attempts >= s.caps.maxAttempts && left > 0)
    s.warnings.push(
      `stopped after ${s.counts.attempts} fetch attempts (${s.caps.maxAttempts / maxPages} per page of maxPages), ${s.pages.length} pages kept; ${left} more URLs were not fetched`,
    );
}

function result(s: CrawlState): CrawlResult {
  const bySeq = <T extends { seq: number }>(a: T, b: T): number => a.seq - b.seq;
  const pages = [...s.pages].sort(bySeq).map((p) => p.page);
  const records = [...s.records].sort(bySeq).map((r) => r.record);
  const thin = pages.filter((p) => p.thin);
  if (thin.length > 0) {
    const some = thin
      .slice(0, 5)
      .map((p) => p.url)
      .join(", ");
    s.warnings.push(
      `${thin.length} of ${pages.length} pages have almost no readable text (a JavaScript-rendered shell?): ${some}${thin.length > 5 ? ", …" : ""}`,
    );
  }
  const prevKept = new Set((s.opts.previous?.pages ?? []).filter((r) => r.skipReason === undefined).map((r) => r.url));
  const sameSet =
    s.opts.previous !== undefined && prevKept.size === pages.length && pages.every((p) => prevKept.has(p.url));
  const changed = !(sameSet && s.counts.reused === pages.length);
  return { site: s.site, pages, records, warnings: s.warnings, reusedCount: s.counts.reused, changed };
}
