/**
 * Retrying a failed job without breaking "at most one job in flight per site".
 *
 * BullMQ's job.retry() moves the job back to waiting but does not re-take its de-duplication key
 * (the key was dropped when the job failed), so a retry racing a new submission of the same site
 * would put two jobs in flight. We first take the key for this job atomically (SET NX, the same
 * key BullMQ's add script checks), then retry; when the retry can't happen we give the key back.
 * The job keeps its id, so a client watching it sees it run again.
 */
import type { Job, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { coerceError } from "../../lib/coerceError";
import { ConflictError } from "../../lib/errors";

// KEYS[1] the de-duplication key. ARGV[1] our job id. Returns the id now holding the key.
const CLAIM_SCRIPT = `
local holder = redis.call('GET', KEYS[1])
if not holder then redis.call('SET', KEYS[1], ARGV[1]); return ARGV[1] end
return holder
`;
// Gives the key back only if we still hold it.
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export type RetryQueue = Pick<Queue, "toKey">;

/** BullMQ's key for a de-duplication id: `<prefix>:<queue>:de:<id>` (see its Lua includes). */
export function dedupKey(queue: RetryQueue, dedupId: string): string {
  return queue.toKey(`de:${dedupId}`);
}

/** A claimed de-duplication key, to give back when the retry doesn't happen. */
export interface RetryClaim {
  release(): Promise<void>;
}

/**
 * Takes the site's de-duplication key for this failed job, or throws ConflictError naming the job
 * that holds it. Also used by Bull Board's retry (app.ts wires it into the board's hooks).
 */
export async function claimForRetry(queue: RetryQueue, redis: Redis, job: Job): Promise<RetryClaim> {
  const id = job.id ?? "";
  const dedupId = job.opts.deduplication?.id;
  if (dedupId === undefined) return { release: () => Promise.resolve() };
  const key = dedupKey(queue, dedupId);
  const holder = String(await redis.eval(CLAIM_SCRIPT, 1, key, id));
  if (holder !== id) throw new ConflictError(`job ${holder} for the same site is already in flight`);
  return {
    release: async () => {
      // Not if someone else retried the job meanwhile: the key then belongs to that run.
      if ((await job.getState()) === "failed") await redis.eval(RELEASE_SCRIPT, 1, key, id);
    },
  };
}

export async function retryFailedJob(queue: RetryQueue, redis: Redis, job: Job): Promise<void> {
  const id = job.id ?? "";
  const state = await job.getState();
  if (state !== "failed") throw new ConflictError(`only failed jobs can be retried; job ${id} is ${state}`);
  const claim = await claimForRetry(queue, redis, job);
  try {
    // A fresh attempt budget: the operator decided the cause is fixed.
    await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
  } catch (e) {
    const err = coerceError(e);
    // Someone else (Bull Board, a second API call) retried it first.
    if ((await job.getState()) !== "failed") throw new ConflictError(`job ${id} is no longer failed`);
    await claim.release();
    throw err;
  }
}

/** Bull Board's retry of a failed generate job takes the site's key too (board.ts beforeRetry). */
export function boardRetryGuard(
  queue: RetryQueue & { name: string; getJob(id: string): Promise<Job | undefined> },
  redis: Redis,
) {
  return async (
    queueName: string,
    jobId: string,
  ): Promise<{ refuse: string } | { release: () => Promise<void> } | undefined> => {
    if (queueName !== queue.name) return undefined;
    const job = await queue.getJob(jobId);
    // Anything but a failed job: the board answers for itself (not found, not retriable).
    if (!job || (await job.getState()) !== "failed") return undefined;
    try {
      const claim = await claimForRetry(queue, redis, job);
      return { release: () => claim.release() };
    } catch (e) {
      if (e instanceof ConflictError) return { refuse: e.message };
      throw e;
    }
  };
}

/** How many jobs the guarded retry-all reads per round (the board's own handler uses 100 too). */
const RETRY_ALL_PAGE = 100;

/**
 * Bull Board's "retry all" of the generate queue, one job at a time through the same site claim
 * as a single retry: a job whose site has another job in flight is skipped (counted in
 * `skipped`) and stays where it was, so retrying everything never puts two jobs of a site in
 * flight. Completed jobs are retried the same way (the board offers both).
 */
export function boardRetryAll(
  queue: RetryQueue & Pick<Queue, "name" | "getJobs" | "getJobCounts">,
  redis: Redis,
): (queueName: string, status: string) => Promise<{ retried: number; skipped: number } | undefined> {
  return async (queueName, status) => {
    if (queueName !== queue.name || (status !== "failed" && status !== "completed")) return undefined;
    const total = (await queue.getJobCounts(status))[status] ?? 0;
    const seen = new Set<string>();
    let retried = 0;
    for (let start = 0; seen.size < total;) {
      const page = (await queue.getJobs([status], start, start + RETRY_ALL_PAGE - 1)).filter(
        (j) => j.id !== undefined && !seen.has(j.id),
      );
      if (page.length === 0) break;
      for (const job of page) {
        seen.add(job.id ?? "");
        let claim: RetryClaim;
        try {
          claim = await claimForRetry(queue, redis, job);
        } catch (e) {
          if (e instanceof ConflictError) {
            start++; // it stays in the set, ahead of the next page
            continue;
          }
          throw e;
        }
        try {
          await job.retry(status, { resetAttemptsMade: true, resetAttemptsStarted: true });
          retried++;
        } catch {
          await claim.release(); // someone else retried or removed it first
          start++;
        }
      }
    }
    return { retried, skipped: Math.max(0, total - retried) };
  };
}
