/*
 * Generate stage: provider → render → validate, with the retry loop that feeds the validator's
 * issues back to the model. Whatever happens, the llms.txt returned here has passed the validator:
 * after `attempts` failed LLM tries (bad answers or failed calls) the extractive result is used and
 * the result says so. Rate limits and aborts are the exception: they propagate, so the worker can
 * pause the queue (429) or stop (cancel) instead of silently publishing the fallback.
 */
import { coerceError } from "../../lib/coerceError";
import { AbortedError, LtxError, OutputInvalidError, RateLimitedError, throwIfAborted } from "../../lib/errors";
import type { Logger } from "../../lib/logger";
import { SECOND, sleep } from "../../lib/time";
import { renderLlmsTxt } from "../render";
import type { LlmsDoc, Page, Provider, ProviderName, Site, TokenUsage, ValidationIssue } from "../types";
import { checkLlmsTxt, validateGenerated } from "../validate/check";
import { isOnSite } from "../validate/format";
import { createExtractiveProvider } from "./extractive";
import { createOpenAIProvider } from "./openai";

export { createExtractiveProvider } from "./extractive";
export { createOpenAIProvider } from "./openai";

export interface ProviderOptions {
  provider: ProviderName;
  apiKey?: string;
  baseUrl?: string;
  model: string;
  tokenBudget: number;
  timeoutMs: number;
  maxRetries?: number;
}

export function createProvider(opts: ProviderOptions): Provider {
  if (opts.provider === "extractive") return createExtractiveProvider();
  return createOpenAIProvider(opts);
}

export interface GenerateLlmsTxtInput {
  site: Site;
  /** Kept pages (fetched with 2xx), the start page first, in crawl order. */
  pages: Page[];
  provider: Provider;
  /** LLM tries in all (validation failures and failed calls both count). */
  attempts: number;
  signal?: AbortSignal;
  logger?: Logger;
  /** Pause before retrying a failed LLM call: retryDelayMs × try number. Default 1 s. */
  retryDelayMs?: number;
}

export interface GenerateLlmsTxtResult {
  doc: LlmsDoc;
  llmsTxt: string;
  provider: ProviderName;
  model: string | null;
  /** LLM tries made (0 for the extractive provider). */
  attempts: number;
  /** The LLM's result was not used; the extractive one was. */
  fallback: boolean;
  usage: TokenUsage;
  warnings: string[];
}

// "Most pages": more than half.
const THIN_SHARE_LIMIT = 0.5;

export async function generateLlmsTxt(raw: GenerateLlmsTxtInput): Promise<GenerateLlmsTxtResult> {
  const warnings: string[] = [];
  const input = { ...raw, pages: linkablePages(raw.site, raw.pages, warnings) };
  checkContent(input.pages);
  const pageUrls = new Set(input.pages.map((p) => p.url));
  const ctx = { site: input.site, pageUrls };
  const usage: TokenUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0, requests: 0 };
  const { provider, signal, logger } = input;

  if (provider.name === "extractive") {
    const out = await runExtractive(input, ctx);
    return { ...out, provider: "extractive", model: null, attempts: 0, fallback: false, usage, warnings };
  }

  let feedback: ValidationIssue[] | undefined;
  let lastProblem = "";
  let tries = 0;
  while (tries < Math.max(1, input.attempts)) {
    throwIfAborted(signal);
    tries++;
    try {
      const out = await provider.generate({ site: input.site, pages: input.pages, feedback, signal });
      addUsage(usage, out.usage);
      const llmsTxt = renderLlmsTxt(out.doc);
      const issues = validateGenerated(llmsTxt, ctx);
      if (issues.length === 0) {
        return {
          doc: out.doc,
          llmsTxt,
          provider: provider.name,
          model: out.model,
          attempts: tries,
          fallback: false,
          usage,
          warnings: [...warnings, ...(out.warnings ?? [])],
        };
      }
      // The retry fixes the quality defects `ltx check` sees too, not only what blocked the file.
      feedback = [...issues, ...qualityFeedback(llmsTxt, input.site)];
      lastProblem = `${issues.length} validation issue(s), first: ${issues[0]?.message ?? ""}`;
      logger?.warn(
        { attempt: tries, issues: issues.slice(0, 5) },
        "LLM answer failed validation; retrying with feedback",
      );
    } catch (e) {
      const err = coerceError(e);
      if (err instanceof RateLimitedError || err instanceof AbortedError) throw err;
      addUsage(usage, usageOf(err));
      lastProblem = err.message;
      if (err instanceof OutputInvalidError) {
        feedback = [{ code: "invalid-answer", message: err.message }];
        logger?.warn({ attempt: tries, err: err.message }, "LLM answer was not usable; retrying with feedback");
        continue;
      }
      logger?.warn({ attempt: tries, err }, "LLM call failed");
      if (err instanceof LtxError && !err.retryable) break;
      if (tries < input.attempts) await pause((input.retryDelayMs ?? SECOND) * tries, signal);
    }
  }

  const out = await runExtractive(input, ctx);
  warnings.push(
    `the LLM result was not used after ${tries} tr${tries === 1 ? "y" : "ies"} (${lastProblem}); the extractive llms.txt was used instead`,
  );
  return { ...out, provider: provider.name, model: provider.model, attempts: tries, fallback: true, usage, warnings };
}

