import { Redis } from "ioredis";
import type { Page, PipelineResult } from "../../src/pipeline/types";
import { createResultStore, etagOf, type ResultStore } from "../../src/store/results";
import { checkRedis } from "../../src/store/redisChecks";
import { startRedis, type RedisServer } from "../support/redisServer";
import { testFileStore } from "../support/fileStore";
import { qualityOf } from "../../src/pipeline/validate/check";

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
const files = testFileStore();
function freshStore(maxVersions = 3): { store: ResultStore; prefix: string } {
  const prefix = `t${++n}`;
  return { store: createResultStore(redis, { prefix, maxVersions, files }), prefix };
}

function result(i: number, overrides: Partial<PipelineResult> = {}): PipelineResult {
  return {
    site: { origin: "http://127.0.0.1:9", prefix: "/", startUrl: "http://127.0.0.1:9/", key: "127.0.0.1:9" },
    llmsTxt: `# Site ${i}\n\n> version ${i}\n`,
    llmsFullTxt: `# Site ${i}\n\n${"full text ".repeat(100 * i)}`,
    pages: [
      {
        url: "http://127.0.0.1:9/",
        status: 200,
        depth: 0,
        title: "Home",
        hash: `h${i}`,
        etag: `"e${i}"`,
        lastModified: "Mon, 23 Nov 2026 10:00:00 GMT",
      },
      { url: "http://127.0.0.1:9/a.png", status: 200, depth: 1, skipReason: "content-type image/png" },
    ],
    provider: "extractive",
    model: null,
    attempts: 0,
    fallback: false,
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0, requests: 0 },
    timings: { discoverMs: 1, crawlMs: 2, generateMs: 3, composeMs: 4, totalMs: 10 },
    warnings: [],
    quality: qualityOf(`# Site ${i}\n\n> version ${i}\n`, "http://127.0.0.1:9"),
    generatedAt: new Date(Date.UTC(2026, 10, 23, 10, i)).toISOString(),
    content: [],
    ...overrides,
  };
}

const page: Page = {
  url: "http://127.0.0.1:9/",
  status: 200,
  depth: 0,
  title: "Home",
  description: "d",
  headings: [{ level: 1, text: "Home" }],
  markdown: "# Home\n\nHello ".repeat(50),
  textLength: 500,
};

