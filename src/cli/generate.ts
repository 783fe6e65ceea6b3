/**
 * `ltx generate <url>`: runs the whole pipeline in this process, no Redis needed. It runs on the
 * user's own machine, so local and private addresses are allowed (docs served on localhost are a
 * common case) unless --no-private asks for the service's guard.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../config/env";
import { pipelineSettings, type PipelineOverrides } from "../workers/pipelineSettings";
import { coerceError } from "../lib/coerceError";
import { InputError, isLtxError } from "../lib/errors";
import { createLogger } from "../lib/logger";
import { createExtractor } from "../pipeline/extract/extract";
import { createProvider } from "../pipeline/generate";
import { runPipeline } from "../pipeline";
import { resolveSite } from "../pipeline/site";
import { checkPatterns } from "../pipeline/urlPatterns";
import type { PipelineResult } from "../pipeline/types";
import { createAddressPolicy } from "../security/addressPolicy";
import { ProgressBar } from "./progressBar";

export const GENERATE_HELP = `Usage: ltx generate <url> [options]

Crawls the site at <url> (staying under its path prefix), extracts every page and writes an
llms.txt (llmstxt.org) for it. Prints llms.txt on stdout unless --out or --json is given.

Options:
  --max-pages N        pages to include at most (default: MAX_PAGES, 100)
  --max-depth N        link depth from the start page for the crawl (default: MAX_DEPTH, 10)
  --include PATTERN    only pages whose URL matches (glob with *, or /regex/); repeatable
  --exclude PATTERN    skip pages whose URL matches (glob with *, or /regex/); repeatable
  --provider NAME      extractive (no LLM, the default without OPENAI_API_KEY) or openai
  --model NAME         the LLM model for --provider openai (default: LTX_MODEL)
  --llm-attempts N     LLM answers that fail validation are retried with feedback (default 3)
  --full-max-bytes N   size budget of llms-full.txt; pages that don't fit are left out (default 10 MB)
  --out DIR            write DIR/llms.txt and DIR/llms-full.txt instead of printing
  --json               print the whole result as JSON (files, pages, usage, timings, warnings)
  --no-private         refuse private, loopback and link-local addresses (as the service does)
  -h, --help           show this help

Exit codes: 0 success, 1 the site or the generation failed, 2 bad usage or input.
Environment: OPENAI_API_KEY, OPENAI_BASE_URL, LTX_MODEL, LOG_LEVEL and the rest of the README's table.`;

const OPTIONS = {
  "max-pages": { type: "string" },
  "max-depth": { type: "string" },
  include: { type: "string", multiple: true },
  exclude: { type: "string", multiple: true },
  provider: { type: "string" },
  model: { type: "string" },
  "llm-attempts": { type: "string" },
  "full-max-bytes": { type: "string" },
  out: { type: "string" },
  json: { type: "boolean" },
  "no-private": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export async function generateCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    return fail(`${coerceError(e).message} (try \`ltx generate --help\`)`, 2);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${GENERATE_HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1)
    return fail(
      positionals.length === 0
        ? "missing <url> (try `ltx generate --help`)"
        : `expected one <url>, got ${positionals.length}`,
      2,
    );

  const controller = new AbortController();
  const onSigint = (): void => controller.abort(new Error("interrupted"));
  process.once("SIGINT", onSigint);
  const bar = !values.json && process.stderr.isTTY ? new ProgressBar(process.stderr) : undefined;
  let extractor: ReturnType<typeof createExtractor> | undefined;
  try {
    const site = resolveSite(positionals[0] as string); // bad URLs fail here, before anything starts
    const config = loadConfig(process.env);
    const overrides = readOverrides(values, config.crawl.maxPagesLimit);
    const policy = values["no-private"] ? createAddressPolicy({ allowPrivate: false, allowHosts: [] }) : undefined;
    const settings = pipelineSettings(config, overrides, policy);
    const logger = createLogger({ level: process.env.LOG_LEVEL ?? "warn", destination: process.stderr, name: "ltx" });
    extractor = createExtractor({ threads: config.worker.extractThreads, timeoutMs: settings.extractTimeoutMs });
    const result = await runPipeline(site, {
      ...settings.run,
      extractor,
      provider: createProvider(settings.providerOptions),
      llmAttempts: positiveInt(values["llm-attempts"], "--llm-attempts") ?? settings.run.llmAttempts,
      fullMaxBytes: positiveInt(values["full-max-bytes"], "--full-max-bytes") ?? settings.run.fullMaxBytes,
      signal: controller.signal,
      logger,
      ...(bar ? { onProgress: (p) => bar.update(p) } : {}),
    });
    bar?.finish();
    await writeResult(result, values);
    return 0;
  } catch (e) {
    bar?.finish();
    const err = coerceError(e);
    const code =
      isLtxError(err) && (err.code === "INVALID_URL" || err.code === "INVALID_INPUT" || err.code === "CONFIG_INVALID")
        ? 2
        : 1;
    return fail(controller.signal.aborted ? "interrupted" : err.message, controller.signal.aborted ? 130 : code);
  } finally {
    process.removeListener("SIGINT", onSigint);
    await extractor?.close();
  }
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

function readOverrides(values: Values, maxPagesLimit: number): PipelineOverrides {
  const maxPages = positiveInt(values["max-pages"], "--max-pages");
  if (maxPages !== undefined && maxPages > maxPagesLimit)
    throw new InputError(`--max-pages ${maxPages} is above MAX_PAGES_LIMIT (${maxPagesLimit})`);
  const maxDepth = nonNegativeInt(values["max-depth"], "--max-depth");
  const provider = values.provider;
  if (provider !== undefined && provider !== "extractive" && provider !== "openai")
    throw new InputError(`--provider must be extractive or openai, got ${JSON.stringify(provider)}`);
  checkPatterns(values.include ?? [], "--include pattern");
  checkPatterns(values.exclude ?? [], "--exclude pattern");
  return { maxPages, maxDepth, include: values.include, exclude: values.exclude, provider, model: values.model };
}

function positiveInt(v: string | undefined, flag: string): number | undefined {
  const n = nonNegativeInt(v, flag);
  if (n === 0) throw new InputError(`${flag} must be a positive whole number, got 0`);
  return n;
}

function nonNegativeInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v)))
    throw new InputError(`${flag} must be a whole number, got ${JSON.stringify(v)}`);
  return Number(v);
}

async function writeResult(result: PipelineResult, values: Values): Promise<void> {
  if (values.out) {
    await mkdir(values.out, { recursive: true });
    await writeFile(path.join(values.out, "llms.txt"), result.llmsTxt);
    await writeFile(path.join(values.out, "llms-full.txt"), result.llmsFullTxt);
  }
  if (values.json) {
    // Every page's markdown is already in llmsFullTxt: leave the raw content out.
    process.stdout.write(`${JSON.stringify({ ...result, content: undefined }, null, 2)}\n`);
  } else if (!values.out) {
    process.stdout.write(result.llmsTxt.endsWith("\n") ? result.llmsTxt : `${result.llmsTxt}\n`);
  }
  if (!values.json) {
    for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
    const kept = result.pages.filter((p) => !p.skipReason).length;
    const skipped = result.pages.length - kept;
    const where = values.out
      ? ` → ${path.join(values.out, "llms.txt")}, ${path.join(values.out, "llms-full.txt")}`
      : "";
    const llm =
      result.provider === "openai"
        ? ` · ${result.usage.totalTokens} tokens in ${result.usage.requests} requests${result.fallback ? " (fell back to extractive)" : ""}`
        : "";
    process.stderr.write(
      `ltx: ${kept} pages (${skipped} skipped) · ${result.provider}${llm} · ${(result.timings.totalMs / 1000).toFixed(1)}s${where}\n`,
    );
  }
}

function fail(message: string, code: number): number {
  process.stderr.write(`ltx: ${message}\n`);
  return code;
}
