/**
 * How late a scheduled run started: the time between its tick falling due and a worker taking it.
 * Starved schedules show here first (the website's lastRunDelayMs, the
 * ltx_schedule_start_delay_seconds histogram).
 */
import type { Job } from "bullmq";

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
