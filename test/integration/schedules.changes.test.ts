/**
 * Change detection end to end: the real worker root (pipeline, openai provider against the fake
 * LLM server, result store) runs a website's scheduled runs. An unchanged site makes no LLM
 * request on its next run and the job ends success with unchanged: true; a changed site gets one
 * new version whose change summary names what changed.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { loadConfig } from "../../src/config/env";
import { silentLogger } from "../../src/lib/logger";
import { sleep } from "../../src/lib/time";
import { waitFor } from "../support/workerHarness";
import { createQueues, findGenerateJob, type Queues } from "../../src/queues/queues";
import { listVersions } from "../../src/websites/versions";
import { createWebsiteService, type WebsiteService } from "../../src/websites/service";
import { createResultStore } from "../../src/store/results";
import { createWebsiteStore, type Website, type WebsiteStore } from "../../src/store/websites";
import { runWorkerProcess, type WorkerProcess } from "../../src/workers/main";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fakeOpenAI";
import { startRedis, type RedisServer } from "../support/redisServer";
import { startSiteServer, type SiteServer } from "../support/siteServer";
import { testFileStore, testFilesDir } from "../support/fileStore";

const PREFIX = "chg";
let server: RedisServer;
let site: SiteServer;
let fake: FakeOpenAI;
let dir: string;
const filesDir = testFilesDir();
let redis: Redis;
let queues: Queues;
let websites: WebsiteStore;
let service: WebsiteService;
let worker: WorkerProcess;

const page = (title: string, body: string, links: string[] = []) =>
  `<!doctype html><html lang="en"><head><title>${title}</title><meta name="description" content="${title} page of the Acme docs."></head><body><main><h1>${title}</h1><p>${body} ${"Acme makes tools for people who write documentation. ".repeat(8)}</p>${links.map((l) => `<a href="${l}">${l}</a>`).join(" ")}</main></body></html>`;

function writeSite(extra: boolean): void {
  fs.mkdirSync(path.join(dir, "guide"), { recursive: true });
  const links = ["/guide/alpha.html", "/guide/beta.html", ...(extra ? ["/guide/gamma.html"] : [])];
  fs.writeFileSync(path.join(dir, "index.html"), page("Home | Acme Docs", "Welcome to the Acme docs.", links));
  fs.writeFileSync(path.join(dir, "guide/alpha.html"), page("Alpha", "How to start with Acme."));
  fs.writeFileSync(path.join(dir, "guide/beta.html"), page(extra ? "Bravo" : "Beta", "How to configure Acme."));
  if (extra) fs.writeFileSync(path.join(dir, "guide/gamma.html"), page("Gamma", "How to deploy Acme."));
}

async function nextRun(id: string, after: number, want: (w: Website) => boolean, timeoutMs = 20_000): Promise<Website> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const w = await websites.get(id);
    const finished = w?.lastJob?.finishedAt ? Date.parse(w.lastJob.finishedAt) : 0;
    if (w && finished > after && want(w)) return w;
    if (Date.now() > deadline) throw new Error(`no matching run after ${after}: ${JSON.stringify(w?.lastJob)}`);
    await sleep(100);
  }
}

beforeAll(async () => {
  server = await startRedis();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ltx-changes-"));
  writeSite(false);
  site = await startSiteServer({ site: dir });
  fake = await startFakeOpenAI();
  const config = loadConfig({
    REDIS_URL: server.url,
    REDIS_PREFIX: PREFIX,
    FILES_DIR: filesDir,
    OPENAI_API_KEY: "sk-test-not-real",
    OPENAI_BASE_URL: fake.url,
    LTX_PROVIDER: "openai",
    ALLOW_PRIVATE_NETWORKS: "1",
    LOG_LEVEL: "silent",
    WORKER_CONCURRENCY: "2",
    EXTRACT_THREADS: "1",
    MAX_ATTEMPTS: "1",
  });
  worker = await runWorkerProcess(config, silentLogger(), { worker: { drainDelaySeconds: 1 } });
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  queues = createQueues({ connection: redis, prefix: PREFIX, jobs: config.jobs });
  websites = createWebsiteStore(redis, { prefix: PREFIX });
  service = createWebsiteService({
    websites,
    redis,
    queues,
    settings: {
      defaultEveryMs: 86_400_000,
      maxPagesLimit: 100,
      maxUrlLength: 2048,
      maxWebsites: 100_000,
      maxImportUrls: 10_000,
    },
  });
});

afterAll(async () => {
  await worker?.shutdown.run("test done");
  await queues?.close();
  redis?.disconnect();
  await fake?.close();
  await site?.close();
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("unchanged: no LLM request and success with unchanged: true; changed: one new version with its summary", async () => {
  const created = await service.create({ url: site.url, every: "2s" });
  // The first run also starts the extraction thread: on a busy 2-core machine that alone takes seconds.
  const first = await nextRun(created.id, 0, (w) => w.lastJob?.status === "success", 45_000);
  const llmCalls = fake.chatCount;
  expect(llmCalls).toBeGreaterThan(0);
  expect(first.lastChangedAt).toBeDefined();

  // The next scheduled run finds every page unchanged (conditional requests, hashes).
  const second = await nextRun(
    created.id,
    Date.parse(first.lastJob?.finishedAt ?? ""),
    (w) => w.lastJob?.status !== "running",
  );
  expect(second.lastJob?.status).toBe("unchanged");
  expect(fake.chatCount).toBe(llmCalls);
  expect(second.lastChangedAt).toBe(first.lastChangedAt);
  expect(Date.parse(second.lastCheckedAt ?? "")).toBeGreaterThan(Date.parse(first.lastCheckedAt ?? ""));
  // The website record is written inside the job, a moment before BullMQ stores its return value.
  const job = await waitFor(
    async () => {
      const j = await findGenerateJob(queues, second.lastJob?.id ?? "");
      return j?.finishedOn !== undefined ? j : undefined;
    },
    10_000,
    "the unchanged job to finish",
  );
  expect(await job.getState()).toBe("completed");
  expect(job.returnvalue).toMatchObject({ unchanged: true, version: 1, usage: { requests: 0 } });
  const results = createResultStore(redis, { prefix: PREFIX, maxVersions: 20, files: testFileStore(filesDir) });
  expect(await listVersions(results, created.siteKey)).toHaveLength(1);

  // A page is renamed and one is added: the next run regenerates and stores version 2.
  const changedAt = Date.now();
  writeSite(true);
  const third = await nextRun(created.id, changedAt, (w) => w.lastJob?.status === "success");
  expect(fake.chatCount).toBeGreaterThan(llmCalls);
  expect(Date.parse(third.lastChangedAt ?? "")).toBeGreaterThan(changedAt);
  const versions = await listVersions(results, created.siteKey);
  expect(versions.map((v) => v.version)).toEqual([2, 1]);
  const changes = versions[0]?.changes;
  expect(changes?.links.added.map((l) => l.url)).toEqual([`${site.origin}/guide/gamma.html`]);
  expect(changes?.links.renamed).toEqual([{ url: `${site.origin}/guide/beta.html`, from: "Beta", to: "Bravo" }]);
  expect(changes?.links.removed).toEqual([]);
  expect(changes?.text).toBe("1 link added, 1 link renamed");
  await service.update(created.id, { enabled: false });
}, 120_000);
