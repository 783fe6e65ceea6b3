/**
 * A cron schedule: a new website runs at once, then at the pattern's times; changing it to an
 * interval (PATCH) rewrites its one scheduler.
 */
import { websiteView } from "../../src/api/websiteView";
import { sleep } from "../../src/lib/time";
import { startRedis, type RedisServer } from "../support/redisServer";
import { createScheduleHarness, type ScheduleHarness } from "../support/scheduleHarness";

let server: RedisServer;
let h: ScheduleHarness;

beforeAll(async () => {
  server = await startRedis();
  h = await createScheduleHarness(server.url);
  await h.startWorker();
});

afterAll(async () => {
  await h.close();
  await server.stop();
});

test("runs now, then on the pattern (every even second); PATCH to an interval rewrites the scheduler", async () => {
  const created = Date.now();
  const w = await h.service.create({ url: "http://127.0.0.1:9/cron/", cron: "*/2 * * * * *", tz: "UTC" });
  await sleep(4500);
  const ticks = h.runs.filter((r) => r.websiteId === w.id).map((r) => Number(r.jobId.split(":").pop()));
  expect(ticks[0]).toBeLessThan(created + 1000); // the first run is immediate
  const later = ticks.slice(1);
  expect(later.length).toBeGreaterThanOrEqual(2);
  for (const t of later) expect(t % 2000).toBe(0);
  for (let i = 1; i < later.length; i++) expect((later[i] as number) - (later[i - 1] as number)).toBe(2000);

  const patched = await h.service.update(w.id, { every: "1h" });
  expect(websiteView(patched).schedule).toEqual({ every: "1h", everyMs: 3_600_000 });
  const schedulers = await h.queues.schedule.getJobSchedulers();
  expect(schedulers.map((s) => [s.key, s.every, s.pattern])).toEqual([[w.id, 3_600_000, undefined]]);
  // The next run is at most one new interval away.
  expect(schedulers[0]?.next).toBeLessThanOrEqual(Date.now() + 3_600_000);
}, 20_000);
