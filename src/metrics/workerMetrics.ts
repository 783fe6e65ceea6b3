/*
 * Feeds a worker process's metrics from its BullMQ Workers' events, so the processor needs no
 * metrics code: `completed` and `failed` carry everything (timing, outcome, the job's result).
 * The worker root calls serveWorkerMetrics (or attachWorkerMetrics on a registry it already has,
 * as `ltx start` may with the API's) once after startWorker.
 */
import { failureOf } from "../queues/failure";
import type { Job, Worker } from "bullmq";
import type { TokenUsage } from "../pipeline/types";
import { createMetrics, type JobOutcome, type Metrics, type MetricsOptions, type MetricsQueue } from "./registry";
import { startMetricsServer } from "./server";

const LLM_CODES = new Set(["LLM_FAILED", "RATE_LIMITED", "OUTPUT_INVALID"]);

function durationMs(job: Job): number {
  const end = job.finishedOn ?? Date.now();
  return job.processedOn ? Math.max(0, end - job.processedOn) : 0;
}

function resultOf(value: unknown): JobOutcome["result"] {
  if (typeof value !== "object" || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const usage = r.usage as TokenUsage | null | undefined;
  if (
    typeof r.pagesIncluded !== "number" ||
    typeof r.pagesSkipped !== "number" ||
    typeof r.provider !== "string" ||
    typeof usage !== "object" ||
    usage === null
  )
    return undefined;
  return { pagesIncluded: r.pagesIncluded, pagesSkipped: r.pagesSkipped, provider: r.provider, usage };
}

/** Jobs a website's job scheduler added (catalog TRIGGERS: "schedule"). */
function isScheduled(job: Job): boolean {
  return (job.data as { trigger?: unknown } | undefined)?.trigger === "schedule";
}

/** Returns a function that detaches the listeners (the Worker's close() makes that optional). */
export function attachWorkerMetrics(
  metrics: Pick<Metrics, "onJobFinished" | "onLlmError" | "onSchedulerRun">,
  workers: readonly Worker[],
): () => void {
  const detach: Array<() => void> = [];
  for (const w of workers) {
    const onCompleted = (job: Job, value: unknown): void => {
      const result = resultOf(value);
      metrics.onJobFinished({
        queue: job.queueName,
        outcome: "success",
        durationMs: durationMs(job),
        ...(result ? { result } : {}),
      });
      if (isScheduled(job)) metrics.onSchedulerRun("success");
    };
    const onFailed = (job: Job | undefined, err: Error): void => {
      if (!job) return;
      // A job with attempts left will run again.
      const code = failureOf(err).code ?? "UNKNOWN";
      const final = err.name === "UnrecoverableError" || job.attemptsMade >= (job.opts.attempts ?? 1);
      metrics.onJobFinished({
        queue: job.queueName,
        outcome: final ? "failure" : "retry",
        durationMs: durationMs(job),
      });
      if (final && isScheduled(job)) metrics.onSchedulerRun("failure");
      if (LLM_CODES.has(code)) {
        const data = job.data as { provider?: unknown } | undefined;
        metrics.onLlmError(typeof data?.provider === "string" ? data.provider : "openai", code);
      }
    };
    w.on("completed", onCompleted);
    w.on("failed", onFailed);
    detach.push(() => {
      w.off("completed", onCompleted);
      w.off("failed", onFailed);
    });
  }
  return () => detach.forEach((d) => d());
}

export interface WorkerMetricsHandle {
  metrics: Metrics;
  /** Where /metrics is served, or undefined when METRICS_PORT is 0 (off). */
  port: number | undefined;
  /** Detaches the listeners and stops the server. Idempotent. */
  close(): Promise<void>;
}

/**
 * Everything a worker root needs in one call: a registry over its queues (role="worker"), fed by
 * its Workers' events, served on METRICS_PORT when that is set (0 = not served).
 */
export async function serveWorkerMetrics(opts: {
  queues: readonly MetricsQueue[];
  workers: readonly Worker[];
  port: number;
  host?: string;
  processMetrics?: boolean;
  /** METRICS_TOKEN */
  token?: string;
  /** METRICS_CACHE_MS */
  cacheMs?: number;
  fleet?: MetricsOptions["fleet"];
}): Promise<WorkerMetricsHandle> {
  const metrics = createMetrics({
    queues: opts.queues,
    labels: { role: "worker" },
    processMetrics: opts.processMetrics ?? true,
    ...(opts.cacheMs !== undefined ? { cacheMs: opts.cacheMs } : {}),
    ...(opts.fleet ? { fleet: opts.fleet } : {}),
  });
  const detach = attachWorkerMetrics(metrics, opts.workers);
  const server =
    opts.port > 0
      ? await startMetricsServer(metrics, opts.port, opts.host, opts.token !== undefined ? { token: opts.token } : {})
      : undefined;
  let closing: Promise<void> | undefined;
  return {
    metrics,
    port: server?.port,
    close() {
      closing ??= (async () => {
        detach();
        await server?.close();
      })();
      return closing;
    },
  };
}
