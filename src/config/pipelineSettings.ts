/**
 * Turns the Config (plus per-request overrides) into the plain settings the pipeline takes.
 * The pipeline never reads config itself; the CLI and the worker both build its options here,
 * so `ltx generate` and a queued job crawl a site the same way.
 */
import type { CrawlLimits, FetchSettings, AddressPolicy, ProviderName, RenderMode } from "../pipeline/types";
import type { Config } from "./env";
import { USER_AGENT } from "../lib/version";

export interface PipelineOverrides {
  maxPages?: number | undefined;
  maxDepth?: number | undefined;
  include?: string[] | undefined;
  exclude?: string[] | undefined;
  provider?: ProviderName | undefined;
  model?: string | undefined;
  render?: RenderMode | undefined;
}

export interface ProviderOptions {
  provider: ProviderName;
  apiKey: string | undefined;
  baseUrl: string | undefined;
  model: string;
  tokenBudget: number;
  timeoutMs: number;
}

export interface PipelineSettings {
  limits: CrawlLimits;
  fetch: FetchSettings;
  llmAttempts: number;
  fullMaxBytes: number;
  extractTimeoutMs: number;
  jobMaxBytes: number;
  /** The renderer itself is the root's to give (it owns the browser); this is the run's share. */
  render: { mode: RenderMode; maxPages: number };
  providerOptions: ProviderOptions;
}

export function pipelineSettings(
  config: Readonly<Config>,
  overrides: PipelineOverrides = {},
  addressPolicy?: AddressPolicy,
): PipelineSettings {
  const { crawl, llm } = config;
  return {
    limits: {
      maxPages: overrides.maxPages ?? crawl.maxPages,
      maxDepth: overrides.maxDepth ?? crawl.maxDepth,
      include: overrides.include ?? [],
      exclude: overrides.exclude ?? [],
    },
    fetch: {
      userAgent: USER_AGENT,
      connectTimeoutMs: crawl.connectTimeoutMs,
      timeoutMs: crawl.fetchTimeoutMs,
      maxBytes: crawl.pageMaxBytes,
      maxRedirects: 5,
      perHostConcurrency: crawl.perHostConcurrency,
      retries: 2,
      acceptInvalidCerts: crawl.acceptInvalidCerts,
      ...(addressPolicy ? { addressPolicy } : {}),
    },
    llmAttempts: llm.attempts,
    fullMaxBytes: crawl.fullMaxBytes,
    extractTimeoutMs: crawl.extractTimeoutMs,
    jobMaxBytes: crawl.jobMaxBytes,
    render: { mode: overrides.render ?? "auto", maxPages: config.render.maxPages },
    providerOptions: {
      provider: overrides.provider ?? llm.provider,
      apiKey: llm.apiKey,
      baseUrl: llm.baseUrl,
      model: overrides.model ?? llm.model,
      tokenBudget: llm.tokenBudget,
      timeoutMs: llm.timeoutMs,
    },
  };
}

/** What the roots give createBrowserRenderer (src/browser/): the process's one browser pool. */
export interface BrowserSettings {
  executablePath: string;
  concurrency: number;
  recyclePages: number;
  maxOldSpaceMb: number;
  pageTimeoutMs: number;
  connectTimeoutMs: number;
  maxHtmlBytes: number;
}

export function browserSettings(config: Readonly<Config>): BrowserSettings {
  const { render, crawl } = config;
  return {
    executablePath: render.executablePath,
    concurrency: render.concurrency,
    recyclePages: render.recyclePages,
    maxOldSpaceMb: render.maxOldSpaceMb,
    pageTimeoutMs: render.pageTimeoutMs,
    connectTimeoutMs: crawl.connectTimeoutMs,
    // The DOM a browser built is cut where a fetched body would be.
    maxHtmlBytes: crawl.pageMaxBytes,
  };
}
