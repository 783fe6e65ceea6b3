/*
 * What a worker does around a generate job that belongs to a website (data.websiteId):
 *
 * before: a scheduled run of a website that was deleted, disabled or paused meanwhile is skipped
 *   (its scheduler removed), and so is one whose site already has a job in flight: the run claims
 *   the site's de-duplication key on the schedule queue once the generate queue's key is free,
 *   and enqueueGenerate looks there after its add, so a refresh or an API submission during a
 *   scheduled run joins it instead of starting a second one.
 * after: the run is counted once (recordRun is idempotent per job attempt) into lastJob,
 *   lastSuccessAt / lastChangedAt / lastCheckedAt and consecutiveFailures, and the failure
 *   back-off is applied: from FAILURE_BACKOFF_AFTER consecutive failed runs the schedule
 *   stretches (schedule.ts: doubling, capped), at FAILURE_PAUSE_AFTER it is paused with the
 *   reason; a success puts the normal schedule back.
 *
 * A run fails when its job fails for good (no attempt left, or not retryable); failed attempts
 * that will be retried, rate-limit waits and shutdown hand-backs are not runs.
 */
import { DelayedError, UnrecoverableError } from "bullmq";
import type { Redis } from "ioredis";
import { coerceError } from "../lib/coerceError";
import type { Logger } from "../lib/logger";
import type { GenerateJobData, GenerateJobResult } from "../queues/catalog";
import { failureOf } from "../queues/failure";
import { recordStartDelay, scheduledStartDelayMs } from "../queues/runDelay";
import { dedupIdOf, type GenerateJob } from "../queues/enqueue";
import type { GenerateQueue, NotifyQueue, Queues } from "../queues/queues";
import type { RunOutcome, Website, WebsiteStore } from "../store/websites";
import { backoffIntervalMs, nominalIntervalMs } from "./schedule";
import { removeWebsiteSchedule, syncWebsiteSchedule } from "./sync";
import { enqueueNotify } from "./webhook";

export type GenerateHandler = (
  job: GenerateJob,
  token: string | undefined,
  signal: AbortSignal | undefined,
) => Promise<GenerateJobResult>;

export interface FailureSettings {
  /** FAILURE_BACKOFF_AFTER */
  backoffAfter: number;
  /** FAILURE_PAUSE_AFTER */
  pauseAfter: number;
}

export interface WebsiteRunDeps {
  websites: WebsiteStore;
  /** generate: whose de-duplication keys one-off jobs hold; schedule: the schedulers and their runs. */
  queues: Pick<Queues, "generate" | "schedule">;
  /** The client the claim script runs on (the worker's). */
  redis: Redis;
  settings: FailureSettings;
  logger: Logger;
  /** Where a new version of a website with a webhookUrl is announced (websites/webhook.ts). */
  notify?: NotifyQueue;
}

// Claims the site for this scheduled run unless a live job holds it: a one-off job on the generate
// queue (KEYS[1]) or another run on the run's own queue (KEYS[2]: the schedule queue, or the
// generate queue for a run a scheduler made there before schedules had their own queue). Setting `deid` on our job makes
// BullMQ delete the schedule queue's key when the job completes or finally fails, exactly as for a
// job added with `deduplication: {id}`. A holder that is gone or finished is stale.
const CLAIM_LUA = `
local function live(key)
  return redis.call('EXISTS', key) == 1 and not redis.call('HGET', key, 'finishedOn')
end
local oneOff = redis.call('GET', KEYS[1])
if oneOff and oneOff ~= ARGV[1] and live(ARGV[3] .. oneOff) then return oneOff end
local cur = redis.call('GET', KEYS[2])
if cur and cur ~= ARGV[1] and live(ARGV[4] .. cur) then return cur end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], 'deid', ARGV[2])
return ''
`;

/** Wraps the generate handler; jobs without websiteId pass straight through. */
export function withWebsiteRuns(handler: GenerateHandler, deps: WebsiteRunDeps): GenerateHandler {
  return async function processWebsiteRun(job, token, signal) {
    const data = job.data as Partial<GenerateJobData>;
    const websiteId = data.websiteId;
    if (!websiteId || job.id === undefined) return handler(job, token, signal);
    const log = deps.logger.child({ jobId: job.id, websiteId });

    const skip = await checkRun(deps, job, websiteId, data);
    if (skip) {
      log.info({ reason: skip }, "scheduled run skipped");
      return skippedResult(data, skip);
    }
    const startedAt = Date.now();
    const delayMs = scheduledStartDelayMs(job, startedAt);
    await Promise.all([
      deps.websites.recordStart(websiteId, job.id, startedAt, delayMs),
      delayMs === undefined ? undefined : recordStartDelay(deps.redis, deps.queues.schedule, delayMs),
    ]).catch((e: unknown) => log.warn({ err: coerceError(e) }, "recordStart failed"));

    let result: GenerateJobResult;
    try {
      result = await handler(job, token, signal);
    } catch (e) {
      const err = coerceError(e);
      if (isFinalFailure(err, job))
        await recordOutcome(deps, job, websiteId, "failure", false, describeFailure(err), log);
      throw e;
    }
    await recordOutcome(
      deps,
      job,
      websiteId,
      result.unchanged ? "unchanged" : "success",
      !result.unchanged,
      undefined,
      log,
    );
    if (!result.unchanged && !result.skipped) await announce(deps, websiteId, result, log);
    return result;
  };
}

