/**
 * How late a scheduled run started: the time between its tick falling due and a worker taking it.
 * Starved schedules show here first (the website's lastRunDelayMs, the fleet's
 * ltx_schedule_start_delay_seconds histogram on the API's /metrics).
 */
import type { Job, Queue } from "bullmq";
import type { Redis } from "ioredis";

// BullMQ names a scheduler's job "repeat:<scheduler id>:<due millis>".
const SCHEDULED_ID = /^repeat:.+:(\d+)$/;

/** When the job was due (epoch ms): its tick time, else when it was added plus its delay. */
export function dueAtOf(job: Pick<Job, "id" | "timestamp" | "delay">): number {
  const tick = SCHEDULED_ID.exec(job.id ?? "")?.[1];
  return tick !== undefined ? Number(tick) : job.timestamp + (job.delay || 0);
}

/**
 * The start delay of a scheduled run's first attempt, or undefined for one-off jobs and retries
 * (a retry waits on purpose: its back-off).
 */
export function scheduledStartDelayMs(
  job: Pick<Job, "id" | "timestamp" | "delay" | "attemptsMade" | "data">,
  startedAt: number,
): number | undefined {
  if ((job.data as { trigger?: unknown } | undefined)?.trigger !== "schedule" || job.attemptsMade > 0) return undefined;
  return Math.max(0, startedAt - dueAtOf(job));
}

/** Upper bounds (seconds) of the start-delay histogram: a free slot takes a tick within a second. */
export const START_DELAY_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600] as const;

/** The fleet's start-delay histogram: cumulative counts per bucket bound, plus count and sum. */
export interface StartDelayHistogram {
  buckets: Map<number, number>;
  count: number;
  sumSeconds: number;
}

/**
 * Counts a scheduled run's start delay into a hash beside the schedule queue's keys, so every
 * worker's runs land in one histogram that the API's /metrics reads (one HGETALL per snapshot).
 */
export async function recordStartDelay(redis: Redis, schedule: Pick<Queue, "toKey">, delayMs: number): Promise<void> {
  const key = schedule.toKey("startDelays");
  const seconds = delayMs / 1000;
  const multi = redis.multi();
  for (const le of START_DELAY_BUCKETS) if (seconds <= le) multi.hincrby(key, String(le), 1);
  multi.hincrby(key, "count", 1).hincrbyfloat(key, "sum", seconds);
  await multi.exec();
}

export async function readStartDelays(redis: Redis, schedule: Pick<Queue, "toKey">): Promise<StartDelayHistogram> {
  const h = await redis.hgetall(schedule.toKey("startDelays"));
  return {
    buckets: new Map(START_DELAY_BUCKETS.map((le) => [le, Number(h[String(le)] ?? 0)])),
    count: Number(h.count ?? 0),
    sumSeconds: Number(h.sum ?? 0),
  };
}
