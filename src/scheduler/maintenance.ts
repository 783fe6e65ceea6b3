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
 *   sweep-files      files no metadata points at (a crash between writing a save's files and
 *                    switching its metadata, a failed delete), older than an hour; first moves
 *                    files an older ltx still running saved into Redis (a rolling upgrade)
 *   auth-cleanup     sessions past their expiry and tokens whose record was revoked;
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
import { sweepRevokedTokenHashes } from "../security/apiTokens";
import { sweepExpiredSessions } from "../security/sessions";
import type { FileStore } from "../store/files/fileStore";
import { upgradeLegacyFiles } from "../store/legacyUpgrade";
import { sweepOrphanFiles } from "../store/orphanSweep";
import { pruneVersions } from "../store/versionPruning";
import type { WebsiteStore } from "../store/websites";
import { checkConsistency } from "../websites/sync";

export const MAINTENANCE_QUEUE = "maintenance" satisfies QueueName;
export const MAINTENANCE_TASKS = [
  "reap-jobs",
  "prune-versions",
  "sweep-files",
  "auth-cleanup",
  "check-schedules",
] as const;
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
  files: FileStore;
  generate: GenerateQueue;
  /** The websites' schedulers and their runs. */
  schedule: GenerateQueue;
  websites: WebsiteStore;
  settings: { retentionDays: number; maxVersionsPerSite: number; intervalMs: number };
  logger: Logger;
  /** Replaces or adds tasks (tests make one throw). */
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
        for (const queue of [deps.generate, deps.schedule]) {
          for (let round = 0; round < CLEAN_ROUNDS; round++) {
            const ids = await queue.clean(graceMs, CLEAN_BATCH, state);
            removed[state] += ids.length;
            if (ids.length < CLEAN_BATCH) break;
          }
        }
      }
      return removed;
    },
    "prune-versions": () =>
      pruneVersions(deps.redis, { prefix: deps.prefix, keep: deps.settings.maxVersionsPerSite, files: deps.files }),
    "sweep-files": async () => {
      // During a rolling upgrade an older process may still save files into Redis: move them too.
      const upgrade = await upgradeLegacyFiles(deps.redis, {
        prefix: deps.prefix,
        files: deps.files,
        logger: deps.logger,
      });
      const swept = await sweepOrphanFiles(deps.redis, { prefix: deps.prefix, files: deps.files });
      return { ...swept, upgraded: upgrade?.upgraded ?? 0 };
    },
    "auth-cleanup": async () => ({
      expiredSessions: await sweepExpiredSessions(deps.redis, deps.prefix),
      revokedTokens: await sweepRevokedTokenHashes(deps.redis, deps.prefix),
    }),
    "check-schedules": async () => {
      const r = await checkConsistency({
        queue: deps.schedule,
        legacy: deps.generate,
        websites: deps.websites,
        logger: deps.logger,
      });
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
