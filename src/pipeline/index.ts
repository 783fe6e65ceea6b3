/**
 * runPipeline: one site in, its llms.txt and llms-full.txt out. No Redis, no queues: the CLI runs
 * it in-process and the worker runs it per job. Stages, each in its own module:
 *   crawlSite (robots, sitemaps, fetch, extract) → generateLlmsTxt (provider,
 *   validation, retries with feedback, extractive fallback) → composeFullTxt.
 */
import { AbortedError, LtxError, throwIfAborted } from "../lib/errors";
import { crawlSite } from "./crawl/crawl";
import { generateLlmsTxt } from "./generate";
import { composeFullTxt } from "./compose";
import { qualityOf } from "./validate/check";
import type { PipelineOptions, PipelineResult, Progress, Page, PageRecord, Site } from "./types";

export type { PipelineOptions, PipelineResult } from "./types";

/** The caller resolves the site once (resolveSite), where the URL enters: the CLI's argument, the job's data. */
export async function runPipeline(site: Site, opts: PipelineOptions): Promise<PipelineResult> {
  const started = Date.now();
  let discoverMs = 0;
  const report = progressReporter(opts.onProgress);
  const progress: typeof report = (p) => {
    // Discovery ends when the first page fetch starts; robots and sitemaps come before it.
    if (discoverMs === 0 && p.phase !== "discover") discoverMs = Date.now() - started;
    report(p);
  };
  progress({ phase: "discover" });

  const crawlStarted = Date.now();
  const crawl = await crawlSite(site, {
    limits: opts.limits,
    fetch: opts.fetch,
    extractor: opts.extractor,
    ...(opts.jobMaxBytes !== undefined ? { jobMaxBytes: opts.jobMaxBytes } : {}),
    ...(opts.previous ? { previous: opts.previous } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    onProgress: (p) => progress(p),
  });
  const crawlMs = Date.now() - crawlStarted;
  throwIfAborted(opts.signal);

  const previous = opts.previous;
  if (previous && !crawl.changed && previous.llmsTxt !== undefined && previous.llmsFullTxt !== undefined) {
    // Nothing changed since the stored run: keep its files and make no LLM call (the cost goal).
    progress({ phase: "done" });
    return {
      site: crawl.site,
      llmsTxt: previous.llmsTxt,
      llmsFullTxt: previous.llmsFullTxt,
      pages: crawl.records,
      provider: opts.provider.name,
      model: opts.provider.model,
      attempts: 0,
      fallback: false,
      usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0, requests: 0 },
      timings: { discoverMs, crawlMs, generateMs: 0, composeMs: 0, totalMs: Date.now() - started },
      warnings: crawl.warnings,
      quality: qualityOf(previous.llmsTxt, crawl.site.origin),
      generatedAt: new Date().toISOString(),
      unchanged: true,
      content: crawl.pages.map(withoutLinks),
    };
  }

  if (crawl.pages.length === 0) {
    throw new LtxError(
      "NO_CONTENT",
      `no readable page was found on ${crawl.site.startUrl}${skipSummary(crawl.records)}`,
      { retryable: false },
    );
  }

  progress({ phase: "generate" });
  const generateStarted = Date.now();
  const generated = await generateLlmsTxt({
    site: crawl.site,
    pages: crawl.pages,
    provider: opts.provider,
    attempts: opts.llmAttempts,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  const generateMs = Date.now() - generateStarted;
  if (opts.signal?.aborted) throw new AbortedError();

  progress({ phase: "compose" });
  const composeStarted = Date.now();
  const full = composeFullTxt(generated.doc, crawl.pages, { maxBytes: opts.fullMaxBytes, site: crawl.site });
  const composeMs = Date.now() - composeStarted;
  progress({ phase: "done" });

  const out: PipelineResult = {
    site: crawl.site,
    llmsTxt: generated.llmsTxt,
    llmsFullTxt: full.text,
    pages: crawl.records,
    provider: generated.provider,
    model: generated.model,
    attempts: generated.attempts,
    fallback: generated.fallback,
    usage: generated.usage,
    timings: { discoverMs, crawlMs, generateMs, composeMs, totalMs: Date.now() - started },
    warnings: [...crawl.warnings, ...generated.warnings, ...full.warnings],
    quality: qualityOf(generated.llmsTxt, crawl.site.origin),
    generatedAt: new Date().toISOString(),
    content: crawl.pages.map(withoutLinks),
  };
  return out;
}

/** Pages as stored for change detection: their links are this run's navigation, not content to keep. */
function withoutLinks(page: Page): Page {
  if (page.links === undefined) return page;
  const { links, ...rest } = page;
  void links;
  return rest;
}

/** Keeps the last counts, so later phases report the crawl's totals rather than zeros. */
function progressReporter(
  onProgress: PipelineOptions["onProgress"],
): (p: Partial<Progress> & Pick<Progress, "phase">) => void {
  let last: Progress = { phase: "discover", pagesDiscovered: 0, pagesFetched: 0, pagesExtracted: 0, pagesTotal: 0 };
  return (p) => {
    last = { ...last, ...p };
    onProgress?.(last);
  };
}

function skipSummary(records: PageRecord[]): string {
  const reasons = new Map<string, number>();
  for (const r of records) if (r.skipReason) reasons.set(r.skipReason, (reasons.get(r.skipReason) ?? 0) + 1);
  if (reasons.size === 0) return "";
  const top = [...reasons.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
  return ` (skipped: ${top.map(([r, n]) => `${n}× ${r}`).join(", ")})`;
}

export type { Page };
