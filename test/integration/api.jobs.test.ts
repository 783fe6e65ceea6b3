/**
 * /api/jobs end to end over real HTTP and a real redis-server: submit, de-dup, status mapping,
 * listing with a stable cursor, cancel, retry, the event stream, and Bull Board's page and API.
 * Jobs are run by the real startWorker with a test handler the test steers step by step.
 */
import type { Job } from "bullmq";
import type { ErrorCode } from "../../src/lib/errors";
import { JobFailure } from "../../src/queues/failure";
import { silentLogger } from "../../src/lib/logger";
import { createRedis, type Redis } from "../../src/queues/connection";
import type { GenerateJobResult } from "../../src/queues/catalog";
import { startWorker, type WorkerHandle } from "../../src/workers/worker";
import { openEventStream, request, startTestApi, type TestApi } from "../support/apiHarness";
import { type RedisServer, startRedis } from "../support/redisServer";

jest.setTimeout(30_000);

let server: RedisServer;
let t: TestApi;

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server.stop();
});
beforeEach(async () => {
  t = await startTestApi(server.url);
});
afterEach(async () => {
  await t.close();
});

/** A job the test controls: it runs until the test says how it ends. */
interface Steer {
  started: Promise<Job>;
  progress(p: object): Promise<void>;
  succeed(): void;
  fail(code: ErrorCode, message: string): void;
  aborted: Promise<string>;
}

interface TestWorker {
  handle: WorkerHandle;
  connection: Redis;
  next(): Steer;
  close(): Promise<void>;
}

async function startTestWorker(prefix: string): Promise<TestWorker> {
  const connection = createRedis(server.url, { forWorker: true, name: "ltx-test-worker" });
  const pending: Steer[] = [];
  type Run = (job: Job, signal: AbortSignal | undefined) => Promise<GenerateJobResult>;
  // The worker may fetch a job before the test prepares its steer: runs and jobs meet in a queue.
  const runs: Run[] = [];
  const takers: Array<(run: Run) => void> = [];
  const takeRun = (): Promise<Run> => {
    const run = runs.shift();
    return run ? Promise.resolve(run) : new Promise((resolve) => takers.push(resolve));
  };
  const make = (): { steer: Steer; run: (job: Job, signal: AbortSignal | undefined) => Promise<GenerateJobResult> } => {
    let onStart!: (job: Job) => void;
    let finish!: (outcome: { ok: true } | { ok: false; code: ErrorCode; message: string }) => void;
    let onAbort!: (reason: string) => void;
    let current: Job | undefined;
    const outcome = new Promise<{ ok: true } | { ok: false; code: ErrorCode; message: string }>((r) => (finish = r));
    const steer: Steer = {
      started: new Promise((r) => (onStart = r)),
      progress: async (p) => {
        await current?.updateProgress(p);
      },
      succeed: () => finish({ ok: true }),
      fail: (code, message) => finish({ ok: false, code, message }),
      aborted: new Promise((r) => (onAbort = r)),
    };
    const run = async (job: Job, signal: AbortSignal | undefined): Promise<GenerateJobResult> => {
      current = job;
      onStart(job);
      signal?.addEventListener("abort", () => {
        onAbort(String(signal.reason));
        finish({ ok: false, code: "ABORTED", message: String(signal.reason) });
      });
      const o = await outcome;
      if (!o.ok) throw new JobFailure(o.code, o.message, { final: true });
      return { siteKey: job.data.siteKey, url: job.data.url, version: 1, unchanged: false } as GenerateJobResult;
    };
    return { steer, run };
  };
  const handle = await startWorker({
    connection,
    prefix,
    logger: silentLogger(),
    settings: {
      concurrency: 4,
      retryBaseDelayMs: 10,
      retryMaxDelayMs: 100,
      shutdownGraceMs: 500,
      drainDelaySeconds: 1,
    },
    handlers: {
      generate: async (job, _token, signal) => (await takeRun())(job as Job, signal),
    },
  });
  return {
    handle,
    connection,
    next() {
      const { steer, run } = make();
      const taker = takers.shift();
      if (taker) taker(run);
      else runs.push(run);
      pending.push(steer);
      return steer;
    },
    async close() {
      for (const s of pending) s.succeed();
      // A job fetched but never steered: let it end so the worker can close.
      for (const taker of takers.splice(0)) taker(async (job) => ({ siteKey: job.data.siteKey }) as GenerateJobResult);
      await handle.close();
      connection.disconnect();
    },
  };
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("condition not met in time");
}

