/**
 * The stored files over HTTP: /sites/<site>/llms.txt and llms-full.txt (text/plain, ETag,
 * Last-Modified, 304 on conditional requests, a new version shows at once) and the metadata at
 * GET /api/results?url=…. Results are written through the real store, as a worker would.
 */
import { createResultStore, type ResultStore } from "../../src/store/results";
import { testFileStore } from "../support/fileStore";
import type { PipelineResult } from "../../src/pipeline/types";
import { request, startTestApi, type TestApi } from "../support/apiHarness";
import { type RedisServer, startRedis } from "../support/redisServer";
import { qualityOf } from "../../src/pipeline/validate/check";

let server: RedisServer;
let t: TestApi;
let store: ResultStore;

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server.stop();
});
beforeEach(async () => {
  t = await startTestApi(server.url);
  store = createResultStore(t.redis, { prefix: t.prefix, maxVersions: 5, files: testFileStore(t.filesDir) });
});
afterEach(async () => {
  await t.close();
});

function result(siteKey: string, llmsTxt: string, generatedAt: string): PipelineResult {
  const origin = `http://${siteKey.split("/")[0]}`;
  return {
    site: { origin, prefix: "/", startUrl: `${origin}/`, key: siteKey },
    llmsTxt,
    llmsFullTxt: `${llmsTxt}\n\n## Full\n\nAll the text — ünïcödé included.\n`,
    pages: [{ url: `${origin}/`, status: 200, depth: 0, title: "Home", hash: "abc" }],
    provider: "extractive",
    model: null,
    attempts: 0,
    fallback: false,
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0, requests: 0 },
    timings: { discoverMs: 1, crawlMs: 2, generateMs: 3, composeMs: 4, totalMs: 10 },
    warnings: [],
    quality: qualityOf(llmsTxt, origin),
    content: [],
    generatedAt,
  };
}

async function save(
  siteKey: string,
  url: string,
  body: string,
  generatedAt = "2026-11-01T10:00:00.000Z",
): Promise<void> {
  await store.save({ siteKey, url, jobId: "job-1", result: result(siteKey, body, generatedAt) });
}

describe("GET /sites/<site>/llms.txt and llms-full.txt", () => {
  test("serves the files as UTF-8 text with validators, for host:port keys and path prefixes", async () => {
    await save("example.com/docs", "https://example.com/docs/", "# Example Docs\n\n> The docs.\n");
    await save("127.0.0.1:8080", "http://127.0.0.1:8080/", "# Local\n");

    const docs = await request(t.url, "GET", "/sites/example.com/docs/llms.txt");
    expect(docs.status).toBe(200);
    expect(docs.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(docs.body).toBe("# Example Docs\n\n> The docs.\n");
    expect(docs.headers.get("etag")).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(docs.headers.get("last-modified")).toBe("Sun, 01 Nov 2026 10:00:00 GMT");

    const full = await request(t.url, "GET", "/sites/example.com/docs/llms-full.txt");
    expect(full.status).toBe(200);
    expect(full.body).toContain("ünïcödé");
    expect(full.headers.get("etag")).not.toBe(docs.headers.get("etag"));

    const local = await request(t.url, "GET", "/sites/127.0.0.1:8080/llms.txt");
    expect(local.body).toBe("# Local\n");
  });

  test("answers 304 to If-None-Match and If-Modified-Since, 200 again once a new version is stored", async () => {
    await save("example.org", "https://example.org/", "# One\n");
    const first = await request(t.url, "GET", "/sites/example.org/llms.txt");
    const etag = first.headers.get("etag") as string;
    const lastModified = first.headers.get("last-modified") as string;

    const byTag = await request(t.url, "GET", "/sites/example.org/llms.txt", undefined, { "if-none-match": etag });
    expect(byTag.status).toBe(304);
    expect(byTag.body).toBe("");
    expect(byTag.headers.get("etag")).toBe(etag);
    expect(
      (await request(t.url, "GET", "/sites/example.org/llms.txt", undefined, { "if-none-match": `"other", W/${etag}` }))
        .status,
    ).toBe(304);
    expect(
      (await request(t.url, "GET", "/sites/example.org/llms.txt", undefined, { "if-modified-since": lastModified }))
        .status,
    ).toBe(304);
    // If-None-Match wins over If-Modified-Since (RFC 9110): a stale tag means 200.
    expect(
      (
        await request(t.url, "GET", "/sites/example.org/llms.txt", undefined, {
          "if-none-match": '"stale"',
          "if-modified-since": lastModified,
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await request(t.url, "GET", "/sites/example.org/llms.txt", undefined, {
          "if-modified-since": "Sat, 31 Oct 2026 10:00:00 GMT",
        })
      ).status,
    ).toBe(200);

    await save("example.org", "https://example.org/", "# Two\n", "2026-11-02T10:00:00.000Z");
    const second = await request(t.url, "GET", "/sites/example.org/llms.txt", undefined, { "if-none-match": etag });
    expect(second.status).toBe(200);
    expect(second.body).toBe("# Two\n");
    expect(second.headers.get("etag")).not.toBe(etag);
  });

  test("HEAD answers headers only; unknown sites and files are 404 JSON", async () => {
    await save("example.net", "https://example.net/", "# Net\n");
    const head = await fetch(`${t.url}/sites/example.net/llms.txt`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("etag")).toMatch(/^"/);
    expect(await head.text()).toBe("");
    for (const path of [
      "/sites/nowhere.example/llms.txt",
      "/sites/example.net/robots.txt",
      "/sites/llms.txt",
      "/sites/example.net/",
    ]) {
      const res = await request(t.url, "GET", path);
      expect([path, res.status, res.body?.error?.code]).toEqual([path, 404, "NOT_FOUND"]);
    }
  });
});

describe("GET /api/results?url=…", () => {
  test("returns the latest result's metadata for the URL's site, with links to the files", async () => {
    await save("example.com/docs", "https://example.com/docs/", "# Example Docs\n");
    const res = await request(
      t.url,
      "GET",
      `/api/results?url=${encodeURIComponent("https://EXAMPLE.com/docs/intro.html")}`,
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      siteKey: "example.com/docs",
      url: "https://example.com/docs/",
      version: 1,
      jobId: "job-1",
      provider: "extractive",
      generatedAt: "2026-11-01T10:00:00.000Z",
      links: { llmsTxt: "/sites/example.com/docs/llms.txt", llmsFullTxt: "/sites/example.com/docs/llms-full.txt" },
    });
    expect(res.body.files["llms.txt"].bytes).toBe(Buffer.byteLength("# Example Docs\n"));
    expect(res.body.pages).toHaveLength(1);
  });

  test("404 for a site without a result", async () => {
    const res = await request(t.url, "GET", `/api/results?url=${encodeURIComponent("https://unknown.example/")}`);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("NOT_FOUND");
  });
});
