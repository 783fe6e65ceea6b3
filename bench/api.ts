/**
 * `npm run bench:api [-- --seconds N] [-- --clients N] [-- --requests N]`: `POST /api/jobs`
 * requests/s and p50/p99 latency at 50 concurrent clients (keep-alive http.Agent, one request at a
 * time per client), against the ceiling: `Queue.add` with the same payload and options (our own
 * jobId + per-site deduplication, the catalog's defaults) in a bare loop in this process, at the
 * same concurrency, on the same redis-server. Goal: ≥ 50% of the bare rate, p99 < 50 ms.
 *
 * Processes: a redis-server of its own (test/support/redisServer.ts) and one API of the built CLI
 * (`node bin/ltx.js api`), all on 127.0.0.1. No worker runs, so submitted URLs are never fetched;
 * each submission names a distinct site (`http://127.0.0.1:9/site-<n>/`), or de-duplication would
 * answer from the job already in flight. Redis is flushed between the two runs. CPU seconds of
 * each process are printed: on 2 cores the clients, the API and Redis share them. Two floors follow
 * (`--no-floors` skips them): a bare node:http server and a bare Express app in a child process,
 * the same clients: the part of the API's cost that is the HTTP stack itself.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { jobCatalog } from "../src/queues/catalog";
import { dedupIdOf, generateJobData } from "../src/queues/enqueue";
import { freePort, startRedis } from "../test/support/redisServer";
import { cpuSecondsOf, percentile, redisCpuSeconds } from "./support/measure";
import { createProcessGroup, PACKAGE_ROOT, scanLogs, waitHttpOk } from "./support/processes";

const args = process.argv.slice(2);
const argNumber = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} wants a positive number`);
  return v;
};
const SECONDS = argNumber("seconds", 15);
const CLIENTS = argNumber("clients", 50);
/** Upper bound on requests per run, whatever the time. */
const MAX_REQUESTS = argNumber("requests", 1_000_000);
/** Not measured: connections opening, cold code, JIT. */
const WARMUP_MS = Math.min(2000, SECONDS * 150);

interface RunStats {
  ok: number;
  errors: Map<string, number>;
  latencies: number[];
  seconds: number;
  /** CPU seconds of the server process during the run (floors only; the API's are in ltxCpu). */
  serverCpu?: number;
}

/** `clients` loops, each one call at a time, until the time or the request budget is spent. */
async function runLoops(call: (n: number) => Promise<string | undefined>): Promise<RunStats> {
  const stats: RunStats = { ok: 0, errors: new Map(), latencies: [], seconds: 0 };
  const start = Date.now();
  const measureFrom = start + WARMUP_MS;
  const end = measureFrom + SECONDS * 1000;
  let next = 0;
  const loop = async (): Promise<void> => {
    while (Date.now() < end && next < MAX_REQUESTS) {
      const n = next++;
      const t = performance.now();
      let problem: string | undefined;
      try {
        problem = await call(n);
      } catch (e) {
        problem = e instanceof Error ? e.message : String(e);
      }
      const ms = performance.now() - t;
      if (Date.now() >= measureFrom) {
        if (problem === undefined) {
          stats.ok++;
          stats.latencies.push(ms);
        }
      }
      if (problem !== undefined) stats.errors.set(problem, (stats.errors.get(problem) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, loop));
  stats.seconds = (Date.now() - Math.max(measureFrom, start)) / 1000;
  return stats;
}

const siteUrl = (prefix: string, n: number): string => `http://127.0.0.1:9/${prefix}-${n}/`;

/** The ceiling: Queue.add with ltx's payload and options, no HTTP, no validation, no rate limit. */
async function runBare(redisUrl: string): Promise<RunStats> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  const jobs = {
    maxAttempts: 5,
    retryBaseDelayMs: 60_000,
    retryMaxDelayMs: 3_600_000,
    retentionDays: 7,
    retentionCount: 10_000,
  };
  const queue = new Queue("generate", {
    connection,
    prefix: "bare",
    defaultJobOptions: jobCatalog.generate.defaults(jobs),
  });
  try {
    await queue.waitUntilReady();
    return await runLoops(async (n) => {
      // Built inside the timed call, as the API builds it per request: both sides pay for it.
      const data = generateJobData({ url: siteUrl("bare", n), trigger: "api" });
      const jobId = randomUUID();
      const job = await queue.add("generate", data, { jobId, deduplication: { id: dedupIdOf(data.siteKey) } });
      return job.id === jobId ? undefined : "deduplicated";
    });
  } finally {
    await queue.close();
    await connection.quit();
  }
}

/** POST /api/jobs through a keep-alive agent; anything but 202 is an error. */
async function runApi(base: string): Promise<RunStats> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const { hostname, port } = new URL(base);
  const post = (n: number): Promise<string | undefined> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ url: siteUrl("site", n) });
      const req = http.request(
        {
          agent,
          hostname,
          port,
          method: "POST",
          path: "/api/jobs",
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve(
              res.statusCode === 202
                ? undefined
                : `${res.statusCode} ${Buffer.concat(chunks).toString("utf8").slice(0, 120)}`,
            ),
          );
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", reject);
      req.end(body);
    });
  try {
    return await runLoops(post);
  } finally {
    agent.destroy();
  }
}

