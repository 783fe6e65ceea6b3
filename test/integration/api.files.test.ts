/**
 * Serving files from the FileStore: the stored gzip bytes as-is to a client that takes gzip,
 * decompressed otherwise, byte ranges of the decompressed file, HEAD and 304, the redirect of
 * FILES_PUBLIC_BASE_URL, and DELETE /api/websites/:id taking the files (or not) with it.
 */
import { randomBytes } from "node:crypto";
import { gunzipSync } from "node:zlib";
import type { PipelineResult } from "../../src/pipeline/types";
import { qualityOf } from "../../src/pipeline/validate/check";
import { createResultStore, etagOf, type ResultStore } from "../../src/store/results";
import { request, startTestApi, type TestApi } from "../support/apiHarness";
import { testFileStore } from "../support/fileStore";
import { rawRequest } from "../support/rawHttp";
import { startRedis, type RedisServer } from "../support/redisServer";

let server: RedisServer;
let t: TestApi;
let store: ResultStore;

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server.stop();
});
afterEach(async () => {
  await t.close();
});

async function start(env: Record<string, string> = {}): Promise<void> {
  t = await startTestApi(server.url, env);
  store = createResultStore(t.redis, { prefix: t.prefix, maxVersions: 5, files: testFileStore(t.filesDir) });
}

// Base64 text: about 4/3 of random bytes, so it hardly compresses and ranges cross gzip blocks.
const FULL = `# Site\n\n${randomBytes(1_500_000).toString("base64")}\nünïcödé\n`;

function result(siteKey: string): PipelineResult {
  const origin = `http://${siteKey}`;
  const llmsTxt = "# Site\n\n> Small file.\n";
  return {
    site: { origin, prefix: "/", startUrl: `${origin}/`, key: siteKey },
    llmsTxt,
    llmsFullTxt: FULL,
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
    generatedAt: "2026-11-01T10:00:00.000Z",
  };
}

const save = (siteKey: string) =>
  store.save({ siteKey, url: `http://${siteKey}/`, jobId: "job-1", result: result(siteKey) });

test("a client that accepts gzip gets the stored gzip bytes; one that doesn't gets the text", async () => {
  await start();
  await save("127.0.0.1:7001");
  const url = `${t.url}/sites/127.0.0.1:7001/llms-full.txt`;

  const gz = await rawRequest(url, { "accept-encoding": "br, gzip;q=0.8" });
  expect(gz.status).toBe(200);
  expect(gz.headers["content-encoding"]).toBe("gzip");
  expect(gz.headers.vary).toMatch(/Accept-Encoding/);
  expect(Number(gz.headers["content-length"])).toBe(gz.body.length);
  expect(gunzipSync(gz.body).toString("utf8")).toBe(FULL);
  expect(gz.headers.etag).toBe(etagOf(FULL));

  for (const accept of [undefined, "identity", "gzip;q=0, deflate"]) {
    const plain = await rawRequest(url, accept === undefined ? {} : { "accept-encoding": accept });
    expect([accept, plain.headers["content-encoding"]]).toEqual([accept, undefined]);
    expect(plain.body.toString("utf8")).toBe(FULL);
    expect(Number(plain.headers["content-length"])).toBe(Buffer.byteLength(FULL));
    expect(plain.headers.etag).toBe(gz.headers.etag);
  }
});

