/**
 * `npm run bench:e2e [-- --jobs N] [-- --seconds N] [-- --procs 1,2,3] [-- --concurrency N]`:
 * generate jobs per minute end to end (enqueued → crawled → LLM → validated → stored) for 1, 2
 * and 3 worker processes of the built CLI (`node bin/ltx.js worker`, WORKER_CONCURRENCY 8),
 * against the bound `processes × concurrency / job time` measured in the same run.
 *
 * Job time: one job at a time on one idle worker (median of 3 after a warm-up job), from
 * BullMQ's processedOn to finishedOn. Each throughput run then enqueues `2 × processes ×
 * concurrency` jobs at once (each a different site) and counts from the first add to the last
 * finish, so ramp-up and tail are in the figure. Goal: ≥ 80% of the bound, near-linear
 * from 1 to 3 processes until the 2 cores saturate; the CPU use of every process is printed.
 *
 * Fixtures, all on 127.0.0.1: sites of 20 pages (an index linking 19 pages, ~1.5 KB each, no
 * robots.txt or sitemap) on 4 servers, the fake OpenAI server at 2 s latency (the real `openai`
 * client talks to it through OPENAI_BASE_URL), and a redis-server of its own. Jobs are added with
 * enqueueGenerate, the function the API's POST /api/jobs calls, from this process.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import type { Job } from "bullmq";
import { enqueueGenerate } from "../src/queues/enqueue";
import { createQueues, type Queues } from "../src/queues/queues";
import type { GenerateJobResult } from "../src/queues/catalog";
import { startFakeOpenAI } from "../test/support/fakeOpenAI";
import { startRedis } from "../test/support/redisServer";
import { seededRandom, startFlakySites } from "./support/flakySites";
import { cpuSecondsOf, percentile, redisCpuSeconds } from "./support/measure";
import { createProcessGroup, type LtxProcess, PACKAGE_ROOT, type ProcessGroup, scanLogs } from "./support/processes";

const args = process.argv.slice(2);
const argValue = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const argNumber = (name: string, def: number): number => {
  const raw = argValue(name);
  const v = raw === undefined ? def : Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} wants a positive number`);
  return v;
};
const CONCURRENCY = argNumber("concurrency", 8);
const PROCS = (argValue("procs") ?? "1,2,3").split(",").map(Number);
if (PROCS.some((p) => !Number.isInteger(p) || p < 1 || p > 8)) throw new Error("--procs wants a list like 1,2,3 (1–8)");
/** Jobs per throughput run; default 2 rounds of every slot. */
const JOBS = argValue("jobs") === undefined ? undefined : argNumber("jobs", 1);
/** Time cap of one throughput run. */
const SECONDS = argNumber("seconds", 60);
const ROUNDS = 2;
const LLM_LATENCY_MS = 2000;
const PAGES_PER_SITE = 20;
const PREFIX = "ltx";

interface ThroughputRun {
  procs: number;
  jobs: number;
  completed: number;
  failed: number;
  seconds: number;
  jobsPerMinute: number;
  /** processedOn → finishedOn of each job of the run: grows when the cores saturate. */
  jobMs: number[];
  crawlMs: number[];
  cpu: { workers: number; redis: number; harness: number };
  timedOut: boolean;
}

