/**
 * Upgrading a Redis written by the ltx that kept files in Redis: the API's start-up (with two
 * more processes upgrading at the same moment) moves them to the FileStore once, and the same
 * bytes, ETags and Last-Modified are served afterwards.
 */
import { gunzipSync } from "node:zlib";
import type { Page, PipelineResult } from "../../src/pipeline/types";
import { qualityOf } from "../../src/pipeline/validate/check";
import { createRedis, type Redis } from "../../src/queues/connection";
import { fileKeys } from "../../src/store/files/fileKeys";
import { upgradeLegacyFiles } from "../../src/store/legacyUpgrade";
import { maintenanceTasks } from "../../src/scheduler/maintenance";
import { silentLogger } from "../../src/lib/logger";
import { createResultStore, etagOf } from "../../src/store/results";
import { startTestApi } from "../support/apiHarness";
import { testFileStore, testFilesDir } from "../support/fileStore";
import { legacySave } from "../support/legacyLayout";
import { rawRequest } from "../support/rawHttp";
import { startRedis, type RedisServer } from "../support/redisServer";

let server: RedisServer;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = createRedis(server.url, { name: "ltx-test" });
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

function result(siteKey: string, i: number): PipelineResult {
  const origin = `http://${siteKey}`;
  const llmsTxt = `# Site ${siteKey}\n\n> version ${i} — ünïcödé\n`;
  return {
    site: { origin, prefix: "/", startUrl: `${origin}/`, key: siteKey },
    llmsTxt,
    llmsFullTxt: `${llmsTxt}\n${"the full text ".repeat(5000 * i)}\n`,
    pages: [{ url: `${origin}/`, status: 200, depth: 0, title: "Home", hash: `h${i}`, etag: `"e${i}"` }],
    provider: "extractive",
    model: null,
    attempts: 0,
    fallback: false,
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0, requests: 0 },
    timings: { discoverMs: 1, crawlMs: 2, generateMs: 3, composeMs: 4, totalMs: 10 },
    warnings: [],
    quality: qualityOf(llmsTxt, origin),
    content: [],
    generatedAt: new Date(Date.UTC(2026, 10, 20, 9, i)).toISOString(),
  };
}

const page = (siteKey: string): Page => ({
  url: `http://${siteKey}/`,
  status: 200,
  depth: 0,
  title: "Home",
  description: "d",
  headings: [{ level: 1, text: "Home" }],
  markdown: "# Home\n\nHello ".repeat(50),
  textLength: 500,
});

