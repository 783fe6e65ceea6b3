/**
 * `npm run bench:load [-- --seconds N] [-- --clients N]`: the API under 200 concurrent clients
 * for 60 s, a mixed load: 20% submit a job (from a pool of 400 fixture sites, so de-duplication
 * and real processing both happen), 50% poll a job's status, 30% fetch a stored
 * /sites/<site>/llms.txt. Reports requests/s, p50/p99 latency per kind, errors (must be 0), and
 * the worker's and Redis's memory sampled through the run.
 *
 * Baseline: the same clients against a bare node:http server answering a fixed JSON body, run
 * first for a quarter of the time: the ceiling of this machine's HTTP stack with this client.
 * Processes: redis-server, 1 API and 2 workers of the built CLI (extractive provider), and the
 * fixture sites; all on loopback. Exit 1 on any error.
 *
 * Then the starvation case (bench/load/starvation.ts): how late scheduled runs start behind a
 * 1,000-job one-off backlog, the old shared-queue layout against ltx's schedule queue.
 * `-- --only starvation` runs just that.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { freePort, startRedis } from "../test/support/redisServer";
import { ApiClient, field, mapLimit, sleep } from "./support/client";
import { seededRandom, startFlakySites } from "./support/flakySites";
import { createProcessGroup, PACKAGE_ROOT, scanLogs, waitHttpOk } from "./support/processes";
import { cpuSecondsOf, percentile, redisCpuSeconds } from "./support/measure";
import { formatStarvation, runStarvationCase } from "./load/starvation";

const args = process.argv.slice(2);
const argNumber = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} wants a positive number`);
  return v;
};
const SECONDS = argNumber("seconds", 60);
const CLIENTS = argNumber("clients", 200);
const SITES = 400;
const READY_SITES = 20;
const random = seededRandom(42);

type Kind = "submit" | "status" | "file";

interface Stats {
  count: Record<Kind, number>;
  latencies: Record<Kind, number[]>;
  errors: Map<string, number>;
  /** Seconds measured (the run less its warm-up). */
  seconds: number;
}

