/**
 * POST /api/schedules/pause semantics on BullMQ job schedulers: while the generate queue is paused
 * no run starts and no schedule is lost; each scheduler has one due job waiting however many
 * ticks pass, so on resume each website runs once, then the normal cadence goes on.
 */
import { sleep } from "../../src/lib/time";
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

test("jobs due while paused run once on resume, not once per missed tick", async () => {
  await h.startWorker();
  const a = await h.service.create({ url: "http://127.0.0.1:9/a/", every: "1s" });
  const b = await h.service.create({ url: "http://127.0.0.1:9/b/", every: "1s" });
  await sleep(1500);
  expect(h.runs.length).toBeGreaterThanOrEqual(4); // 2 ticks each so far

  await h.queues.schedule.pause();
  const pausedAt = Date.now();
  await sleep(3500); // three or four ticks missed per website
  expect(h.runs.filter((r) => r.at > pausedAt + 100)).toEqual([]);
  const counts = await h.queues.schedule.getJobCounts("waiting", "delayed");
  expect(counts).toEqual({ waiting: 2, delayed: 0 }); // one due job per scheduler, not one per tick
  expect(await h.queues.schedule.getJobSchedulersCount()).toBe(2);

  const resumedAt = Date.now();
  await h.queues.schedule.resume();
  await sleep(600);
  const burst = h.runs.filter((r) => r.at >= resumedAt);
  expect(burst.map((r) => r.websiteId).sort()).toEqual([a.id, b.id].sort());

  await sleep(2000); // back to one per second
  const after = h.runs.filter((r) => r.at >= resumedAt);
  for (const id of [a.id, b.id]) {
    const n = after.filter((r) => r.websiteId === id).length;
    expect(n).toBeGreaterThanOrEqual(2);
    expect(n).toBeLessThanOrEqual(4);
  }
}, 20_000);
