/**
 * One generate job: parse → run the pipeline (abortable) → store → summary. The ONLY place
 * errors are mapped to BullMQ outcomes:
 *   - not retryable (bad payload, bad URL, robots, start page 4xx, cancelled) → a final JobFailure
 *   - RateLimitedError (LLM 429) → the whole queue waits Retry-After, this attempt isn't counted
 *   - shutdown past the grace period → handed back to the queue, this attempt isn't counted
 *   - anything else is rethrown, so the capped back-off applies
 * Failures are JobFailures (queues/failure.ts): the code travels as a field beside the message.
 */
import { DelayedError, Worker, type Job } from "bullmq";
import { coerceError } from "../lib/coerceError";
import { InputError, isLtxError, RateLimitedError } from "../lib/errors";
import type { Logger } from "../lib/logger";
import type { PipelineOverrides, PipelineSettings, ProviderOptions } from "./pipelineSettings";
import { resolveSite } from "../pipeline/site";
import type { Extractor, PipelineOptions, PipelineResult, Progress, Provider, Site } from "../pipeline/types";
import { JobFailure } from "../queues/failure";
import { GenerateJobData, type GenerateJobResult, type GenerateProgress } from "../queues/catalog";
import type { ResultStore } from "../store/results";

/** Abort reasons the worker passes to Worker.cancelJob / cancelAllJobs. */
export const SHUTDOWN_REASON = "ltx:shutdown";
export const TIMEOUT_REASON = "ltx:timeout";

export interface GenerateDeps {
  store: ResultStore;
  /** One per process, reused by every job (its worker threads are the expensive part). */
  extractor: Extractor;
  /** pipelineSettings(config, overrides), bound to the process config by the root. */
  settings: (overrides: PipelineOverrides) => PipelineSettings;
  createProvider: (opts: ProviderOptions) => Provider;
  runPipeline: (site: Site, opts: PipelineOptions) => Promise<PipelineResult>;
  logger: Logger;
  /** Wall-clock limit of one attempt (JOB_TIMEOUT_MS). */
  jobTimeoutMs: number;
  /** Pauses the whole queue for ms (queue.rateLimit). */
  rateLimit: (ms: number) => Promise<void>;
  /** A cancel requested before this job became active (cancel.ts), or null. */
  pendingCancel?: (jobId: string) => Promise<string | null>;
  /** Re-check against the stored run instead of regenerating (change detection). Default: scheduled runs. */
  usePrevious?: (data: GenerateJobData) => boolean;
  /** Minimum time between two progress writes to Redis (default 250 ms). */
  progressIntervalMs?: number;
}

export type GenerateJob = Job<GenerateJobData, GenerateJobResult, "generate">;

