/**
 * Where the result store puts things: the files in the FileStore, a small bounded record in Redis;
 * pruning, removal and the orphan sweep leave no file behind that nothing points at.
 */
import fs from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import type { Page, PageRecord, PipelineResult } from "../../src/pipeline/types";
import { qualityOf } from "../../src/pipeline/validate/check";
import { fileKeys } from "../../src/store/files/fileKeys";
import { sweepOrphanFiles } from "../../src/store/orphanSweep";
import { createResultStore } from "../../src/store/results";
import { pruneVersions } from "../../src/store/versionPruning";
import { testFileStore } from "../support/fileStore";
import { startRedis, type RedisServer } from "../support/redisServer";

let server: RedisServer;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: 2 });
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

let n = 0;
function fresh(maxVersions = 3) {
  const prefix = `f${++n}`;
  const files = testFileStore();
  return { prefix, files, store: createResultStore(redis, { prefix, maxVersions, files }) };
}

function result(i: number, pages = 2): PipelineResult {
  const records: PageRecord[] = Array.from({ length: pages }, (_, p) => ({
    url: `http://127.0.0.1:9/page-${p}.html`,
    status: 200,
    depth: 1,
    title: `Page ${p}`,
    hash: `hash-${i}-${p}-${"x".repeat(40)}`,
    etag: `"etag-${p}"`,
    lastModified: "Mon, 23 Nov 2026 10:00:00 GMT",
  }));
  const llmsTxt = `# Site\n\n> version ${i}\n`;
  return {
    site: { origin: "http://127.0.0.1:9", prefix: "/", startUrl: "http://127.0.0.1:9/", key: "127.0.0.1:9" },
    llmsTxt,
    llmsFullTxt: `# Site\n\n${"full text ".repeat(1000 * pages)}`,
    pages: records,
    provider: "extractive",
    model: null,
    attempts: 0,
    fallback: false,
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0, requests: 0 },
    timings: { discoverMs: 1, crawlMs: 2, generateMs: 3, composeMs: 4, totalMs: 10 },
    warnings: [],
    quality: qualityOf(llmsTxt, "http://127.0.0.1:9"),
    generatedAt: new Date(Date.UTC(2026, 10, 23, 10, i)).toISOString(),
    content: [],
  };
}

const content = (pages: number): Page[] =>
  Array.from({ length: pages }, (_, p) => ({
    url: `http://127.0.0.1:9/page-${p}.html`,
    status: 200,
    depth: 1,
    title: `Page ${p}`,
    description: "",
    headings: [],
    markdown: `# Page ${p}\n\n${"words ".repeat(300)}`,
    textLength: 1800,
  }));

/** Save ids that have files on disk for one site. */
function savesOnDisk(dir: string, prefix: string, siteKey: string): string[] {
  const siteDir = path.join(dir, ...fileKeys(prefix).site(siteKey).split("/").filter(Boolean));
  return fs.existsSync(siteDir) ? fs.readdirSync(siteDir).sort() : [];
}

async function redisBytes(prefix: string, siteKey: string): Promise<number> {
  let total = 0;
  for (const k of [`${prefix}:site:${siteKey}:latest`, `${prefix}:site:${siteKey}:versions`])
    total += Number(await redis.call("MEMORY", "USAGE", k, "SAMPLES", "0"));
  return total;
}

test("a 1,000-page site costs Redis what a 10-page one does; its files are in the store", async () => {
  const { prefix, files, store } = fresh();
  await store.save({
    siteKey: "small",
    url: "http://127.0.0.1:9/",
    jobId: "j1",
    result: result(1, 10),
    content: content(10),
  });
  const big = result(1, 1000);
  await store.save({ siteKey: "big", url: "http://127.0.0.1:9/", jobId: "j2", result: big, content: content(1000) });
  const small = await redisBytes(prefix, "small");
  const large = await redisBytes(prefix, "big");
  expect(large).toBeLessThan(small + 256);
  expect(large).toBeLessThan(4096);
  // No Redis value holds a file: the biggest one is the metadata JSON.
  const values = Object.values(await redis.hgetallBuffer(`${prefix}:site:big:latest`));
  expect(Math.max(...values.map((v) => v.length))).toBeLessThan(2048);
  // And everything reads back from the store.
  expect((await store.getMeta("big"))?.pages).toHaveLength(1000);
  expect((await store.readFile("big", "llms-full.txt"))?.body).toBe(big.llmsFullTxt);
  expect((await store.getPreviousRun("big"))?.content?.size).toBe(1000);
  expect(savesOnDisk(files.dir, prefix, "big")).toHaveLength(1);
});

test("each kept version keeps its llms.txt and llms-full.txt; trimmed versions lose their files", async () => {
  const { prefix, files, store } = fresh(2);
  for (let i = 1; i <= 4; i++)
    await store.save({ siteKey: "s", url: "http://127.0.0.1:9/", jobId: `j${i}`, result: result(i) });
  expect((await store.listVersions("s")).map((v) => v.version)).toEqual([4, 3]);
  expect((await store.getVersion("s", 3))?.llmsTxt).toBe(result(3).llmsTxt);
  expect(savesOnDisk(files.dir, prefix, "s")).toHaveLength(2);

  // A lowered MAX_VERSIONS_PER_SITE, applied by maintenance.
  expect(await pruneVersions(redis, { prefix, keep: 1, files })).toEqual({ sites: 1, removed: 1, keep: 1 });
  expect(savesOnDisk(files.dir, prefix, "s")).toHaveLength(1);
  expect((await store.readFile("s", "llms.txt"))?.body).toBe(result(4).llmsTxt);
});

test("remove deletes the site's files with its metadata", async () => {
  const { prefix, files, store } = fresh();
  await store.save({ siteKey: "gone", url: "http://127.0.0.1:9/", jobId: "j1", result: result(1) });
  await store.save({ siteKey: "kept", url: "http://127.0.0.1:9/", jobId: "j1", result: result(1) });
  expect(await store.remove("gone")).toBe(true);
  expect(savesOnDisk(files.dir, prefix, "gone")).toEqual([]);
  expect(savesOnDisk(files.dir, prefix, "kept")).toHaveLength(1);
  expect(await store.getFile("gone", "llms.txt")).toBeNull();
});

test("the orphan sweep removes files nothing points at, once they are past the grace period", async () => {
  const { prefix, files, store } = fresh();
  await store.save({ siteKey: "s", url: "http://127.0.0.1:9/", jobId: "j1", result: result(1) });
  const keys = fileKeys(prefix);
  // What a crash leaves: a save's files written but never switched to, a temp file mid-write,
  // and files of a site whose metadata is gone.
  await files.put(keys.file("s", "crashed-save", "llms.txt"), Buffer.from("x"));
  await files.put(`${keys.file("s", "crashed-save", "pages.json")}.tmp-1234`, Buffer.from("x"));
  await files.put(keys.file("deleted-site", "save", "llms-full.txt"), Buffer.from("x"));

  // Young files are left alone: a save in progress has written its files and not yet switched.
  expect(await sweepOrphanFiles(redis, { prefix, files })).toMatchObject({ removed: 0 });
  expect(await sweepOrphanFiles(redis, { prefix, files, graceMs: 0, now: Date.now() + 1000 })).toMatchObject({
    removed: 3,
  });
  expect(savesOnDisk(files.dir, prefix, "s")).toHaveLength(1);
  expect(savesOnDisk(files.dir, prefix, "deleted-site")).toEqual([]);
  expect((await store.getLatest("s"))?.llmsTxt).toBe(result(1).llmsTxt);
});
