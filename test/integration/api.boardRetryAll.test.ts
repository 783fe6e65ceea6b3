/**
 * Bull Board's "retry all" keeps "one job in flight per site": a failed job whose site has another
 * job in flight is skipped (and stays failed), the others are retried and hold their sites again.
 */
import type { Job } from "bullmq";
import { UnrecoverableError } from "bullmq";
import { silentLogger } from "../../src/lib/logger";
import { createRedis } from "../../src/queues/connection";
import { startWorker } from "../../src/workers/worker";
import { request, startTestApi, type TestApi } from "../support/apiHarness";
import { startRedis, type RedisServer } from "../support/redisServer";
import { waitFor } from "../support/workerHarness";

let server: RedisServer;
let t: TestApi;

beforeAll(async () => {
  server = await startRedis();
  t = await startTestApi(server.url);
});

afterAll(async () => {
  await t.close();
  await server.stop();
});

const url = (name: string): string => `http://127.0.0.1:9/${name}/`;

test("retry all of failed generate jobs skips a job whose site has another job in flight", async () => {
  const a = (await request(t.url, "POST", "/api/jobs", { url: url("x") })).body;
  const c = (await request(t.url, "POST", "/api/jobs", { url: url("y") })).body;
  // Both fail for good in a worker that then stops.
  const connection = createRedis(server.url, { forWorker: true });
  const worker = await startWorker({
    connection,
    prefix: t.prefix,
    logger: silentLogger(),
    handlers: {
      generate: (job: Job) => Promise.reject(new UnrecoverableError(`INVALID_INPUT: ${job.id ?? ""} fails here`)),
    },
    settings: { concurrency: 2, retryBaseDelayMs: 10, retryMaxDelayMs: 10, shutdownGraceMs: 500, drainDelaySeconds: 1 },
  });
  try {
    await waitFor(async () => (await t.api.context.queues.generate.getFailedCount()) === 2, 10_000, "both failed");
  } finally {
    await worker.close();
    connection.disconnect();
  }
  // A new job of site x is in flight (queued: no worker runs now).
  const b = (await request(t.url, "POST", "/api/jobs", { url: url("x") })).body;
  expect(b.deduplicated).toBe(false);

  const res = await request(t.url, "PUT", "/admin/queues/api/queues/generate/retry/failed");
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ retried: 1, skipped: 1 });
  const generate = t.api.context.queues.generate;
  expect(await generate.getJobState(a.id as string)).toBe("failed");
  expect(await generate.getJobState(c.id as string)).not.toBe("failed");
  // Site y's retried job holds its site again; site x still has exactly its one job in flight.
  expect((await request(t.url, "POST", "/api/jobs", { url: url("y") })).body).toMatchObject({
    id: c.id,
    deduplicated: true,
  });
  expect((await request(t.url, "POST", "/api/jobs", { url: url("x") })).body).toMatchObject({
    id: b.id,
    deduplicated: true,
  });
  expect(await generate.count()).toBe(2);
});
