/**
 * Turns the Config (plus per-request overrides) into the plain settings the pipeline takes.
 * The pipeline never reads config itself; the CLI and the worker both build its options here,
 * so `ltx generate` and a queued job crawl a site the same way.
 */
import type { CrawlLimits, FetchSettings, AddressPolicy, ProviderName } from "../pipeline/types";
import type { Config } from "./env";
import { USER_AGENT } from "../lib/version";

export interface PipelineOverrides {
  maxPages?: number | undefined;
  maxDepth?: number | undefined;
  include?: string[] | undefined;
  exclude?: string[] | undefined;
  provider?: ProviderName | undefined;
  model?: string | undefined;
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
