/**
 * The worker process's composition root (`ltx worker`, and the worker half of `ltx start`):
 * config → redis → checks → queues → file store (and the one-time upgrade of files kept in Redis)
 * → result store → extractor → worker, registering each part's close
 * with the shutdown registry as it goes. The registry closes in reverse: the Worker first (stop
 * taking jobs, let active ones finish, hand back the rest), then the extractor threads the jobs
 * were using, then the queues, and the Redis client last because every step before needs it.
 */
import type { Config } from "../config/env";
import { pipelineSettings } from "./pipelineSettings";
import { coerceError } from "../lib/coerceError";
import { ConfigError } from "../lib/errors";
import type { Logger } from "../lib/logger";
import { createShutdown, installSignalHandlers, type Shutdown } from "../lib/shutdown";
import { runPipeline } from "../pipeline";
import { createExtractor } from "../pipeline/extract/extract";
import { createProvider } from "../pipeline/generate";
import { pendingCancel } from "../queues/cancel";
import { closeRedis, createRedis, keyPrefix } from "../queues/connection";
import { clientShare, releaseOnFinish } from "../queues/clientShare";
import { createQueues } from "../queues/queues";
import { startHeartbeat } from "../queues/workerHeartbeat";
import { serveWorkerMetrics } from "../metrics/workerMetrics";
import { createAddressPolicy } from "../security/addressPolicy";
import { checkRedis } from "../store/redisChecks";
import { createFileStore } from "../store/files/createFileStore";
import type { FileStore } from "../store/files/fileStore";
import { upgradeLegacyFiles } from "../store/legacyUpgrade";
import { createResultStore } from "../store/results";
import { createWebsiteStore } from "../store/websites";
import { withWebsiteRuns } from "../websites/outcomes";
import { withChangeSummaries } from "../websites/versions";
import { createHandlers } from "./handlers";
import { startWorker, type WorkerHandle, type WorkerSettings } from "./worker";

export interface WorkerProcessOptions {
  /** Share a registry with other parts of the process (`ltx start`); else one is made. */
  shutdown?: Shutdown;
  /** Install SIGTERM/SIGINT handlers that run the registry and process.exit (default false). */
  installSignals?: boolean;
  /** Redis URL when config.redis.url is unset (`ltx start` runs its own redis-server). */
  redisUrl?: string;
  /** Test knobs: short locks and stall checks. */
  worker?: Pick<WorkerSettings, "lockDurationMs" | "stalledIntervalMs" | "maxStalledCount" | "drainDelaySeconds">;
  /** Replaces the FileStore config.files describes (tests inject faults); the caller closes it. */
  files?: FileStore;
}

export interface WorkerProcess {
  worker: WorkerHandle;
  shutdown: Shutdown;
}

