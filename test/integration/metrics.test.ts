/*
 * Metrics and health: queue gauges read from Redis at scrape time, job/LLM/scheduler counters
 * through the hooks, the worker's own /metrics server, the API's /metrics, and /readyz turning
 * 503 when Redis is misconfigured or gone.
 */
import express from "express";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { healthRouter } from "../../src/api/routes/health";
import { Redis } from "ioredis";
import { createMetrics } from "../../src/metrics/registry";
import { startMetricsServer } from "../../src/metrics/server";
import { attachWorkerMetrics, serveWorkerMetrics } from "../../src/metrics/workerMetrics";
import { InputError, LlmError } from "../../src/lib/errors";
import { request, startTestApi } from "../support/apiHarness";
import { freePort, type RedisServer, startRedis } from "../support/redisServer";
import { createHarness, fakeResult, type Harness, testJobsConfig, waitFor } from "../support/workerHarness";

let redis: RedisServer;
let h: Harness;

beforeAll(async () => {
  redis = await startRedis();
  h = await createHarness(redis.url);
});
afterAll(async () => {
  await h?.close();
  await redis?.stop();
});

/** The value of one series in Prometheus text; labels match in any order. */
function value(text: string, series: string): number | undefined {
  const parse = (s: string): { name: string; labels: string } => {
    const m = /^([^{\s]+)(?:\{(.*)\})?/.exec(s);
    return {
      name: m?.[1] ?? "",
      labels: (m?.[2] ?? "")
        .split(/,(?=\w+=)/)
        .filter(Boolean)
        .sort()
        .join(","),
    };
  };
  const want = parse(series);
  for (const line of text.split("\n")) {
    const cut = line.lastIndexOf(" ");
    if (cut < 0 || line.startsWith("#")) continue;
    const got = parse(line.slice(0, cut));
    if (got.name === want.name && got.labels === want.labels) return Number(line.slice(cut + 1));
  }
  return undefined;
}

test("queue gauges come from Redis at scrape time; counters from the hooks", async () => {
  let clock = Date.now();
  const metrics = createMetrics({ queues: h.queues.all, labels: { role: "worker" }, now: () => clock });
  await h.queues.generate.add("generate", { url: "http://a.test/", siteKey: "a.test", trigger: "api" } as never);
  await h.queues.generate.add("generate", { url: "http://b.test/", siteKey: "b.test", trigger: "api" } as never, {
    delay: 60_000,
  });
  clock += 30_000;

  metrics.onJobFinished({
    queue: "generate",
    outcome: "success",
    durationMs: 4200,
    result: {
      pagesIncluded: 7,
      pagesSkipped: 2,
      provider: "openai",
      usage: { promptTokens: 1000, completionTokens: 200, totalTokens: 1200, requests: 3 },
    },
  });
  metrics.onJobFinished({ queue: "generate", outcome: "failure", durationMs: 100 });
  metrics.onLlmError("openai", "RATE_LIMITED");
  metrics.onSchedulerRun("enqueued");

  const { contentType, body } = await metrics.render();
  expect(contentType).toMatch(/^text\/plain/);
  expect(value(body, 'ltx_jobs{queue="generate",state="waiting",role="worker"}')).toBe(1);
  expect(value(body, 'ltx_jobs{queue="generate",state="delayed",role="worker"}')).toBe(1);
  expect(value(body, 'ltx_queue_depth{queue="generate",role="worker"}')).toBe(2);
  expect(value(body, 'ltx_queue_oldest_waiting_seconds{queue="generate",role="worker"}')).toBeGreaterThanOrEqual(29);
  expect(value(body, 'ltx_job_duration_seconds_count{queue="generate",outcome="success",role="worker"}')).toBe(1);
  expect(value(body, 'ltx_job_duration_seconds_bucket{le="5",queue="generate",outcome="success",role="worker"}')).toBe(
    1,
  );
  expect(value(body, 'ltx_pages_total{result="fetched",role="worker"}')).toBe(7);
  expect(value(body, 'ltx_pages_total{result="skipped",role="worker"}')).toBe(2);
  expect(value(body, 'ltx_llm_requests_total{provider="openai",role="worker"}')).toBe(3);
  expect(value(body, 'ltx_llm_tokens_total{provider="openai",kind="prompt",role="worker"}')).toBe(1000);
  expect(value(body, 'ltx_llm_errors_total{provider="openai",code="RATE_LIMITED",role="worker"}')).toBe(1);
  expect(value(body, 'ltx_scheduler_runs_total{outcome="enqueued",role="worker"}')).toBe(1);
  await h.queues.generate.obliterate({ force: true });
});

test("a worker's metrics server answers /metrics and 404 elsewhere, and closes", async () => {
  const server = await startMetricsServer(createMetrics({ queues: h.queues.all }), 0, "127.0.0.1");
  try {
    const ok = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("ltx_queue_depth");
    expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(404);
  } finally {
    await server.close();
  }
  await expect(fetch(`http://127.0.0.1:${server.port}/metrics`)).rejects.toThrow();
});

test("the API serves /metrics; /readyz turns 503 when maxmemory-policy is not noeviction", async () => {
  const t = await startTestApi(redis.url, {}, {});
  try {
    const m = await request(t.url, "GET", "/metrics");
    expect(m.status).toBe(200);
    expect(String(m.body)).toContain('ltx_jobs{queue="generate",state="waiting",role="api"} 0');
    expect((await request(t.url, "GET", "/healthz")).body).toMatchObject({ status: "ok" });
    expect((await request(t.url, "GET", "/readyz")).status).toBe(200);
    await t.redis.config("SET", "maxmemory-policy", "allkeys-lru");
    const bad = await request(t.url, "GET", "/readyz");
    expect(bad.status).toBe(503);
    expect(bad.body.checks).toContainEqual(expect.objectContaining({ name: "maxmemory-policy", ok: false }));
  } finally {
    await t.redis.config("SET", "maxmemory-policy", "noeviction");
    await t.close();
  }
});

test("/readyz answers 503 within its timeout when Redis is unreachable; /healthz stays 200", async () => {
  const dead = new Redis(`redis://127.0.0.1:${await freePort()}`, {
    connectionName: "dead",
    maxRetriesPerRequest: 2,
    disconnectTimeout: 50,
  });
  dead.on("error", () => undefined);
  const app = express().use(healthRouter({ redis: dead, queues: [], timeoutMs: 300 }));
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const started = Date.now();
    const res = await request(base, "GET", "/readyz");
    expect(res.status).toBe(503);
    expect(res.body.checks[0]).toMatchObject({ name: "redis", ok: false });
    expect(Date.now() - started).toBeLessThan(3000);
    expect((await request(base, "GET", "/healthz")).status).toBe(200);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    dead.disconnect();
    // ioredis arms a timer (disconnectTimeout) to destroy the socket and clears it when the socket
    // closes; a socket that already closed never clears it. Let it run out (50 ms, set below).
    await new Promise((r) => setTimeout(r, 100));
  }
});

