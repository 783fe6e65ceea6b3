/**
 * The scheduler's composition root (the schedules half of `ltx start`, and what any process may
 * run alongside its own work): config → redis → checks → queues → file store (and the one-time
 * upgrade of files kept in Redis) → website store → maintenance
 * schedulers → the start-up consistency check → the maintenance worker.
 *
 * Nothing here is a singleton across processes: job schedulers live in Redis, so running this in
 * every API or worker replica is safe. Each due tick is one BullMQ job taken by one worker, the
 * start-up check only writes what differs, and its repairs are idempotent upserts/removes.
 *
 * Shutdown order (reverse of registration): maintenance worker (finish the task in hand) →
 * queues → Redis.
 */
import type { Queue } from "bullmq";
import type { Config } from "../config/env";
import { coerceError } from "../lib/coerceError";
import { ConfigError } from "../lib/errors";
import type { Logger } from "../lib/logger";
import { createShutdown, installSignalHandlers, type Shutdown } from "../lib/shutdown";
import { closeRedis, createRedis, keyPrefix } from "../queues/connection";
import { createQueues } from "../queues/queues";
import { checkRedis } from "../store/redisChecks";
import { createFileStore } from "../store/files/createFileStore";
import type { FileStore } from "../store/files/fileStore";
import { upgradeLegacyFiles } from "../store/legacyUpgrade";
import { createWebsiteStore } from "../store/websites";
import {
  ensureMaintenanceSchedulers,
  MAINTENANCE_QUEUE,
  startMaintenanceWorker,
  type MaintenanceDeps,
} from "./maintenance";
import { checkConsistency, type ConsistencyReport } from "../websites/sync";

export interface SchedulerProcessOptions {
  /** Share a registry with other parts of the process (`ltx start`); else one is made. */
  shutdown?: Shutdown;
  installSignals?: boolean;
  /** Redis URL when config.redis.url is unset (`ltx start` runs its own redis-server). */
  redisUrl?: string;
  /** Tests: replace maintenance tasks. */
  overrides?: MaintenanceDeps["overrides"];
  /** Replaces the FileStore config.files describes; the caller closes it. */
  files?: FileStore;
}

export interface SchedulerProcess {
  shutdown: Shutdown;
  maintenance: Queue;
  /** The start-up consistency check (undefined when it failed; the error is logged). */
  startupReport: ConsistencyReport | undefined;
}

export async function runSchedulerProcess(
  config: Readonly<Config>,
  logger: Logger,
  opts: SchedulerProcessOptions = {},
): Promise<SchedulerProcess> {
  const url = opts.redisUrl ?? config.redis.url;
  if (!url)
    throw new ConfigError(
      "invalid configuration: REDIS_URL is required for the scheduler (or use `ltx start`, which runs a local redis-server)",
    );
  const prefix = keyPrefix(config.redis.prefix);
  const shutdown = opts.shutdown ?? createShutdown(logger);
  if (opts.installSignals === true) installSignalHandlers(shutdown, { deadlineMs: 30_000, logger });
  try {
    return await build(config, logger, url, prefix, shutdown, opts);
  } catch (e) {
    await shutdown.run(`start-up failed: ${coerceError(e).message}`);
    throw e;
  }
}

async function build(
  config: Readonly<Config>,
  logger: Logger,
  url: string,
  prefix: string,
  shutdown: Shutdown,
  opts: SchedulerProcessOptions,
): Promise<SchedulerProcess> {
  const log = logger.child({ part: "scheduler" });
  // forWorker: the maintenance Worker blocks on Redis and must retry forever across restarts.
  const redis = createRedis(url, { forWorker: true, name: "ltx-scheduler", logger: log });
  shutdown.add("scheduler redis", () => closeRedis(redis));
  await checkRedis(redis, log);

  const queues = createQueues({ connection: redis, prefix, jobs: config.jobs, logger: log });
  shutdown.add("scheduler queues", () => queues.close());
  const files = opts.files ?? createFileStore(config.files);
  if (!opts.files) shutdown.add("scheduler file store", () => files.close());
  await upgradeLegacyFiles(redis, { prefix, files, logger: log });
  const maintenance = queues.byName(MAINTENANCE_QUEUE);
  const websites = createWebsiteStore(redis, { prefix });

  await ensureMaintenanceSchedulers(maintenance, config.schedules.maintenanceIntervalMs);
  let startupReport: ConsistencyReport | undefined;
  try {
    startupReport = await checkConsistency({ queue: queues.schedule, legacy: queues.generate, websites, logger: log });
  } catch (e) {
    // The periodic check runs again later; a failed start-up check must not keep schedules down.
    log.error({ err: coerceError(e) }, "start-up consistency check failed");
  }

  const worker = startMaintenanceWorker({
    connection: redis,
    redis,
    prefix,
    files,
    generate: queues.generate,
    schedule: queues.schedule,
    websites,
    settings: {
      retentionDays: config.jobs.retentionDays,
      maxVersionsPerSite: config.schedules.maxVersionsPerSite,
      intervalMs: config.schedules.maintenanceIntervalMs,
    },
    logger: log,
    ...(opts.overrides ? { overrides: opts.overrides } : {}),
  });
  shutdown.add("maintenance worker", () => worker.close());
  log.info({ maintenanceIntervalMs: config.schedules.maintenanceIntervalMs }, "scheduler started");
  return { shutdown, maintenance, startupReport };
}
