/**
 * One-off jobs are shared fairly between clients (queues/clientShare.ts): a client's new job is
 * prioritised by how many of its jobs are already in flight, so client B's first job doesn't wait
 * behind client A's 200. Clients here are addresses (auth off), told apart through X-Forwarded-For
 * from a trusted loopback proxy. MAX_QUEUED_PER_CLIENT refuses the next job with 429, queueing
 * nothing.
 */
import type { Job } from "bullmq";
import { silentLogger } from "../../src/lib/logger";
import { sleep } from "../../src/lib/time";
import { clientShare, releaseOnFinish } from "../../src/queues/clientShare";
import { createRedis } from "../../src/queues/connection";
import { startWorker } from "../../src/workers/worker";
import { request, startTestApi, type TestApi } from "../support/apiHarness";
import { startRedis, type RedisServer } from "../support/redisServer";
import { stubResult } from "../support/scheduleHarness";
import { waitFor } from "../support/workerHarness";

let server: RedisServer;

beforeAll(async () => {
  server = await startRedis();
});

afterAll(async () => {
  await server.stop();
});

// Never fetched: the worker below runs a stub, so the URLs only need distinct sites.
const url = (name: string): string => `http://127.0.0.1:9/${name}/`;
const from = (ip: string): Record<string, string> => ({ "x-forwarded-for": ip });

async function withApi(env: Record<string, string>, fn: (t: TestApi) => Promise<void>): Promise<void> {
  const t = await startTestApi(server.url, { TRUST_PROXY: "loopback", RATE_LIMIT_PER_MINUTE: "100000", ...env });
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

test("client B's one job starts before client A's 10th of 200, with 2 worker slots", async () => {
  await withApi({}, async (t) => {
    const a = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const res = await request(t.url, "POST", "/api/jobs", { url: url(`a${i}`) }, from("10.0.0.1"));
      expect(res.status).toBe(202);
      a.add(res.body.id as string);
    }
    const b = await request(t.url, "POST", "/api/jobs", { url: url("b0") }, from("10.0.0.2"));
    expect(b.status).toBe(202);

    // The worker starts only now, so all 201 jobs are queued before the first is taken.
    const started: string[] = [];
    const connection = createRedis(server.url, { forWorker: true });
    const worker = await startWorker({
      connection,
      prefix: t.prefix,
      logger: silentLogger(),
      handlers: {
        generate: async (job: Job) => {
          started.push(job.id ?? "");
          await sleep(20);
          return stubResult(job.data as { siteKey: string; url: string });
        },
      },
      settings: {
        concurrency: 2,
        retryBaseDelayMs: 50,
        retryMaxDelayMs: 100,
        shutdownGraceMs: 1000,
        drainDelaySeconds: 1,
      },
    });
    const generateWorker = worker.workers.find((w) => w.name === "generate");
    const detach = generateWorker
      ? releaseOnFinish(
          clientShare(connection, t.prefix, t.api.context.queues.generate.toKey("")),
          generateWorker,
          silentLogger(),
        )
      : () => undefined;
    try {
      await waitFor(() => started.includes(b.body.id as string), 20_000, "B's job to start");
      const aBefore = started.slice(0, started.indexOf(b.body.id as string)).filter((id) => a.has(id));
      expect(aBefore.length).toBeLessThan(9); // B started before A's 10th
    } finally {
      detach();
      await worker.close();
      connection.disconnect();
    }
  });
});

test("MAX_QUEUED_PER_CLIENT: the next job is refused with 429 and nothing is queued", async () => {
  await withApi({ MAX_QUEUED_PER_CLIENT: "3" }, async (t) => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await request(t.url, "POST", "/api/jobs", { url: url(`q${i}`) }, from("10.0.0.3"));
      expect(res.status).toBe(202);
      ids.push(res.body.id as string);
    }
    const queued = await t.api.context.queues.generate.count();
    const refused = await request(t.url, "POST", "/api/jobs", { url: url("q3") }, from("10.0.0.3"));
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: { code: "TOO_MANY_QUEUED", message: expect.any(String) } });
    expect(await t.api.context.queues.generate.count()).toBe(queued);

    // At its limit, a client's submission of a site already in flight still joins that job,
    // and another client is not held back.
    const again = await request(t.url, "POST", "/api/jobs", { url: url("q0") }, from("10.0.0.3"));
    expect(again.body).toMatchObject({ id: ids[0], deduplicated: true });
    expect((await request(t.url, "POST", "/api/jobs", { url: url("q3") }, from("10.0.0.4"))).status).toBe(202);

    // A deleted job frees its place.
    expect((await request(t.url, "DELETE", `/api/jobs/${ids[1] ?? ""}`)).status).toBe(204);
    expect((await request(t.url, "POST", "/api/jobs", { url: url("q4") }, from("10.0.0.3"))).status).toBe(202);
  });
});