export async function runWorkerProcess(
  config: Readonly<Config>,
  logger: Logger,
  opts: WorkerProcessOptions = {},
): Promise<WorkerProcess> {
  const url = opts.redisUrl ?? config.redis.url;
  if (!url)
    throw new ConfigError(
      "invalid configuration: REDIS_URL is required for `ltx worker` (or use `ltx start`, which runs a local redis-server)",
    );
  const prefix = keyPrefix(config.redis.prefix);
  const shutdown = opts.shutdown ?? createShutdown(logger);
  if (opts.installSignals === true) {
    // The deadline sits a little after the grace period: jobs get SHUTDOWN_GRACE_MS, the
    // hand-back and the closes get the rest.
    installSignalHandlers(shutdown, { deadlineMs: config.worker.shutdownGraceMs + 15_000, logger });
  }

  try {
    return await build(config, logger, url, prefix, shutdown, opts);
  } catch (e) {
    // A half-built process (Redis misconfigured, unreachable…) closes what it opened.
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
  opts: WorkerProcessOptions,
): Promise<WorkerProcess> {
  const redis = createRedis(url, { forWorker: true, name: "ltx-worker", logger });
  shutdown.add("redis", () => closeRedis(redis));
  await checkRedis(redis, logger); // REDIS_MISCONFIGURED: the caller exits 1

  const queues = createQueues({ connection: redis, prefix, jobs: config.jobs, logger });
  shutdown.add("queues", () => queues.close());
  const files = opts.files ?? createFileStore(config.files);
  if (!opts.files) shutdown.add("file store", () => files.close());
  await upgradeLegacyFiles(redis, { prefix, files, logger });
  // Each saved version carries its change summary against the one before.
  const store = withChangeSummaries(
    createResultStore(redis, { prefix, maxVersions: config.schedules.maxVersionsPerSite, files }),
    logger,
  );

  const extractor = createExtractor({
    threads: config.worker.extractThreads,
    timeoutMs: config.crawl.extractTimeoutMs,
  });
  shutdown.add("extractor", () => extractor.close());

  const addressPolicy = createAddressPolicy({
    allowPrivate: config.crawl.allowPrivateNetworks,
    allowHosts: config.crawl.allowHosts,
  });
  const websites = createWebsiteStore(redis, { prefix });
  const handlers = createHandlers({
    notify: { websites, store, addressPolicy, timeoutMs: config.crawl.fetchTimeoutMs, logger },
    generate: {
      store,
      extractor,
      settings: (overrides) => pipelineSettings(config, overrides, addressPolicy),
      createProvider,
      runPipeline,
      logger,
      jobTimeoutMs: config.worker.jobTimeoutMs,
      // Both queues' jobs call the same LLM: a 429 holds back one-off and scheduled runs alike.
      rateLimit: async (ms) => void (await Promise.all([queues.generate.rateLimit(ms), queues.schedule.rateLimit(ms)])),
      pendingCancel: (jobId) => pendingCancel(redis, prefix, jobId),
    },
  });
  // Runs of registered websites skip when the site was disabled/deleted or already has a
  // job in flight, and are counted into the website (last run, failures → back-off/pause).
  handlers.generate = withWebsiteRuns(handlers.generate, {
    websites,
    queues,
    notify: queues.notify,
    redis,
    settings: { backoffAfter: config.schedules.failureBackoffAfter, pauseAfter: config.schedules.failurePauseAfter },
    logger,
  });
  const worker = await startWorker({
    connection: redis,
    prefix,
    handlers,
    logger,
    settings: {
      concurrency: config.worker.concurrency,
      scheduleConcurrency: config.worker.scheduleConcurrency,
      retryBaseDelayMs: config.jobs.retryBaseDelayMs,
      retryMaxDelayMs: config.jobs.retryMaxDelayMs,
      shutdownGraceMs: config.worker.shutdownGraceMs,
      lockDurationMs: config.worker.lockDurationMs,
      stalledIntervalMs: config.worker.stalledIntervalMs,
      ...opts.worker,
    },
  });
  shutdown.add("worker", () => worker.close());
  // A one-off job that ends for good leaves its client's count of jobs in flight (fair share).
  const share = clientShare(redis, prefix, queues.generate.toKey(""));
  for (const w of worker.workers) if (w.name === queues.generate.name) releaseOnFinish(share, w, logger);
  // Registered after the worker, so it stops first: a closing worker takes no more jobs.
  const heartbeat = startHeartbeat(
    redis,
    prefix,
    {
      concurrency: config.worker.concurrency,
      activeCount: () => worker.activeCount(),
      lastTakenAt: () => worker.lastTakenAt(),
    },
    logger,
  );
  shutdown.add("heartbeat", () => heartbeat.stop());
  // Registered after the worker, so it closes first: a scrape during shutdown is not needed.
  const metrics = await serveWorkerMetrics({
    queues: queues.all,
    workers: worker.workers,
    port: config.metricsPort,
    host: config.http.host,
    cacheMs: config.metricsCacheMs,
    ...(config.metricsToken !== undefined ? { token: config.metricsToken } : {}),
  });
  shutdown.add("metrics", () => metrics.close());
  if (metrics.port !== undefined) logger.info({ port: metrics.port }, "worker metrics on /metrics");
  return { worker, shutdown };
}