test("an old Redis is upgraded once, by one of several processes, and serves the same bytes and ETags", async () => {
  const prefix = `up${process.pid}`;
  const sites = ["127.0.0.1:7101", "127.0.0.1:7102/docs"];
  for (const siteKey of sites)
    for (let i = 1; i <= 3; i++)
      await legacySave(redis, prefix, {
        siteKey,
        url: `http://${siteKey}/`,
        jobId: `job-${i}`,
        result: result(siteKey, i),
        content: [page(siteKey)],
        maxVersions: 5,
      });
  // What the old code served: the hash fields themselves.
  const before = new Map<string, string[]>();
  for (const siteKey of sites)
    before.set(
      siteKey,
      (await redis.hmget(
        `${prefix}:site:${siteKey}:latest`,
        "txt",
        "full",
        "txtEtag",
        "fullEtag",
        "lastModified",
      )) as string[],
    );

  const filesDir = testFilesDir();
  const files = testFileStore(filesDir);
  const others = [createRedis(server.url, { name: "ltx-test" }), createRedis(server.url, { name: "ltx-test" })];
  try {
    // The API's start-up and two more processes, all at once.
    const [t, ...reports] = await Promise.all([
      startTestApi(server.url, { REDIS_PREFIX: prefix, FILES_DIR: filesDir }),
      ...others.map((c) => upgradeLegacyFiles(c, { prefix, files: testFileStore(filesDir) })),
    ]);
    try {
      // Whoever took the lock first did the work; the others found nothing left to do.
      expect(reports.every((r) => r !== null && (r.upgraded === 0 || r.upgraded === 2))).toBe(true);
      for (const siteKey of sites) {
        // Moved once: one save per version on disk, none written twice by racing processes.
        const saves = new Set<string>();
        for await (const f of files.list(fileKeys(prefix).site(siteKey)))
          saves.add(fileKeys(prefix).parse(f.key)!.saveId);
        expect(saves.size).toBe(3);
        const fields = await redis.hgetall(`${prefix}:site:${siteKey}:latest`);
        expect(Object.keys(fields).filter((f) => ["txt", "full", "content"].includes(f))).toEqual([]);
        const [txt, full, txtEtag, fullEtag, lastModified] = before.get(siteKey)!;
        for (const [name, body, etag] of [
          ["llms.txt", txt, txtEtag],
          ["llms-full.txt", full, fullEtag],
        ] as const) {
          const url = `${t.url}/sites/${siteKey}/${name}`;
          const plain = await rawRequest(url);
          expect([plain.status, plain.headers.etag, plain.headers["last-modified"]]).toEqual([200, etag, lastModified]);
          expect(plain.body.toString("utf8")).toBe(body);
          const gz = await rawRequest(url, { "accept-encoding": "gzip" });
          expect(gunzipSync(gz.body).toString("utf8")).toBe(body);
          expect((await rawRequest(url, { "if-none-match": etag! })).status).toBe(304);
        }
        const store = createResultStore(redis, { prefix, maxVersions: 5, files });
        expect((await store.listVersions(siteKey)).map((v) => v.version)).toEqual([3, 2, 1]);
        expect((await store.getVersion(siteKey, 1))?.llmsTxt).toBe(result(siteKey, 1).llmsTxt);
        const previous = await store.getPreviousRun(siteKey);
        expect(previous?.pages[0]).toMatchObject({ hash: "h3", etag: '"e3"' });
        expect(previous?.content?.get(`http://${siteKey}/`)).toEqual(page(siteKey));
        // A save after the upgrade numbers on from the old versions.
        expect(
          (await store.save({ siteKey, url: `http://${siteKey}/`, jobId: "new", result: result(siteKey, 4) })).version,
        ).toBe(4);
      }
      // Idempotent: a later start-up finds nothing to move.
      expect(await upgradeLegacyFiles(redis, { prefix, files })).toEqual({ sites: 2, upgraded: 0 });
    } finally {
      await t.close();
    }
  } finally {
    for (const c of others) c.disconnect();
  }
});

test("an older process saving on top of an upgraded site: the maintenance run moves that save too", async () => {
  const prefix = `mix${process.pid}`;
  const siteKey = "127.0.0.1:7201";
  const files = testFileStore();
  const store = createResultStore(redis, { prefix, maxVersions: 5, files });
  await store.save({ siteKey, url: `http://${siteKey}/`, jobId: "new-1", result: result(siteKey, 1) });
  // An old worker, still running during a rolling upgrade, saves version 2 the old way.
  await legacySave(redis, prefix, {
    siteKey,
    url: `http://${siteKey}/`,
    jobId: "old-2",
    result: result(siteKey, 2),
    maxVersions: 5,
  });
  // Until then the upgraded files are served, with their own validators, never version 2's.
  const stale = await store.readFile(siteKey, "llms-full.txt");
  expect(stale?.body).toBe(result(siteKey, 1).llmsFullTxt);
  expect(stale?.etag).toBe(etagOf(result(siteKey, 1).llmsFullTxt));
  const tasks = maintenanceTasks({
    redis,
    prefix,
    files,
    generate: undefined as never, // sweep-files touches no queue
    schedule: undefined as never,
    websites: undefined as never,
    settings: { retentionDays: 1, maxVersionsPerSite: 5, intervalMs: 1000 },
    logger: silentLogger(),
  });
  expect(await tasks["sweep-files"]()).toMatchObject({ upgraded: 1 });
  expect((await store.readFile(siteKey, "llms-full.txt"))?.body).toBe(result(siteKey, 2).llmsFullTxt);
  expect((await store.getVersion(siteKey, 1))?.llmsTxt).toBe(result(siteKey, 1).llmsTxt);
  expect((await store.getVersion(siteKey, 2))?.llmsTxt).toBe(result(siteKey, 2).llmsTxt);
  expect(await redis.hexists(`${prefix}:site:${siteKey}:latest`, "txt")).toBe(0);
});
