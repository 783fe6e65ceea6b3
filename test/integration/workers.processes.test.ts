/**
 * Worker processes for real: `ltx worker`'s composition root in child processes, the real
 * pipeline against a loopback site server, the fake OpenAI server, one redis-server.
 *   - exactly once: 3 processes, 200 jobs, each processed once, every result stored and valid
 *   - kill -9 of the process holding a job: another process completes it
 *   - SIGTERM mid-job: exit 0, the job is handed back with no attempt burned, completes later
 *   - an LLM 429: the queue waits Retry-After, the attempt isn't burned
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Redis } from "ioredis";
import { sleep } from "../../src/lib/time";
import { createRedis } from "../../src/queues/connection";
import { enqueueGenerate } from "../../src/queues/enqueue";
import { createQueues, type Queues } from "../../src/queues/queues";
import { createResultStore } from "../../src/store/results";
import { testFileStore, testFilesDir } from "../support/fileStore";
import { validateLlmsTxt } from "../../src/pipeline/validate/format";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fakeOpenAI";
import { startRedis, type RedisServer } from "../support/redisServer";
import { startSiteServer, type SiteServer } from "../support/siteServer";
import { removeWorkerLogs, spawnWorker, workerLogDir, type WorkerChild } from "../support/workerProcesses";
import { testJobsConfig, waitFor } from "../support/workerHarness";

const SITES = Number(process.env.LTX_TEST_SITES ?? 200);
let redisServer: RedisServer;
let site: SiteServer;
let llm: FakeOpenAI;
let sitesDir: string;
const children: WorkerChild[] = [];
let prefixSeq = 0;

function page(title: string, body: string, links: string[] = []): string {
  const nav = links.map((l) => `<li><a href="${l}">${l}</a></li>`).join("");
  return `<!DOCTYPE html><html lang="en"><head><title>${title}</title><meta name="description" content="${title} for the worker tests"></head><body><main><h1>${title}</h1>${body}<ul>${nav}</ul></main></body></html>`;
}

beforeAll(async () => {
  sitesDir = fs.mkdtempSync(path.join(os.tmpdir(), "ltx-sites-"));
  const para =
    "<p>This small documentation site exists so that two hundred jobs can run quickly. It explains one concept in plain words, with enough readable text that extraction keeps it.</p>";
  for (let i = 0; i < SITES; i++) {
    const dir = path.join(sitesDir, `s${i}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "index.html"), page(`Site ${i} home`, para.repeat(3), ["guide.html"]));
    fs.writeFileSync(path.join(dir, "guide.html"), page(`Site ${i} guide`, para.repeat(4), ["index.html"]));
  }
  [redisServer, site, llm] = await Promise.all([startRedis(), startSiteServer(sitesDir), startFakeOpenAI()]);
});

afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.stop()));
});

afterAll(async () => {
  await Promise.all([redisServer?.stop(), site?.close(), llm?.close()]);
  fs.rmSync(sitesDir, { recursive: true, force: true });
  removeWorkerLogs();
});

interface Ctx {
  prefix: string;
  filesDir: string;
  redis: Redis;
  queues: Queues;
  close(): Promise<void>;
}

async function context(jobs = testJobsConfig()): Promise<Ctx> {
  const prefix = `p${++prefixSeq}`;
  const redis = createRedis(redisServer.url, { forWorker: true });
  const queues = createQueues({ connection: redis, prefix, jobs });
  return {
    prefix,
    filesDir: testFilesDir(),
    redis,
    queues,
    async close() {
      await queues.close();
      redis.disconnect();
    },
  };
}

function env(ctx: Ctx, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redisServer.url,
    REDIS_PREFIX: ctx.prefix,
    FILES_DIR: ctx.filesDir,
    ALLOW_PRIVATE_NETWORKS: "1", // the fixture sites are on loopback
    EXTRACT_THREADS: "1",
    WORKER_CONCURRENCY: "8",
    RETRY_BASE_DELAY_MS: "100",
    RETRY_MAX_DELAY_MS: "1000",
    SHUTDOWN_GRACE_MS: "5000",
    LTX_PROVIDER: "extractive",
    ...extra,
  };
}

async function start(ctx: Ctx, extra: Record<string, string> = {}): Promise<WorkerChild> {
  const child = await spawnWorker(env(ctx, extra));
  children.push(child);
  return child;
}

async function holder(ws: WorkerChild[], jobId: string): Promise<WorkerChild | undefined> {
  for (const w of ws) {
    if (w.proc.exitCode !== null) continue;
    if ((await w.stats()).active.includes(`generate:${jobId}`)) return w;
  }
  return undefined;
}

describe("worker processes", () => {
  it("3 processes, 200 jobs: each processed exactly once, every result stored and valid", async () => {
    const ctx = await context();
    try {
      const workers = await Promise.all([start(ctx), start(ctx), start(ctx)]);
      const t0 = Date.now();
      const jobs = await Promise.all(
        Array.from({ length: SITES }, (_, i) => enqueueGenerate(ctx.queues, { url: `${site.origin}/s${i}/` })),
      );
      expect(jobs.filter((j) => j.deduplicated)).toHaveLength(0);
      await waitFor(
        async () => (await ctx.queues.generate.getJobCounts("completed")).completed === SITES,
        90_000,
        "200 completed jobs",
      );
      const elapsed = Date.now() - t0;
      expect(await ctx.queues.generate.getJobCounts("failed", "waiting", "active", "delayed")).toEqual({
        failed: 0,
        waiting: 0,
        active: 0,
        delayed: 0,
      });

      const store = createResultStore(ctx.redis, {
        prefix: ctx.prefix,
        maxVersions: 5,
        files: testFileStore(ctx.filesDir),
      });
      for (const [i, { job }] of jobs.entries()) {
        const done = await ctx.queues.generate.getJob(job.id!);
        expect(done?.attemptsMade).toBe(1);
        const siteKey = `127.0.0.1:${site.port}/s${i}`;
        const meta = await store.getMeta(siteKey);
        // One stored version written by this very job: a second run would have made version 2.
        expect(meta).toMatchObject({ version: 1, jobId: job.id });
        const txt = await store.readFile(siteKey, "llms.txt");
        expect(txt?.body).toContain(`# `);
        expect(
          validateLlmsTxt(txt!.body, {
            site: { origin: site.origin, prefix: `/s${i}/`, startUrl: `${site.origin}/s${i}/`, key: siteKey },
            pageUrls: new Set([`${site.origin}/s${i}/`, `${site.origin}/s${i}/guide.html`]),
          }),
        ).toEqual([]);
        expect(done?.returnvalue).toMatchObject({ siteKey, version: 1, pagesIncluded: 2 });
      }
      // The site server saw each start page fetched exactly once.
      for (let i = 0; i < SITES; i++) expect(site.requests.filter((r) => r === `/s${i}/`)).toHaveLength(1);

      const stats = await Promise.all(workers.map((w) => w.stats()));
      const maxBlock = Math.max(...stats.map((s) => s.maxEventLoopBlockMs));
      process.stdout.write(
        `exactly-once: ${SITES} jobs on 3 processes in ${elapsed} ms; longest event-loop block ${maxBlock.toFixed(1)} ms (lock renewal every 15000 ms)\n`,
      );
      // Far below the lock renewal interval (lockDuration / 2 = 15 s): no job can look stalled.
      // (The max includes GC pauses and CPU starvation: 3 processes + threads share 2 cores.)
      expect(maxBlock).toBeLessThan(2000);
    } finally {
      await ctx.close();
    }
  }, 120_000);

  it("kill -9 of the process holding a job: another process picks it up and completes it", async () => {
    const ctx = await context();
    try {
      llm.setOptions({ latencyMs: 2500 });
      // Short locks so the dead worker's job is noticed in about a second.
      const knobs = {
        LTX_PROVIDER: "openai",
        OPENAI_BASE_URL: llm.url,
        WORKER_CONCURRENCY: "1",
        LTX_TEST_LOCK_MS: "1500",
        LTX_TEST_STALLED_MS: "500",
      };
      const workers = await Promise.all([start(ctx, knobs), start(ctx, knobs)]);
      const { job } = await enqueueGenerate(ctx.queues, { url: `${site.origin}/s1/` });
      const victim = await waitFor(() => holder(workers, job.id!), 15_000, "a worker holding the job");
      await sleep(300); // mid-job: it is waiting on the LLM
      expect(await victim.kill9()).toBe(137);
      llm.setOptions({ latencyMs: 0 });
      await waitFor(async () => (await job.getState()) === "completed", 20_000, "job completed on the other worker");
      const survivor = workers.find((w) => w !== victim)!;
      expect(survivor.proc.exitCode).toBeNull();
      const done = await ctx.queues.generate.getJob(job.id!);
      expect(done?.returnvalue).toMatchObject({ provider: "openai", version: 1 });
    } finally {
      llm.setOptions({ latencyMs: 0 });
      await ctx.close();
    }
  });

  it("SIGTERM mid-job: exits 0 after the grace period, hands the job back unburned, completes after restart", async () => {
    const ctx = await context(testJobsConfig({ maxAttempts: 1 }));
    try {
      llm.setOptions({ latencyMs: 8000 });
      const knobs = { LTX_PROVIDER: "openai", OPENAI_BASE_URL: llm.url, SHUTDOWN_GRACE_MS: "500", MAX_ATTEMPTS: "1" };
      const first = await start(ctx, knobs);
      const { job } = await enqueueGenerate(ctx.queues, { url: `${site.origin}/s2/` });
      await waitFor(() => holder([first], job.id!), 15_000, "the worker holding the job");
      await sleep(300);
      const t = Date.now();
      first.signal("SIGTERM");
      expect(await first.exited).toBe(0);
      expect(Date.now() - t).toBeLessThan(5000);
      const handedBack = await ctx.queues.generate.getJob(job.id!);
      expect(["waiting", "delayed"]).toContain(await handedBack?.getState());
      expect(handedBack?.attemptsMade).toBe(0);

      llm.setOptions({ latencyMs: 0 });
      await start(ctx, knobs);
      await waitFor(async () => (await job.getState()) === "completed", 20_000, "completed after restart");
      // MAX_ATTEMPTS=1: a burned attempt would have failed the job instead.
      expect((await ctx.queues.generate.getJob(job.id!))?.attemptsMade).toBe(1);
    } finally {
      llm.setOptions({ latencyMs: 0 });
      await ctx.close();
    }
  });

  it("an LLM 429 pauses the queue for Retry-After without burning the attempt", async () => {
    const ctx = await context(testJobsConfig({ maxAttempts: 1 }));
    try {
      llm.reset();
      llm.script({ kind: "rateLimit", retryAfterSeconds: 2 }, { kind: "valid" });
      await start(ctx, { LTX_PROVIDER: "openai", OPENAI_BASE_URL: llm.url, MAX_ATTEMPTS: "1", LLM_ATTEMPTS: "1" });
      const t0 = Date.now();
      const { job } = await enqueueGenerate(ctx.queues, { url: `${site.origin}/s3/` });
      await waitFor(
        async () => (await ctx.queues.generate.getRateLimitTtl()) > 0,
        15_000,
        "the queue to be rate-limited",
      );
      await waitFor(async () => (await job.getState()) === "completed", 20_000, "completed after Retry-After");
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
      const done = await ctx.queues.generate.getJob(job.id!);
      // MAX_ATTEMPTS=1: had the 429 counted, the job would have failed.
      expect(done?.attemptsMade).toBe(1);
      expect(done?.returnvalue).toMatchObject({ provider: "openai", fallback: false });
      expect(llm.requests.map((r) => r.answered)).toEqual(["rateLimit", "valid"]);
    } finally {
      await ctx.close();
    }
  });
});

afterAll(() => {
  if (process.env.LTX_KEEP_LOGS === "1") process.stdout.write(`worker process logs: ${workerLogDir()}\n`);
});