const site = (n: number | string): string => `http://127.0.0.1:9/site-${n}/`;

describe("POST /api/jobs", () => {
  test("adds a job: 202 with id, normalised url, queued status, links and Location", async () => {
    const res = await request(t.url, "POST", "/api/jobs", {
      url: "HTTP://LocalHost:8080/docs/?utm_source=x#top",
      maxPages: 5,
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      url: "http://localhost:8080/docs/",
      status: "queued",
      deduplicated: false,
      siteKey: "localhost:8080/docs",
    });
    expect(res.body.links).toEqual({
      self: `/api/jobs/${res.body.id}`,
      events: `/api/jobs/${res.body.id}/events`,
      llmsTxt: "/sites/localhost:8080/docs/llms.txt",
      llmsFullTxt: "/sites/localhost:8080/docs/llms-full.txt",
    });
    expect(res.headers.get("location")).toBe(`/api/jobs/${res.body.id}`);
    const job = await t.api.context.queues.generate.getJob(res.body.id);
    expect(job?.data).toMatchObject({ url: "http://localhost:8080/docs/", maxPages: 5, trigger: "api" });
  });

  test("a second submission of the same site answers 200 with the job in flight; 100 concurrent make one job", async () => {
    const first = await request(t.url, "POST", "/api/jobs", { url: site("d") });
    const second = await request(t.url, "POST", "/api/jobs", { url: `${site("d")}#again` });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ id: first.body.id, deduplicated: true, status: "queued" });
    const burst = await Promise.all(
      Array.from({ length: 100 }, () => request(t.url, "POST", "/api/jobs", { url: site("burst") })),
    );
    const ids = new Set(burst.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(burst.filter((r) => r.status === 202)).toHaveLength(1);
    expect(await t.api.context.queues.generate.count()).toBe(2);
  });
});

describe("GET /api/jobs/:id status mapping", () => {
  test("queued → started → running (with progress) → success, and failure with its code", async () => {
    const created = (await request(t.url, "POST", "/api/jobs", { url: site(1) })).body;
    let view = (await request(t.url, "GET", `/api/jobs/${created.id}`)).body;
    expect(view).toMatchObject({
      id: created.id,
      status: "queued",
      attempts: 0,
      startedAt: null,
      finishedAt: null,
      error: null,
      result: null,
      progress: { phase: null, pagesDone: 0, pagesTotal: 0 },
    });
    expect(Date.parse(view.createdAt)).toBeGreaterThan(Date.now() - 60_000);

    const w = await startTestWorker(t.prefix);
    try {
      const steer = w.next();
      await steer.started;
      view = (await request(t.url, "GET", `/api/jobs/${created.id}`)).body;
      expect(view.status).toBe("started");
      expect(view.startedAt).not.toBeNull();
      await steer.progress({ phase: "fetch", pagesDone: 3, pagesTotal: 10 });
      view = (await request(t.url, "GET", `/api/jobs/${created.id}`)).body;
      expect(view).toMatchObject({ status: "running", progress: { phase: "fetch", pagesDone: 3, pagesTotal: 10 } });
      steer.succeed();
      await waitUntil(async () => (await request(t.url, "GET", `/api/jobs/${created.id}`)).body.status === "success");
      view = (await request(t.url, "GET", `/api/jobs/${created.id}`)).body;
      expect(view).toMatchObject({
        status: "success",
        attempts: 1,
        result: { siteKey: "127.0.0.1:9/site-1", version: 1 },
      });
      expect(view.finishedAt).not.toBeNull();

      const bad = (await request(t.url, "POST", "/api/jobs", { url: site(2) })).body;
      const steer2 = w.next();
      await steer2.started;
      steer2.fail("START_PAGE_FAILED", "the start page answered 404");
      await waitUntil(async () => (await request(t.url, "GET", `/api/jobs/${bad.id}`)).body.status === "failure");
      view = (await request(t.url, "GET", `/api/jobs/${bad.id}`)).body;
      expect(view.error).toEqual({ code: "START_PAGE_FAILED", message: "the start page answered 404" });
    } finally {
      await w.close();
    }
  });

  test("unknown and malformed ids are 404 JSON", async () => {
    for (const path of ["/api/jobs/nope", "/api/jobs/..%2F..%2Fetc", "/api/jobs/nope/events"]) {
      const res = await request(t.url, "GET", path);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("NOT_FOUND");
    }
    expect((await request(t.url, "DELETE", "/api/jobs/nope")).status).toBe(404);
    expect((await request(t.url, "POST", "/api/jobs/nope/retry")).status).toBe(404);
  });
});