describe("result store", () => {
  it("reads back what it saved: files with ETag/Last-Modified, metadata, previous run", async () => {
    const { store } = freshStore();
    const r = result(1);
    const saved = await store.save({
      siteKey: "127.0.0.1:9",
      url: "http://127.0.0.1:9/",
      jobId: "job-1",
      result: r,
      content: [page],
    });
    expect(saved.version).toBe(1);

    const txt = await store.readFile("127.0.0.1:9", "llms.txt");
    expect(txt).toEqual({ body: r.llmsTxt, etag: etagOf(r.llmsTxt), lastModified: "Mon, 23 Nov 2026 10:01:00 GMT" });
    expect((await store.readFile("127.0.0.1:9", "llms-full.txt"))?.body).toBe(r.llmsFullTxt);
    expect(await store.getFile("other.example", "llms.txt")).toBeNull();

    const meta = await store.getMeta("127.0.0.1:9");
    expect(meta).toMatchObject({
      siteKey: "127.0.0.1:9",
      version: 1,
      jobId: "job-1",
      provider: "extractive",
      generatedAt: r.generatedAt,
      checkedAt: r.generatedAt,
    });
    expect(meta?.pages[0]).toMatchObject({ hash: "h1", etag: '"e1"', lastModified: "Mon, 23 Nov 2026 10:00:00 GMT" });
    expect(meta?.files["llms-full.txt"].bytes).toBe(Buffer.byteLength(r.llmsFullTxt));

    const prev = await store.getPreviousRun("127.0.0.1:9");
    expect(prev?.llmsTxt).toBe(r.llmsTxt);
    expect(prev?.pages).toHaveLength(2);
    expect(prev?.content?.get(page.url)).toEqual(page);
    expect(await store.getPreviousRun("nobody")).toBeUndefined();
    expect(await store.listSites()).toEqual([{ siteKey: "127.0.0.1:9", generatedAt: r.generatedAt }]);
  });

  it("keeps each version's quality report with it, and reads the latest ones of many sites at once", async () => {
    const { store } = freshStore();
    const weak = result(1, { llmsTxt: "# 127.0.0.1:9\n\n> None\n\n## Pages\n\n- [A](http://127.0.0.1:9/a)\n" });
    weak.quality = qualityOf(weak.llmsTxt, "http://127.0.0.1:9");
    await store.save({ siteKey: "127.0.0.1:9", url: "http://127.0.0.1:9/", jobId: "j1", result: weak });
    const meta = await store.getMeta("127.0.0.1:9");
    expect(meta?.quality?.warnings.map((w) => w.code)).toEqual(["generic-title", "unusable-summary", "missing-notes"]);
    expect(meta?.quality?.score).toBeLessThan(100);
    expect((await store.listVersions("127.0.0.1:9"))[0]?.quality).toEqual(meta?.quality);
    const qualities = await store.getQualities(["127.0.0.1:9", "never.example"]);
    expect([...qualities.keys()]).toEqual(["127.0.0.1:9"]);
    expect(qualities.get("127.0.0.1:9")).toEqual(meta?.quality);
  });

  it("keeps a capped history, newest first, and numbers versions on", async () => {
    const { store } = freshStore(3);
    for (let i = 1; i <= 5; i++)
      await store.save({
        siteKey: "s",
        url: "http://127.0.0.1:9/",
        jobId: `job-${i}`,
        result: result(i),
        changes: { added: [i] },
      });
    const versions = await store.listVersions("s");
    expect(versions.map((v) => v.version)).toEqual([5, 4, 3]);
    expect(versions[0]).toMatchObject({ jobId: "job-5", pagesIncluded: 1, changes: { added: [5] } });
    expect((await store.getVersion("s", 4))?.llmsTxt).toBe(result(4).llmsTxt);
    expect(await store.getVersion("s", 1)).toBeNull();
    expect((await store.getMeta("s"))?.version).toBe(5);
  });

  it("an unchanged re-check moves checkedAt but keeps files and version", async () => {
    const { store } = freshStore();
    await store.save({ siteKey: "s", url: "http://127.0.0.1:9/", jobId: "job-1", result: result(1) });
    const before = await store.readFile("s", "llms.txt");
    const meta = await store.markChecked("s", { jobId: "job-2", checkedAt: "2026-11-24T00:00:00.000Z" });
    expect(meta).toMatchObject({
      version: 1,
      jobId: "job-1",
      checkedAt: "2026-11-24T00:00:00.000Z",
      checkedByJobId: "job-2",
    });
    expect(await store.readFile("s", "llms.txt")).toEqual(before);
    expect(await store.markChecked("missing", { jobId: "x", checkedAt: "2026-11-24T00:00:00.000Z" })).toBeNull();
  });

  it("a reader never sees the files of one version with the metadata of another", async () => {
    const { store } = freshStore(5);
    const reader = new Redis(server.url);
    try {
      const readerStore = createResultStore(reader, { prefix: `t${n}`, maxVersions: 5, files });
      await store.save({ siteKey: "s", url: "http://127.0.0.1:9/", jobId: "job-0", result: result(0) });
      let stop = false;
      let reads = 0;
      const mismatches: string[] = [];
      const readLoop = (async () => {
        while (!stop && reads < 5000) {
          const latest = await readerStore.getLatest("s");
          reads++;
          if (!latest) continue;
          if (
            latest.meta.files["llms.txt"].etag !== etagOf(latest.llmsTxt) ||
            latest.meta.files["llms-full.txt"].etag !== etagOf(latest.llmsFullTxt)
          ) {
            mismatches.push(`version ${latest.meta.version}`);
          }
        }
      })();
      for (let i = 1; i <= 60; i++)
        await store.save({ siteKey: "s", url: "http://127.0.0.1:9/", jobId: `job-${i}`, result: result(i) });
      stop = true;
      await readLoop;
      expect(reads).toBeGreaterThan(10);
      expect(mismatches).toEqual([]);
      expect((await store.getMeta("s"))?.version).toBe(61);
    } finally {
      reader.disconnect();
    }
  });

  it("remove deletes a site's files, history and index entry", async () => {
    const { store } = freshStore();
    await store.save({ siteKey: "s", url: "http://127.0.0.1:9/", jobId: "job-1", result: result(1) });
    expect(await store.remove("s")).toBe(true);
    expect(await store.getLatest("s")).toBeNull();
    expect(await store.listVersions("s")).toEqual([]);
    expect(await store.listSites()).toEqual([]);
    expect(await store.remove("s")).toBe(false);
  });
});

describe("persistence", () => {
  it("with AOF on, a stored result survives redis-server being killed -9 and restarted", async () => {
    const aof = await startRedis({ appendonly: true });
    const client = new Redis(aof.url, { maxRetriesPerRequest: 1 });
    try {
      const store = createResultStore(client, { prefix: "p", maxVersions: 3, files });
      await store.save({ siteKey: "s", url: "http://127.0.0.1:9/", jobId: "job-1", result: result(1) });
      await new Promise((r) => setTimeout(r, 1100)); // appendfsync everysec
      await aof.kill9();
      await aof.restart();
      await new Promise((r) => setTimeout(r, 100));
      expect((await store.readFile("s", "llms.txt"))?.body).toBe(result(1).llmsTxt);
      expect((await checkRedis(client)).aof).toBe(true);
    } finally {
      client.disconnect();
      await aof.stop();
    }
  });
});

describe("redis start-up checks", () => {
  it("passes noeviction and warns when AOF and RDB are both off", async () => {
    const res = await checkRedis(redis);
    expect(res.maxmemoryPolicy).toBe("noeviction");
    expect(res.aof).toBe(false);
    expect(res.rdb).toBe(false);
    expect(res.warnings.join(" ")).toMatch(/persistence is off/);
  });

  it("refuses a Redis that may evict keys with a clear REDIS_MISCONFIGURED error", async () => {
    const lru = await startRedis({ maxmemoryPolicy: "allkeys-lru", appendonly: true });
    const client = new Redis(lru.url);
    try {
      await expect(checkRedis(client)).rejects.toMatchObject({
        code: "REDIS_MISCONFIGURED",
        message: expect.stringMatching(/maxmemory-policy is "allkeys-lru".*noeviction/),
      });
    } finally {
      client.disconnect();
      await lru.stop();
    }
  });
});
