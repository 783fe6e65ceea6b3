/**
 * Cancelling an active job across processes. BullMQ 6.7's Worker.cancelJob(id) aborts the
 * processor's AbortSignal, but only in the worker process that holds the job; the API runs
 * elsewhere. So the API publishes the job id on a channel every worker process subscribes to,
 * and also sets a short-lived flag that a worker checks when it starts a job (covers a job that
 * moved from waiting to active between the API's state read and the publish).
 */
import type { Redis } from "ioredis";

/** How long a cancel request is remembered for a job that wasn't active yet. */
export const CANCEL_FLAG_TTL_MS = 10 * 60_000;

export function cancelChannel(prefix: string): string {
  return `${prefix}:cancel`;
}

export function cancelFlagKey(prefix: string, jobId: string): string {
  return `${prefix}:cancel:${jobId}`;
}

/**
 * Asks whichever worker holds `jobId` to abort it (the job then fails without retry, reason
 * "cancelled"). Returns how many worker processes heard the request (0: none was subscribed).
 */
export async function requestCancel(
  redis: Redis,
  prefix: string,
  jobId: string,
  reason = "cancelled by request",
): Promise<number> {
  const results = await redis
    .multi()
    .set(cancelFlagKey(prefix, jobId), reason, "PX", CANCEL_FLAG_TTL_MS)
    .publish(cancelChannel(prefix), JSON.stringify({ jobId, reason }))
    .exec();
  return Number(results?.[1]?.[1] ?? 0);
}

/** The reason a cancel was requested for jobId before it started, if any. */
export async function pendingCancel(redis: Redis, prefix: string, jobId: string): Promise<string | null> {
  return redis.get(cancelFlagKey(prefix, jobId));
}