async function runExtractive(
  input: GenerateLlmsTxtInput,
  ctx: { site: Site; pageUrls: Set<string> },
): Promise<{ doc: LlmsDoc; llmsTxt: string }> {
  const provider = input.provider.name === "extractive" ? input.provider : createExtractiveProvider();
  const out = await provider.generate({ site: input.site, pages: input.pages, signal: input.signal });
  const llmsTxt = renderLlmsTxt(out.doc);
  const issues = validateGenerated(llmsTxt, ctx);
  // Our own output failing is a bug, but the rule holds: an invalid file is never returned.
  if (issues.length > 0) {
    throw new OutputInvalidError(
      `the extractive llms.txt failed validation: ${issues
        .slice(0, 3)
        .map((i) => i.message)
        .join("; ")}`,
      { retryable: false, details: { issues } },
    );
  }
  return { doc: out.doc, llmsTxt };
}

/**
 * No pages, or mostly JavaScript shells → NO_CONTENT: an empty index helps no one. A few thin
 * pages are not an error; the crawl already names them in its warnings.
 */
export function checkContent(pages: Page[]): void {
  if (pages.length === 0)
    throw new LtxError("NO_CONTENT", "no readable pages were found on the site", { retryable: false });
  const thin = pages.filter((p) => p.thin).length;
  if (thin / pages.length > THIN_SHARE_LIMIT) {
    throw new LtxError(
      "NO_CONTENT",
      `${thin} of ${pages.length} pages have almost no readable text: the site seems to need a browser (JavaScript) to render its content, which ltx does not run`,
      { retryable: false, details: { thinPages: thin, pages: pages.length } },
    );
  }
}

/**
 * The crawl should only hand over unique pages on the site; if it ever doesn't, those pages are
 * dropped here (with a warning) rather than failing validation on every try.
 */
function linkablePages(site: Site, pages: Page[], warnings: string[]): Page[] {
  const seen = new Set<string>();
  const kept = pages.filter((p) => {
    let onSite: boolean;
    try {
      onSite = isOnSite(new URL(p.url), site);
    } catch {
      onSite = false;
    }
    if (!onSite || seen.has(p.url)) return false;
    seen.add(p.url);
    return true;
  });
  if (kept.length < pages.length)
    warnings.push(
      `${pages.length - kept.length} page(s) were duplicates or outside ${site.origin}${site.prefix} and were not linked`,
    );
  return kept;
}

function addUsage(total: TokenUsage, add: TokenUsage | undefined): void {
  if (!add) return;
  total.promptTokens += add.promptTokens;
  total.completionTokens += add.completionTokens;
  total.totalTokens += add.totalTokens;
  total.requests += add.requests;
}

/** Usage a failed try already spent, carried on OutputInvalidError.details.usage by the provider. */
function usageOf(err: Error): TokenUsage | undefined {
  const u = err instanceof LtxError ? err.details?.["usage"] : undefined;
  if (!u || typeof u !== "object") return undefined;
  const t = u as Partial<TokenUsage>;
  return {
    promptTokens: t.promptTokens ?? 0,
    completionTokens: t.completionTokens ?? 0,
    totalTokens: t.totalTokens ?? 0,
    requests: t.requests ?? 0,
  };
}

async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0) return;
  try {
    await sleep(ms, signal);
  } catch (e) {
    throw new AbortedError("aborted while waiting to retry the LLM", { cause: coerceError(e) });
  }
}

/** `ltx check`'s warnings on a rejected answer, as feedback lines for the next try. */
function qualityFeedback(llmsTxt: string, site: Site): ValidationIssue[] {
  return checkLlmsTxt(llmsTxt, { site: site.origin }).warnings.map((w) => ({
    code: w.code,
    message: `${w.message}${w.lines.length > 0 ? ` (lines ${w.lines.join(", ")})` : ""}`,
  }));
}