async function main(): Promise<number> {
  if (!fs.existsSync(path.join(PACKAGE_ROOT, "dist", "cli", "ltx.js")))
    throw new Error("dist/ is missing: run `npm run build` first (npm run bench:e2e does)");
  const hardDeadline = setTimeout(
    () => {
      process.stderr.write("bench:e2e: hard deadline reached, giving up\n");
      process.exit(1);
    },
    (PROCS.length * (SECONDS + 30) + 120) * 1000,
  );
  const loadBefore = os.loadavg()[0] ?? NaN;
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "ltx-bench-e2e-"));
  const redis = await startRedis();
  const sites = await startFlakySites({
    servers: 4,
    pagesPerSite: PAGES_PER_SITE - 1,
    errorRate: 0,
    slowRate: 0,
    slowMs: 0,
    random: seededRandom(7),
  });
  const fake = await startFakeOpenAI({ latencyMs: LLM_LATENCY_MS });
  const group = createProcessGroup(runDir);
  process.once("exit", () => group.killAll());
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 2 });
  const jobsConfig = {
    maxAttempts: 1,
    retryBaseDelayMs: 1000,
    retryMaxDelayMs: 1000,
    retentionDays: 1,
    retentionCount: 100_000,
  };
  const queues = createQueues({ connection: admin, prefix: PREFIX, jobs: jobsConfig });
  const env = {
    REDIS_URL: redis.url,
    REDIS_PREFIX: PREFIX,
    LOG_LEVEL: "warn",
    ALLOW_PRIVATE_NETWORKS: "1", // the fixture sites are on loopback
    OPENAI_BASE_URL: fake.url,
    OPENAI_API_KEY: "test",
    LTX_PROVIDER: "openai",
    WORKER_CONCURRENCY: String(CONCURRENCY),
    MAX_ATTEMPTS: "1", // a failure shows as a failure, not as a slow job
    SHUTDOWN_GRACE_MS: "2000", // a capped run's leftover jobs need not finish; Redis is flushed next
    JOB_RETENTION_COUNT: "100000",
  };
  let nextSite = 0;
  const site = (): string => sites.siteUrl(nextSite++);
  try {
    // 1. The job time: one job at a time on one idle worker process.
    const single = await startWorkers(group, env, 1, queues, "single");
    const singleMs: number[] = [];
    const singleCrawlMs: number[] = [];
    let singleCpu = 0;
    for (let i = 0; i < 4; i++) {
      const cpuBefore = cpuSecondsOf(single[0]?.pid() ?? -1);
      const [job] = await runBatch(queues, [site()], 30);
      if (!job || job.failedReason)
        throw new Error(`the single job failed: ${job?.failedReason ?? "timed out"}; logs in ${runDir}`);
      if (i === 0) continue; // warm-up: cold code, first connections
      singleMs.push((job.finishedOn ?? NaN) - (job.processedOn ?? NaN));
      singleCrawlMs.push(crawlMsOf(job));
      singleCpu += cpuSecondsOf(single[0]?.pid() ?? -1) - cpuBefore;
    }
    await stopWorkers(single);
    const jobMs = percentile(singleMs, 0.5);
    const chats = fake.chatCount;

    // 2. Throughput for each process count.
    const runs: ThroughputRun[] = [];
    for (const procs of PROCS) {
      await admin.flushall(); // no finished jobs or stored files from the previous run
      const workers = await startWorkers(group, env, procs, queues, `p${procs}`);
      const n = JOBS ?? ROUNDS * procs * CONCURRENCY;
      const cpu0 = {
        workers: workers.map((w) => cpuSecondsOf(w.pid())),
        redis: await redisCpuSeconds(admin),
        harness: process.cpuUsage(),
      };
      const started = Date.now();
      const jobs = await runBatch(queues, Array.from({ length: n }, site), SECONDS);
      const waitedUntil = Date.now();
      const capped = jobs.length < n || jobs.some((j) => j.finishedOn === undefined);
      // Finished: up to the last finish. Capped: up to the cap, counting only what finished.
      const elapsedEnd = capped ? waitedUntil : jobs.reduce((t, j) => Math.max(t, j.finishedOn ?? 0), 0);
      const harness = process.cpuUsage(cpu0.harness);
      const cpu = {
        workers: workers.reduce((s, w, i) => s + cpuSecondsOf(w.pid()) - (cpu0.workers[i] ?? NaN), 0),
        redis: (await redisCpuSeconds(admin)) - cpu0.redis,
        harness: (harness.user + harness.system) / 1e6,
      };
      await stopWorkers(workers);
      const done = jobs.filter((j) => j.finishedOn !== undefined && !j.failedReason);
      const seconds = (elapsedEnd - started) / 1000;
      runs.push({
        procs,
        jobs: n,
        completed: done.length,
        failed: jobs.filter((j) => j.failedReason).length,
        seconds,
        jobsPerMinute: (done.length / seconds) * 60,
        jobMs: done.map((j) => (j.finishedOn ?? NaN) - (j.processedOn ?? NaN)),
        crawlMs: done.map(crawlMsOf),
        cpu,
        timedOut: capped,
      });
    }
    const problems = scanLogs(group.all().map((p) => p.logFile));
    return report({
      jobMs,
      crawlMs: percentile(singleCrawlMs, 0.5),
      cpuPerJob: singleCpu / singleMs.length,
      chatsPerJob: chats / 4,
      runs,
      loadBefore,
      problems: problems.length,
      runDir,
    });
  } finally {
    clearTimeout(hardDeadline);
    group.killAll();
    await queues.close();
    await admin.quit().catch(() => undefined);
    await fake.close();
    await sites.close();
    await redis.stop();
  }
}

