/*
 * The old maintenance crons, as job schedulers on the maintenance queue. Each task is its own
 * scheduler and so its own job: a task that throws fails only its job (logged with the error, kept
 * in the failed list for Bull Board) and runs again at its next tick; the other tasks never notice.
 * One attempt per tick: a retry would only run into the next tick.
 *
 *   reap-jobs        finished generate jobs older than JOB_RETENTION_DAYS (BullMQ also trims on
 *                    completion; this catches jobs that finished before a retention change)
 *   prune-versions   site versions beyond MAX_VERSIONS_PER_SITE (the store trims on save; this
 *                    applies a lowered cap to sites that haven't run since)
 *   auth-cleanup     sessions past their expiry and tokens whose record was revoked (issue 7);
 *                    Redis TTLs do most of it, this removes what a crash mid-write left behind
 *   check-schedules  the consistency check of websites and their schedulers (sync.ts)
 */
import { type Queue, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { coerceError } from "../lib/coerceError";
import type { Logger } from "../lib/logger";
import { DAY } from "../lib/time";
import type { QueueName } from "../queues/catalog";
import type { GenerateQueue } from "../queues/queues";
import { storeKeys } from "../store/keys";
import type { WebsiteStore } from "../store/websites";
import { checkConsistency } from "../websites/sync";

export const MAINTENANCE_QUEUE = "maintenance" satisfies QueueName;
export const MAINTENANCE_TASKS = ["reap-jobs", "prune-versions", "auth-cleanup", "check-schedules"] as const;
export type MaintenanceTask = (typeof MAINTENANCE_TASKS)[number];
export interface MaintenanceJobData {
  task: MaintenanceTask;
}
export type TaskReport = Record<string, unknown>;
export type TaskFn = () => Promise<TaskReport>;

export interface MaintenanceDeps {
  /** A plain client (store, scans). */
  redis: Redis;
  prefix: string;
  generate: GenerateQueue;
  websites: WebsiteStore;
  settings: { retentionDays: number; maxVersionsPerSite: number; intervalMs: number };
  logger: Logger;
  /** Replaces or adds tasks (tests make one throw; issue 7 may pass its own auth cleanup). */
  overrides?: Partial<Record<MaintenanceTask, TaskFn>>;
}

/** Bounded work per tick: a backlog is finished by the next ticks, not by one long job. */
const CLEAN_BATCH = 1000;
const CLEAN_ROUNDS = 50;

export function maintenanceTasks(deps: MaintenanceDeps): Record<MaintenanceTask, TaskFn> {
  const tasks: Record<MaintenanceTask, TaskFn> = {
    "reap-jobs": async () => {
      const graceMs = Math.round(deps.settings.retentionDays * DAY);
      const removed: Record<string, number> = {};
      for (const state of ["completed", "failed"] as const) {
        removed[state] = 0;
        for (let round = 0; round < CLEAN_ROUNDS; round++) {
          const ids = await deps.generate.clean(graceMs, CLEAN_BATCH, state);
          removed[state] += ids.length;
          if (ids.length < CLEAN_BATCH) break;
        }
      }
      return removed;
    },
    "prune-versions": () => pruneVersions(deps.redis, deps.prefix, deps.settings.maxVersionsPerSite),
    "auth-cleanup": () => cleanupAuth(deps.redis, deps.prefix),
    "check-schedules": async () => {
      const r = await checkConsistency({ queue: deps.generate, websites: deps.websites, logger: deps.logger });
      return { ...r };
    },
  };
  return { ...tasks, ...deps.overrides };
}

/** Upserts one scheduler per task; an existing one with the same interval is left alone. */
export async function ensureMaintenanceSchedulers(queue: Queue, intervalMs: number): Promise<void> {
  const anyName = queue as unknown as Queue<MaintenanceJobData, unknown, string>;
  for (const task of MAINTENANCE_TASKS) {
    const have = await queue.getJobScheduler(task);
    if (have?.every === intervalMs) continue;
    // The first tick comes one interval after start-up: start-up itself runs the check once.
    await anyName.upsertJobScheduler(
      task,
      { every: intervalMs, startDate: Date.now() + intervalMs },
      {
        name: task,
        data: { task },
        opts: { attempts: 1, removeOnComplete: { count: 50 }, removeOnFail: { count: 200 } },
      },
    );
  }
}

export interface MaintenanceWorker {
  worker: Worker;
  close(): Promise<void>;
}

/** The worker of the maintenance queue: one task at a time per process. */
export function startMaintenanceWorker(deps: MaintenanceDeps & { connection: Redis }): MaintenanceWorker {
  const tasks = maintenanceTasks(deps);
  const worker = new Worker(
    MAINTENANCE_QUEUE,
    async (job: Job) => {
      const task = (job.data as Partial<MaintenanceJobData>).task;
      const fn = task !== undefined ? tasks[task] : undefined;
      if (!fn) throw new Error(`unknown maintenance task ${JSON.stringify(task)}`);
      const started = Date.now();
      try {
        const report = await fn();
        deps.logger.info({ task, ms: Date.now() - started, ...report }, "maintenance task done");
        return report;
      } catch (e) {
        const err = coerceError(e);
        deps.logger.error({ task, err }, "maintenance task failed: it runs again at its next tick");
        throw err;
      }
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: 1 },
  );
  worker.on("error", (e: unknown) => deps.logger.warn({ err: coerceError(e) }, "maintenance worker error"));
  let closing: Promise<void> | undefined;
  return {
    worker,
    close() {
      closing ??= worker.close();
      return closing;
    },
  };
}

/** Trims every site's version history to `keep` (newest kept), a batch of sites at a time. */
export async function pruneVersions(redis: Redis, prefix: string, keep: number): Promise<TaskReport> {
  const keys = storeKeys(prefix);
  let sites = 0;
  let removed = 0;
  for (let offset = 0; ; offset += 500) {
    const batch = await redis.zrange(keys.sites, String(offset), String(offset + 499));
    if (batch.length === 0) break;
    sites += batch.length;
    const pipe = redis.pipeline();
    for (const site of batch) pipe.hlen(keys.versions(site));
    const lens = (await pipe.exec()) ?? [];
    for (let i = 0; i < batch.length; i++) {
      const site = batch[i] as string;
      if (Number(lens[i]?.[1] ?? 0) <= keep) continue;
      const fields = (await redis.hkeys(keys.versions(site)))
        .filter((f) => /^\d+$/.test(f))
        .sort((a, b) => Number(b) - Number(a));
      const old = fields.slice(keep);
      if (old.length > 0) removed += await redis.hdel(keys.versions(site), ...old);
    }
    if (batch.length < 500) break;
  }
  return { sites, removed, keep };
}

/**
 * Sessions (`<p>:auth:session:*`, JSON with expiresAt, normally with a TTL) and token hashes
 * (`<p>:auth:token:*` → id, valid only while `<p>:auth:tokens` has the id): removes sessions
 * that lost their TTL and are past expiry, and hashes of revoked tokens. Key layout from
 * security/sessions.ts and security/apiTokens.ts.
 */
export async function cleanupAuth(redis: Redis, prefix: string): Promise<TaskReport> {
  let sessions = 0;
  let tokens = 0;
  const now = Date.now();
  for await (const keys of scan(redis, `${prefix}:auth:session:*`)) {
    for (const key of keys) {
      if ((await redis.pttl(key)) !== -1) continue; // Redis expires it
      const raw = await redis.get(key);
      const expiresAt = raw ? Date.parse((JSON.parse(raw) as { expiresAt?: string }).expiresAt ?? "") : NaN;
      if (!(expiresAt > now)) sessions += await redis.del(key);
    }
  }
  for await (const keys of scan(redis, `${prefix}:auth:token:*`)) {
    for (const key of keys) {
      const id = await redis.get(key);
      if (id === null || !(await redis.hexists(`${prefix}:auth:tokens`, id))) tokens += await redis.del(key);
    }
  }
  return { expiredSessions: sessions, revokedTokens: tokens };
}

async function* scan(redis: Redis, match: string): AsyncGenerator<string[]> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", match, "COUNT", "500");
    cursor = next;
    if (keys.length > 0) yield keys;
  } while (cursor !== "0");
}