async function checkRun(
  deps: WebsiteRunDeps,
  job: GenerateJob,
  websiteId: string,
  data: Partial<GenerateJobData>,
): Promise<string | undefined> {
  const w = await deps.websites.get(websiteId);
  if (data.trigger !== "schedule") return w ? undefined : "website deleted";
  const { generate, schedule } = deps.queues;
  if (!w) {
    await removeWebsiteSchedule(schedule, websiteId);
    return "website deleted";
  }
  if (!w.enabled || w.pausedReason) {
    await removeWebsiteSchedule(schedule, websiteId);
    return w.enabled ? `website paused: ${w.pausedReason ?? ""}` : "website disabled";
  }
  const dedupId = dedupIdOf(w.siteKey);
  const ownQueue = `${job.queueQualifiedName}:`;
  const holder = (await deps.redis.eval(
    CLAIM_LUA,
    3,
    `${generate.keys.de}:${dedupId}`,
    `${ownQueue}de:${dedupId}`,
    `${ownQueue}${job.id ?? ""}`,
    job.id ?? "",
    dedupId,
    generate.toKey(""),
    ownQueue,
  )) as string;
  return holder ? `job ${holder} for this site is already in flight` : undefined;
}

/** A new version of a website with a webhookUrl: its notify job (one per version, whoever asks twice). */
async function announce(
  deps: WebsiteRunDeps,
  websiteId: string,
  result: GenerateJobResult,
  log: Logger,
): Promise<void> {
  if (!deps.notify) return;
  try {
    const w = await deps.websites.get(websiteId);
    if (w?.webhookUrl)
      await enqueueNotify(deps.notify, { websiteId, siteKey: result.siteKey, version: result.version });
  } catch (e) {
    // The files are stored; a lost announcement must not fail the run.
    log.error({ err: coerceError(e) }, "queueing the change notification failed");
  }
}

/** No attempt left, or the processor said retrying can't help. Shutdown/rate-limit hand-backs are not failures. */
export function isFinalFailure(err: Error, job: Pick<GenerateJob, "attemptsMade" | "opts">): boolean {
  if (err instanceof UnrecoverableError) return true;
  if (err instanceof DelayedError || err.name === "RateLimitError" || err.name === "DelayedError") return false;
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

async function recordOutcome(
  deps: WebsiteRunDeps,
  job: GenerateJob,
  websiteId: string,
  outcome: RunOutcome,
  changed: boolean,
  error: string | undefined,
  log: Logger,
): Promise<void> {
  try {
    const w = await deps.websites.recordRun(websiteId, {
      jobId: job.id ?? "",
      token: `${job.id ?? ""}:${job.attemptsMade}`,
      outcome,
      changed,
      at: Date.now(),
      ...(error ? { error } : {}),
    });
    if (w) await applyBackoff({ ...deps, queue: deps.queues.schedule }, w, outcome, error, log);
  } catch (e) {
    // Bookkeeping must not turn a good run into a failed job; the next run counts again.
    log.error({ err: coerceError(e) }, "recording the website run failed");
  }
}

/** Stretches, pauses or restores the schedule after a counted run. */
export async function applyBackoff(
  deps: Pick<WebsiteRunDeps, "websites" | "settings"> & { queue: GenerateQueue },
  w: Website,
  outcome: RunOutcome,
  error: string | undefined,
  log?: Logger,
): Promise<void> {
  const now = Date.now();
  const { backoffAfter, pauseAfter } = deps.settings;
  if (outcome !== "failure") {
    if (w.backoffEveryMs === undefined && !w.pausedReason) return;
    const restored = await deps.websites.update(w.id, { backoffEveryMs: null, pausedReason: null });
    if (restored)
      await syncWebsiteSchedule(deps.queue, restored, {
        force: true,
        nextRunAt: now + nominalIntervalMs(restored.schedule, now),
      });
    log?.info({ websiteId: w.id }, "website recovered: normal schedule restored");
    return;
  }
  const failures = w.consecutiveFailures;
  if (failures >= pauseAfter) {
    const reason = `paused after ${failures} consecutive failed runs; last error: ${(error ?? "unknown").slice(0, 200)}`;
    await deps.websites.update(w.id, { pausedReason: reason, backoffEveryMs: null });
    await removeWebsiteSchedule(deps.queue, w.id);
    log?.warn({ websiteId: w.id, failures }, "website paused after repeated failures");
    return;
  }
  const every = backoffIntervalMs(w.schedule, failures, { backoffAfter }, now);
  if (every === undefined) return;
  if (every === w.backoffEveryMs) {
    await syncWebsiteSchedule(deps.queue, w); // same interval: only the failure count in the job data moves
    return;
  }
  const stretched = await deps.websites.update(w.id, { backoffEveryMs: every });
  if (stretched) await syncWebsiteSchedule(deps.queue, stretched, { force: true, nextRunAt: now + every });
  log?.warn({ websiteId: w.id, failures, everyMs: every }, "website failing: schedule stretched");
}

function skippedResult(data: Partial<GenerateJobData>, reason: string): GenerateJobResult {
  return {
    siteKey: data.siteKey ?? "",
    url: data.url ?? "",
    version: 0,
    unchanged: false,
    pagesIncluded: 0,
    pagesSkipped: 0,
    provider: data.provider ?? "extractive",
    model: null,
    fallback: false,
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0, requests: 0 },
    warnings: [`skipped: ${reason}`],
    timings: { discoverMs: 0, crawlMs: 0, generateMs: 0, composeMs: 0, totalMs: 0 },
    generatedAt: new Date().toISOString(),
    skipped: reason,
  };
}

/** A failure as the website's last error reads to a person: "CODE: message". */
function describeFailure(err: Error): string {
  const { code, message } = failureOf(err);
  return code === null ? message : `${code}: ${message}`;
}
