/*
 * Prometheus metrics, one Registry per process (never prom-client's global one, so tests can
 * build several apps in one process without "metric already registered"). Queue gauges are read
 * from Redis when /metrics is scraped; counters are bumped by the worker through the hooks below.
 */
import type { JobType } from "bullmq";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { TokenUsage } from "../pipeline/types";
import type { StartDelayHistogram } from "../queues/runDelay";
import type { FleetStatus } from "../queues/workerHeartbeat";

/** The part of a BullMQ Queue the collectors read. */
export interface MetricsQueue {
  name: string;
  getJobCounts(...types: JobType[]): Promise<Record<string, number>>;
  getJobs(types: JobType[], start?: number, end?: number, asc?: boolean): Promise<{ timestamp: number }[]>;
}

/** What a finished job reports (a subset of the worker's GenerateJobResult). */
export interface JobOutcome {
  queue: string;
  /** success; failure = failed for good; retry = failed an attempt and will run again. */
  outcome: "success" | "failure" | "retry";
  durationMs: number;
  result?: { pagesIncluded: number; pagesSkipped: number; provider: string; usage: TokenUsage };
}

export interface Metrics {
  registry: Registry;
  onJobFinished(o: JobOutcome): void;
  /** An LLM request failed (the job may still succeed through a retry or the extractive fallback). */
  onLlmError(provider: string, code: string): void;
  /**
   * A scheduled generation: the worker reports how scheduled jobs end (success, failure); a
   * scheduler that decides per tick may report enqueued/skipped.
   */
  onSchedulerRun(outcome: "success" | "failure" | "enqueued" | "skipped"): void;
  /** The Prometheus text for GET /metrics. */
  render(): Promise<{ contentType: string; body: string }>;
}

export interface MetricsOptions {
  queues?: readonly MetricsQueue[];
  /** process_* and nodejs_* metrics (CPU, memory, event loop lag): on in roots, off in tests. */
  processMetrics?: boolean;
  /** Static labels on every series, e.g. { role: "worker" }. */
  labels?: Record<string, string>;
  now?: () => number;
  /** How long one Redis snapshot serves scrapes (METRICS_CACHE_MS); 0: read at every scrape. */
  cacheMs?: number;
  /** The fleet's heartbeats (queues/workerHeartbeat.ts): adds the ltx_workers_* gauges. */
  fleet?: (waiting: number) => Promise<FleetStatus>;
  /** The fleet's scheduled-run start delays (queues/runDelay.ts): adds ltx_schedule_start_delay_seconds. */
  startDelays?: () => Promise<StartDelayHistogram>;
}

interface Snapshot {
  counts: Map<string, Record<string, number>>;
  oldestSeconds: Map<string, number>;
  fleet: FleetStatus | undefined;
  startDelays: StartDelayHistogram | undefined;
}

async function readSnapshot(
  queues: readonly MetricsQueue[],
  opts: Pick<MetricsOptions, "fleet" | "startDelays">,
  now: () => number,
): Promise<Snapshot> {
  const { fleet } = opts;
  const rows = await Promise.all(
    queues.map(async (q) => {
      const [c, [oldest]] = await Promise.all([
        q.getJobCounts(...STATES),
        q.getJobs(["waiting", "prioritized"], 0, 0, true),
      ]);
      return { name: q.name, c, oldest: oldest ? Math.max(0, (now() - oldest.timestamp) / 1000) : 0 };
    }),
  );
  const generate = rows.find((r) => r.name === "generate")?.c;
  return {
    counts: new Map(rows.map((r) => [r.name, r.c])),
    oldestSeconds: new Map(rows.map((r) => [r.name, r.oldest])),
    fleet: fleet ? await fleet((generate?.waiting ?? 0) + (generate?.prioritized ?? 0)) : undefined,
    startDelays: opts.startDelays ? await opts.startDelays() : undefined,
  };
}

/**
 * A histogram whose counts live in Redis (every worker adds to them), so prom-client's Histogram,
 * which counts in this process, can't hold it: a metric object of our own renders the snapshot's
 * counts in the same text format.
 */
function registerStartDelays(registry: Registry, snapshot: () => Promise<Snapshot>): void {
  const name = "ltx_schedule_start_delay_seconds";
  const help = "How late scheduled runs started after their tick fell due (all workers)";
  registry.registerMetric({
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    reset: () => undefined,
    async get() {
      const h = (await snapshot()).startDelays;
      const values = h
        ? [
            ...[...h.buckets].map(([le, n]) => ({ metricName: `${name}_bucket`, labels: { le }, value: n })),
            { metricName: `${name}_bucket`, labels: { le: "+Inf" }, value: h.count },
            { metricName: `${name}_sum`, labels: {}, value: h.sumSeconds },
            { metricName: `${name}_count`, labels: {}, value: h.count },
          ]
        : [];
      return { name, help, type: "histogram", aggregator: "sum", values };
    },
  } as unknown as Parameters<Registry["registerMetric"]>[0]);
}

