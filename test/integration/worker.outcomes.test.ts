/**
 * How the processor maps pipeline outcomes onto BullMQ: retries with back-off, failing at once,
 * LLM 429 pausing the queue without burning an attempt, cancel from another process, timeout and
 * the shutdown hand-back. The pipeline is scripted; the queue, worker and store are real.
 */
import { readFailure } from "../../src/queues/failure";
import { Redis } from "ioredis";
import { FetchError, LlmError, RateLimitedError } from "../../src/lib/errors";
import { sleep } from "../../src/lib/time";
import type { GenerateProgress } from "../../src/queues/catalog";
import { requestCancel } from "../../src/queues/cancel";
import { enqueueGenerate } from "../../src/queues/enqueue";
import { startRedis, type RedisServer } from "../support/redisServer";
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

describe("generate job outcomes", () => {
  it("completes: progress reported, result stored, summary returned", async () => {
    h = await createHarness(server.url);
    const seen: GenerateProgress[] = [];
    const w = await h.startWorker(async (url, opts) => {
      for (let i = 1; i <= 5; i++) {
        opts.onProgress?.({ phase: "extract", pagesDiscovered: 5, pagesFetched: i, pagesExtracted: i, pagesTotal: 5 });
        await sleep(30);
      }
      opts.onProgress?.({ phase: "done", pagesDiscovered: 5, pagesFetched: 5, pagesExtracted: 5, pagesTotal: 5 });
      return fakeResult(url);
    });
    w.workers[0]!.on("progress", (_job, p) => seen.push(p as GenerateProgress));
    const { job } = await enqueueGenerate(h.queues, { url: "http://127.0.0.1:4100/" });
    await waitFor(async () => (await job.getState()) === "completed", 5000, "completed");
    const done = await h.queues.generate.getJob(job.id!);
    expect(done?.returnvalue).toMatchObject({
      siteKey: "127.0.0.1:4100",
      url: "http://127.0.0.1:4100/",
      version: 1,
      unchanged: false,
      pagesIncluded: 1,
      pagesSkipped: 0,
      provider: "extractive",
    });
    expect(done?.progress).toMatchObject({ phase: "store", pagesDone: 5, pagesTotal: 5 });
    expect(seen.some((p) => p.phase === "extract" && p.pagesDone > 0 && p.pagesDone < 5)).toBe(true);
    expect((await h.store.readFile("127.0.0.1:4100", "llms.txt"))?.body).toContain("made for http://127.0.0.1:4100/");
    expect(done?.attemptsMade).toBe(1);
  });

  it("a scheduled re-check gets the stored run (pages and content) and an unchanged result keeps the version", async () => {
    h = await createHarness(server.url);
    const content = [
      {
        url: "http://127.0.0.1:4109/",
        status: 200,
        depth: 0,
        title: "Home",
        description: "",
        headings: [],
        markdown: "# Home\n\ntext",
        textLength: 4,
      },
    ];
    const seenPrevious: Array<number | undefined> = [];
    await h.startWorker(async (url, opts) => {
      seenPrevious.push(opts.previous?.content?.size);
      if (opts.previous?.content?.get(url)?.markdown === "# Home\n\ntext") {
        return fakeResult(url, {
          unchanged: true,
          llmsTxt: opts.previous.llmsTxt ?? "",
          llmsFullTxt: opts.previous.llmsFullTxt ?? "",
        });
      }
      return Object.assign(fakeResult(url), { content });
    });
    const first = await enqueueGenerate(h.queues, { url: "http://127.0.0.1:4109/" });
    await waitFor(async () => (await first.job.getState()) === "completed", 5000, "first run");
    const second = await enqueueGenerate(h.queues, { url: "http://127.0.0.1:4109/", trigger: "schedule" });
    await waitFor(async () => (await second.job.getState()) === "completed", 5000, "re-check");
    expect(seenPrevious).toEqual([undefined, 1]);
    expect((await h.queues.generate.getJob(second.job.id!))?.returnvalue).toMatchObject({
      unchanged: true,
      version: 1,
    });
    expect(await h.store.getMeta("127.0.0.1:4109")).toMatchObject({
      version: 1,
      jobId: first.job.id,
      checkedByJobId: second.job.id,
    });
  });

  it("retries a retryable error with back-off, then completes", async () => {
    h = await createHarness(server.url, testJobsConfig({ maxAttempts: 3, retryBaseDelayMs: 100 }));
    let calls = 0;
    const times: number[] = [];
    await h.startWorker(async (url) => {
      times.push(Date.now());
      if (++calls < 3) throw new LlmError("upstream 502");
      return fakeResult(url);
    });
    const { job } = await enqueueGenerate(h.queues, { url: "http://127.0.0.1:4101/" });
    await waitFor(async () => (await job.getState()) === "completed", 8000, "completed");
    const done = await h.queues.generate.getJob(job.id!);
    expect(done?.attemptsMade).toBe(3);
    // 100 ms, then 200 ms (doubling) between the tries.
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(90);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(190);
  });

  it("fails at once, without retries, when the error can't get better", async () => {
    h = await createHarness(server.url, testJobsConfig({ maxAttempts: 5 }));
    let calls = 0;
    await h.startWorker(async (url) => {
      calls++;
      throw new FetchError(url, "start page answered 404", {
        status: 404,
        code: "START_PAGE_FAILED",
        retryable: false,
      });
    });
    const { job } = await enqueueGenerate(h.queues, { url: "http://127.0.0.1:4102/" });
    await waitFor(async () => (await job.getState()) === "failed", 5000, "failed");
    const failed = await h.queues.generate.getJob(job.id!);
    expect(readFailure(failed?.failedReason ?? "")).toEqual({
      code: "START_PAGE_FAILED",
      message: "start page answered 404",
    });
    expect(failed?.attemptsMade).toBe(1);
    expect(calls).toBe(1);
  });

  it("an invalid payload fails at once as INVALID_INPUT", async () => {
    h = await createHarness(server.url, testJobsConfig({ maxAttempts: 5 }));
    await h.startWorker(async (url) => fakeResult(url));
    const job = await h.queues.generate.add("generate", { url: "nope" } as never);
    await waitFor(async () => (await job.getState()) === "failed", 5000, "failed");
    const reason = readFailure((await h.queues.generate.getJob(job.id!))?.failedReason ?? "");
    expect(reason.code).toBe("INVALID_INPUT");
    expect(reason.message).toMatch(/^invalid job payload/);
  });

  it("an LLM 429 rate-limits the whole queue for Retry-After and doesn't burn the attempt", async () => {
    h = await createHarness(server.url, testJobsConfig({ maxAttempts: 1 }));
    let calls = 0;
    const starts: number[] = [];
    await h.startWorker(async (url) => {
      starts.push(Date.now());
      if (++calls === 1) throw new RateLimitedError("429 from the LLM", 1500);
      return fakeResult(url);
    });
    const { job } = await enqueueGenerate(h.queues, { url: "http://127.0.0.1:4103/" });
    await waitFor(() => calls >= 1, 5000, "first try");
    await waitFor(async () => (await h!.queues.generate.getRateLimitTtl()) > 0, 2000, "queue rate-limited");
    // Another site's job waits too: the limit is on the queue, not the job.
    const other = await enqueueGenerate(h.queues, { url: "http://127.0.0.1:4104/" });
    await sleep(500);
    expect(await other.job.getState()).toBe("prioritized"); // queued, not taken (one-off jobs carry a priority)
    await waitFor(async () => (await job.getState()) === "completed", 8000, "completed after the wait");
    await waitFor(async () => (await other.job.getState()) === "completed", 8000, "other completed");
    const done = await h.queues.generate.getJob(job.id!);
    // maxAttempts is 1: had the 429 counted as an attempt, the job would have failed.
    expect(done?.attemptsMade).toBe(1);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(1400);
  });

  it("a cancel request from another client aborts the active job; it fails without retry", async () => {
    h = await createHarness(server.url, testJobsConfig({ maxAttempts: 5 }));
    let aborted = false;
    await h.startWorker(async (url, opts) => {
      try {
        await sleep(20_000, opts.signal);
      } catch (e) {
        aborted = true;
        throw e;
      }
      return fakeResult(url);
    });
    const { job } = await enqueueGenerate(h.queues, { url: "http://127.0.0.1:4105/" });
    await waitFor(async () => (await job.getState()) === "active", 5000, "active");
    const api = new Redis(server.url);
    try {
      expect(await requestCancel(api, h.prefix, job.id!, "cancelled by the user")).toBe(1);
    } finally {
      api.disconnect();
    }
    await waitFor(async () => (await job.getState()) === "failed", 5000, "failed");
    const failed = await h.queues.generate.getJob(job.id!);
    expect(readFailure(failed?.failedReason ?? "")).toEqual({ code: "ABORTED", message: "cancelled by the user" });
    expect(failed?.attemptsMade).toBe(1);
    expect(aborted).toBe(true);
  });

  it("an attempt past JOB_TIMEOUT_MS is aborted and retried", async () => {
    h = await createHarness(server.url, testJobsConfig({ maxAttempts: 2, retryBaseDelayMs: 10 }));
    let calls = 0;
    await h.startWorker(
      async (url, opts) => {
        if (++calls === 1) await sleep(10_000, opts.signal);
        return fakeResult(url);
      },
      {},
      { jobTimeoutMs: 300 },
    );
    const { job } = await enqueueGenerate(h.queues, { url: "http://127.0.0.1:4106/" });
    await waitFor(async () => (await job.getState()) === "completed", 5000, "completed");
    expect(calls).toBe(2);
    expect((await h.queues.generate.getJob(job.id!))?.attemptsMade).toBe(2);
  });

  it("closing the worker lets short jobs finish and hands long ones back without burning an attempt", async () => {
    h = await createHarness(server.url, testJobsConfig({ maxAttempts: 1 }));
    const w = await h.startWorker(
      async (url, opts) => {
        await sleep(url.includes("4108") ? 30_000 : 300, opts.signal);
        return fakeResult(url);
      },
      { shutdownGraceMs: 600 },
    );
    const short = await enqueueGenerate(h.queues, { url: "http://127.0.0.1:4107/" });
    const long = await enqueueGenerate(h.queues, { url: "http://127.0.0.1:4108/" });
    await waitFor(
      async () => (await long.job.getState()) === "active" && (await short.job.getState()) === "active",
      5000,
      "both active",
    );
    const started = Date.now();
    await w.close();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await short.job.getState()).toBe("completed");
    const handedBack = await h.queues.generate.getJob(long.job.id!);
    expect(["waiting", "delayed"]).toContain(await handedBack?.getState());
    expect(handedBack?.attemptsMade).toBe(0);

    // A new worker (a restarted process) completes it; with maxAttempts 1 a burned attempt would fail it.
    await h.startWorker(async (url) => fakeResult(url));
    await waitFor(async () => (await long.job.getState()) === "completed", 5000, "completed after restart");
  });
});