describe("GET /api/jobs (list)", () => {
  test("pages newest first with a cursor that stays stable while jobs move; filters by status and site", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push((await request(t.url, "POST", "/api/jobs", { url: site(`l${i}`) })).body.id);
      await new Promise((r) => setTimeout(r, 3)); // distinct createdAt for a readable expectation
    }
    const newestFirst = [...ids].reverse();
    const page1 = (await request(t.url, "GET", "/api/jobs?limit=3")).body;
    expect(page1.jobs.map((j: { id: string }) => j.id)).toEqual(newestFirst.slice(0, 3));
    expect(page1.nextCursor).toEqual(expect.any(String));

    // Move the newest job and one on page 2 to active while paging: offsets would shift, cursors don't.
    const w = await startTestWorker(t.prefix);
    try {
      const a = w.next();
      await a.started;
      const page2 = (await request(t.url, "GET", `/api/jobs?limit=3&cursor=${page1.nextCursor}`)).body;
      const page3 = (await request(t.url, "GET", `/api/jobs?limit=3&cursor=${page2.nextCursor}`)).body;
      expect(page3.nextCursor).toBeNull();
      const all = [...page1.jobs, ...page2.jobs, ...page3.jobs].map((j: { id: string }) => j.id);
      expect(all).toEqual(newestFirst);

      // Concurrency 4: the four oldest are active (no progress yet: "started"), three still queued.
      await waitUntil(async () => (await t.api.context.queues.generate.getActiveCount()) === 4);
      const started = (await request(t.url, "GET", "/api/jobs?status=started")).body.jobs;
      expect(started.map((j: { id: string }) => j.id)).toEqual(newestFirst.slice(3));
      const queued = (await request(t.url, "GET", "/api/jobs?status=queued&limit=100")).body.jobs;
      expect(queued.map((j: { id: string }) => j.id)).toEqual(newestFirst.slice(0, 3));
      expect((await request(t.url, "GET", "/api/jobs?status=running")).body.jobs).toEqual([]);
      expect((await request(t.url, "GET", "/api/jobs?status=success")).body).toEqual({ jobs: [], nextCursor: null });
      const bySite = (await request(t.url, "GET", `/api/jobs?url=${encodeURIComponent(site("l4"))}`)).body.jobs;
      expect(bySite.map((j: { id: string }) => j.id)).toEqual([ids[4]]);
    } finally {
      await w.close();
    }
  });
});

