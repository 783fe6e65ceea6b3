/**
 * npm run bench:pipeline — pages/second of discover + fetch + extract (crawlSite with the worker
 * pool) on a local site of ≥ 300 real manual pages, against the ceiling of this stack in one
 * process: a bare loop of jsdom + readability + turndown over the same HTML. Also peak RSS.
 * Goal: ≥ 1.5× the bare loop on 2 cores, with peak RSS < 500 MB.
 *
 * The harness runs through tools/tsRequireHook.js; ltx runs from dist/ (npm run build). Order matters: the ltx run goes first so that
 * its peak RSS (the process's maxRSS, which covers the threads) is not the bare loop's.
 * Flags: --single also times extractPage in a loop on the main thread (the pool's work, 1 thread).
 */
import os from "node:os";

import type * as VersionModule from "../src/lib/version";
import type * as CrawlModule from "../src/pipeline/crawl/crawl";
import type * as ExtractModule from "../src/pipeline/extract/extract";
import type * as ExtractPageModule from "../src/pipeline/extract/extractPage";
import type * as SiteModule from "../src/pipeline/site";
import type { FetchSettings } from "../src/pipeline/types";
import { startFixtureSite, type FixtureSite } from "./pipelineFixture";

// ltx itself runs from the build (dist/), as in production: its threads then load plain .js and
// carry no TypeScript transpiler. Only this harness goes through the require hook.
/* eslint-disable @typescript-eslint/no-require-imports */
const { USER_AGENT } = require("../dist/lib/version") as typeof VersionModule;
const { crawlSite } = require("../dist/pipeline/crawl/crawl") as typeof CrawlModule;
const { createExtractor } = require("../dist/pipeline/extract/extract") as typeof ExtractModule;
const { resolveSite } = require("../dist/pipeline/site") as typeof SiteModule;
/* eslint-enable @typescript-eslint/no-require-imports */

const MIN_PAGES = 300;
const MB = 1024 * 1024;

interface Run {
  pages: number;
  seconds: number;
  /** CPU time of the whole process (all threads) during the run: shows contention from other work. */
  cpuSeconds: number;
  peakRssMb: number;
}

async function main(): Promise<void> {
  const threads = Math.max(1, Math.min(4, os.availableParallelism()));
  const site = await startFixtureSite(MIN_PAGES);
  try {
    const bytes = Array.from(site.pages.values()).reduce((n, html) => n + Buffer.byteLength(html), 0);
    console.log(`fixture: ${site.pages.size} pages, ${(bytes / MB).toFixed(1)} MB (${site.source}) at ${site.url}`);
    console.log(
      `machine: ${os.availableParallelism()} cores, load average ${os.loadavg()[0]?.toFixed(1)} (other work on the machine skews both runs)`,
    );

    const ltx = await runLtx(site, threads);
    const bare = await runBareLoop(site);
    const single = process.argv.includes("--single") ? await runExtractPageLoop(site) : undefined;

    const rate = (r: Run): string =>
      `${(r.pages / r.seconds).toFixed(1)} pages/s (${r.pages} pages in ${r.seconds.toFixed(1)} s, CPU ${r.cpuSeconds.toFixed(1)} s, peak RSS ${r.peakRssMb} MB)`;
    console.log(`bare loop, jsdom + readability + turndown, 1 thread:  ${rate(bare)}`);
    if (single) console.log(`extractPage loop, main thread:                        ${rate(single)}`);
    console.log(`ltx crawlSite, discover + fetch + extract, ${threads} threads: ${rate(ltx)}`);
    const ratio = ltx.pages / ltx.seconds / (bare.pages / bare.seconds);
    console.log(
      `ratio ltx / bare: ${ratio.toFixed(2)}× (goal ≥ 1.5×); ltx peak RSS ${ltx.peakRssMb} MB (goal < 500 MB)`,
    );
    console.log(
      `load average after: ${os.loadavg()[0]?.toFixed(1)} (above ${os.availableParallelism()}, the runs shared the cores with other work)`,
    );
    await timeBigPage(site);
  } finally {
    await site.close();
  }
}