const STATES = [
  "waiting",
  "active",
  "delayed",
  "prioritized",
  "completed",
  "failed",
  "waiting-children",
] as const satisfies readonly JobType[];

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.labels) registry.setDefaultLabels(opts.labels);
  if (opts.processMetrics) collectDefaultMetrics({ register: registry, prefix: "ltx_" });
  const queues = opts.queues ?? [];
  const now = opts.now ?? Date.now;

  // One snapshot of Redis feeds every gauge of a scrape, and is reused for cacheMs: a scrape
  // costs a few Redis commands per queue, and dashboards, several Prometheus replicas and the
  // web page polling /metrics must not multiply that. A scrape never throws on Redis errors (the
  // series keep their last values), so /metrics stays up when Redis is not.
  const cacheMs = opts.cacheMs ?? 0;
  let cached: { at: number; snapshot: Promise<Snapshot> } | undefined;
  const snapshot = (): Promise<Snapshot> => {
    const at = Date.now();
    if (cached && (at - cached.at < cacheMs || cacheMs === 0)) return cached.snapshot;
    const fresh = readSnapshot(queues, opts, now);
    cached = { at, snapshot: fresh };
    // cacheMs 0: shared by the collectors of one scrape only. A failed read is never reused.
    fresh.then(
      () => {
        if (cacheMs === 0) setImmediate(() => (cached = undefined));
      },
      () => (cached = undefined),
    );
    return fresh;
  };

  new Gauge({
    name: "ltx_jobs",
    help: "Jobs per queue and BullMQ state",
    labelNames: ["queue", "state"],
    registers: [registry],
    async collect() {
      for (const [queue, c] of (await snapshot()).counts)
        for (const state of STATES) this.set({ queue, state }, c[state] ?? 0);
    },
  });
  new Gauge({
    name: "ltx_queue_depth",
    help: "Jobs waiting to run (waiting + prioritized + delayed)",
    labelNames: ["queue"],
    registers: [registry],
    async collect() {
      for (const [queue, c] of (await snapshot()).counts)
        this.set({ queue }, (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0));
    },
  });
  new Gauge({
    name: "ltx_queue_oldest_waiting_seconds",
    help: "Age of the oldest job waiting to run (0 when none wait)",
    labelNames: ["queue"],
    registers: [registry],
    async collect() {
      for (const [queue, seconds] of (await snapshot()).oldestSeconds) this.set({ queue }, seconds);
    },
  });
  if (opts.fleet) {
    const fleetGauge = (name: string, help: string, pick: (f: FleetStatus) => number): void => {
      new Gauge({
        name,
        help,
        registers: [registry],
        async collect() {
          const f = (await snapshot()).fleet;
          if (f) this.set(pick(f));
        },
      });
    };
    fleetGauge("ltx_workers_alive", "Worker processes with a live heartbeat", (f) => f.alive);
    fleetGauge("ltx_worker_slots", "One-off job slots of the live workers (sum of concurrency)", (f) => f.slots);
    fleetGauge("ltx_worker_active_jobs", "Jobs running on the live workers at their last heartbeat", (f) => f.active);
    fleetGauge(
      "ltx_workers_stuck",
      "1 when jobs wait and no worker took one for a minute (or none is alive), else 0",
      (f) => (f.stuck ? 1 : 0),
    );
  }

  const duration = new Histogram({
    name: "ltx_job_duration_seconds",
    help: "Wall-clock time of one job attempt",
    labelNames: ["queue", "outcome"],
    // Small sites finish in seconds; big ones with an LLM take many minutes.
    buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers: [registry],
  });
  const pages = new Counter({
    name: "ltx_pages_total",
    help: "Pages looked at by finished jobs",
    labelNames: ["result"],
    registers: [registry],
  });
  const llmRequests = new Counter({
    name: "ltx_llm_requests_total",
    help: "LLM requests made",
    labelNames: ["provider"],
    registers: [registry],
  });
  const llmErrors = new Counter({
    name: "ltx_llm_errors_total",
    help: "LLM requests that failed",
    labelNames: ["provider", "code"],
    registers: [registry],
  });
  const llmTokens = new Counter({
    name: "ltx_llm_tokens_total",
    help: "LLM tokens used",
    labelNames: ["provider", "kind"],
    registers: [registry],
  });
  const schedulerRuns = new Counter({
    name: "ltx_scheduler_runs_total",
    help: "Scheduled generations, by outcome",
    labelNames: ["outcome"],
    registers: [registry],
  });

  if (opts.startDelays) registerStartDelays(registry, snapshot);

  return {
    registry,
    onJobFinished(o) {
      duration.observe({ queue: o.queue, outcome: o.outcome }, o.durationMs / 1000);
      const r = o.result;
      if (!r) return;
      pages.inc({ result: "fetched" }, r.pagesIncluded);
      pages.inc({ result: "skipped" }, r.pagesSkipped);
      if (r.usage.requests > 0) {
        llmRequests.inc({ provider: r.provider }, r.usage.requests);
        llmTokens.inc({ provider: r.provider, kind: "prompt" }, r.usage.promptTokens);
        llmTokens.inc({ provider: r.provider, kind: "completion" }, r.usage.completionTokens);
      }
    },
    onLlmError(provider, code) {
      llmErrors.inc({ provider, code });
    },
    onSchedulerRun(outcome) {
      schedulerRuns.inc({ outcome });
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
