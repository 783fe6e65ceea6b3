/*
 * The openai provider: the official `openai` client against OpenAI or any compatible server
 * (Ollama, vLLM, LM Studio via baseUrl). The model sees page digests, never whole pages, and each
 * request's prompt stays within tokenBudget; bigger sites go in several batches (see prompt.ts).
 *
 * Errors, mapped once here:
 * - 429 → RateLimitedError(retryAfterMs from retry-after-ms / Retry-After), which the worker turns
 *   into a pause of the whole queue. That is why the client's own retries default to 0: the client
 *   would otherwise sleep through the Retry-After inside the job, holding a worker slot, and retry
 *   429s and 5xx on its own schedule behind our back.
 * - 5xx, timeouts, network errors → LlmError (retryable): generateLlmsTxt tries again.
 * - other 4xx (bad key, unknown model, quota used up) → LlmError, not retryable: asking again can't help.
 * - an answer that isn't the JSON we asked for → OutputInvalidError, fed back to the next try.
 */
import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from "openai";
import { coerceError } from "../../lib/coerceError";
import { AbortedError, LlmError, OutputInvalidError, RateLimitedError, throwIfAborted } from "../../lib/errors";
import { SECOND } from "../../lib/time";
import type { GenerateInput, GenerateOutput, LlmsDoc, LlmsSection, Page, Provider, TokenUsage } from "../types";
import { ANSWER_JSON_SCHEMA, parseAnswer, urlResolver, type ParsedAnswer } from "./answer";
import { pageTitles } from "./extractive";
import { capPrimarySections } from "./capSections";
import { batchDigests, siteOutline } from "./digest";
import { OPTIONAL_SECTION } from "../render";
import { buildMessages, overheadTokens, type ChatMessage } from "./prompt";
import { firstSentence, siteNameFrom } from "./text";

export interface OpenAIProviderOptions {
  apiKey?: string;
  /** An OpenAI-compatible endpoint, e.g. "http://127.0.0.1:11434/v1"; unset → the client's default. */
  baseUrl?: string;
  model: string;
  /** Prompt tokens per request at most (estimated as characters / 4). */
  tokenBudget: number;
  timeoutMs: number;
  /** Retries inside the openai client. Default 0: see the header comment. */
  maxRetries?: number;
  /** Ask for `response_format: json_schema` first (default true); plain JSON mode when refused. */
  structuredOutput?: boolean;
}

// Room left in each later batch for the growing list of section names.
const SECTIONS_RESERVE_TOKENS = 200;
const DEFAULT_RETRY_AFTER_MS = 30 * SECOND;
const MAX_RETRY_AFTER_MS = 3600 * SECOND;

export function createOpenAIProvider(opts: OpenAIProviderOptions): Provider {
  // Shared by this provider's requests: once a server refuses structured output, it isn't asked again.
  const mode: OutputMode = { structured: opts.structuredOutput ?? true };
  const client = new OpenAI({
    // Local compatible servers need no key, but the client refuses to start without one.
    apiKey: opts.apiKey ?? "unused",
    baseURL: opts.baseUrl,
    timeout: opts.timeoutMs,
    maxRetries: opts.maxRetries ?? 0,
  });
  return {
    name: "openai",
    model: opts.model,
    generate: (input) => generateWithOpenAI(client, opts, input, mode),
  };
}