async function runLtx(site: FixtureSite, threads: number): Promise<Run> {
  const fetch: FetchSettings = {
    userAgent: USER_AGENT,
    connectTimeoutMs: 5_000,
    timeoutMs: 30_000,
    maxBytes: 5 * MB,
    maxRedirects: 5,
    perHostConcurrency: 4,
    retries: 1,
    acceptInvalidCerts: false,
  };
  const extractor = createExtractor({ threads, timeoutMs: 20_000 });
  const sampler = rssSampler();
  const cpu = process.cpuUsage();
  const started = performance.now();
  try {
    const result = await crawlSite(resolveSite(site.url), {
      limits: { maxPages: site.pages.size + 10, maxDepth: 5, include: [], exclude: [] },
      fetch,
      extractor,
    });
    const seconds = (performance.now() - started) / 1000;
    const skipped = result.records.filter((r) => r.skipReason);
    const reasons = new Map<string, number>();
    for (const r of skipped)
      reasons.set(shortReason(r.skipReason ?? ""), (reasons.get(shortReason(r.skipReason ?? "")) ?? 0) + 1);
    console.log(
      `ltx kept ${result.pages.length} pages, skipped ${skipped.length}${reasons.size ? `: ${JSON.stringify(Object.fromEntries(reasons))}` : ""}`,
    );
    // Pages kept (fetched and extracted), like the bare loop's; the 404s the manuals link to are not counted.
    const handled = result.pages.length;
    // maxRSS is the process's true peak so far (threads included): this run goes first, so it is ours.
    const maxRssMb = Math.round((process.resourceUsage().maxRSS * 1024) / MB);
    return { pages: handled, seconds, cpuSeconds: cpuSince(cpu), peakRssMb: Math.max(sampler.stop(), maxRssMb) };
  } finally {
    await extractor.close();
  }
}

/** The ceiling of the stack on one thread: what a straightforward implementation does per page. */
async function runBareLoop(site: FixtureSite): Promise<Run> {
  const { JSDOM, VirtualConsole } = await import("jsdom");
  const { Readability } = await import("@mozilla/readability");
  const { default: TurndownService } = await import("turndown");
  const turndown = new TurndownService({ headingStyle: "atx", codeBlockStyle: "fenced" });
  const sampler = rssSampler();
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (const [p, html] of site.pages) {
    const dom = new JSDOM(html, { url: new URL(p, site.url).href, virtualConsole: new VirtualConsole() });
    const article = new Readability(dom.window.document).parse();
    turndown.turndown(article?.content ?? "");
    dom.window.close();
    // jsdom frees a closed window only after the event loop turns; without this the heap passes 3 GB.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return {
    pages: site.pages.size,
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: cpuSince(cpu),
    peakRssMb: sampler.stop(),
  };
}

async function runExtractPageLoop(site: FixtureSite): Promise<Run> {
  // Loaded here, not at the top: jsdom in the main thread would count in the ltx run's RSS.
  const { extractPage } = require("../dist/pipeline/extract/extractPage") as typeof ExtractPageModule; // eslint-disable-line @typescript-eslint/no-require-imports
  const sampler = rssSampler();
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (const [p, html] of site.pages) {
    extractPage({ url: new URL(p, site.url).href, body: html, contentType: "text/html" });
    await new Promise((resolve) => setImmediate(resolve));
  }
  return {
    pages: site.pages.size,
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: cpuSince(cpu),
    peakRssMb: sampler.stop(),
  };
}

/** One 2.5 MB single-page manual (pages of the fixture joined), bare vs the pool's extractPage. */
async function timeBigPage(site: FixtureSite): Promise<void> {
  const parts: string[] = [];
  let size = 0;
  for (const html of site.pages.values()) {
    const body = /<body[^>]*>([\s\S]*)<\/body>/i.exec(html)?.[1] ?? "";
    if (size + body.length > 2.5 * MB) break;
    parts.push(body);
    size += body.length;
  }
  const html = `<!doctype html><html><head><title>Everything</title></head><body>${parts.join("\n")}</body></html>`;
  const input = { url: new URL("/all.html", site.url).href, body: html, contentType: "text/html" };
  const extractor = createExtractor({ threads: 1, timeoutMs: 120_000 });
  try {
    await extractor.extract({ ...input, body: "<p>warm-up</p>" });
    const t = performance.now();
    const page = await extractor.extract(input);
    const ltxS = (performance.now() - t) / 1000;
    const { JSDOM, VirtualConsole } = await import("jsdom");
    const { Readability } = await import("@mozilla/readability");
    const t2 = performance.now();
    const dom = new JSDOM(html, { url: input.url, virtualConsole: new VirtualConsole() });
    new Readability(dom.window.document).parse();
    dom.window.close();
    const bareS = (performance.now() - t2) / 1000;
    console.log(
      `one ${(html.length / MB).toFixed(1)} MB page: bare jsdom + readability ${bareS.toFixed(1)} s; ltx extractor ${ltxS.toFixed(1)} s (jsdom and readability get its first 1 MB, ${page.markdown.length} chars of markdown)`,
    );
  } finally {
    await extractor.close();
  }
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 25);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.round(Math.max(peak, process.memoryUsage().rss) / MB);
    },
  };
}

function shortReason(reason: string): string {
  return reason.replace(/https?:\/\/\S+/g, "URL").slice(0, 60);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
