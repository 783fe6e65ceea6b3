/**
 * GET /api/websites with a status filter fills its pages however many records don't match (a short
 * page means the end), and PATCH {enabled: true} lifts a pause after repeated failures.
 */
import { startRedis, type RedisServer } from "../support/redisServer";
import { createScheduleHarness, type ScheduleHarness } from "../support/scheduleHarness";
import { waitFor } from "../support/workerHarness";

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

test("a status filter pages through 2,500 non-matching websites without short pages", async () => {
  const report = await h.service.import({
    urls: Array.from({ length: 2500 }, (_, i) => `http://127.0.0.1:9/list${i}/`),
    every: "1d",
    spread: "1h",
  });
  expect(report.added).toBe(2500);
  // Three disabled ones, all near the end of the creation order.
  const disabled = [];
  for (const n of [2400, 2450, 2499]) {
    const id = report.items[n]?.id ?? "";
    await h.service.update(id, { enabled: false });
    disabled.push(id);
  }
  const first = await h.service.list({ status: "disabled", limit: 2 });
  expect(first.items.map((w) => w.id)).toEqual(disabled.slice(0, 2));
  expect(first.nextCursor).toBeDefined();
  const second = await h.service.list({ status: "disabled", limit: 2, cursor: first.nextCursor });
  expect(second.items.map((w) => w.id)).toEqual(disabled.slice(2));
  expect(second.nextCursor).toBeUndefined();
});

test("PATCH enabled:true clears a failure pause and puts the schedule back", async () => {
  await h.startWorker({ failure: { backoffAfter: 1, pauseAfter: 1 } });
  const w = await h.service.create({ url: "http://127.0.0.1:9/paused/", every: "1h" });
  h.failing.add(w.id);
  // The pause is written first, then the scheduler removed.
  const paused = await waitFor(async () => {
    const now = await h.websites.get(w.id);
    return now?.pausedReason && !(await h.queues.schedule.getJobScheduler(w.id)) ? now : undefined;
  }, 10_000);
  expect(paused.enabled).toBe(true);

  const enabled = await h.service.update(w.id, { enabled: true });
  expect(enabled.pausedReason).toBeUndefined();
  expect(enabled.consecutiveFailures).toBe(0);
  expect(enabled.nextRunMs).toBeDefined();
  expect(await h.queues.schedule.getJobScheduler(w.id)).toBeDefined();
});
