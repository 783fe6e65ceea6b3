/**
 * Fair share of the one-off queue between clients (an API token, a login session, or an address
 * when auth is off), with BullMQ's job priorities: a client's new job gets priority 1 + the number
 * of its jobs already in flight. BullMQ takes the lowest priority number first and, within one
 * priority, the oldest job; so each client's k-th queued job waits behind every other client's
 * k-th, and a client with 10,000 queued jobs delays another client's first job by about one
 * job per active client, not by 10,000.
 *
 * Why priorities and not one queue per client served round-robin: one queue keeps everything
 * else as it is (per-site de-duplication in BullMQ's add script, Bull Board, the job API, one
 * Worker per process), and a priority is a single field set on add. Its cost: a priority is
 * fixed when the job is added, so a client that submits later than its burst starts again from
 * its current count, which is what fairness asks for anyway.
 *
 * The count is a sorted set per client of the ids of its jobs in flight (score: when added).
 * reserve() adds the id before the job exists (atomically with the MAX_QUEUED_PER_CLIENT check),
 * release() removes it when the job completes, fails for good or is deleted. An id left behind
 * (a process died between the two) is pruned the next time the client is at its limit.
 */
import type { Job, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { coerceError } from "../lib/coerceError";
import type { Logger } from "../lib/logger";

/** BullMQ's largest priority (2^21). */
export const MAX_PRIORITY = 2_097_152;

/** A reservation younger than this is kept by the pruning: its job may still be being added. */
const PRUNE_GRACE_MS = 60_000;

// KEYS[1] the client's set. ARGV: job id, now (ms), limit, job key prefix, grace.
// Returns the number of the client's jobs in flight before this one, or -1 over the limit.
const RESERVE_LUA = `
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[3]) then
  local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[5]))
  for _, id in ipairs(old) do
    local key = ARGV[4] .. id
    if redis.call('EXISTS', key) == 0 or redis.call('HEXISTS', key, 'finishedOn') == 1 then
      redis.call('ZREM', KEYS[1], id)
    end
  end
  n = redis.call('ZCARD', KEYS[1])
  if n >= tonumber(ARGV[3]) then return -1 end
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return n
`;

export interface ClientShare {
  /** The priority for a new job of this client, or undefined when it has `limit` in flight. */
  reserve(clientId: string, jobId: string, limit: number): Promise<number | undefined>;
  release(clientId: string, jobId: string): Promise<void>;
}

export function clientShare(redis: Redis, prefix: string, generateJobKeyPrefix: string): ClientShare {
  const keyOf = (clientId: string): string => `${prefix}:client:${clientId}:inflight`;
  return {
    async reserve(clientId, jobId, limit) {
      const before = Number(
        await redis.eval(
          RESERVE_LUA,
          1,
          keyOf(clientId),
          jobId,
          Date.now(),
          limit,
          generateJobKeyPrefix,
          PRUNE_GRACE_MS,
        ),
      );
      return before < 0 ? undefined : Math.min(before + 1, MAX_PRIORITY);
    },
    async release(clientId, jobId) {
      await redis.zrem(keyOf(clientId), jobId);
    },
  };
}

/** The client a one-off job was submitted by (GenerateJobData.client), if any. */
function clientOfJob(job: Job): string | undefined {
  const client = (job.data as { client?: unknown } | undefined)?.client;
  return typeof client === "string" ? client : undefined;
}

/** Releases a job's reservation when its worker finishes it for good. Returns a detach function. */
export function releaseOnFinish(share: ClientShare, worker: Worker, logger: Logger): () => void {
  const release = (job: Job): void => {
    const client = clientOfJob(job);
    if (client === undefined || job.id === undefined) return;
    share
      .release(client, job.id)
      .catch((e: unknown) => logger.warn({ err: coerceError(e), jobId: job.id }, "client share release failed"));
  };
  const onCompleted = (job: Job): void => release(job);
  const onFailed = (job: Job | undefined, err: Error): void => {
    // A job with attempts left runs again and stays counted.
    if (job && (err.name === "UnrecoverableError" || job.attemptsMade >= (job.opts.attempts ?? 1))) release(job);
  };
  worker.on("completed", onCompleted);
  worker.on("failed", onFailed);
  return () => {
    worker.off("completed", onCompleted);
    worker.off("failed", onFailed);
  };
}