test("attachWorkerMetrics counts a worker's finished jobs: successes with pages and tokens, retries, failures, LLM errors", async () => {
  const hh = await createHarness(
    redis.url,
    testJobsConfig({ maxAttempts: 2, retryBaseDelayMs: 10, retryMaxDelayMs: 20 }),
  );
  try {
    const metrics = createMetrics({ queues: hh.queues.all });
    const w = await hh.startWorker(async (url) => {
      if (url.includes("bad")) throw new InputError("nope");
      if (url.includes("llm")) throw new LlmError("model down");
      return fakeResult(url, {
        usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15, requests: 1 },
        provider: "openai",
      });
    });
    attachWorkerMetrics(metrics, w.workers);
    for (const url of ["http://ok.test/", "http://bad.test/", "http://llm.test/"])
      await hh.queues.generate.add("generate", {
        url,
        siteKey: new URL(url).host,
        trigger: url.includes("ok") ? "schedule" : "api",
      } as never);
    // The Worker emits its events just after Redis records the outcome: wait on the metrics.
    const body = await waitFor(
      async () => {
        const text = (await metrics.render()).body;
        const done =
          (value(text, 'ltx_job_duration_seconds_count{queue="generate",outcome="success"}') ?? 0) +
          (value(text, 'ltx_job_duration_seconds_count{queue="generate",outcome="failure"}') ?? 0);
        return done === 3 ? text : undefined;
      },
      15_000,
      "3 jobs to finish",
    );
    expect(value(body, 'ltx_job_duration_seconds_count{queue="generate",outcome="success"}')).toBe(1);
    expect(value(body, 'ltx_job_duration_seconds_count{queue="generate",outcome="failure"}')).toBe(2);
    expect(value(body, 'ltx_job_duration_seconds_count{queue="generate",outcome="retry"}')).toBe(1); // the LLM job's first attempt
    expect(value(body, 'ltx_pages_total{result="fetched"}')).toBe(1);
    expect(value(body, 'ltx_llm_tokens_total{provider="openai",kind="completion"}')).toBe(5);
    expect(value(body, 'ltx_llm_errors_total{provider="openai",code="LLM_FAILED"}')).toBe(2);
    expect(value(body, 'ltx_scheduler_runs_total{outcome="success"}')).toBe(1);
    expect(value(body, 'ltx_scheduler_runs_total{outcome="failure"}')).toBeUndefined();
  } finally {
    await hh.close();
  }
});

test("serveWorkerMetrics serves a worker's registry on METRICS_PORT, and not at all when it is 0", async () => {
  const hh = await createHarness(redis.url);
  try {
    const w = await hh.startWorker(async (url) => fakeResult(url));
    const off = await serveWorkerMetrics({ queues: hh.queues.all, workers: w.workers, port: 0, processMetrics: false });
    expect(off.port).toBeUndefined();
    await off.close();
    const on = await serveWorkerMetrics({
      queues: hh.queues.all,
      workers: w.workers,
      port: await freePort(),
      host: "127.0.0.1",
      processMetrics: false,
    });
    try {
      await hh.queues.generate.add("generate", { url: "http://w.test/", siteKey: "w.test", trigger: "api" } as never);
      const text = await waitFor(
        async () => {
          const body = await (await fetch(`http://127.0.0.1:${on.port}/metrics`)).text();
          return value(body, 'ltx_job_duration_seconds_count{queue="generate",outcome="success",role="worker"}') === 1
            ? body
            : undefined;
        },
        15_000,
        "the job to show in the worker's metrics",
      );
      expect(text).toContain('role="worker"');
    } finally {
      await on.close();
    }
  } finally {
    await hh.close();
  }
});