async function main(): Promise<number> {
  if (!fs.existsSync(path.join(PACKAGE_ROOT, "dist", "cli", "ltx.js")))
    throw new Error("dist/ is missing: run `npm run build` first (npm run bench:load does)");
  const hardDeadline = setTimeout(
    () => {
      process.stderr.write("bench:load: hard deadline reached, giving up\n");
      process.exit(1);
    },
    (SECONDS * 1.25 + 120) * 1000,
  );

  // Other work on the machine skews every figure here: print what was running, as a load average.
  const loadAtStart = os.loadavg()[0] ?? NaN;
  const baseline = await runBaseline(Math.max(3, Math.round(SECONDS / 4)));

  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "ltx-load-"));
  const redis = await startRedis({ appendonly: true });
  const sites = await startFlakySites({ servers: 4, pagesPerSite: 4, errorRate: 0, slowRate: 0, slowMs: 0, random });
  const group = createProcessGroup(runDir);
  process.once("exit", () => group.killAll());
  try {
    const port = await freePort();
    const env = {
      REDIS_URL: redis.url,
      HOST: "127.0.0.1",
      PORT: String(port),
      LOG_LEVEL: "warn",
      ALLOW_PRIVATE_NETWORKS: "1",
      RATE_LIMIT_PER_MINUTE: "100000000", // 200 clients share one loopback address
      MAX_QUEUED_PER_CLIENT: "100000000", // … and so one fair-share client
      LTX_PROVIDER: "extractive",
      WORKER_CONCURRENCY: "8",
      JOB_RETENTION_COUNT: "1000", // finished jobs kept per state: Redis plateaus instead of growing
      EXTRACT_THREADS: "1",
    };
    const apiProc = group.spawn("api", "api", env);
    const workers = [group.spawn("worker", "worker-1", env), group.spawn("worker", "worker-2", env)];
    const base = `http://127.0.0.1:${port}`;
    if (!(await waitHttpOk(`${base}/healthz`, 20_000))) throw new Error(`the API did not come up; logs in ${runDir}`);
    const client = new ApiClient(base);
    const reader = new Redis(redis.url, { maxRetriesPerRequest: 3 });

    // Warm-up: some sites with stored files (for the file fetches) and job ids to poll.
    const siteUrls = Array.from({ length: SITES }, (_, i) => sites.siteUrl(i));
    const jobIds: string[] = [];
    const fileLinks: string[] = [];
    await mapLimit(siteUrls.slice(0, READY_SITES), 10, async (url) => {
      const a = await client.request("POST", "/api/jobs", { url });
      jobIds.push(String(field(a.body, "id")));
      fileLinks.push(String(field(field(a.body, "links"), "llmsTxt")));
    });
    for (let i = 0; i < 300; i++) {
      const views = await Promise.all(jobIds.map((id) => client.request("GET", `/api/jobs/${id}`)));
      if (views.every((v) => field(v.body, "status") === "success")) break;
      await sleep(200);
    }
    const before = await sampleMemory(
      reader,
      workers.map((w) => w.pid()),
    );

    const recentIds = Array.from({ length: 300 }, (_, i) => jobIds[i % jobIds.length] as string);
    let recentNext = 0;
    const samples: Array<{ t: number; workerRssMb: number[]; redisMb: number }> = [];
    const sampler = setInterval(
      () =>
        void sampleMemory(
          reader,
          workers.map((w) => w.pid()),
        ).then((m) => samples.push({ t: Math.round((Date.now() - started) / 1000), ...m })),
      10_000,
    );
    const cpuBefore = {
      api: cpuSecondsOf(apiProc.pid()),
      workers: workers.map((w) => cpuSecondsOf(w.pid())),
      redis: await redisCpuSeconds(reader),
      harness: process.cpuUsage(),
    };
    const started = Date.now();
    const stats = await runClients(SECONDS, CLIENTS, async (kind) => {
      if (kind === "submit") {
        const url = siteUrls[Math.floor(random() * SITES)] as string;
        const res = await fetch(`${base}/api/jobs`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ url }),
          signal: AbortSignal.timeout(30_000),
        });
        const body = (await res.json()) as unknown;
        const id = field(body, "id");
        // Poll recent jobs only: retention (JOB_RETENTION_COUNT) removes old finished ones, and a
        // 404 for a job that was reaped is right, not an error of the API.
        if (typeof id === "string") recentIds[recentNext++ % recentIds.length] = id;
        return res.status;
      }
      const target =
        kind === "status"
          ? `/api/jobs/${recentIds[Math.floor(random() * recentIds.length)]}`
          : (fileLinks[Math.floor(random() * fileLinks.length)] as string);
      const res = await fetch(`${base}${target}`, { signal: AbortSignal.timeout(30_000) });
      await res.arrayBuffer();
      return res.status;
    });
    clearInterval(sampler);
    const elapsed = (Date.now() - started) / 1000;
    const harnessCpu = process.cpuUsage(cpuBefore.harness);
    const cpu = {
      api: cpuSecondsOf(apiProc.pid()) - cpuBefore.api,
      workers: workers.reduce((n, w, i) => n + cpuSecondsOf(w.pid()) - (cpuBefore.workers[i] ?? 0), 0),
      redis: (await redisCpuSeconds(reader)) - cpuBefore.redis,
      harness: (harnessCpu.user + harnessCpu.system) / 1e6,
    };
    const after = await sampleMemory(
      reader,
      workers.map((w) => w.pid()),
    );
    await reader.quit();
    await Promise.all(group.all().map((p) => p.terminate(30_000)));
    const problems = scanLogs(group.all().map((p) => p.logFile));

    return report({ baseline, stats, elapsed, before, after, samples, problems, runDir, cpu, loadAtStart });
  } finally {
    clearTimeout(hardDeadline);
    group.killAll();
    await sites.close();
    await redis.stop();
  }
}

const MIX: Array<[Kind, number]> = [
  ["submit", 0.2],
  ["status", 0.5],
  ["file", 0.3],
];

function pickKind(): Kind {
  let r = random();
  for (const [kind, share] of MIX) {
    if (r < share) return kind;
    r -= share;
  }
  return "status";
}

/** `clients` loops, each one request at a time, until `seconds` pass. Any non-2xx/304 is an error. */
async function runClients(seconds: number, clients: number, call: (kind: Kind) => Promise<number>): Promise<Stats> {
  const stats: Stats = {
    count: { submit: 0, status: 0, file: 0 },
    latencies: { submit: [], status: [], file: [] },
    errors: new Map(),
    seconds: 0,
  };
  const end = Date.now() + seconds * 1000;
  // The first second opens 200 connections at once and runs cold code: not what we measure.
  const measureFrom = Date.now() + Math.min(1000, seconds * 100);
  const loop = async (): Promise<void> => {
    // Bounded in time, and in count: at most 10 M requests per client can't be reached in practice.
    for (let i = 0; i < 10_000_000 && Date.now() < end; i++) {
      const kind = pickKind();
      const t = performance.now();
      let problem: string | undefined;
      try {
        const status = await call(kind);
        if (!(status >= 200 && status < 300) && status !== 304) problem = `${kind} ${status}`;
      } catch (e) {
        problem = `${kind} ${e instanceof Error ? e.message : String(e)}`;
      }
      if (Date.now() >= measureFrom) {
        stats.latencies[kind].push(performance.now() - t);
        stats.count[kind]++;
      }
      if (problem) stats.errors.set(problem, (stats.errors.get(problem) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  stats.seconds = (Date.now() - measureFrom) / 1000;
  return stats;
}

/** The ceiling: the same client loops against a bare server answering a fixed small JSON. */
async function runBaseline(seconds: number): Promise<{ rps: number; p50: number; p99: number }> {
  const body = JSON.stringify({ id: "1", status: "success", progress: { phase: "done", pagesDone: 5, pagesTotal: 5 } });
  const server = http.createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(body));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const stats = await runClients(seconds, CLIENTS, async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    await res.arrayBuffer();
    return res.status;
  });
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const all = [...stats.latencies.submit, ...stats.latencies.status, ...stats.latencies.file];
  return { rps: all.length / stats.seconds, p50: percentile(all, 0.5), p99: percentile(all, 0.99) };
}

async function sampleMemory(redis: Redis, pids: number[]): Promise<{ workerRssMb: number[]; redisMb: number }> {
  const info = await redis.info("memory").catch(() => "");
  const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
  return { workerRssMb: pids.map(rssMb), redisMb: used / 1024 / 1024 };
}

function rssMb(pid: number): number {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);
    return kb / 1024;
  } catch {
    return NaN;
  }
}

