/**
 * Scheduled runs have worker slots of their own (the schedule queue, SCHEDULE_CONCURRENCY): a tick
 * that falls due while a thousand one-off jobs wait is taken at once instead of behind them, and
 * the website records how late the run started (lastRunDelayMs).
 */
import { sleep } from "../../src/lib/time";
import { websiteView } from "../../src/api/websiteView";
import { createMetrics } from "../../src/metrics/registry";
import { readStartDelays } from "../../src/queues/runDelay";
import { startRedis, type RedisServer } from "../support/redisServer";
import { createScheduleHarness, type ScheduleHarness } from "../support/scheduleHarness";

let server: RedisServer;
let h: ScheduleHarness;

beforeAll(async () => {
  server = await startRedis();
  h = await createScheduleHarness(server.url);
});

afterAll(async () => {
  await h.close();
  await server.stop();
});

const BACKLOG = 1000;

test("a due tick starts before the 10th of 1,000 one-off jobs queued ahead of it", async () => {
  await h.queues.generate.addBulk(
    Array.from({ length: BACKLOG }, (_, i) => ({
      name: "generate" as const,
      data: { url: `http://127.0.0.1:9/oneoff${i}/`, siteKey: `127.0.0.1:9/oneoff${i}`, trigger: "api" as const },
    })),
  );
  // One slot each: the one-off backlog alone would take BACKLOG × 100 ms.
  await h.startWorker({ stubMs: 100, concurrency: 1, scheduleConcurrency: 1 });
  const w = await h.service.create({ url: "http://127.0.0.1:9/scheduled/", every: "1h" });

  for (let i = 0; i < 100 && !h.runs.some((r) => r.trigger === "schedule"); i++) await sleep(50);
  const order = h.runs.map((r) => r.trigger);
  const tick = order.indexOf("schedule");
  expect(tick).toBeGreaterThanOrEqual(0);
  expect(order.slice(0, tick).filter((t) => t === "api").length).toBeLessThan(10);
  expect(await h.queues.generate.getWaitingCount()).toBeGreaterThan(BACKLOG - 100); // the backlog is still there

  // The website says how late its run started: a number, and far less than the backlog's length.
  const view = websiteView(await h.service.withNextRun(await h.service.get(w.id)));
  expect(typeof view.lastRunDelayMs).toBe("number");
  expect(view.lastRunDelayMs).toBeLessThan(BACKLOG * 100);

  // Every worker's start delays land in one histogram, which the API's /metrics renders.
  const metrics = createMetrics({ startDelays: () => readStartDelays(h.redis, h.queues.schedule) });
  const text = (await metrics.render()).body;
  expect(text).toMatch(/# TYPE ltx_schedule_start_delay_seconds histogram/);
  expect(text).toMatch(/ltx_schedule_start_delay_seconds_count 1\n/);
  expect(text).toMatch(/ltx_schedule_start_delay_seconds_bucket\{le="\+Inf"\} 1\n/);
});

test("a 1 s schedule keeps ticking while the backlog waits", async () => {
  const w = await h.service.create({ url: "http://127.0.0.1:9/ticking/", every: "1s" });
  const from = Date.now();
  await sleep(3500);
  const ticks = h.runs.filter((r) => r.websiteId === w.id && r.at >= from).length;
  expect(ticks).toBeGreaterThanOrEqual(2); // on the shared queue it would not run at all before the backlog drained
  expect(await h.queues.generate.getWaitingCount()).toBeGreaterThan(BACKLOG - 200);
});