async function generateWithOpenAI(
  client: OpenAI,
  opts: OpenAIProviderOptions,
  input: GenerateInput,
  mode: OutputMode,
): Promise<GenerateOutput> {
  const { site, pages, signal } = input;
  const pageUrls = new Set(pages.map((p) => p.url));
  const resolve = urlResolver(
    site,
    pageUrls,
    pages.map((p) => p.url),
  );
  const usage: TokenUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0, requests: 0 };
  const siteName = siteNameFrom(pages[0], pages, site);
  const base = { siteUrl: site.startUrl, siteName, totalPages: pages.length, feedback: input.feedback };
  const outline = siteOutline(site, pages);
  const overhead = Math.max(
    overheadTokens({ ...base, batchIndex: 0, batchCount: 2, outline }),
    overheadTokens({ ...base, batchIndex: 1, batchCount: 2, sections: [] }) + SECTIONS_RESERVE_TOKENS,
  );
  const perBatch = opts.tokenBudget - overhead;
  if (perBatch < 100)
    throw new LlmError(
      `the LLM token budget (${opts.tokenBudget}) is too small: the instructions alone take ~${overhead} tokens`,
      { retryable: false },
    );
  // Titles without " | Site name" on every line: the model needs the page's own name, and the
  // repeated suffix would cost tokens in every digest.
  const batches = batchDigests(pages, perBatch, pageTitles(pages, siteName));

  const merged = new Merger(pages);
  for (const [batchIndex, digests] of batches.entries()) {
    throwIfAborted(signal);
    const messages = buildMessages({
      ...base,
      digests,
      batchIndex,
      batchCount: batches.length,
      outline: batchIndex === 0 ? outline : undefined,
      sections: merged.sectionNames(),
    });
    const { content, truncated } = await complete(client, opts, messages, usage, signal, mode);
    let answer: ParsedAnswer;
    try {
      answer = parseAnswer(content, resolve);
    } catch (e) {
      const err = coerceError(e);
      const why = truncated
        ? `${err.message} (the answer was cut off at the length limit: keep notes shorter)`
        : err.message;
      throw new OutputInvalidError(why, { cause: err, details: { usage: { ...usage } } });
    }
    merged.add(answer, batchIndex === 0);
  }
  const finished = merged.finish(siteName);
  const { doc } = capPrimarySections(finished.doc);
  const missing = finished.missing;
  const warnings =
    missing > 0 ? [`the model left out ${missing} page(s); they were added under "${OPTIONAL_SECTION}"`] : [];
  return { doc, usage, model: opts.model, warnings };
}

/**
 * Structured output first (`json_schema`: the server holds the model to the answer's shape);
 * a server that refuses it (400/422 naming response_format or the schema: older vLLM, LM Studio,
 * llama.cpp) is asked in plain JSON mode from then on, by this provider.
 */
interface OutputMode {
  structured: boolean;
}

const STRUCTURED_FORMAT = {
  type: "json_schema" as const,
  json_schema: { name: "llms_txt", schema: ANSWER_JSON_SCHEMA, strict: false },
};

function refusesStructuredOutput(e: unknown): boolean {
  return (
    e instanceof APIError &&
    (e.status === 400 || e.status === 422) &&
    /response_format|json_schema|schema|structured/i.test(e.message)
  );
}

async function complete(
  client: OpenAI,
  opts: OpenAIProviderOptions,
  messages: ChatMessage[],
  usage: TokenUsage,
  signal: AbortSignal | undefined,
  mode: OutputMode = { structured: false },
): Promise<{ content: string | null | undefined; truncated: boolean }> {
  try {
    const request = (structured: boolean) =>
      client.chat.completions.create(
        {
          model: opts.model,
          messages,
          response_format: structured ? STRUCTURED_FORMAT : { type: "json_object" },
        },
        { signal, timeout: opts.timeoutMs, maxRetries: opts.maxRetries ?? 0 },
      );
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(mode.structured);
    } catch (e) {
      if (!mode.structured || !refusesStructuredOutput(e)) throw e;
      mode.structured = false;
      res = await request(false);
    }
    usage.requests += 1;
    usage.promptTokens += res.usage?.prompt_tokens ?? 0;
    usage.completionTokens += res.usage?.completion_tokens ?? 0;
    usage.totalTokens +=
      res.usage?.total_tokens ?? (res.usage?.prompt_tokens ?? 0) + (res.usage?.completion_tokens ?? 0);
    const choice = res.choices[0];
    return { content: choice?.message?.content, truncated: choice?.finish_reason === "length" };
  } catch (e) {
    throw mapError(e, signal);
  }
}

