/**
 * The s3 backend against an S3-protocol stand-in (s3rver) on loopback: the same contract as the
 * fs backend, a multipart upload of a big file, the result store on top, and a store killed
 * mid-run failing the save (retryable) without half a version.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { createS3FileStore } from "../../src/store/files/s3FileStore";
import { type FileStore, readAll } from "../../src/store/files/fileStore";
import { createResultStore } from "../../src/store/results";
import { fileStoreContract } from "../support/fileStoreContract";
import { startRedis, type RedisServer } from "../support/redisServer";
import { startS3StandIn, type S3StandIn } from "../support/s3Server";
import { fakeResult } from "../support/workerHarness";
import { startTestApi } from "../support/apiHarness";
import { rawRequest } from "../support/rawHttp";
import { gunzipSync } from "node:zlib";

let s3: S3StandIn;
const make = (standIn: S3StandIn, prefix = "pre/fix"): FileStore =>
  createS3FileStore({
    bucket: standIn.bucket,
    prefix,
    endpoint: standIn.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
  });

beforeAll(async () => {
  s3 = await startS3StandIn();
});
afterAll(async () => {
  await s3.close();
});

fileStoreContract("s3", async () => make(s3));

test("s3: a body above the part size goes up as a multipart upload and reads back whole", async () => {
  const store = make(s3);
  try {
    const body = randomBytes(9 * 1024 * 1024);
    await store.put("big/sites/s/save/llms-full.txt.gz", body);
    const back = await readAll((await store.get("big/sites/s/save/llms-full.txt.gz"))!);
    expect(back.equals(body)).toBe(true);
  } finally {
    await store.close();
  }
});

describe("the result store on s3", () => {
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

  it("saves, reads back and removes a site", async () => {
    const files = make(s3, "rs");
    const store = createResultStore(redis, { prefix: "s3a", maxVersions: 2, files });
    for (let i = 1; i <= 3; i++)
      await store.save({
        siteKey: "127.0.0.1:4300",
        url: "http://127.0.0.1:4300/",
        jobId: `j${i}`,
        result: fakeResult("http://127.0.0.1:4300/", { llmsTxt: `# v${i}\n` }),
      });
    expect((await store.readFile("127.0.0.1:4300", "llms.txt"))?.body).toBe("# v3\n");
    expect((await store.listVersions("127.0.0.1:4300")).map((v) => v.version)).toEqual([3, 2]);
    const listed: string[] = [];
    for await (const f of files.list("s3a/")) listed.push(f.key);
    expect(listed.filter((k) => k.endsWith("llms.txt.gz"))).toHaveLength(2); // version 1 pruned
    expect(await store.remove("127.0.0.1:4300")).toBe(true);
    const after: string[] = [];
    for await (const f of files.list("s3a/")) after.push(f.key);
    expect(after).toEqual([]);
    await files.close();
  });

  it("with the S3 server killed, a save fails retryably and the previous version stays", async () => {
    const own = await startS3StandIn("killed");
    const files = make(own, "");
    const store = createResultStore(redis, { prefix: "s3b", maxVersions: 5, files });
    const v1 = fakeResult("http://127.0.0.1:4301/");
    await store.save({ siteKey: "127.0.0.1:4301", url: "http://127.0.0.1:4301/", jobId: "j1", result: v1 });
    const ref = await store.getFile("127.0.0.1:4301", "llms.txt");
    await own.close();
    await expect(
      store.save({
        siteKey: "127.0.0.1:4301",
        url: "http://127.0.0.1:4301/",
        jobId: "j2",
        result: fakeResult("http://127.0.0.1:4301/", { llmsTxt: "# new\n" }),
      }),
    ).rejects.toMatchObject({ code: "FILE_STORE_FAILED", retryable: true });
    // Redis still names version 1's files: a reader never sees a version whose files never landed.
    expect(await store.getFile("127.0.0.1:4301", "llms.txt")).toEqual(ref);
    await files.close();
  });

  it("FILE_STORE=s3: the API serves the files from the bucket (gzip as stored, identity, a range)", async () => {
    const t = await startTestApi(server.url, {
      FILE_STORE: "s3",
      S3_BUCKET: s3.bucket,
      S3_PREFIX: "api",
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: "1",
    });
    const files = make(s3, "api");
    try {
      const store = createResultStore(redis, { prefix: t.prefix, maxVersions: 5, files });
      const r = fakeResult("http://127.0.0.1:4302/", { llmsFullTxt: `# full\n${"text ".repeat(50_000)}` });
      await store.save({ siteKey: "127.0.0.1:4302", url: "http://127.0.0.1:4302/", jobId: "j", result: r });
      const url = `${t.url}/sites/127.0.0.1:4302/llms-full.txt`;
      const gz = await rawRequest(url, { "accept-encoding": "gzip" });
      expect([gz.status, gz.headers["content-encoding"]]).toEqual([200, "gzip"]);
      expect(gunzipSync(gz.body).toString()).toBe(r.llmsFullTxt);
      expect((await rawRequest(url)).body.toString()).toBe(r.llmsFullTxt);
      const part = await rawRequest(url, { range: "bytes=100-199" });
      expect(part.status).toBe(206);
      expect(part.body.toString()).toBe(r.llmsFullTxt.slice(100, 200));
    } finally {
      await files.close();
      await t.close();
    }
  });
});
