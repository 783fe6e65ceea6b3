/**
 * In-process pieces for the schedule tests: queues, the website store and service over a real
 * redis-server with a fresh prefix, and workers that run a stub generate handler wrapped in the
 * website-run hooks (outcomes.ts), recording each run. The stub fails for ids in `failing`.
 */
import { JobFailure } from "../../src/queues/failure";
import { Redis } from "ioredis";
import { silentLogger } from "../../src/lib/logger";
import { sleep } from "../../src/lib/time";
import type { GenerateJobResult, JobsConfig } from "../../src/queues/catalog";
import type { AddressPolicy } from "../../src/pipeline/types";
import { createResultStore } from "../../src/store/results";
import { createNotifyProcessor } from "../../src/workers/notify";
import { createQueues, type Queues } from "../../src/queues/queues";
import { withWebsiteRuns, type FailureSettings, type GenerateHandler } from "../../src/websites/outcomes";
import { createWebsiteService, type WebsiteService } from "../../src/websites/service";
import { createWebsiteStore, type WebsiteStore } from "../../src/store/websites";
import { startWorker, type WorkerHandle } from "../../src/workers/worker";
import { testFileStore } from "./fileStore";

export interface StubRun {
  jobId: string;
  websiteId: string;
  trigger: string;
  at: number;
  ok: boolean;
}

export interface ScheduleHarness {
  redis: Redis;
  prefix: string;
  queues: Queues;
  websites: WebsiteStore;
  service: WebsiteService;
  runs: StubRun[];
  failing: Set<string>;
  /** Website ids whose runs report unchanged (no new version). */
  unchanged: Set<string>;
  startWorker(opts?: {
    failure?: FailureSettings;
    stubMs?: number;
    unchanged?: boolean;
    concurrency?: number;
    scheduleConcurrency?: number;
    /** Also deliver change notifications (the real notify handler) with this SSRF policy. */
    notify?: { addressPolicy?: AddressPolicy };
  }): Promise<WorkerHandle>;
  close(): Promise<void>;
}

let counter = 0;

export function stubResult(data: { siteKey: string; url: string }, unchanged = false): GenerateJobResult {
  return {
    siteKey: data.siteKey,
    url: data.url,
    version: 1,
    unchanged,
    pagesIncluded: 1,
    pagesSkipped: 0,
    provider: "extractive",
    model: null,
    fallback: false,
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0, requests: 0 },
    warnings: [],
    timings: { discoverMs: 0, crawlMs: 0, generateMs: 0, composeMs: 0, totalMs: 0 },
    generatedAt: new Date().toISOString(),
  };
}

export async function createScheduleHarness(
  redisUrl: string,
  defaultEveryMs = 86_400_000,
  jobs: Partial<JobsConfig> = {},
): Promise<ScheduleHarness> {
  const prefix = `s${process.pid}x${++counter}`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queues = createQueues({
    connection: redis,
    prefix,
    jobs: {
      maxAttempts: 1,
      retryBaseDelayMs: 50,
      retryMaxDelayMs: 100,
      retentionDays: 1,
      retentionCount: 10_000,
      ...jobs,
    },
  });
  const websites = createWebsiteStore(redis, { prefix });
  const service = createWebsiteService({
    websites,
    redis,
    queues,
    settings: { defaultEveryMs, maxPagesLimit: 100, maxUrlLength: 2048, maxWebsites: 100_000, maxImportUrls: 10_000 },
    logger: silentLogger(),
  });
  const runs: StubRun[] = [];
  const failing = new Set<string>();
  const unchanged = new Set<string>();
  const versions = new Map<string, number>();
  const workers: WorkerHandle[] = [];
  return {
    redis,
    prefix,
    queues,
    websites,
    service,
    runs,
    failing,
    unchanged,
    async startWorker(opts = {}) {
      const stub: GenerateHandler = async (job) => {
        await sleep(opts.stubMs ?? 20);
        const websiteId = job.data.websiteId ?? "";
        const ok = !failing.has(websiteId);
        runs.push({ jobId: job.id ?? "", websiteId, trigger: job.data.trigger, at: Date.now(), ok });
        if (!ok) throw new JobFailure("FETCH_FAILED", "this site fails in the test", { final: true });
        const same = opts.unchanged === true || unchanged.has(websiteId);
        const version = (versions.get(websiteId) ?? 0) + (same ? 0 : 1);
        versions.set(websiteId, version);
        return { ...stubResult(job.data, same), version: Math.max(version, 1) };
      };
      const generate = withWebsiteRuns(stub, {
        websites,
        queues,
        redis,
        settings: opts.failure ?? { backoffAfter: 3, pauseAfter: 10 },
        logger: silentLogger(),
        ...(opts.notify ? { notify: queues.notify } : {}),
      });
      const notify = opts.notify
        ? createNotifyProcessor({
            websites,
            store: createResultStore(redis, { prefix, maxVersions: 5, files: testFileStore() }),
            timeoutMs: 5000,
            logger: silentLogger(),
            ...(opts.notify.addressPolicy ? { addressPolicy: opts.notify.addressPolicy } : {}),
          })
        : undefined;
      const w = await startWorker({
        connection: redis,
        prefix,
        handlers: notify ? { generate, notify } : { generate },
        logger: silentLogger(),
        settings: {
          concurrency: opts.concurrency ?? 4,
          scheduleConcurrency: opts.scheduleConcurrency ?? 4,
          retryBaseDelayMs: 50,
          retryMaxDelayMs: 100,
          shutdownGraceMs: 2000,
          drainDelaySeconds: 1,
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