export function mapError(e: unknown, signal?: AbortSignal): Error {
  const err = coerceError(e);
  if (signal?.aborted || err instanceof APIUserAbortError)
    return new AbortedError("LLM request aborted", { cause: err });
  if (err instanceof APIConnectionError) return new LlmError(`LLM request failed: ${err.message}`, { cause: err });
  if (err instanceof APIError && typeof err.status === "number") {
    const status = err.status;
    // A used-up quota also answers 429, but waiting a minute won't refill it.
    if (status === 429 && err.code !== "insufficient_quota") {
      return new RateLimitedError(
        `LLM rate limited (429): ${err.message}`,
        retryAfterMs(err.headers as Headers | undefined),
        { cause: err },
      );
    }
    const retryable = status >= 500 || status === 408 || status === 409;
    return new LlmError(`LLM answered ${status}: ${err.message}`, { cause: err, retryable, details: { status } });
  }
  return new LlmError(`LLM request failed: ${err.message}`, { cause: err });
}

/** retry-after-ms (OpenAI's own header) first, then Retry-After in seconds or as an HTTP date. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number {
  const ms = Number(headers?.get("retry-after-ms") ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return clampRetry(ms);
  const value = headers?.get("retry-after")?.trim();
  if (value) {
    const seconds = Number(value);
    if (Number.isFinite(seconds) && seconds >= 0) return clampRetry(seconds * SECOND);
    const date = Date.parse(value);
    if (Number.isFinite(date)) return clampRetry(date - now);
  }
  return DEFAULT_RETRY_AFTER_MS;
}

function clampRetry(ms: number): number {
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.round(ms)));
}

/** Joins the batches' answers into one doc: sections by name, each page once, none left out. */
class Merger {
  private readonly sections = new Map<string, LlmsSection>();
  private readonly seen = new Set<string>();
  private title: string | undefined;
  private summary: string | undefined;
  private details: string | undefined;
  private readonly byUrl: Map<string, Page>;

  constructor(private readonly pages: Page[]) {
    this.byUrl = new Map(pages.map((p) => [p.url, p]));
  }

  sectionNames(): string[] {
    return [...this.sections.values()].map((s) => s.name.slice(0, 40)).slice(0, 30);
  }

  add(answer: ParsedAnswer, first: boolean): void {
    if (first) [this.title, this.summary, this.details] = [answer.title, answer.summary, answer.details];
    const batchSeen = new Set<string>();
    for (const s of answer.sections) {
      const section = this.section(s.name);
      for (const link of s.links) {
        // A page an earlier batch already placed: the later mention is an artefact of batching.
        if (this.seen.has(link.url) && !batchSeen.has(link.url)) continue;
        batchSeen.add(link.url);
        section.links.push({ ...link, title: link.title || this.byUrl.get(link.url)?.title || link.url });
      }
    }
    for (const url of batchSeen) this.seen.add(url);
  }

  finish(fallbackTitle: string): { doc: LlmsDoc; missing: number } {
    const left = this.pages.filter((p) => !this.seen.has(p.url));
    if (left.length > 0) {
      this.section(OPTIONAL_SECTION).links.push(
        ...left.map((p) => ({
          url: p.url,
          title: p.title || p.url,
          ...(p.description ? { notes: firstSentence(p.description) } : {}),
        })),
      );
    }
    const doc: LlmsDoc = { title: this.title || fallbackTitle, sections: [...this.sections.values()] };
    if (this.summary) doc.summary = this.summary;
    if (this.details) doc.details = this.details;
    return { doc, missing: left.length };
  }

  private section(name: string): LlmsSection {
    const key = name.trim().toLowerCase() || "pages";
    let section = this.sections.get(key);
    if (!section) {
      section = { name: name.trim() || "Pages", links: [] };
      this.sections.set(key, section);
    }
    return section;
  }
}