function crawlMsOf(job: Job): number {
  const timings = (job.returnvalue as GenerateJobResult | null)?.timings;
  // crawlMs runs from the start of discovery (robots.txt, sitemaps) to the last extracted page.
  return timings ? timings.crawlMs : NaN;
}

/** Starts `count` worker processes and waits until BullMQ sees their Workers (up to 30 s). */
async function startWorkers(
  group: ProcessGroup,
  env: Record<string, string>,
  count: number,
  queues: Queues,
  tag: string,
): Promise<LtxProcess[]> {
  const before = await queues.generate.getWorkersCount();
  const workers = Array.from({ length: count }, (_, i) => group.spawn("worker", `worker-${tag}-${i + 1}`, env));
  const deadline = Date.now() + 30_000;
  while ((await queues.generate.getWorkersCount()) < before + count) {
    if (Date.now() > deadline || workers.some((w) => !w.running()))
      throw new Error(`worker processes did not start (logs in ${path.dirname(workers[0]?.logFile ?? "")})`);
    await sleep(100);
  }
  return workers;
}

async function stopWorkers(workers: LtxProcess[]): Promise<void> {
  await Promise.all(workers.map((w) => w.terminate(15_000)));
}

/** Adds one job per URL at once, waits until all finished (or the time is up), returns them. */
async function runBatch(queues: Queues, urls: string[], seconds: number): Promise<Job[]> {
  const finished = async (): Promise<number> => {
    const c = await queues.generate.getJobCounts("completed", "failed");
    return (c.completed ?? 0) + (c.failed ?? 0);
  };
  const before = await finished();
  const added = await Promise.all(urls.map((url) => enqueueGenerate(queues, { url, trigger: "api" })));
  const deadline = Date.now() + seconds * 1000;
  // Counting is cheap for Redis and this process; the jobs themselves are read once at the end.
  while ((await finished()) < before + urls.length && Date.now() < deadline) await sleep(50);
  const jobs = await Promise.all(added.map((a) => queues.generate.getJob(a.job.id ?? "")));
  return jobs.filter((j): j is NonNullable<typeof j> => j !== undefined) as Job[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface ReportInput {
  jobMs: number;
  crawlMs: number;
  /** Worker CPU seconds (all threads) per job, from the single jobs. */
  cpuPerJob: number;
  chatsPerJob: number;
  runs: ThroughputRun[];
  loadBefore: number;
  problems: number;
  runDir: string;
}

function report(r: ReportInput): number {
  const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : "?");
  const cores = os.availableParallelism();
  const bound = (procs: number): number => (procs * CONCURRENCY * 60_000) / r.jobMs;
  const first = r.runs[0];
  const ceiling = (cores * 60) / r.cpuPerJob;
  const lines = [
    "",
    `bench:e2e — sites of ${PAGES_PER_SITE} pages, fake LLM at ${LLM_LATENCY_MS / 1000} s, WORKER_CONCURRENCY ${CONCURRENCY}, ${cores} cores, load average ${f(r.loadBefore, 2)} at start`,
    `job time alone (median of 3, processedOn → finishedOn): ${f(r.jobMs / 1000, 2)} s, of which discover + crawl ${f(r.crawlMs / 1000, 2)} s; ${f(r.chatsPerJob, 1)} LLM requests per job`,
    `worker CPU per job: ${f(r.cpuPerJob, 2)} core-s, so ${cores} cores can finish at most ${f((cores * 60) / r.cpuPerJob, 0)} jobs/min (the CPU ceiling); ` +
      `the slots' bound passes it at ${f((cores * r.jobMs) / 1000 / r.cpuPerJob / CONCURRENCY, 1)} processes of ${CONCURRENCY}`,
    "",
    "procs   jobs  done  failed      s   bound jobs/min   ltx jobs/min   ratio   vs min(bound, CPU ceiling)   scaling   job p50 s  p99 s   crawl p50 s   CPU busy (workers+redis+harness)",
  ];
  for (const run of r.runs) {
    const busy = (run.cpu.workers + run.cpu.redis + run.cpu.harness) / (run.seconds * cores);
    const scaling = first ? run.jobsPerMinute / (first.jobsPerMinute / first.procs) / run.procs : NaN;
    lines.push(
      `${String(run.procs).padStart(5)}  ${String(run.jobs).padStart(5)}  ${String(run.completed).padStart(4)}  ${String(run.failed).padStart(6)}  ${f(run.seconds).padStart(5)}  ` +
        `${f(bound(run.procs), 0).padStart(15)}  ${f(run.jobsPerMinute, 0).padStart(13)}  ${f(run.jobsPerMinute / bound(run.procs), 2).padStart(6)}  ${f(run.jobsPerMinute / Math.min(bound(run.procs), ceiling), 2).padStart(27)}  ` +
        `${f(run.jobsPerMinute / (first?.jobsPerMinute ?? NaN), 2).padStart(6)}×  ${f(percentile(run.jobMs, 0.5) / 1000, 2).padStart(9)}  ${f(percentile(run.jobMs, 0.99) / 1000, 2).padStart(5)}  ` +
        `${f(percentile(run.crawlMs, 0.5) / 1000, 2).padStart(12)}   ${f(busy * 100, 0)}% (${f(run.cpu.workers)}+${f(run.cpu.redis)}+${f(run.cpu.harness)} core-s)` +
        `${run.timedOut ? `  capped at ${SECONDS} s` : ""}${Number.isFinite(scaling) && run.procs > 1 ? `  per-process efficiency ${f(scaling, 2)}` : ""}`,
    );
  }
  const failed = r.runs.reduce((n, run) => n + run.failed, 0);
  lines.push(
    "",
    "bound = processes × concurrency / job time alone; ratio = ltx / bound (goal ≥ 0.80); scaling = jobs/min ÷ jobs/min of the first row.",
    "CPU ceiling = cores ÷ worker CPU per job (the jobs alone): no number of processes can beat it on this machine.",
    "A capped run counts the jobs finished by the cap (--seconds); its leftover jobs are dropped.",
    "CPU busy = CPU seconds of the workers, redis and this process (sites, fake LLM, polling) ÷ (run time × cores).",
    `crash/unhandled-rejection lines in the worker logs: ${r.problems}`,
  );
  const ok = failed === 0 && r.problems === 0;
  lines.push(ok ? "bench:e2e: ok" : `bench:e2e: FAIL (logs in ${r.runDir})`);
  process.stdout.write(`${lines.join("\n")}\n`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench:e2e: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
