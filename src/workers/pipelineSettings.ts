/**
 * Turns the Config (plus per-request overrides) into the plain settings the pipeline takes.
 * The pipeline never reads config itself; the CLI and the worker both build its options here,
 * so `ltx generate` and a queued job crawl a site the same way.
 */
import type { AddressPolicy, PipelineOptions, ProviderName } from "../pipeline/types";
import type { Config } from "../config/env";
import { InputError } from "../lib/errors";
import { USER_AGENT } from "../lib/version";
import type { GenerateOptions } from "../queues/generateOptions";

/** A job's (or the command line's) generate options; unset ones take the config's defaults. */
export type PipelineOverrides = { [K in keyof GenerateOptions]?: GenerateOptions[K] | undefined };

/** The part of runPipeline's options that comes from configuration: passed on unchanged. */
export type RunSettings = Pick<PipelineOptions, "limits" | "fetch" | "llmAttempts" | "fullMaxBytes" | "jobMaxBytes">;

export interface ProviderOptions {
  provider: ProviderName;
  apiKey: string | undefined;
  baseUrl: string | undefined;
  model: string;
  tokenBudget: number;
  timeoutMs: number;
}

export interface PipelineSettings {
  /** Spread into runPipeline's options by both the CLI and the worker. */
  run: RunSettings & { jobMaxBytes: number };
  /** For the process's extractor (one per process, not per run). */
  extractTimeoutMs: number;
  providerOptions: ProviderOptions;
}

export function pipelineSettings(
  config: Readonly<Config>,
  overrides: PipelineOverrides = {},
  addressPolicy?: AddressPolicy,
): PipelineSettings {
  const { crawl, llm } = config;
  // Job data is checked against the generate-options schema, which has no config; the ceiling
  // applies here, so a job added around the API (Bull Board, a script) can't exceed it either.
  if (overrides.maxPages !== undefined && overrides.maxPages > crawl.maxPagesLimit)
    throw new InputError(`maxPages ${overrides.maxPages} is above MAX_PAGES_LIMIT (${crawl.maxPagesLimit})`);
  const run = {
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
    jobMaxBytes: crawl.jobMaxBytes,
  };
  return {
    run,
    extractTimeoutMs: crawl.extractTimeoutMs,
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
