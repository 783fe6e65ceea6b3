/**
 * npm run bench:schedules — websites and their BullMQ job schedulers at scale, on a fresh local
 * redis-server (loopback only):
 *
 *  1. import 10,000 websites through the website service (the code behind POST
 *     /api/websites/import and `ltx sites import`): time, and Redis memory per website from
 *     INFO used_memory before/after plus MEMORY USAGE of one website's keys. Baseline: the same
 *     number of bare queue.upsertJobScheduler calls (a scheduler and its next job, nothing else).
 *  2. scheduling delay: 1,000 of the 10,000 are due within the next few seconds; a worker runs
 *     them through the website-run wrapper (skip checks, de-dup claim, run bookkeeping) around a
 *     STUB pipeline that returns at once, so this measures the scheduler, not crawling or an
 *     LLM. Delay = the stub's start − the tick's due time (the ms in "repeat:<id>:<ms>").
 *     Baseline: 1,000 plain delayed jobs (queue.add with delay) to a bare no-op worker.
 * Goals: < 2 KB per website, p99 delay < 1 s. Bounded: every wait has a deadline.
 */
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { silentLogger } from "../src/lib/logger";
import { sleep } from "../src/lib/time";
import type { GenerateJobResult } from "../src/queues/catalog";
import { createQueues } from "../src/queues/queues";
import { withWebsiteRuns, type GenerateHandler } from "../src/websites/outcomes";
import { createWebsiteService } from "../src/websites/service";
import { createWebsiteStore } from "../src/store/websites";
import { startWorker } from "../src/workers/worker";
import { startRedis } from "../test/support/redisServer";

const WEBSITES = 10_000;
const DUE = 1_000;
const DUE_SPREAD_MS = 4_000;
const LEAD_MS = 1_500; // time between the import and the first due run
const CONCURRENCY = 50;

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info("memory");
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

const stubResult = (data: { siteKey: string; url: string }): GenerateJobResult => ({
  siteKey: data.siteKey,
  url: data.url,
  version: 1,
  unchanged: true,
  pagesIncluded: 0,
  pagesSkipped: 0,
  provider: "extractive",
  model: null,
  fallback: false,
  usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0, requests: 0 },
  warnings: [],
  timings: { discoverMs: 0, crawlMs: 0, generateMs: 0, composeMs: 0, totalMs: 0 },
  generatedAt: new Date().toISOString(),
});

async function baselineSchedulers(redis: Redis): Promise<{ ms: number; bytesEach: number }> {
  const q = new Queue<unknown, unknown, string>("generate", { connection: redis, prefix: "base" });
  const before = await usedMemory(redis);
  const started = Date.now();
  for (let i = 0; i < WEBSITES; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, WEBSITES - i) }, (_, j) => {
        const n = i + j;
        return q.upsertJobScheduler(
          `b${n}`,
          { every: 86_400_000, startDate: Date.now() + 86_400_000 },
          {
            name: "generate",
            data: { url: `http://127.0.0.1:9/s${n}/`, siteKey: `127.0.0.1:9/s${n}`, trigger: "schedule" },
          },
        );
      }),
    );
  }
  const ms = Date.now() - started;
  const bytesEach = ((await usedMemory(redis)) - before) / WEBSITES;
  await q.close();
  return { ms, bytesEach };
}

async function baselineDelay(redis: Redis): Promise<number[]> {
  const q = new Queue("plain", { connection: redis, prefix: "base" });
  const delays: number[] = [];
  const connection = redis.duplicate({ maxRetriesPerRequest: null });
  const worker = new Worker(
    "plain",
    async (job) => {
      delays.push(Date.now() - (job.data as { due: number }).due);
    },
    { connection, prefix: "base", concurrency: CONCURRENCY },
  );
  await worker.waitUntilReady();
  const t0 = Date.now() + LEAD_MS;
  await q.addBulk(
    Array.from({ length: DUE }, (_, i) => {
      const due = t0 + Math.floor((i / DUE) * DUE_SPREAD_MS);
      return { name: "plain", data: { due }, opts: { delay: due - Date.now(), removeOnComplete: true } };
    }),
  );
  const deadline = Date.now() + LEAD_MS + DUE_SPREAD_MS + 20_000;
  while (delays.length < DUE && Date.now() < deadline) await sleep(100);
  await worker.close();
  await q.close();
  connection.disconnect();
  return delays;
}

/**
 * Twice: with redis-server's defaults, and with hash-max-listpack-value raised to 1024. BullMQ's
 * job and scheduler hashes hold JSON values of 100–350 bytes; above the default limit of 64 bytes
 * Redis stores a hash as a hashtable instead of a compact listpack, which costs ~0.7 KB per website.
 */
async function main(): Promise<void> {
  console.log(
    `bench:schedules — ${WEBSITES} websites, ${DUE} due runs (stub pipeline: this measures the scheduler, not crawling or an LLM)`,
  );
  for (const args of [[], ["--hash-max-listpack-value", "1024"]]) {
    console.log(`\nredis-server ${args.length > 0 ? args.join(" ") : "(default settings)"}`);
    await runOnce(args);
  }
}

