/**
 * The starvation case of `npm run bench:load`: how late scheduled runs start while 1,000 one-off
 * jobs wait. Both rounds use the same redis-server, workers of the same size (WORKER slots) and a
 * stub job of JOB_MS, so only the queue layout differs:
 *
 *   baseline  the old layout: the websites' job schedulers on the one-off queue, served first in,
 *             first out by one Worker (what BullMQ does by itself);
 *   ltx       the schedulers on the schedule queue with SCHEDULE_CONCURRENCY slots of their own
 *             (websites/sync.ts, workers/worker.ts), runs through the website hooks (outcomes.ts).
 *
 * Start delay = when a worker took the run − when its tick fell due (queues/runDelay.ts). A tick
 * that never started within the round counts as late by the rest of the round.
 */
import { Queue, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { sleep } from "../../src/lib/time";
import { dueAtOf } from "../../src/queues/runDelay";
import { startRedis } from "../../test/support/redisServer";
import { createScheduleHarness, stubResult } from "../../test/support/scheduleHarness";
import { percentile } from "../support/measure";

const BACKLOG = 1000;
const WEBSITES = 20;
const EVERY_MS = 2000;
const JOB_MS = 100;
const WORKER_SLOTS = 4;
const SCHEDULE_SLOTS = 2;
const ROUND_MS = 20_000;

export interface StarvationRound {
  ticksStarted: number;
  nominal: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface StarvationReport {
  baseline: StarvationRound;
  ltx: StarvationRound;
}

function summarise(delays: number[], pendingDue: number[], end: number): StarvationRound {
  const all = [...delays, ...pendingDue.map((due) => Math.max(0, end - due))].sort((a, b) => a - b);
  return {
    ticksStarted: delays.length,
    nominal: WEBSITES * Math.floor(ROUND_MS / EVERY_MS),
    p50Ms: percentile(all, 0.5),
    p99Ms: percentile(all, 0.99),
    maxMs: all[all.length - 1] ?? 0,
  };
}

const oneOff = (i: number) => ({
  name: "generate" as const,
  data: { url: `http://127.0.0.1:9/oneoff${i}/`, siteKey: `127.0.0.1:9/oneoff${i}`, trigger: "api" as const },
});

async function baselineRound(url: string): Promise<StarvationRound> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const prefix = "starve-base";
  const queue = new Queue("generate", { connection, prefix });
  await queue.addBulk(Array.from({ length: BACKLOG }, (_, i) => oneOff(i)));
  const start = Date.now();
  for (let i = 0; i < WEBSITES; i++)
    await queue.upsertJobScheduler(
      `site${i}`,
      { every: EVERY_MS, startDate: start },
      {
        name: "generate",
        data: { url: `http://127.0.0.1:9/s${i}/`, siteKey: `127.0.0.1:9/s${i}`, trigger: "schedule" },
      },
    );
  const delays: number[] = [];
  const worker = new Worker(
    "generate",
    async (job: Job) => {
      if ((job.data as { trigger?: string }).trigger === "schedule") delays.push(Date.now() - dueAtOf(job));
      await sleep(JOB_MS);
      return stubResult(job.data as { siteKey: string; url: string });
    },
    { connection, prefix, concurrency: WORKER_SLOTS },
  );
  await sleep(ROUND_MS);
  const end = Date.now();
  await worker.close();
  // Each scheduler's one waiting tick (BullMQ adds the next only when one is taken) is still late.
  const pending = (await queue.getJobs(["waiting", "delayed", "prioritized"]))
    .filter((j) => j.id?.startsWith("repeat:"))
    .map((j) => dueAtOf(j))
    .filter((due) => due <= end);
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return summarise(delays, pending, end);
}

async function ltxRound(url: string): Promise<StarvationRound> {
  const h = await createScheduleHarness(url);
  try {
    await h.queues.generate.addBulk(Array.from({ length: BACKLOG }, (_, i) => oneOff(i)));
    await h.startWorker({ stubMs: JOB_MS, concurrency: WORKER_SLOTS, scheduleConcurrency: SCHEDULE_SLOTS });
    for (let i = 0; i < WEBSITES; i++) await h.service.create({ url: `http://127.0.0.1:9/s${i}/`, every: "2s" });
    await sleep(ROUND_MS);
    const end = Date.now();
    const delays = h.runs
      .filter((r) => r.trigger === "schedule")
      .map((r) => r.at - JOB_MS - dueAtOf({ id: r.jobId, timestamp: 0, delay: 0 }));
    const pending = (await h.queues.schedule.getJobs(["waiting", "prioritized"]))
      .map((j) => dueAtOf(j))
      .filter((d) => d <= end);
    return summarise(
      delays.map((d) => Math.max(0, d)),
      pending,
      end,
    );
  } finally {
    await h.close();
  }
}

export async function runStarvationCase(log: (msg: string) => void): Promise<StarvationReport> {
  const redis = await startRedis();
  try {
    log(
      `starvation: ${BACKLOG} one-off jobs of ${JOB_MS} ms queued, ${WEBSITES} websites every ${EVERY_MS / 1000} s, ${ROUND_MS / 1000} s per round`,
    );
    const baseline = await baselineRound(redis.url);
    const ltx = await ltxRound(redis.url);
    return { baseline, ltx };
  } finally {
    await redis.stop();
  }
}

export function formatStarvation(r: StarvationReport): string {
  const row = (name: string, s: StarvationRound): string =>
    `${name.padEnd(10)} ticks started ${String(s.ticksStarted).padStart(4)} / ${s.nominal} nominal; start delay p50 ${(s.p50Ms / 1000).toFixed(2)} s, p99 ${(s.p99Ms / 1000).toFixed(2)} s, max ${(s.maxMs / 1000).toFixed(2)} s`;
  const ratio = r.ltx.p99Ms > 0 ? (r.baseline.p99Ms / r.ltx.p99Ms).toFixed(1) : "∞";
  const goal = r.ltx.p99Ms < 5000 ? "met" : "NOT met";
  return [
    "starvation case (scheduled runs behind a 1,000-job one-off backlog)",
    row("baseline", r.baseline),
    row("ltx", r.ltx),
    `p99 start delay: baseline / ltx = ${ratio}×; goal p99 < 5 s ${goal}`,
  ].join("\n");
}
