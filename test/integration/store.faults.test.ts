/**
 * A file store that fails a write (a full disk, simulated; a FILES_DIR the OS refuses) fails the
 * attempt, which backs off and retries; nothing half-saved is ever served, and the previous
 * version stays readable.
 */
import fs from "node:fs";
import path from "node:path";
import { enqueueGenerate } from "../../src/queues/enqueue";
import { readFailure } from "../../src/queues/failure";
import { createFsFileStore } from "../../src/store/files/fsFileStore";
import type { FileStore } from "../../src/store/files/fileStore";
import { createResultStore } from "../../src/store/results";
import { testFileStore, testFilesDir } from "../support/fileStore";
import { startRedis, type RedisServer } from "../support/redisServer";
import { request, startTestApi } from "../support/apiHarness";
import { createHarness, fakeResult, testJobsConfig, waitFor, type Harness } from "../support/workerHarness";

let server: RedisServer;
let h: Harness | undefined;
beforeAll(async () => {
  server = await startRedis();
});
afterEach(async () => {
  await h?.close();
  h = undefined;
});
afterAll(async () => {
  await server.stop();
});

/** The fs store, but the next `failures` writes of llms-full.txt fail as a full disk would. */
function fullDisk(inner: FileStore, failures: { left: number }): FileStore {
  return {
    ...inner,
    async put(key, body) {
      if (key.endsWith("llms-full.txt.gz") && failures.left > 0) {
        failures.left--;
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      }
      return inner.put(key, body);
    },
  };
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const f of createFsFileStore({ dir }).list("")) out.push(f.key);
  return out;
}

test("ENOSPC on a save fails the attempt, the retry stores it; the failed attempt left no file", async () => {
  h = await createHarness(server.url, testJobsConfig({ maxAttempts: 3 }));
  const dir = testFilesDir();
  const failures = { left: 1 };
  const store = createResultStore(h.redis, {
    prefix: h.prefix,
    maxVersions: 5,
    files: fullDisk(testFileStore(dir), failures),
  });
  let attempts = 0;
  let afterFailure: { file: unknown; files: string[] } | undefined;
  await h.startWorker(
    async (url) => {
      // The second attempt starts after the first one's failure: look at what that left.
      if (++attempts === 2)
        afterFailure = { file: await store.getFile("127.0.0.1:4200", "llms.txt"), files: await filesUnder(dir) };
      return fakeResult(url);
    },
    {},
    { store },
  );
  const { job } = await enqueueGenerate(h.queues, { url: "http://127.0.0.1:4200/" });
  await waitFor(async () => (await job.getState()) === "completed", 10_000, "completed after a retry");
  const done = await h.queues.generate.getJob(job.id!);
  expect(done?.attemptsMade).toBe(2);
  expect(afterFailure).toEqual({ file: null, files: [] });
  expect((await store.readFile("127.0.0.1:4200", "llms-full.txt"))?.body).toBe(
    fakeResult("http://127.0.0.1:4200/").llmsFullTxt,
  );
});

test("a store that keeps failing fails the job with FILE_STORE_FAILED; the previous version is served untouched", async () => {
  h = await createHarness(server.url, testJobsConfig({ maxAttempts: 2 }));
  const dir = testFilesDir();
  const failures = { left: 0 };
  const store = createResultStore(h.redis, {
    prefix: h.prefix,
    maxVersions: 5,
    files: fullDisk(testFileStore(dir), failures),
  });
  const v1 = fakeResult("http://127.0.0.1:4201/");
  await store.save({ siteKey: "127.0.0.1:4201", url: "http://127.0.0.1:4201/", jobId: "old", result: v1 });
  const before = await filesUnder(dir);

  failures.left = 100;
  await h.startWorker(
    async (url) => fakeResult(url, { llmsTxt: "# 127.0.0.1:4201\n\n> a new version\n" }),
    {},
    { store },
  );
  const { job } = await enqueueGenerate(h.queues, { url: "http://127.0.0.1:4201/" });
  await waitFor(async () => (await job.getState()) === "failed", 10_000, "failed");
  const failed = await h.queues.generate.getJob(job.id!);
  expect(failed?.attemptsMade).toBe(2);
  expect(readFailure(failed!.failedReason).code).toBe("FILE_STORE_FAILED");
  expect(await store.readFile("127.0.0.1:4201", "llms.txt")).toMatchObject({ body: v1.llmsTxt });
  expect((await store.getMeta("127.0.0.1:4201"))?.version).toBe(1);
  expect((await filesUnder(dir)).sort()).toEqual(before.sort());
});

test("a FILES_DIR the OS refuses (a path through a regular file) fails the save and stores nothing", async () => {
  h = await createHarness(server.url);
  const file = path.join(testFilesDir(), "not-a-dir");
  fs.writeFileSync(file, "x");
  const store = createResultStore(h.redis, {
    prefix: h.prefix,
    maxVersions: 5,
    files: createFsFileStore({ dir: file }),
  });
  const r = fakeResult("http://127.0.0.1:4202/");
  await expect(
    store.save({ siteKey: "127.0.0.1:4202", url: "http://127.0.0.1:4202/", jobId: "j", result: r }),
  ).rejects.toMatchObject({
    code: "FILE_STORE_FAILED",
    retryable: true,
  });
  expect(await store.getFile("127.0.0.1:4202", "llms.txt")).toBeNull();
  expect(await store.listSites()).toEqual([]);
});

test("a store that fails reads answers 503 FILE_STORE_FAILED, not a half file", async () => {
  const t = await startTestApi(server.url);
  try {
    const files = testFileStore(t.filesDir);
    const store = createResultStore(t.redis, { prefix: t.prefix, maxVersions: 5, files });
    await store.save({
      siteKey: "127.0.0.1:4203",
      url: "http://127.0.0.1:4203/",
      jobId: "j",
      result: fakeResult("http://127.0.0.1:4203/"),
    });
    // The disk goes away: the directory is replaced by a regular file.
    fs.renameSync(t.filesDir, `${t.filesDir}.away`);
    fs.writeFileSync(t.filesDir, "x");
    const res = await request(t.url, "GET", "/sites/127.0.0.1:4203/llms.txt");
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("FILE_STORE_FAILED");
    fs.unlinkSync(t.filesDir);
    fs.renameSync(`${t.filesDir}.away`, t.filesDir);
    expect((await request(t.url, "GET", "/sites/127.0.0.1:4203/llms.txt")).status).toBe(200);
  } finally {
    await t.close();
  }
});