describe("DELETE /api/jobs/:id", () => {
  test("removes a queued job (and frees its site for a new submission)", async () => {
    const a = (await request(t.url, "POST", "/api/jobs", { url: site("del") })).body;
    const del = await request(t.url, "DELETE", `/api/jobs/${a.id}`);
    expect(del.status).toBe(204);
    expect((await request(t.url, "GET", `/api/jobs/${a.id}`)).status).toBe(404);
    const again = await request(t.url, "POST", "/api/jobs", { url: site("del") });
    expect(again.status).toBe(202);
    expect(again.body.id).not.toBe(a.id);
  });

  test("aborts a running job through the worker's AbortSignal; it ends as a failure with ABORTED", async () => {
    const a = (await request(t.url, "POST", "/api/jobs", { url: site("abort") })).body;
    const w = await startTestWorker(t.prefix);
    try {
      const steer = w.next();
      await steer.started;
      const del = await request(t.url, "DELETE", `/api/jobs/${a.id}`);
      expect(del.status).toBe(202);
      expect(del.body).toMatchObject({ id: a.id, cancelling: true });
      await expect(steer.aborted).resolves.toContain("cancelled through the API");
      await waitUntil(async () => (await request(t.url, "GET", `/api/jobs/${a.id}`)).body.status === "failure");
      const view = (await request(t.url, "GET", `/api/jobs/${a.id}`)).body;
      expect(view.error.code).toBe("ABORTED");
      expect(view.attempts).toBe(1); // no retry after a cancel
    } finally {
      await w.close();
    }
  });
});

describe("POST /api/jobs/:id/retry", () => {
  test("a failed job runs again under the same id; anything else is 409", async () => {
    const a = (await request(t.url, "POST", "/api/jobs", { url: site("retry") })).body;
    expect((await request(t.url, "POST", `/api/jobs/${a.id}/retry`)).status).toBe(409); // queued
    const w = await startTestWorker(t.prefix);
    try {
      const s1 = w.next();
      await s1.started;
      s1.fail("FETCH_FAILED", "connection refused");
      await waitUntil(async () => (await request(t.url, "GET", `/api/jobs/${a.id}`)).body.status === "failure");

      // While another job of the same site is in flight, a retry would make two: 409.
      const s2 = w.next();
      const other = (await request(t.url, "POST", "/api/jobs", { url: site("retry") })).body;
      expect(other.id).not.toBe(a.id);
      await s2.started;
      const conflict = await request(t.url, "POST", `/api/jobs/${a.id}/retry`);
      expect(conflict.status).toBe(409);
      expect(conflict.body.error.message).toContain(other.id);
      s2.succeed();
      await waitUntil(async () => (await request(t.url, "GET", `/api/jobs/${other.id}`)).body.status === "success");

      const s3 = w.next();
      const retried = await request(t.url, "POST", `/api/jobs/${a.id}/retry`);
      expect(retried.status).toBe(202);
      expect(retried.body).toMatchObject({ id: a.id, attempts: 0 });
      // The retried job holds the site's de-dup key: a new submission joins it.
      const join = await request(t.url, "POST", "/api/jobs", { url: site("retry") });
      expect(join.body).toMatchObject({ id: a.id, deduplicated: true });
      await s3.started;
      s3.succeed();
      await waitUntil(async () => (await request(t.url, "GET", `/api/jobs/${a.id}`)).body.status === "success");
    } finally {
      await w.close();
    }
  });
});

