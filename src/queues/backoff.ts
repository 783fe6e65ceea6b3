/**
 * The "capped" back-off of the job catalog: base × 2^(attempt-1), never more than max. BullMQ's
 * built-in "exponential" has no cap (attempt 10 would wait 8.5 hours at a 60 s base), so the
 * Worker's settings.backoffStrategy calls this for jobs whose backoff type is "capped".
 */
import type { BackoffStrategy } from "bullmq";

/** Delay before the next try after `attemptsMade` failed attempts (1 → base, 2 → 2 × base, …). */
export function cappedBackoff(attemptsMade: number, baseMs: number, maxMs: number): number {
  const n = Math.max(1, Math.floor(attemptsMade));
  // 2 ** 1024 is Infinity; Math.min handles it, but keep the exponent sane anyway.
  const delay = baseMs * 2 ** Math.min(n - 1, 52);
  return Math.max(0, Math.min(delay, maxMs));
}

/**
 * The Worker's settings.backoffStrategy. BullMQ calls it only for types it doesn't know itself
 * ("fixed" and "exponential" are built in); CAPPED_BACKOFF is our only custom type, and an
 * unknown one gets the same curve rather than -1 (which would fail the job outright).
 */
export function backoffStrategy(baseMs: number, maxMs: number): BackoffStrategy {
  return (attemptsMade: number) => cappedBackoff(attemptsMade, baseMs, maxMs);
}
