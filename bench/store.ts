/**
 * npm run bench:store — the file store at scale, on a fresh local redis-server and a temp
 * FILES_DIR (loopback only, every loop bounded in count and time):
 *
 *  1. import BENCH_STORE_SITES websites (default 10,000) through the website service, then save a
 *     synthetic result for each through the real result store (llms.txt ~30 KB, llms-full.txt
 *     ~1 MB, 100 page records): Redis bytes per site (INFO used_memory, schedulers included),
 *     disk per site, save time.
 *  2. GET an 8 MB llms-full.txt at 50 concurrent clients for BENCH_STORE_SECONDS (default 10)
 *     each: a bare node:http server piping fs.createReadStream of the same stored .gz file
 *     (baseline), the ltx API (built CLI, child process) sending the stored gzip bytes, and the
 *     API decompressing on the fly for a client without gzip. req/s, p50/p99, API RSS.
 * Goals: ≤ 16 KB of Redis per site; API RSS flat and < 200 MB while serving.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import type { PageRecord, PipelineResult } from "../src/pipeline/types";
import { qualityOf } from "../src/pipeline/validate/check";
import { createQueues } from "../src/queues/queues";
import { createFsFileStore } from "../src/store/files/fsFileStore";
import { fileKeys } from "../src/store/files/fileKeys";
import { createResultStore } from "../src/store/results";
import { createWebsiteStore } from "../src/store/websites";
import { createWebsiteService } from "../src/websites/service";
import { freePort, startRedis } from "../test/support/redisServer";
import { percentile } from "./support/measure";
import { createProcessGroup, waitHttpOk } from "./support/processes";

const SITES = Number(process.env.BENCH_STORE_SITES ?? 10_000);
const SECONDS = Number(process.env.BENCH_STORE_SECONDS ?? 10);
const SAVE_CONCURRENCY = 8;
const CLIENTS = 50;
const MAX_REQUESTS = 20_000; // per run: the time limit normally ends it first
const PREFIX = "ltx";

const WORDS =
  "the of and to in is for on with as by that this from are be at or an config server request response data file page section install usage option value default example returns".split(
    " ",
  );

/** Deterministic prose-like text (compresses ~4×, like documentation markdown). */
function text(bytes: number, seed: number): string {
  const out: string[] = [];
  let n = 0;
  let r = seed;
  while (n < bytes) {
    r = (r * 1103515245 + 12345) & 0x7fffffff;
    const w = WORDS[r % WORDS.length] as string;
    const piece = r % 17 === 0 ? `${w}.\n\n` : `${w} `;
    out.push(piece);
    n += piece.length;
  }
  return out.join("");
}

const BASE_TXT = text(30_000, 7);
const BASE_FULL = text(1_000_000, 11);
// One check for all: the text is the same for every site but its first line.
const QUALITY = qualityOf(`# Site 0\n\n> Synthetic.\n\n${BASE_TXT}`, "http://127.0.0.1:9");

function result(i: number, full = BASE_FULL): PipelineResult {
  const origin = "http://127.0.0.1:9";
  const pages: PageRecord[] = Array.from({ length: 100 }, (_, p) => ({
    url: `${origin}/site${i}/page-${p}.html`,
    status: 200,
    depth: 1,
    title: `Page ${p}`,
    hash: `${i.toString(16).padStart(8, "0")}${p.toString(16).padStart(56, "0")}`,
    etag: `"${i}-${p}"`,
    lastModified: "Mon, 23 Nov 2026 10:00:00 GMT",
  }));
  return {
    site: { origin, prefix: `/site${i}/`, startUrl: `${origin}/site${i}/`, key: `127.0.0.1:9/site${i}` },
    llmsTxt: `# Site ${i}\n\n> Synthetic.\n\n${BASE_TXT}`,
    llmsFullTxt: `# Site ${i}\n\n${full}`,
    pages,
    provider: "extractive",
    model: null,
    attempts: 0,
    fallback: false,
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0, requests: 0 },
    timings: { discoverMs: 1, crawlMs: 2, generateMs: 3, composeMs: 4, totalMs: 10 },
    warnings: [],
    quality: QUALITY,
    generatedAt: new Date().toISOString(),
    content: [],
  };
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1] ?? 0);
}

function diskUsage(dir: string): { apparent: number; blocks: number; files: number } {
  let apparent = 0;
  let blocks = 0;
  let files = 0;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const s = fs.statSync(p);
        apparent += s.size;
        blocks += s.blocks * 512;
        files++;
      }
    }
  };
  walk(dir);
  return { apparent, blocks, files };
}

function rssMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return Number(kb) / 1024;
  } catch {
    return NaN;
  }
}

interface LoadStats {
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  mbPerS: number;
  rss?: { min: number; max: number };
}

/** CLIENTS loops of GET url for SECONDS (or MAX_REQUESTS in all), each reading the whole body. */
async function load(
  url: string,
  headers: Record<string, string>,
  expectBytes: number,
  pid?: number,
): Promise<LoadStats> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const latencies: number[] = [];
  let errors = 0;
  let bytes = 0;
  let issued = 0;
  const rss: number[] = [];
  const sampler = pid ? setInterval(() => rss.push(rssMb(pid)), 250) : undefined;
  const started = Date.now();
  const until = started + SECONDS * 1000;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const req = http.get(url, { agent, headers, timeout: 30_000 }, (res) => {
        let n = 0;
        res.on("data", (c: Buffer) => (n += c.length));
        res.on("end", () => {
          if (res.statusCode === 200 && n === expectBytes) latencies.push(performance.now() - t0);
          else errors++;
          bytes += n;
          resolve();
        });
        res.on("error", () => (errors++, resolve()));
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", () => (errors++, resolve()));
    });
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (Date.now() < until && issued < MAX_REQUESTS) {
        issued++;
        await one();
      }
    }),
  );
  const secs = (Date.now() - started) / 1000;
  if (sampler) clearInterval(sampler);
  agent.destroy();
  const stats: LoadStats = {
    requests: latencies.length,
    errors,
    rps: latencies.length / secs,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    mbPerS: bytes / secs / 1e6,
  };
  if (rss.length > 0) stats.rss = { min: Math.min(...rss), max: Math.max(...rss) };
  return stats;
}

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    process.stderr.write("bench:store: hard deadline (20 min) reached\n");
    process.exit(1);
  }, 20 * 60_000);
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "ltx-bench-store-"));
  const filesDir = path.join(runDir, "files");
  const loadBefore = os.loadavg()[0] ?? NaN;
  // As in docker-compose.yml: BullMQ's hashes stay compact listpacks.
  const server = await startRedis({ args: ["--hash-max-listpack-value", "1024"] });
  const redis = new Redis(server.url, { maxRetriesPerRequest: 2 });
  const group = createProcessGroup(runDir);
  process.once("exit", () => group.killAll());
  const files = createFsFileStore({ dir: filesDir });
  try {
    // 1. Websites, then one saved result each.
    const queues = createQueues({
      connection: redis,
      prefix: PREFIX,
      jobs: { maxAttempts: 1, retryBaseDelayMs: 1000, retryMaxDelayMs: 1000, retentionDays: 1, retentionCount: 1000 },
    });
    const service = createWebsiteService({
      websites: createWebsiteStore(redis, { prefix: PREFIX }),
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
    const mem0 = await usedMemory(redis);
    const urls = Array.from({ length: SITES }, (_, i) => `http://127.0.0.1:9/site${i}/`);
    for (let i = 0; i < urls.length; i += 5000)
      await service.import({ urls: urls.slice(i, i + 5000), every: "1d", spread: "1d" });
    const mem1 = await usedMemory(redis);

    const store = createResultStore(redis, { prefix: PREFIX, maxVersions: 20, files });
    const saveMs: number[] = [];
    let next = 0;
    const saveStarted = Date.now();
    await Promise.all(
      Array.from({ length: SAVE_CONCURRENCY }, async () => {
        for (let i = next++; i < SITES; i = next++) {
          const r = result(i);
          const t0 = performance.now();
          await store.save({ siteKey: r.site.key, url: r.site.startUrl, jobId: `j${i}`, result: r });
          saveMs.push(performance.now() - t0);
          if (i > 0 && i % 1000 === 0) process.stderr.write(`  saved ${i}/${SITES}\n`);
        }
      }),
    );
    const saveSecs = (Date.now() - saveStarted) / 1000;
    const mem2 = await usedMemory(redis);
    const disk = diskUsage(filesDir);
    await queues.close();

    // 2. One 8 MB llms-full.txt, served three ways.
    const big = result(SITES, text(8 * 1024 * 1024, 13));
    await store.save({ siteKey: "big.example", url: "http://big.example/", jobId: "big", result: big });
    const ref = await store.getFile("big.example", "llms-full.txt");
    if (!ref) throw new Error("the big file was not stored");
    const gzPath = path.join(
      filesDir,
      ...fileKeys(PREFIX).file("big.example", ref.files.saveId, "llms-full.txt").split("/"),
    );
    const plainBytes = Buffer.byteLength(big.llmsFullTxt);

    const barePort = await freePort();
    const bareScript = `const fs = require("node:fs"); require("node:http").createServer((req, res) => { res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "content-encoding": "gzip", "content-length": fs.statSync(process.env.FILE).size }); fs.createReadStream(process.env.FILE).pipe(res); }).listen(Number(process.env.PORT), "127.0.0.1");`;
    const bare = spawn(process.execPath, ["-e", bareScript], {
      env: { PATH: process.env.PATH ?? "", PORT: String(barePort), FILE: gzPath },
      stdio: "ignore",
    });
    let bareStats: LoadStats;
    try {
      if (!(await waitHttpOk(`http://127.0.0.1:${barePort}/`, 10_000))) throw new Error("bare server did not come up");
      bareStats = await load(`http://127.0.0.1:${barePort}/`, { "accept-encoding": "gzip" }, ref.gzipBytes, bare.pid);
    } finally {
      bare.kill("SIGKILL");
    }

    const apiPort = await freePort();
    const api = group.spawn("api", "api", {
      REDIS_URL: server.url,
      REDIS_PREFIX: PREFIX,
      FILES_DIR: filesDir,
      HOST: "127.0.0.1",
      PORT: String(apiPort),
      LOG_LEVEL: "warn",
    });
    const base = `http://127.0.0.1:${apiPort}`;
    if (!(await waitHttpOk(`${base}/healthz`, 30_000))) throw new Error(`the API did not come up; log in ${runDir}`);
    const fileUrl = `${base}/sites/big.example/llms-full.txt`;
    const rssIdle = rssMb(api.pid());
    const gzStats = await load(fileUrl, { "accept-encoding": "gzip" }, ref.gzipBytes, api.pid());
    const plainStats = await load(fileUrl, {}, plainBytes, api.pid());
    await api.terminate(15_000);

    const n = SITES;
    const fmt = (v: number, d = 0): string =>
      v.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
    const row = (name: string, s: LoadStats): string =>
      `| ${name} | ${fmt(s.rps, 1)} | ${fmt(s.p50)} | ${fmt(s.p99)} | ${fmt(s.mbPerS)} | ${s.errors} | ${s.rss ? `${fmt(s.rss.min)}–${fmt(s.rss.max)}` : "—"} |`;
    const lines = [
      `bench:store — ${n.toLocaleString("en-US")} sites, load average ${loadBefore.toFixed(1)} at start (${os.cpus().length} cores)`,
      "",
      "| per site | value |",
      "|---|---|",
      `| Redis, website + scheduler (import) | ${fmt((mem1 - mem0) / n / 1024, 2)} KB |`,
      `| Redis, result record (save) | ${fmt((mem2 - mem1) / n / 1024, 2)} KB |`,
      `| **Redis, total** (goal ≤ 16 KB) | **${fmt((mem2 - mem0) / n / 1024, 2)} KB** |`,
      `| disk (gzip'd files; allocated blocks) | ${fmt(disk.apparent / n / 1024, 1)} KB (${fmt(disk.blocks / n / 1024, 1)} KB), ${fmt(disk.files / n, 1)} files |`,
      `| plain bytes saved (llms.txt + llms-full.txt) | ${fmt((Buffer.byteLength(result(0).llmsTxt) + Buffer.byteLength(result(0).llmsFullTxt)) / 1024)} KB |`,
      `| save time p50 / p99 (${SAVE_CONCURRENCY} at once) | ${fmt(percentile(saveMs, 0.5), 1)} / ${fmt(percentile(saveMs, 0.99), 1)} ms; ${fmt(n / saveSecs, 1)} saves/s |`,
      "",
      `GET of an ${fmt(plainBytes / 1048576, 1)} MB llms-full.txt (${fmt(ref.gzipBytes / 1048576, 2)} MB gzip'd), ${CLIENTS} clients, ${SECONDS} s each:`,
      "",
      "| server | req/s | p50 ms | p99 ms | MB/s sent | errors | server RSS MB |",
      "|---|---|---|---|---|---|---|",
      row("bare fs.createReadStream of the .gz file", bareStats),
      row("ltx API, client accepts gzip (stored bytes as-is)", gzStats),
      row("ltx API, client without gzip (decompressed on the fly)", plainStats),
      "",
      `ratio ltx/bare (gzip): ${(gzStats.rps / bareStats.rps).toFixed(2)} req/s; API RSS idle ${fmt(rssIdle)} MB`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    clearTimeout(deadline);
    group.killAll();
    await files.close();
    redis.disconnect();
    await server.stop();
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench:store failed: ${String((e as Error)?.stack ?? e)}\n`);
    process.exit(1);
  },
);
