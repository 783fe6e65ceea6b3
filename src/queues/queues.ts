/**
 * The BullMQ Queue objects of one process, built from the catalog. The API, the worker and the
 * scheduler each call createQueues once with their own client; Bull Board lists `all`.
 */
import { Queue, QueueEvents } from "bullmq";
import { coerceError } from "../lib/coerceError";
import type { Logger } from "../lib/logger";
import {
  jobCatalog,
  QUEUE_NAMES,
  type GenerateJobData,
  type GenerateJobResult,
  type JobsConfig,
  type QueueName,
} from "./catalog";
import type { Redis } from "./connection";

export type GenerateQueue = Queue<GenerateJobData, GenerateJobResult, "generate">;

export interface Queues {
  generate: GenerateQueue;
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
  // Jobs only from its own job schedulers, which carry their options (scheduler/maintenance.ts).
  const maintenance = new Queue("maintenance", { connection: opts.connection, prefix: opts.prefix });
  const byQueue: Record<QueueName, Queue> = { generate: generate, maintenance };
  const all = QUEUE_NAMES.map((n) => byQueue[n]);
  for (const q of all) {
    // An 'error' without a listener would crash the process; Redis outages are logged instead.
    q.on("error", (e: unknown) => opts.logger?.warn({ err: coerceError(e), queue: q.name }, "queue error"));
  }
  let closing: Promise<void> | undefined;
  return {
    generate,
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