/**
 * Reference points for the HTTP stack alone, in a child process like the API: a node:http server
 * and an Express 5 app with express.json(), each reading the body and answering a fixed 202 JSON.
 * They show how much of the API's cost is the stack itself rather than ltx's work.
 */
const FLOORS = {
  "node:http floor (no Redis)": `require("node:http").createServer((req, res) => { req.resume(); req.on("end", () => res.writeHead(202, { "content-type": "application/json" }).end('{"id":"x","status":"queued"}')); }).listen(Number(process.env.PORT), "127.0.0.1");`,
  "express floor (json, no Redis)": `const express = require("express"); const app = express(); app.use(express.json()); app.post("/api/jobs", (req, res) => res.status(202).json({ id: "x", url: req.body.url, status: "queued" })); app.listen(Number(process.env.PORT), "127.0.0.1");`,
} as const;

async function runFloor(script: string): Promise<RunStats> {
  const port = await freePort();
  const child = spawn(process.execPath, ["-e", script], {
    cwd: PACKAGE_ROOT,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PORT: String(port), NODE_ENV: "production" },
    stdio: "ignore",
  });
  try {
    if (!(await waitListening(port, 10_000))) throw new Error("a floor server did not come up");
    const cpu0 = cpuSecondsOf(child.pid ?? -1);
    const stats = await runApi(`http://127.0.0.1:${port}`);
    return { ...stats, serverCpu: cpuSecondsOf(child.pid ?? -1) - cpu0 };
  } finally {
    child.kill("SIGKILL");
  }
}

/** true once something accepts connections on 127.0.0.1:port. */
async function waitListening(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (up) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function main(): Promise<number> {
  if (!fs.existsSync(path.join(PACKAGE_ROOT, "dist", "cli", "ltx.js")))
    throw new Error("dist/ is missing: run `npm run build` first (npm run bench:api does)");
  const hardDeadline = setTimeout(
    () => {
      process.stderr.write("bench:api: hard deadline reached, giving up\n");
      process.exit(1);
    },
    (4 * SECONDS + 120) * 1000,
  );
  const loadBefore = os.loadavg()[0] ?? NaN;
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "ltx-bench-api-"));
  const redis = await startRedis();
  const group = createProcessGroup(runDir);
  process.once("exit", () => group.killAll());
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 2 });
  try {
    // 1. The ceiling, in this process.
    const harnessCpu0 = process.cpuUsage();
    const redisCpu0 = await redisCpuSeconds(admin);
    const bare = await runBare(redis.url);
    const bareCpu = {
      harness: cpuOf(process.cpuUsage(harnessCpu0)),
      redis: (await redisCpuSeconds(admin)) - redisCpu0,
    };
    await admin.flushall();

    // 2. The API of the built CLI in a child process.
    const port = await freePort();
    const api = group.spawn("api", "api", {
      REDIS_URL: redis.url,
      HOST: "127.0.0.1",
      PORT: String(port),
      LOG_LEVEL: "warn",
      // The submitted URLs are loopback; no worker runs, so nothing is ever fetched.
      ALLOW_PRIVATE_NETWORKS: "1",
      // All clients share one address; the limiter still runs (one Redis round trip per write).
      RATE_LIMIT_PER_MINUTE: "100000000",
      // …and one fair-share client: no worker runs, so every job stays queued.
      MAX_QUEUED_PER_CLIENT: "100000000",
    });
    const base = `http://127.0.0.1:${port}`;
    if (!(await waitHttpOk(`${base}/healthz`, 20_000))) throw new Error(`the API did not come up; log in ${runDir}`);
    const apiCpu0 = cpuSecondsOf(api.pid());
    const harnessCpu1 = process.cpuUsage();
    const redisCpu1 = await redisCpuSeconds(admin);
    const ltx = await runApi(base);
    const ltxCpu = {
      api: cpuSecondsOf(api.pid()) - apiCpu0,
      harness: cpuOf(process.cpuUsage(harnessCpu1)),
      redis: (await redisCpuSeconds(admin)) - redisCpu1,
    };
    // One-off jobs carry a fair-share priority, so they wait in the prioritized set.
    const queued = await Promise.all([admin.llen("ltx:generate:wait"), admin.zcard("ltx:generate:prioritized")])
      .then(([wait, prioritized]) => wait + prioritized)
      .catch(() => NaN);
    await api.terminate(15_000);
    const problems = scanLogs([api.logFile]);
    // 3. The HTTP stack alone (after the API has stopped, so nothing else competes).
    const floors: Array<[string, RunStats]> = [];
    if (!args.includes("--no-floors"))
      for (const [name, script] of Object.entries(FLOORS)) floors.push([name, await runFloor(script)]);
    return report({ bare, bareCpu, ltx, ltxCpu, floors, loadBefore, queued, problems: problems.length, runDir });
  } finally {
    clearTimeout(hardDeadline);
    group.killAll();
    await admin.quit().catch(() => undefined);
    await redis.stop();
  }
}

