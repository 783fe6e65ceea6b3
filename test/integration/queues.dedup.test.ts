import { Redis } from "ioredis";
import { InputError } from "../../src/lib/errors";
import { enqueueGenerate, inFlightJobId } from "../../src/queues/enqueue";
import { startRedis, type RedisServer } from "../support/redisServer";
import {
  createHarness,
  fakeResult,
  slowPipeline,
  testJobsConfig,
  waitFor,
  type Harness,
} from "../support/workerHarness";

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

describe("enqueueGenerate de-duplication", () => {
  it("100 concurrent submissions of one site make exactly one job; after it ends, a new one", async () => {
    h = await createHarness(server.url);
    const spellings = [
      "http://127.0.0.1:4001/",
      "http://127.0.0.1:4001",
      "HTTP://127.0.0.1:4001/#top",
      " http://127.0.0.1:4001/?utm_source=x ",
    ];
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => enqueueGenerate(h!.queues, { url: spellings[i % spellings.length] })),
    );
    const created = results.filter((r) => !r.deduplicated);
    expect(created).toHaveLength(1);
    const id = created[0]!.job.id;
    expect(new Set(results.map((r) => r.job.id))).toEqual(new Set([id]));
    // The in-flight job's own data comes back, not the duplicate's.
    expect(
      results.every((r) => r.job.data.siteKey === "127.0.0.1:4001" && r.job.data.url === "http://127.0.0.1:4001/"),
    ).toBe(true);
    // One-off jobs carry a fair-share priority (clientShare.ts), so a queued one is "prioritized".
    expect(await h.queues.generate.getJobCounts("waiting", "prioritized", "delayed", "active")).toEqual({
      waiting: 0,
      prioritized: 1,
      delayed: 0,
      active: 0,
    });
    expect(await inFlightJobId(h.queues, "127.0.0.1:4001")).toBe(id);

    // Another site is independent.
    expect((await enqueueGenerate(h.queues, { url: "http://127.0.0.1:4001/docs/" })).deduplicated).toBe(false);

    await h.startWorker(async (url) => fakeResult(url));
    await waitFor(
      async () => (await h!.queues.generate.getJobCounts("completed")).completed === 2,
      10_000,
      "both jobs to complete",
    );
    expect(await inFlightJobId(h.queues, "127.0.0.1:4001")).toBeNull();
    const again = await enqueueGenerate(h.queues, { url: "http://127.0.0.1:4001/" });
    expect(again.deduplicated).toBe(false);
    expect(again.job.id).not.toBe(id);
  });

  it("an active job still de-duplicates; a failed job does not block the next submission", async () => {
    h = await createHarness(server.url, testJobsConfig({ maxAttempts: 1 }));
    await h.startWorker(slowPipeline(400));
    const first = await enqueueGenerate(h.queues, { url: "http://127.0.0.1:4002/" });
    await waitFor(async () => (await first.job.getState()) === "active", 5000, "job active");
    const second = await enqueueGenerate(h.queues, { url: "http://127.0.0.1:4002/", maxPages: 3 });
    expect(second).toMatchObject({ deduplicated: true });
    expect(second.job.id).toBe(first.job.id);
    await waitFor(async () => (await first.job.getState()) === "completed", 5000, "job completed");

    await h.close();
    h = await createHarness(server.url, testJobsConfig({ maxAttempts: 1 }));
    await h.startWorker(() => Promise.reject(new Error("boom")));
    const failing = await enqueueGenerate(h.queues, { url: "http://127.0.0.1:4002/" });
    await waitFor(async () => (await failing.job.getState()) === "failed", 5000, "job failed");
    expect((await enqueueGenerate(h.queues, { url: "http://127.0.0.1:4002/" })).deduplicated).toBe(false);
  });

  it("bad input throws InputError and writes nothing to Redis", async () => {
    h = await createHarness(server.url);
    const probe = new Redis(server.url);
    try {
      // Each Queue writes its meta key once, shortly after connecting; wait for them all.
      for (const q of h.queues.all) {
        await q.waitUntilReady();
        await waitFor(async () => (await probe.exists(`${h!.prefix}:${q.name}:meta`)) === 1, 5000, `${q.name} meta`);
      }
      const before = (await probe.keys(`${h.prefix}:*`)).sort();
      const bad: unknown[] = [
        {},
        { url: "" },
        { url: "ftp://127.0.0.1/" },
        { url: "not a url" },
        { url: "http://127.0.0.1/", maxPages: -1 },
        { url: "http://127.0.0.1/", maxPages: 5000 },
        { url: "http://u:p@127.0.0.1/" },
        "x",
        null,
      ];
      for (const input of bad) {
        await expect(enqueueGenerate(h.queues, input, { maxPagesLimit: 1000 })).rejects.toMatchObject({
          retryable: false,
        });
      }
      await expect(enqueueGenerate(h.queues, { url: 42 })).rejects.toBeInstanceOf(InputError);
      expect((await probe.keys(`${h.prefix}:*`)).sort()).toEqual(before);
    } finally {
      probe.disconnect();
    }
  });
});

describe("retention", () => {
  it("removes finished jobs beyond the count cap and past the age limit", async () => {
    // 1 s of retention (JOB_RETENTION_DAYS is in days) and at most 3 kept per state.
    h = await createHarness(
      server.url,
      testJobsConfig({ retentionDays: 1 / 86_400, retentionCount: 3, maxAttempts: 1 }),
    );
    await h.startWorker(async (url) => fakeResult(url));
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { job } = await enqueueGenerate(h.queues, { url: `http://127.0.0.1:${5000 + i}/` });
      ids.push(job.id!);
      await waitFor(async () => (await job.getState()) === "completed", 5000, `job ${i} completed`);
    }
    const kept = (await h.queues.generate.getCompleted()).map((j) => j.id);
    expect(kept).toHaveLength(3);
    expect(kept.sort()).toEqual(ids.slice(3).sort());

    await new Promise((r) => setTimeout(r, 1200));
    const { job } = await enqueueGenerate(h.queues, { url: "http://127.0.0.1:5999/" });
    await waitFor(async () => (await job.getState()) === "completed", 5000, "last job completed");
    // Evaluated when a job finishes: the older ones are now past 1 s and go.
    await waitFor(async () => (await h!.queues.generate.getCompleted()).length === 1, 5000, "aged jobs removed");
    expect(await h.queues.generate.getJob(ids[5]!)).toBeUndefined();
  });
});
