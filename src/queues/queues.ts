/**
 * The BullMQ Queue objects of one process, built from the catalog. The API, the worker and the
 * scheduler each call createQueues once with their own client; Bull Board lists `all`.
 */
import { type Job, Queue, QueueEvents } from "bullmq";
import { coerceError } from "../lib/coerceError";
import type { Logger } from "../lib/logger";
import {
  jobCatalog,
  QUEUE_NAMES,
  SCHEDULE_QUEUE,
  type GenerateJobData,
  type GenerateJobResult,
  type JobsConfig,
  type NotifyJobData,
  type NotifyJobResult,
  type QueueName,
} from "./catalog";
import type { Redis } from "./connection";

export type GenerateQueue = Queue<GenerateJobData, GenerateJobResult, "generate">;
export type NotifyQueue = Queue<NotifyJobData, NotifyJobResult, "notify">;

export interface Queues {
  /** One-off jobs: API submissions, refreshes, retries. */
  generate: GenerateQueue;
  /** The websites' schedulers and their runs (catalog.ts says why it is its own queue). */
  schedule: GenerateQueue;
  /** Webhook deliveries of new versions. */
  notify: NotifyQueue;
  /** Every queue, in QUEUE_NAMES order (Bull Board, readiness checks, metrics). */
  all: Queue[];
  byName(name: QueueName): Queue;
  prefix: string;
  jobs: JobsConfig;
  /** Closes the Queue objects; the Redis client belongs to the caller. Idempotent. */
  close(): Promise<void>;
}

export interface CreateQueuesOptions {
  /** Shared: BullMQ never quits a client it was given; the root closes it after close(). */
  connection: Redis;
  prefix: string;
  jobs: JobsConfig;
  logger?: Logger;
}

export function createQueues(opts: CreateQueuesOptions): Queues {
  const generate: GenerateQueue = new Queue<GenerateJobData, GenerateJobResult, "generate">(jobCatalog.generate.queue, {
    connection: opts.connection,
    prefix: opts.prefix,
    defaultJobOptions: jobCatalog.generate.defaults(opts.jobs),
  });
  // Same job name, payload and options as the generate queue: only the worker slots differ.
  const schedule: GenerateQueue = new Queue<GenerateJobData, GenerateJobResult, "generate">(SCHEDULE_QUEUE, {
    connection: opts.connection,
    prefix: opts.prefix,
    defaultJobOptions: jobCatalog.generate.defaults(opts.jobs),
  });
  const notify: NotifyQueue = new Queue<NotifyJobData, NotifyJobResult, "notify">(jobCatalog.notify.queue, {
    connection: opts.connection,
    prefix: opts.prefix,
    defaultJobOptions: jobCatalog.notify.defaults(opts.jobs),
  });
  // Jobs only from its own job schedulers, which carry their options (scheduler/maintenance.ts).
  const maintenance = new Queue("maintenance", { connection: opts.connection, prefix: opts.prefix });
  const byQueue: Record<QueueName, Queue> = { generate, schedule, notify, maintenance };
  const all = QUEUE_NAMES.map((n) => byQueue[n]);
  for (const q of all) {
    // An 'error' without a listener would crash the process; Redis outages are logged instead.
    q.on("error", (e: unknown) => opts.logger?.warn({ err: coerceError(e), queue: q.name }, "queue error"));
  }
  let closing: Promise<void> | undefined;
  return {
    generate,
    schedule,
    notify,
    all,
    byName: (name) => byQueue[name],
    prefix: opts.prefix,
    jobs: opts.jobs,
    close() {
      closing ??= (async () => {
        for (const q of all) {
          try {
            await q.close();
          } catch (e) {
            opts.logger?.error({ err: coerceError(e), queue: q.name }, "queue close failed");
          }
        }
      })();
      return closing;
    },
  };
}

/** A generate job by id, on whichever queue holds it (one-off or scheduled run). */
export async function findGenerateJob(
  queues: Pick<Queues, "generate" | "schedule">,
  id: string,
): Promise<Job<GenerateJobData, GenerateJobResult, "generate"> | undefined> {
  return (await queues.generate.getJob(id)) ?? (await queues.schedule.getJob(id));
}

/** The queue a generate job lives on. */
export function generateQueueOf(
  queues: Pick<Queues, "generate" | "schedule">,
  job: Pick<Job, "queueName">,
): GenerateQueue {
  return job.queueName === queues.schedule.name ? queues.schedule : queues.generate;
}

export interface QueueEventsHandle {
  events: QueueEvents;
  /** Closes the QueueEvents and its own connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * A QueueEvents (completed/failed/progress/removed… of every job of a queue, from the Redis
 * event stream) on its own connection: it blocks on XREAD, so it can't share the API's client.
 * One per process is enough; SSE handlers filter by jobId.
 */
export function createQueueEvents(opts: {
  connection: Redis;
  prefix: string;
  queue: QueueName;
  logger?: Logger;
}): QueueEventsHandle {
  // A blocking reader must retry forever across Redis restarts (see connection.ts).
  const client = opts.connection.duplicate({ maxRetriesPerRequest: null });
  const events = new QueueEvents(opts.queue, { connection: client, prefix: opts.prefix });
  events.on("error", (e: unknown) =>
    opts.logger?.warn({ err: coerceError(e), queue: opts.queue }, "queue events error"),
  );
  let closing: Promise<void> | undefined;
  return {
    events,
    close() {
      closing ??= (async () => {
        try {
          await events.close();
        } catch (e) {
          opts.logger?.error({ err: coerceError(e) }, "queue events close failed");
        }
        client.disconnect();
      })();
      return closing;
    },
  };
}