async function runOnce(args: string[]): Promise<void> {
  const server = await startRedis({ args });
  const redis = new Redis(server.url, { maxRetriesPerRequest: null });
  try {
    const base = await baselineSchedulers(redis);

    const prefix = "ltx";
    const queues = createQueues({
      connection: redis,
      prefix,
      jobs: { maxAttempts: 1, retryBaseDelayMs: 1000, retryMaxDelayMs: 1000, retentionDays: 1, retentionCount: 10_000 },
    });
    const websites = createWebsiteStore(redis, { prefix });
    const service = createWebsiteService({
      websites,
      redis,
      queues,
      settings: {
        defaultEveryMs: 86_400_000,
        maxPagesLimit: 1000,
        maxUrlLength: 2048,
        maxWebsites: 100_000,
        maxImportUrls: 10_000,
      },
    });
    const urls = (from: number, n: number): string[] =>
      Array.from({ length: n }, (_, i) => `http://127.0.0.1:9/site${from + i}/`);

    // 9,000 not due during the bench (first runs spread over a day), then 1,000 due in a few seconds.
    const before = await usedMemory(redis);
    const importStarted = Date.now();
    const later = await service.import({ urls: urls(0, WEBSITES - DUE), every: "1d", spread: "1d" });
    const importMs = Date.now() - importStarted;
    const after = await usedMemory(redis);
    const bytesEach = (after - before) / later.added;

    const sample = (await websites.list({ limit: 1 })).items[0];
    let sampleBytes = 0;
    const parts: string[] = [];
    if (sample) {
      const next = (await queues.schedule.getJobScheduler(sample.id))?.next;
      const keys: [string, string][] = [
        ["website hash", `${prefix}:website:${sample.id}`],
        ["scheduler hash", `${prefix}:schedule:repeat:${sample.id}`],
        ["next job hash", `${prefix}:schedule:repeat:${sample.id}:${next}`],
      ];
      for (const [label, key] of keys) {
        const b = Number((await redis.call("MEMORY", "USAGE", key)) ?? 0);
        sampleBytes += b;
        parts.push(`${label} ${b} B`);
      }
    }

    const runs: { websiteId: string; delay: number }[] = [];
    const stub: GenerateHandler = async (job) => {
      runs.push({ websiteId: job.data.websiteId ?? "", delay: Date.now() - Number(String(job.id).split(":").pop()) });
      return stubResult(job.data);
    };
    const generate = withWebsiteRuns(stub, {
      websites,
      queues,
      redis,
      settings: { backoffAfter: 3, pauseAfter: 10 },
      logger: silentLogger(),
    });
    const worker = await startWorker({
      connection: redis,
      prefix,
      handlers: { generate },
      logger: silentLogger(),
      settings: {
        concurrency: CONCURRENCY,
        scheduleConcurrency: CONCURRENCY,
        retryBaseDelayMs: 1000,
        retryMaxDelayMs: 1000,
        shutdownGraceMs: 5000,
        drainDelaySeconds: 1,
      },
    });
    const dueImport = await service.import({
      urls: urls(WEBSITES - DUE, DUE),
      every: "1d",
      spread: `${DUE_SPREAD_MS}ms`,
    });
    // Only the due set counts: one of the 9,000 may draw a first run within these seconds.
    const dueIds = new Set(dueImport.items.map((i) => i.id));
    const dueRuns = () => runs.filter((r) => dueIds.has(r.websiteId));
    const deadline = Date.now() + DUE_SPREAD_MS + 30_000;
    while (dueRuns().length < DUE && Date.now() < deadline) await sleep(100);
    await worker.close();
    const total = await websites.count();
    await queues.close();

    const baseDelays = (await baselineDelay(redis)).sort((a, b) => a - b);
    const ltxDelays = dueRuns()
      .map((r) => r.delay)
      .sort((a, b) => a - b);
    const kb = (b: number): string => `${(b / 1024).toFixed(2)} KB`;
    console.log(
      `websites registered: ${total} (import 1: ${later.added} added in ${importMs} ms = ${Math.round((later.added / importMs) * 1000)}/s; import 2: ${dueImport.added} added in ${dueImport.durationMs} ms)`,
    );
    console.log(
      `import time     baseline (bare upsertJobScheduler ×${WEBSITES}): ${base.ms} ms · ltx import of ${later.added}: ${importMs} ms · ratio ${(importMs / ((base.ms * later.added) / WEBSITES)).toFixed(2)}× (validation, record, index, scheduler)`,
    );
    console.log(
      `memory/website  baseline (scheduler + its next job): ${kb(base.bytesEach)} · ltx (record + index entry + scheduler + next job): ${kb(bytesEach)} · ratio ${(bytesEach / base.bytesEach).toFixed(2)}× · goal < 2 KB: ${bytesEach < 2048 ? "met" : "NOT met"}`,
    );
    console.log(
      `  MEMORY USAGE of one website's keys: ${parts.join(", ")} = ${sampleBytes} B (plus entries in the website index and BullMQ's sorted sets and event stream)`,
    );
    const line = (d: number[]): string =>
      `p50 ${pct(d, 50)} ms, p99 ${pct(d, 99)} ms, max ${d[d.length - 1]} ms (${d.length} runs)`;
    console.log(`delay (start − due)  baseline (plain delayed jobs, no-op worker): ${line(baseDelays)}`);
    console.log(`                     ltx (job schedulers + website-run wrapper, stub pipeline): ${line(ltxDelays)}`);
    console.log(
      `  ratio p99 ltx / baseline: ${(pct(ltxDelays, 99) / Math.max(1, pct(baseDelays, 99))).toFixed(2)}× · goal p99 < 1 s: ${pct(ltxDelays, 99) < 1000 && ltxDelays.length === DUE ? "met" : "NOT met"}`,
    );
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