function cpuOf(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1e6;
}

interface ReportInput {
  bare: RunStats;
  bareCpu: { harness: number; redis: number };
  ltx: RunStats;
  ltxCpu: { api: number; harness: number; redis: number };
  floors: Array<[string, RunStats]>;
  loadBefore: number;
  queued: number;
  problems: number;
  runDir: string;
}

function report(r: ReportInput): number {
  const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : "?");
  const row = (name: string, s: RunStats): string =>
    `${name.padEnd(34)}${String(s.ok).padStart(8)}  ${f(s.ok / s.seconds, 0).padStart(7)}  ${f(percentile(s.latencies, 0.5)).padStart(7)}  ${f(percentile(s.latencies, 0.99)).padStart(7)}  ${f(s.latencies.reduce((a, b) => Math.max(a, b), -Infinity)).padStart(7)}`;
  const bareRps = r.bare.ok / r.bare.seconds;
  const ltxRps = r.ltx.ok / r.ltx.seconds;
  const p99 = percentile(r.ltx.latencies, 0.99);
  const errors = (s: RunStats): number => [...s.errors.values()].reduce((a, b) => a + b, 0);
  const errorText = (s: RunStats): string =>
    `${errors(s)}${
      errors(s)
        ? ` (${[...s.errors]
            .slice(0, 3)
            .map(([k, v]) => `${v}× ${k}`)
            .join("; ")})`
        : ""
    }`;
  const share = ltxRps / bareRps;
  const lines = [
    "",
    `bench:api — ${CLIENTS} concurrent clients, ${SECONDS} s measured per run after ${WARMUP_MS / 1000} s warm-up, ${os.availableParallelism()} cores, load average ${f(r.loadBefore, 2)} at start`,
    "",
    `${"".padEnd(34)}    jobs    req/s   p50 ms   p99 ms   max ms`,
    row("baseline (Queue.add, bare loop)", r.bare),
    row("ltx (POST /api/jobs, API process)", r.ltx),
    ...r.floors.map(
      ([name, s]) => `${row(`  ${name}`, s)}   server CPU ${f(((s.serverCpu ?? NaN) / (s.ok || 1)) * 1e6, 0)} µs/req`,
    ),
    `ratio ltx/baseline                req/s ${f(share, 2)}   (goal ≥ 0.50: ${share >= 0.5 ? "met" : "not met"}; p99 < 50 ms: ${p99 < 50 ? "met" : "not met"})`,
    "",
    `CPU seconds, baseline: loop process ${f(r.bareCpu.harness)}, redis ${f(r.bareCpu.redis)}  (of ${f(r.bare.seconds * os.availableParallelism(), 0)} core-seconds)`,
    `CPU seconds, ltx:      API ${f(r.ltxCpu.api)}, redis ${f(r.ltxCpu.redis)}, HTTP clients ${f(r.ltxCpu.harness)}  (of ${f(r.ltx.seconds * os.availableParallelism(), 0)} core-seconds; warm-up included)`,
    `CPU per request:       baseline ${f(((r.bareCpu.harness + r.bareCpu.redis) / (r.bare.ok || 1)) * 1e6, 0)} µs, ltx API ${f((r.ltxCpu.api / (r.ltx.ok || 1)) * 1e6, 0)} µs + redis ${f((r.ltxCpu.redis / (r.ltx.ok || 1)) * 1e6, 0)} µs`,
    `errors: baseline ${errorText(r.bare)}, ltx ${errorText(r.ltx)}; jobs waiting in the ltx queue at the end: ${r.queued}; crash lines in the API log: ${r.problems}`,
  ];
  const ok =
    errors(r.bare) === 0 && errors(r.ltx) === 0 && r.problems === 0 && r.floors.every(([, s]) => errors(s) === 0);
  lines.push(ok ? "bench:api: ok" : `bench:api: FAIL (log in ${r.runDir})`);
  process.stdout.write(`${lines.join("\n")}\n`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench:api: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