test("Range: 206 with a slice of the decompressed file; 416 past its end; If-Range with an old ETag gets 200", async () => {
  await start();
  await save("127.0.0.1:7002");
  const url = `${t.url}/sites/127.0.0.1:7002/llms-full.txt`;
  const bytes = Buffer.from(FULL, "utf8");

  const mid = await rawRequest(url, { range: "bytes=1000000-1099999", "accept-encoding": "gzip" });
  expect(mid.status).toBe(206);
  expect(mid.headers["content-encoding"]).toBeUndefined();
  expect(mid.headers["content-range"]).toBe(`bytes 1000000-1099999/${bytes.length}`);
  expect(mid.body.equals(bytes.subarray(1_000_000, 1_100_000))).toBe(true);

  const tail = await rawRequest(url, { range: "bytes=-20" });
  expect(tail.status).toBe(206);
  expect(tail.body.equals(bytes.subarray(bytes.length - 20))).toBe(true);

  const open = await rawRequest(url, { range: `bytes=${bytes.length - 5}-` });
  expect(open.body.equals(bytes.subarray(bytes.length - 5))).toBe(true);

  const past = await rawRequest(url, { range: `bytes=${bytes.length}-` });
  expect(past.status).toBe(416);
  expect(past.headers["content-range"]).toBe(`bytes */${bytes.length}`);

  const stale = await rawRequest(url, { range: "bytes=0-9", "if-range": '"an-old-etag"' });
  expect(stale.status).toBe(200);
  expect(stale.body.length).toBe(bytes.length);
});

test("HEAD answers the GET's headers without a body; a matching If-None-Match gets 304", async () => {
  await start();
  await save("127.0.0.1:7003");
  const url = `${t.url}/sites/127.0.0.1:7003/llms.txt`;
  const head = await rawRequest(url, {}, "HEAD");
  expect(head.status).toBe(200);
  expect(head.body.length).toBe(0);
  expect(Number(head.headers["content-length"])).toBe(Buffer.byteLength(result("x").llmsTxt));
  expect(head.headers["last-modified"]).toBe("Sun, 01 Nov 2026 10:00:00 GMT");
  const again = await rawRequest(url, { "if-none-match": head.headers.etag as string });
  expect(again.status).toBe(304);
  expect(again.body.length).toBe(0);
  expect((await rawRequest(`${t.url}/sites/nobody.example/llms.txt`)).status).toBe(404);
});

test("FILES_PUBLIC_BASE_URL: a redirect to the store's object instead of the bytes", async () => {
  await start({ FILES_PUBLIC_BASE_URL: "https://cdn.example.test/ltx/" });
  await save("127.0.0.1:7004");
  const res = await rawRequest(`${t.url}/sites/127.0.0.1:7004/llms.txt`);
  expect(res.status).toBe(302);
  expect(res.headers.location).toMatch(
    new RegExp(`^https://cdn\\.example\\.test/ltx/${t.prefix}/sites/127\\.0\\.0\\.1%3A7004/[^/]+/llms\\.txt\\.gz$`),
  );
  // Conditional requests still end at the API, cheaply.
  expect(
    (await rawRequest(`${t.url}/sites/127.0.0.1:7004/llms.txt`, { "if-none-match": res.headers.etag! })).status,
  ).toBe(304);
});

test("deleting a website deletes its files, unless ?keepFiles=true", async () => {
  await start();
  const kept = await request(t.url, "POST", "/api/websites", { url: "http://127.0.0.1:7005/" });
  const gone = await request(t.url, "POST", "/api/websites", { url: "http://127.0.0.1:7006/" });
  expect([kept.status, gone.status]).toEqual([201, 201]);
  await save(kept.body.siteKey);
  await save(gone.body.siteKey);

  expect((await request(t.url, "DELETE", `/api/websites/${kept.body.id}?keepFiles=true`)).status).toBe(204);
  expect((await request(t.url, "DELETE", `/api/websites/${gone.body.id}`)).status).toBe(204);
  expect((await rawRequest(`${t.url}/sites/${kept.body.siteKey}/llms.txt`)).status).toBe(200);
  const after = await rawRequest(`${t.url}/sites/${gone.body.siteKey}/llms.txt`);
  expect(after.status).toBe(404);
  expect(JSON.parse(after.body.toString()).error.code).toBe("NOT_FOUND");
  const files: string[] = [];
  for await (const f of testFileStore(t.filesDir).list(`${t.prefix}/sites/`)) files.push(f.key);
  expect(files.every((k) => k.includes("7005"))).toBe(true);
  expect(files.length).toBeGreaterThan(0);

  const bad = await request(t.url, "DELETE", `/api/websites/${kept.body.id}?keepFiles=maybe`);
  expect(bad.status).toBe(400);
});
