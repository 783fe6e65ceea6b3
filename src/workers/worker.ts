/**
 * startWorker: one BullMQ Worker per queue of the catalog, dispatching by job name to the
 * handler map, plus the pieces a worker process needs around it: cross-process cancel, the
 * event-loop block monitor and a graceful close that hands unfinished jobs back.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import { UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { coerceError } from "../lib/coerceError";
import type { Logger } from "../lib/logger";
import { backoffStrategy } from "../queues/backoff";
import { jobCatalog, QUEUE_NAMES, SCHEDULE_QUEUE, type JobName, type QueueName } from "../queues/catalog";
import { cancelChannel } from "../queues/cancel";
import type { Handlers } from "./handlers";
import { SHUTDOWN_REASON } from "./processor";

export interface WorkerSettings {
  /** One-off jobs (the generate queue) at once in this process (WORKER_CONCURRENCY). */
  concurrency: number;
  /**
   * Scheduled runs (the schedule queue) at once in this process, on top of `concurrency`
   * (SCHEDULE_CONCURRENCY): slots one-off work can't take, so a due tick starts at once.
   * Default 1.
   */
  scheduleConcurrency?: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /** On close, how long active jobs may run before they are aborted and handed back. */
  shutdownGraceMs: number;
  /**
   * How long a job's lock lasts without renewal; BullMQ renews it every lockDuration/2 from a
   * timer on this process's event loop. A job whose lock lapses is "stalled" and given to
   * another worker, so the event loop must never block for anywhere near lockDuration/2.
   * Extraction (jsdom + Readability, the only CPU-heavy step) runs in the extractor's worker
   * threads for exactly this reason; the monitor below measures the longest block so tests and
   * operators can check the margin. 30 s (BullMQ's default) leaves a 15 s renewal interval.
   */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs of dead workers (default 30 s). */
  stalledIntervalMs?: number;
  /** Stalls (a worker died holding it) a job survives before it fails (default 2). */
  maxStalledCount?: number;
  /** Long-poll time when idle, seconds (BullMQ's drainDelay, default 5). */
  drainDelaySeconds?: number;
}

export interface StartWorkerDeps {
  /** A client made with createRedis(url, { forWorker: true }); the caller closes it. */
  connection: Redis;
  prefix: string;
  /**
   * Job name → handler (createHandlers gives all of them). A Worker runs for each queue whose job
   * names have a handler here, so a test worker may serve only generate jobs.
   */
  handlers: Partial<Handlers>;
  settings: WorkerSettings;
  logger: Logger;
}

