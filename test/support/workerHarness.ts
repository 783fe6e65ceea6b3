/**
 * An in-process worker over a real redis-server with a scripted pipeline, for the tests of the
 * queue/worker mechanics (errors, rate limits, cancel, hand-back, retention, de-dup). The real
 * pipeline runs in the multi-process tests (workers.processes.test.ts).
 */
import { Redis } from "ioredis";
import { loadConfig, type Config } from "../../src/config/env";
import { pipelineSettings } from "../../src/workers/pipelineSettings";
import { silentLogger } from "../../src/lib/logger";
import { sleep } from "../../src/lib/time";
import type { PipelineOptions, PipelineResult, Provider } from "../../src/pipeline/types";
import type { JobsConfig } from "../../src/queues/catalog";
import { createRedis } from "../../src/queues/connection";
import { createQueues, type Queues } from "../../src/queues/queues";
import { createResultStore, type ResultStore } from "../../src/store/results";
import { createWebsiteStore } from "../../src/store/websites";
import { createHandlers } from "../../src/workers/handlers";
import { startWorker, type WorkerHandle, type WorkerSettings } from "../../src/workers/worker";
import type { GenerateDeps } from "../../src/workers/processor";
import { qualityOf } from "../../src/pipeline/validate/check";
import { testFileStore } from "./fileStore";

export type FakePipeline = (url: string, opts: PipelineOptions) => Promise<PipelineResult>;

export function fakeResult(url: string, extra: Partial<PipelineResult> = {}): PipelineResult {
  const u = new URL(url);
  return {
    site: { origin: u.origin, prefix: "/", startUrl: url, key: u.host },
    llmsTxt: `# ${u.host}\n\n> made for ${url}\n`,
    llmsFullTxt: `# ${u.host}\n\nfull\n`,
    pages: [{ url, status: 200, depth: 0, title: "Home", hash: "h" }],
    provider: "extractive",
    model: null,
    attempts: 0,
    fallback: false,
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0, requests: 0 },
    timings: { discoverMs: 0, crawlMs: 0, generateMs: 0, composeMs: 0, totalMs: 0 },
    warnings: [],
    quality: qualityOf(`# ${u.host}\n\n> made for ${url}\n`, u.origin),
    content: [],
    generatedAt: new Date().toISOString(),
    ...extra,
  };
}

/** A pipeline that reports progress and waits ms (abortably) before answering. */
export function slowPipeline(ms: number): FakePipeline {
  return async (url, opts) => {
    opts.onProgress?.({ phase: "fetch", pagesDiscovered: 1, pagesFetched: 0, pagesExtracted: 0, pagesTotal: 1 });
    await sleep(ms, opts.signal);
    return fakeResult(url);
  };
}

export const testJobsConfig = (over: Partial<JobsConfig> = {}): JobsConfig => ({
  maxAttempts: 3,
  retryBaseDelayMs: 50,
  retryMaxDelayMs: 200,
  retentionDays: 7,
  retentionCount: 1000,
  ...over,
});

export interface Harness {
  redis: Redis;
  queues: Queues;
  store: ResultStore;
  prefix: string;
  /** Starts (another) in-process worker; all are closed by close(). */
  startWorker(
    pipeline: FakePipeline,
    settings?: Partial<WorkerSettings>,
    deps?: Partial<GenerateDeps>,
  ): Promise<WorkerHandle>;
  close(): Promise<void>;
}

let counter = 0;

export async function createHarness(url: string, jobs: JobsConfig = testJobsConfig()): Promise<Harness> {
  const prefix = `h${process.pid}x${++counter}`;
  const redis = createRedis(url, { forWorker: true });
  const queues = createQueues({ connection: redis, prefix, jobs });
  const store = createResultStore(redis, { prefix, maxVersions: 5, files: testFileStore() });
  const config: Config = loadConfig({ ALLOW_PRIVATE_NETWORKS: "1" });
  const workers: WorkerHandle[] = [];
  const extractor = {
    extract: () => Promise.reject(new Error("no extractor in this test")),
    close: () => Promise.resolve(),
  };
  const provider: Provider = { name: "extractive", model: null, generate: () => Promise.reject(new Error("unused")) };
  return {
    redis,
    queues,
    store,
    prefix,
    async startWorker(pipeline, settings = {}, deps = {}) {
      const handlers = createHandlers({
        notify: { websites: createWebsiteStore(redis, { prefix }), store, timeoutMs: 5000, logger: silentLogger() },
        generate: {
          store,
          extractor,
          settings: (o) => pipelineSettings(config, o),
          createProvider: () => provider,
          runPipeline: (site, opts) => pipeline(site.startUrl, opts),
          logger: silentLogger(),
          jobTimeoutMs: 60_000,
          rateLimit: (ms) => queues.generate.rateLimit(ms),
          progressIntervalMs: 20,
          ...deps,
        },
      });
      const w = await startWorker({
        connection: redis,
        prefix,
        handlers,
        logger: silentLogger(),
        settings: {
          concurrency: 4,
          retryBaseDelayMs: jobs.retryBaseDelayMs,
          retryMaxDelayMs: jobs.retryMaxDelayMs,
          shutdownGraceMs: 5000,
          drainDelaySeconds: 1,
          ...settings,
        },
      });
      workers.push(w);
      return w;
    },
    async close() {
      for (const w of workers) await w.close();
      await queues.close();
      redis.disconnect();
    },
  };
}

/** Polls until fn() is truthy or the time is up (then throws with what it last saw). */
export async function waitFor<T>(
  fn: () => Promise<T> | T,
  timeoutMs = 10_000,
  what = "condition",
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(25);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

export { Redis };