interface ReportInput {
  loadAtStart: number;
  cpu: { api: number; workers: number; redis: number; harness: number };
  baseline: { rps: number; p50: number; p99: number };
  stats: Stats;
  elapsed: number;
  before: { workerRssMb: number[]; redisMb: number };
  after: { workerRssMb: number[]; redisMb: number };
  samples: Array<{ t: number; workerRssMb: number[]; redisMb: number }>;
  problems: Array<{ file: string; line: string }>;
  runDir: string;
}

function report(r: ReportInput): number {
  const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : "?");
  const all = [...r.stats.latencies.submit, ...r.stats.latencies.status, ...r.stats.latencies.file];
  const rps = all.length / r.stats.seconds;
  const errors = [...r.stats.errors.values()].reduce((a, b) => a + b, 0);
  const mem = (m: { workerRssMb: number[]; redisMb: number }): string =>
    `workers ${m.workerRssMb.map((x) => f(x)).join(" + ")} MB RSS, redis ${f(m.redisMb)} MB`;
  const lines = [
    "",
    `bench:load — ${CLIENTS} concurrent clients, ${f(r.elapsed, 0)} s, mix 20% submit / 50% status / 30% llms.txt (${os.availableParallelism()} cores)`,
    "",
    "                      requests      req/s    p50 ms    p99 ms",
    `baseline (bare http)  ${"".padStart(8)}  ${f(r.baseline.rps, 0).padStart(9)}  ${f(r.baseline.p50).padStart(8)}  ${f(r.baseline.p99).padStart(8)}`,
    `ltx (all)             ${String(all.length).padStart(8)}  ${f(rps, 0).padStart(9)}  ${f(percentile(all, 0.5)).padStart(8)}  ${f(percentile(all, 0.99)).padStart(8)}`,
  ];
  for (const kind of ["submit", "status", "file"] as const) {
    const l = r.stats.latencies[kind];
    lines.push(
      `  ${kind.padEnd(20)}${String(l.length).padStart(8)}  ${f(l.length / r.stats.seconds, 0).padStart(9)}  ${f(percentile(l, 0.5)).padStart(8)}  ${f(percentile(l, 0.99)).padStart(8)}`,
    );
  }
  lines.push(
    `ratio ltx/baseline    req/s ${f(rps / r.baseline.rps, 2)}`,
    `CPU during the run (core-seconds of ${f(r.elapsed * os.availableParallelism(), 0)}): API ${f(r.cpu.api)}, workers ${f(r.cpu.workers)}, redis ${f(r.cpu.redis)}, load clients ${f(r.cpu.harness)}`,
    "",
    `errors: ${errors}${
      errors
        ? ` (${[...r.stats.errors]
            .slice(0, 5)
            .map(([k, v]) => `${v}× ${k}`)
            .join("; ")})`
        : ""
    }`,
    `memory before: ${mem(r.before)}`,
    ...r.samples.map((s) => `memory at ${String(s.t).padStart(3)} s: ${mem(s)}`),
    `memory after:  ${mem(r.after)}`,
    `crash/unhandled-rejection log lines: ${r.problems.length}`,
    `machine load average (1 min) at the start: ${f(r.loadAtStart, 2)}, at the end: ${f(os.loadavg()[0] ?? NaN, 2)}`,
  );
  const ok = errors === 0 && r.problems.length === 0;
  lines.push(ok ? "bench:load: ok" : `bench:load: FAIL (logs in ${r.runDir})`);
  process.stdout.write(`${lines.join("\n")}\n`);
  return ok ? 0 : 1;
}

/** `--only starvation` runs just the starvation case; otherwise it follows the HTTP load. */
async function mainWithStarvation(): Promise<number> {
  const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
  const code = only === "starvation" ? 0 : await main();
  const report = await runStarvationCase((msg) => void process.stderr.write(`${msg}\n`));
  process.stdout.write(`\n${formatStarvation(report)}\n`);
  return code;
}

mainWithStarvation().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench:load: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