export interface WorkerHandle {
  workers: Worker[];
  /** Jobs running in this process right now. */
  activeCount(): number;
  /** When this process last took a job (epoch ms), or null: for the heartbeat. */
  lastTakenAt(): number | null;
  /** Their ids ("<queue>:<jobId>"). */
  activeJobIds(): string[];
  /** The longest event-loop block (timer delay) seen since start or the last reset, in ms. */
  maxEventLoopBlockMs(): number;
  resetEventLoopStats(): void;
  /** Stop taking jobs, wait up to shutdownGraceMs, hand back the rest. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_LOCK_MS = 30_000;
const DEFAULT_STALLED_INTERVAL_MS = 30_000;
const BLOCK_WATCH_INTERVAL_MS = 60_000;
// A manual rate limit (queue.rateLimit after an LLM 429) only holds back workers that have a
// limiter configured; one this large never limits by itself.
const NO_LIMIT = { max: 1_000_000_000, duration: 1000 };

export async function startWorker(deps: StartWorkerDeps): Promise<WorkerHandle> {
  const { settings, logger } = deps;
  const active = new Set<string>();
  let lastTakenAt: number | null = null;
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const lockMs = settings.lockDurationMs ?? DEFAULT_LOCK_MS;
  const stopBlockWatch = watchEventLoopBlocks(lockMs, logger);

  const dispatch = async (job: Job, token?: string, signal?: AbortSignal): Promise<unknown> => {
    const name = job.name as JobName;
    const handler = deps.handlers[name] as
      ((j: Job, t: string | undefined, s: AbortSignal | undefined) => Promise<unknown>) | undefined;
    if (!handler) throw new UnrecoverableError(`INVALID_INPUT: no handler for job name ${JSON.stringify(job.name)}`);
    const key = `${job.queueName}:${job.id ?? ""}`;
    active.add(key);
    lastTakenAt = Date.now();
    try {
      return await handler(job, token, signal);
    } finally {
      active.delete(key);
    }
  };
  // Declared with three parameters: BullMQ passes the AbortSignal only to processors of length 3.
  const processor = (job: Job, token?: string, signal?: AbortSignal): Promise<unknown> => dispatch(job, token, signal);

  // The schedule queue carries generate jobs too (the websites' scheduled runs), on its own slots.
  const served = (Object.keys(jobCatalog) as JobName[]).filter((name) => deps.handlers[name] !== undefined);
  const queuesWithJobs = new Set<QueueName>(served.map((name) => jobCatalog[name].queue));
  if (deps.handlers.generate) queuesWithJobs.add(SCHEDULE_QUEUE);
  const concurrencyOf = (queue: QueueName): number =>
    queue === SCHEDULE_QUEUE ? (settings.scheduleConcurrency ?? 1) : settings.concurrency;
  const workers = QUEUE_NAMES.filter((q) => queuesWithJobs.has(q)).map((queue) => {
    const worker = new Worker(queue, processor, {
      connection: deps.connection,
      prefix: deps.prefix,
      concurrency: concurrencyOf(queue),
      lockDuration: lockMs,
      stalledInterval: settings.stalledIntervalMs ?? DEFAULT_STALLED_INTERVAL_MS,
      maxStalledCount: settings.maxStalledCount ?? 2,
      drainDelay: settings.drainDelaySeconds ?? 5,
      limiter: NO_LIMIT,
      settings: { backoffStrategy: backoffStrategy(settings.retryBaseDelayMs, settings.retryMaxDelayMs) },
    });
    worker.on("error", (e: unknown) => logger.error({ err: coerceError(e), queue }, "worker error"));
    worker.on("stalled", (jobId: string) =>
      logger.warn({ jobId, queue }, "job stalled: its worker stopped renewing the lock; it goes back to the queue"),
    );
    worker.on("lockRenewalFailed", (jobIds: string[]) => logger.warn({ jobIds, queue }, "lock renewal failed"));
    return worker;
  });

  const subscriber = await subscribeToCancels(deps, workers);
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  logger.info(
    {
      queues: workers.map((w) => w.name),
      concurrency: settings.concurrency,
      scheduleConcurrency: concurrencyOf(SCHEDULE_QUEUE),
    },
    "worker started",
  );

  let closing: Promise<void> | undefined;
  return {
    workers,
    activeCount: () => active.size,
    lastTakenAt: () => lastTakenAt,
    activeJobIds: () => [...active],
    maxEventLoopBlockMs: () => histogram.max / 1e6,
    resetEventLoopStats: () => histogram.reset(),
    close() {
      closing ??= (async () => {
        logger.info({ active: active.size, graceMs: settings.shutdownGraceMs }, "worker closing: no new jobs");
        const grace = setTimeout(() => {
          if (active.size === 0) return;
          logger.warn({ active: active.size }, "grace period over: aborting active jobs and handing them back");
          for (const w of workers) w.cancelAllJobs(SHUTDOWN_REASON);
        }, settings.shutdownGraceMs);
        grace.unref();
        for (const w of workers) {
          try {
            await w.close();
          } catch (e) {
            logger.error({ err: coerceError(e), queue: w.name }, "worker close failed");
          }
        }
        clearTimeout(grace);
        subscriber.disconnect();
        histogram.disable();
        stopBlockWatch();
        logger.info({ maxEventLoopBlockMs: Math.round(histogram.max / 1e6) }, "worker closed");
      })();
      return closing;
    },
  };
}

/**
 * Warns when, within a minute, the event loop was blocked for more than a quarter of the lock
 * duration (half the renewal interval): the margin before jobs start to look stalled is going.
 */
function watchEventLoopBlocks(lockMs: number, logger: Logger): () => void {
  const window = monitorEventLoopDelay({ resolution: 10 });
  window.enable();
  const timer = setInterval(() => {
    const maxMs = window.max / 1e6;
    window.reset();
    if (maxMs > lockMs / 4)
      logger.warn(
        { maxEventLoopBlockMs: Math.round(maxMs), lockDurationMs: lockMs },
        "event loop blocked for long: jobs risk being taken for stalled",
      );
    else logger.debug({ maxEventLoopBlockMs: Math.round(maxMs) }, "event loop block (last minute)");
  }, BLOCK_WATCH_INTERVAL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    window.disable();
  };
}

/** Every worker process hears every cancel; the one holding the job aborts it. */
async function subscribeToCancels(deps: StartWorkerDeps, workers: Worker[]): Promise<Redis> {
  const subscriber = deps.connection.duplicate();
  subscriber.on("error", (e: unknown) => deps.logger.warn({ err: coerceError(e) }, "cancel subscriber error"));
  subscriber.on("message", (_channel: string, message: string) => {
    try {
      const { jobId, reason } = JSON.parse(message) as { jobId?: unknown; reason?: unknown };
      if (typeof jobId !== "string") return;
      const why = typeof reason === "string" && reason !== SHUTDOWN_REASON ? reason : "cancelled by request";
      for (const w of workers) if (w.cancelJob(jobId, why)) deps.logger.info({ jobId }, "cancel request: aborting job");
    } catch (e) {
      deps.logger.warn({ err: coerceError(e) }, "bad cancel message");
    }
  });
  await subscriber.subscribe(cancelChannel(deps.prefix));
  return subscriber;
}