export function createGenerateProcessor(
  deps: GenerateDeps,
): (job: GenerateJob, token: string | undefined, signal: AbortSignal | undefined) => Promise<GenerateJobResult> {
  // Three declared parameters: BullMQ passes the AbortSignal only to processors of length >= 3.
  return async function processGenerate(job, token, signal) {
    const parsed = GenerateJobData.safeParse(job.data);
    if (!parsed.success) {
      const err = new InputError(
        `invalid job payload: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
      );
      throw new JobFailure(err.code, err.message, { final: true });
    }
    const data = parsed.data;
    const log = deps.logger.child({ jobId: job.id, url: data.url, attempt: job.attemptsMade + 1 });

    const ac = new AbortController();
    const onAbort = (): void => ac.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() => ac.abort(TIMEOUT_REASON), deps.jobTimeoutMs);
    const started = Date.now();
    try {
      const cancelled = job.id !== undefined ? await deps.pendingCancel?.(job.id) : null;
      if (cancelled) throw new JobFailure("ABORTED", cancelled, { final: true });
      log.info({ trigger: data.trigger }, "job started");
      const result = await runJob(deps, job, data, ac.signal, log);
      log.info(
        { ms: Date.now() - started, version: result.version, unchanged: result.unchanged, pages: result.pagesIncluded },
        "job completed",
      );
      return result;
    } catch (e) {
      const err = coerceError(e);
      throw await mapError(err, { deps, job, token, abort: ac.signal, log });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  };
}

async function runJob(
  deps: GenerateDeps,
  job: GenerateJob,
  data: GenerateJobData,
  signal: AbortSignal,
  log: Logger,
): Promise<GenerateJobResult> {
  const settings = deps.settings(data);
  const usePrevious = deps.usePrevious ?? ((d: GenerateJobData) => d.trigger === "schedule");
  const previous = usePrevious(data) ? await deps.store.getPreviousRun(data.siteKey) : undefined;
  const progress = progressWriter(job, deps.progressIntervalMs ?? 250, log);
  let result: PipelineResult;
  try {
    result = await deps.runPipeline(siteOfJob(data), {
      ...settings.run,
      extractor: deps.extractor,
      provider: deps.createProvider(settings.providerOptions),
      ...(previous ? { previous } : {}),
      signal,
      onProgress: (p) => progress.report(p),
      logger: log,
    });
  } finally {
    progress.stop(); // no late progress write for a job that has already failed
  }
  await progress.flush();
  await progress.write({
    phase: "store",
    pagesDone: progress.last.pagesTotal,
    pagesTotal: progress.last.pagesTotal,
    pagesDiscovered: progress.last.pagesDiscovered,
    pagesFetched: progress.last.pagesFetched,
    pagesExtracted: progress.last.pagesExtracted,
  });

  const jobId = job.id ?? "unknown";
  let version: number;
  if (result.unchanged) {
    const meta = await deps.store.markChecked(data.siteKey, { jobId, checkedAt: new Date().toISOString() });
    version = meta?.version ?? 0;
  } else {
    const saved = await deps.store.save({
      siteKey: data.siteKey,
      url: data.url,
      jobId,
      result,
      content: result.content,
    });
    version = saved.version;
  }
  const skipped = result.pages.filter((p) => p.skipReason !== undefined).length;
  return {
    siteKey: data.siteKey,
    url: data.url,
    version,
    unchanged: result.unchanged === true,
    pagesIncluded: result.pages.length - skipped,
    pagesSkipped: skipped,
    provider: result.provider,
    model: result.model,
    fallback: result.fallback,
    usage: result.usage,
    warnings: result.warnings,
    quality: result.quality,
    timings: result.timings,
    generatedAt: result.generatedAt,
  };
}

interface MapContext {
  deps: GenerateDeps;
  job: GenerateJob;
  token: string | undefined;
  abort: AbortSignal;
  log: Logger;
}

/** The error mapping to BullMQ (see the file comment). Returns what the processor throws. */
async function mapError(err: Error, ctx: MapContext): Promise<Error> {
  const { abort, job, log } = ctx;
  if (err instanceof JobFailure) return err;
  if (abort.aborted) {
    const reason: unknown = abort.reason;
    if (reason === SHUTDOWN_REASON && ctx.token !== undefined) {
      // The old release(): back to the queue at once, attemptsMade unchanged (skipAttempt).
      await job.moveToDelayed(Date.now(), ctx.token);
      log.warn("job handed back to the queue: worker shutting down");
      return new DelayedError();
    }
    if (reason === TIMEOUT_REASON) {
      log.warn({ timeoutMs: ctx.deps.jobTimeoutMs }, "job attempt timed out");
      return new JobFailure("TIMEOUT", `the attempt ran longer than ${ctx.deps.jobTimeoutMs} ms`, {
        final: false,
        cause: err,
      });
    }
    log.info({ reason: String(reason) }, "job cancelled");
    return new JobFailure("ABORTED", typeof reason === "string" ? reason : "cancelled", { final: true });
  }
  if (err instanceof RateLimitedError) {
    log.warn({ retryAfterMs: err.retryAfterMs }, "rate limited by the LLM: pausing the queue");
    await ctx.deps.rateLimit(Math.max(1, err.retryAfterMs));
    return Worker.RateLimitError();
  }
  if (isLtxError(err) && !err.retryable) {
    log.warn({ code: err.code, err }, "job failed: not retryable");
    return new JobFailure(err.code, err.message, { final: true, cause: err });
  }
  const code = isLtxError(err) ? err.code : "INTERNAL";
  log.warn({ code, err, attemptsMade: job.attemptsMade + 1 }, "job attempt failed: will retry with back-off");
  return new JobFailure(code, err.message, { final: false, cause: err });
}

interface ProgressWriter {
  report(p: Progress): void;
  write(p: GenerateProgress): Promise<void>;
  flush(): Promise<void>;
  stop(): void;
  readonly last: GenerateProgress;
}

/** Throttled job.updateProgress: every phase change, else at most once per interval. */
function progressWriter(job: GenerateJob, intervalMs: number, log: Logger): ProgressWriter {
  let last: GenerateProgress = {
    phase: "discover",
    pagesDone: 0,
    pagesTotal: 0,
    pagesDiscovered: 0,
    pagesFetched: 0,
    pagesExtracted: 0,
  };
  let lastWrite = 0;
  let pending: GenerateProgress | undefined;
  let chain: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const write = (p: GenerateProgress): Promise<void> => {
    lastWrite = Date.now();
    pending = undefined;
    chain = chain
      .then(() => job.updateProgress(p))
      .catch((e: unknown) => log.debug({ err: coerceError(e) }, "progress update failed"));
    return chain;
  };
  return {
    get last() {
      return last;
    },
    report(p) {
      const next: GenerateProgress = {
        phase: p.phase,
        pagesDone: p.phase === "done" ? p.pagesTotal : Math.min(p.pagesExtracted, p.pagesTotal || p.pagesExtracted),
        pagesTotal: p.pagesTotal,
        pagesDiscovered: p.pagesDiscovered,
        pagesFetched: p.pagesFetched,
        pagesExtracted: p.pagesExtracted,
      };
      const phaseChanged = next.phase !== last.phase;
      last = next;
      if (phaseChanged || Date.now() - lastWrite >= intervalMs) {
        void write(next);
        return;
      }
      pending = next;
      timer ??= setTimeout(() => {
        timer = undefined;
        if (pending) void write(pending);
      }, intervalMs);
    },
    write,
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
    async flush() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (pending) await write(pending);
      await chain;
    },
  };
}

/** The job's site, resolved once from its normalised start URL (enqueue checked it on the way in). */
function siteOfJob(data: GenerateJobData): Site {
  return resolveSite(data.url);
}