describe("GET /api/jobs/:id/events", () => {
  test("streams the state, each progress report and the final state, then ends", async () => {
    const a = (await request(t.url, "POST", "/api/jobs", { url: site("sse") })).body;
    const stream = await openEventStream(`${t.url}${a.links.events}`);
    expect(stream.status).toBe(200);
    expect(stream.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect((await stream.waitFor("state")).data).toMatchObject({ id: a.id, status: "queued" });
    expect(t.api.jobEvents.size()).toBe(1);

    const w = await startTestWorker(t.prefix);
    try {
      const steer = w.next();
      await steer.started;
      await waitUntil(async () => stream.events.some((e) => e.event === "state" && e.data.status === "started"));
      const sentAt = Date.now();
      await steer.progress({ phase: "extract", pagesDone: 4, pagesTotal: 8 });
      const progress = await stream.waitFor("progress");
      const latencyMs = Date.now() - sentAt;
      expect(progress.data).toEqual({
        id: a.id,
        status: "running",
        progress: { phase: "extract", pagesDone: 4, pagesTotal: 8 },
      });
      expect(latencyMs).toBeLessThan(1000);
      await new Promise((r) => setTimeout(r, 700)); // at least one heartbeat (500 ms in tests)
      steer.succeed();
      const done = await stream.waitFor("done");
      expect(done.data).toMatchObject({ id: a.id, status: "success", result: { version: 1 } });
      await stream.ended;
      expect(stream.comments).toBeGreaterThan(0);
      await waitUntil(async () => t.api.jobEvents.size() === 0);
    } finally {
      stream.close();
      await w.close();
    }
  });

  test("a finished job's stream sends done at once; a client that leaves is detached", async () => {
    const a = (await request(t.url, "POST", "/api/jobs", { url: site("sse2") })).body;
    const leaving = await openEventStream(`${t.url}${a.links.events}`);
    await leaving.waitFor("state");
    expect(t.api.jobEvents.size()).toBe(1);
    leaving.close();
    await waitUntil(async () => t.api.jobEvents.size() === 0);

    const w = await startTestWorker(t.prefix);
    try {
      const steer = w.next();
      await steer.started;
      steer.fail("NO_CONTENT", "nothing readable");
      await waitUntil(async () => (await request(t.url, "GET", `/api/jobs/${a.id}`)).body.status === "failure");
      const late = await openEventStream(`${t.url}${a.links.events}`);
      await late.ended;
      expect(late.events.map((e) => e.event)).toEqual(["done"]);
      expect(late.events[0]?.data.error.code).toBe("NO_CONTENT");
    } finally {
      await w.close();
    }
  });
});

describe("shutdown", () => {
  test("close() ends open event streams and stops listening", async () => {
    const a = (await request(t.url, "POST", "/api/jobs", { url: site("bye") })).body;
    const stream = await openEventStream(`${t.url}${a.links.events}`);
    await stream.waitFor("state");
    const started = Date.now();
    await t.api.close();
    await stream.ended;
    expect(Date.now() - started).toBeLessThan(3000);
    await expect(fetch(`${t.url}/api/jobs`)).rejects.toThrow();
  });
});

describe("Bull Board at /admin/queues", () => {
  test("serves its page with its own CSP, lists the queues, and retries a failed job through its API", async () => {
    const page = await request(t.url, "GET", "/admin/queues");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.body).toContain('<div id="root">');
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    const asset = /src="(static\/js\/[^"]+\.js)"/.exec(page.body as string)?.[1];
    expect((await request(t.url, "GET", `/admin/queues/${asset}`)).status).toBe(200);

    const queues = await request(t.url, "GET", "/admin/queues/api/queues");
    expect(queues.status).toBe(200);
    expect(queues.body.queues.map((q: { name: string }) => q.name)).toEqual([
      "generate",
      "schedule",
      "notify",
      "maintenance",
    ]); // scheduled runs, notifications and maintenance tasks have their own queues

    const a = (await request(t.url, "POST", "/api/jobs", { url: site("board") })).body;
    const w = await startTestWorker(t.prefix);
    try {
      const s1 = w.next();
      await s1.started;
      s1.fail("LLM_FAILED", "upstream 500");
      await waitUntil(async () => (await request(t.url, "GET", `/api/jobs/${a.id}`)).body.status === "failure");
      // Another job of the same site in flight: the board's retry is refused too (409).
      const other = w.next();
      const b = (await request(t.url, "POST", "/api/jobs", { url: site("board") })).body;
      await other.started;
      const refused = await request(t.url, "PUT", `/admin/queues/api/queues/generate/${a.id}/retry`);
      expect(refused.status).toBe(409);
      expect(JSON.stringify(refused.body)).toContain(b.id);
      other.succeed();
      await waitUntil(async () => (await request(t.url, "GET", `/api/jobs/${b.id}`)).body.status === "success");

      const s2 = w.next();
      const retry = await request(t.url, "PUT", `/admin/queues/api/queues/generate/${a.id}/retry`);
      expect(retry.status).toBeLessThan(300);
      // The retried job holds its site's de-dup key, as after an API retry.
      expect((await request(t.url, "POST", "/api/jobs", { url: site("board") })).body).toMatchObject({
        id: a.id,
        deduplicated: true,
      });
      await s2.started;
      s2.succeed();
      await waitUntil(async () => (await request(t.url, "GET", `/api/jobs/${a.id}`)).body.status === "success");
      const listed = await request(
        t.url,
        "GET",
        "/admin/queues/api/queues?activeQueue=generate&status=completed&page=1",
      );
      const generate = listed.body.queues.find((q: { name: string }) => q.name === "generate");
      expect(generate.jobs.map((j: { id: string }) => j.id)).toContain(a.id);

      // Clean: the board removes the job (its clean-all keeps jobs finished in the last 5 s).
      const clean = await request(t.url, "PUT", `/admin/queues/api/queues/generate/${a.id}/clean`);
      expect(clean.status).toBeLessThan(300);
      expect((await request(t.url, "GET", `/api/jobs/${a.id}`)).status).toBe(404);
    } finally {
      await w.close();
    }
  });

  test("its add job goes through the API's checks: schema and limits, allowed options, one job per site, generate only", async () => {
    const add = (queue: string, body: unknown) => request(t.url, "POST", `/admin/queues/api/queues/${queue}/add`, body);
    const counts = () => t.api.context.queues.generate.getJobCounts("waiting", "delayed", "active");
    const before = await counts();
    const refused: [string, unknown, number][] = [
      ["generate", { name: "generate", data: { url: site("badd"), maxPages: 1e9 }, options: {} }, 400],
      ["generate", { name: "generate", data: { url: "ftp://127.0.0.1/" }, options: {} }, 400],
      ["generate", { name: "generate", data: { url: site("badd"), include: ["/(/"] }, options: {} }, 400],
      ["generate", { name: "generate", data: { url: site("badd") }, options: { jobId: "mine" } }, 400],
      ["generate", { name: "generate", data: { url: site("badd") }, options: { attempts: 100 } }, 400],
      ["generate", { name: "other", data: { url: site("badd") }, options: {} }, 400],
      ["maintenance", { name: "prune", data: {}, options: {} }, 403],
    ];
    for (const [queue, body, status] of refused) {
      const res = await add(queue, body);
      expect([queue, JSON.stringify(body), res.status]).toEqual([queue, JSON.stringify(body), status]);
    }
    expect(await counts()).toEqual(before);

    // The options the board pre-fills (the queue's defaults) are accepted; a delay is kept.
    const defaults = t.api.context.queues.generate.defaultJobOptions;
    const ok = await add("generate", {
      name: "generate",
      data: { url: site("badd"), maxPages: 3, siteKey: "forged", trigger: "schedule" },
      options: { ...defaults, delay: 60_000 },
    });
    expect(ok.status).toBe(200);
    const id = ok.body.job.id as string;
    const job = await t.api.context.queues.generate.getJob(id);
    expect(job?.data).toMatchObject({ url: site("badd"), maxPages: 3, trigger: "api" });
    expect(job?.data.siteKey).not.toBe("forged");
    expect(await job?.getState()).toBe("delayed");
    // The site now has a job in flight: the API and the board both get that one back.
    expect((await request(t.url, "POST", "/api/jobs", { url: site("badd") })).body).toMatchObject({
      id,
      deduplicated: true,
    });
    const again = await add("generate", { name: "generate", data: { url: site("badd") }, options: {} });
    expect(again.body.job.id).toBe(id);
    expect((await counts()).delayed).toBe((before.delayed ?? 0) + 1);
  });
});
