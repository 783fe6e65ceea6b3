/**
 * Worker heartbeats: every worker process writes a short-lived record of itself to Redis every
 * few seconds, so any process (the API's /readyz and /metrics, the web page) can see which workers
 * are alive, how many slots they have and when one last took a job. A stuck fleet ("waiting grows,
 * active stays 0") is then visible without reading logs: no heartbeat at all, or heartbeats whose
 * workers take nothing although jobs wait.
 *
 * Layout: a sorted set `<prefix>:workers` (member = worker id, score = last beat, epoch ms) and one
 * string per worker `<prefix>:worker:<id>` (JSON, expiring after HEARTBEAT_TTL_MS). A killed worker
 * stops beating; its record expires and its set entry is pruned by the next reader.
 */
import { randomUUID } from "node:crypto";
import os from "node:os";
import type { Redis } from "ioredis";
import { z } from "zod";
import { coerceError } from "../lib/coerceError";
import type { Logger } from "../lib/logger";

export const HEARTBEAT_INTERVAL_MS = 5_000;
/** Three missed beats: a worker busy with CPU work may be a beat late, not three. */
export const HEARTBEAT_TTL_MS = 3 * HEARTBEAT_INTERVAL_MS;
/** Jobs waiting and no worker took one for this long: the fleet is stuck. */
export const STUCK_AFTER_MS = 60_000;

export const WorkerBeat = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.number().int(),
  /** Jobs at once on the one-off (generate) queue. */
  concurrency: z.number().int(),
  /** Jobs running in this process at the last beat. */
  active: z.number().int(),
  startedAt: z.number(),
  beatAt: z.number(),
  /** When this process last took a job (epoch ms), or null when it never did. */
  lastTakenAt: z.number().nullable(),
});
export type WorkerBeat = z.infer<typeof WorkerBeat>;

const setKey = (prefix: string): string => `${prefix}:workers`;
const beatKey = (prefix: string, id: string): string => `${prefix}:worker:${id}`;

export interface HeartbeatSource {
  concurrency: number;
  activeCount(): number;
  lastTakenAt(): number | null;
}

export interface Heartbeat {
  id: string;
  /** Stops beating and removes this worker's record. Idempotent. */
  stop(): Promise<void>;
}

/** Starts beating at once and every HEARTBEAT_INTERVAL_MS; a failed beat is logged, not thrown. */
export function startHeartbeat(
  redis: Redis,
  prefix: string,
  source: HeartbeatSource,
  logger: Logger,
  intervalMs = HEARTBEAT_INTERVAL_MS,
): Heartbeat {
  const id = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const startedAt = Date.now();
  const beat = async (): Promise<void> => {
    const now = Date.now();
    const record: WorkerBeat = {
      id,
      host: os.hostname(),
      pid: process.pid,
      concurrency: source.concurrency,
      active: source.activeCount(),
      startedAt,
      beatAt: now,
      lastTakenAt: source.lastTakenAt(),
    };
    await redis
      .multi()
      .set(beatKey(prefix, id), JSON.stringify(record), "PX", Math.max(HEARTBEAT_TTL_MS, 3 * intervalMs))
      .zadd(setKey(prefix), now, id)
      .exec();
  };
  const tick = (): void =>
    void beat().catch((e: unknown) => logger.debug({ err: coerceError(e) }, "worker heartbeat failed"));
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  let stopping: Promise<void> | undefined;
  return {
    id,
    stop() {
      stopping ??= (async () => {
        clearInterval(timer);
        try {
          await redis.multi().del(beatKey(prefix, id)).zrem(setKey(prefix), id).exec();
        } catch (e) {
          logger.debug({ err: coerceError(e) }, "removing the worker heartbeat failed");
        }
      })();
      return stopping;
    },
  };
}

/** The workers whose heartbeat hasn't expired; prunes entries of workers that stopped beating. */
export async function readHeartbeats(redis: Redis, prefix: string, now = Date.now()): Promise<WorkerBeat[]> {
  const ids = await redis.zrangebyscore(setKey(prefix), now - HEARTBEAT_TTL_MS, "+inf");
  // Bounded: a dead worker's entry lingers only until the next reader.
  void redis.zremrangebyscore(setKey(prefix), "-inf", now - HEARTBEAT_TTL_MS).catch(() => undefined);
  if (ids.length === 0) return [];
  const raw = await redis.mget(...ids.map((id) => beatKey(prefix, id)));
  const beats: WorkerBeat[] = [];
  for (const r of raw) {
    if (r === null) continue;
    try {
      const parsed = WorkerBeat.safeParse(JSON.parse(r));
      if (parsed.success) beats.push(parsed.data);
    } catch {
      // A record we can't read is a worker we can't vouch for.
    }
  }
  return beats;
}

export interface FleetStatus {
  /** Worker processes with a live heartbeat. */
  alive: number;
  /** Their one-off job slots (sum of concurrency). */
  slots: number;
  /** Jobs running on them at their last beats. */
  active: number;
  /** Jobs waiting to run (waiting + prioritized). */
  waiting: number;
  /** When any worker last took a job (epoch ms), or null. */
  lastTakenAt: number | null;
  /** Jobs wait and nothing is taking them: no worker, or none took a job for STUCK_AFTER_MS. */
  stuck: boolean;
  reason?: string;
}

/** Combines heartbeats with the queue's waiting count into the verdict /readyz and /metrics show. */
export function fleetStatus(beats: readonly WorkerBeat[], waiting: number, now = Date.now()): FleetStatus {
  const slots = beats.reduce((n, b) => n + b.concurrency, 0);
  const active = beats.reduce((n, b) => n + b.active, 0);
  const taken = beats.map((b) => b.lastTakenAt).filter((t): t is number => t !== null);
  const lastTakenAt = taken.length > 0 ? Math.max(...taken) : null;
  const base = { alive: beats.length, slots, active, waiting, lastTakenAt };
  if (waiting === 0 || active > 0) return { ...base, stuck: false };
  if (beats.length === 0) return { ...base, stuck: true, reason: `${waiting} jobs waiting and no worker is alive` };
  // A worker that just started hasn't had the chance to take anything yet.
  const since = lastTakenAt ?? Math.max(...beats.map((b) => b.startedAt));
  if (now - since < STUCK_AFTER_MS) return { ...base, stuck: false };
  return {
    ...base,
    stuck: true,
    reason: `${waiting} jobs waiting; ${beats.length} workers alive but none took a job for ${Math.round((now - since) / 1000)} s`,
  };
}
