/**
 * Failure back-off: with FAILURE_BACKOFF_AFTER=2 and FAILURE_PAUSE_AFTER=4 a website that keeps
 * failing runs at 1 s, 1 s, then 2 s, 4 s apart, and is then paused with the reason (scheduler
 * removed, shown in the API and the scheduled job's data); a success or a manual refresh puts
 * the normal schedule back.
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
  await h.startWorker({ failure: { backoffAfter: 2, pauseAfter: 4 } });
});

afterAll(async () => {
  await h.close();
  await server.stop();
});

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test("stretch, pause with the reason, then a manual refresh resets; a success also resets", async () => {
  const f = await h.service.create({ url: "http://127.0.0.1:9/failing/", every: "1s" });
  const r = await h.service.create({ url: "http://127.0.0.1:9/recovers/", every: "1s" });
  h.failing.add(f.id);
  h.failing.add(r.id);

  // Two failures: the interval doubles, visible on the website and in the scheduled job's data.
  // The website record is written just before its scheduler is moved, so wait for both.
  const backing = await until("back-off", async () => {
    const w = await h.websites.get(f.id);
    const s = await h.queues.schedule.getJobScheduler(f.id);
    return w?.backoffEveryMs === 2000 && s?.every === 2000 ? w : undefined;
  });
  expect(backing.consecutiveFailures).toBe(2);
  const view = websiteView(await h.service.withNextRun(backing));
  expect(view).toMatchObject({
    status: "backoff",
    schedule: { every: "1s", backoffEveryMs: 2000 },
    lastJob: { status: "failure" },
  });
  const scheduler = await h.queues.schedule.getJobScheduler(f.id);
  expect(scheduler?.every).toBe(2000);
  const next = await h.queues.schedule.getJob(`repeat:${f.id}:${scheduler?.next}`);
  expect(next?.data).toMatchObject({
    websiteId: f.id,
    trigger: "schedule",
    backoff: { consecutiveFailures: 2, everyMs: 2000 },
  });

  // The other site recovers: its next run succeeds and the normal interval is back.
  h.failing.delete(r.id);
  const recovered = await until("recovery", async () => {
    const w = await h.websites.get(r.id);
    const s = await h.queues.schedule.getJobScheduler(r.id);
    return w?.lastSuccessAt && w.backoffEveryMs === undefined && s?.every === 1000 ? w : undefined;
  });
  expect(recovered.consecutiveFailures).toBe(0);
  expect((await h.queues.schedule.getJobScheduler(r.id))?.every).toBe(1000);

  // Four failures: paused, its scheduler gone, the reason shown.
  const paused = await until(
    "pause",
    async () => {
      const w = await h.websites.get(f.id);
      return w?.pausedReason && !(await h.queues.schedule.getJobScheduler(f.id)) ? w : undefined;
    },
    15_000,
  );
  expect(paused.pausedReason).toMatch(/^paused after 4 consecutive failed runs; last error: FETCH_FAILED/);
  expect(websiteView(await h.service.withNextRun(paused)).status).toBe("paused");
  const runs = h.runs.filter((x) => x.websiteId === f.id && x.trigger === "schedule").map((x) => x.at);
  expect(runs).toHaveLength(4);
  const gaps = runs.slice(1).map((t, i) => t - (runs[i] as number));
  // 1 s, then 2 s, then 4 s apart. The lower bounds prove the stretch (an unstretched schedule
  // runs 1 s apart); the upper ones leave a busy machine's timer and processing slack.
  [1000, 2000, 4000].forEach((want, i) => {
    expect(gaps[i]).toBeGreaterThan(want - 400);
    expect(gaps[i]).toBeLessThan(want + 1500);
  });
  await sleep(1200);
  expect(h.runs.filter((x) => x.websiteId === f.id)).toHaveLength(4);

  // A manual refresh clears the pause, puts the scheduler back and runs now.
  h.failing.delete(f.id);
  const { job } = await h.service.refresh(f.id);
  const reset = await h.websites.get(f.id);
  expect(reset).toMatchObject({ consecutiveFailures: 0 });
  expect(reset?.pausedReason).toBeUndefined();
  expect((await h.queues.schedule.getJobScheduler(f.id))?.every).toBe(1000);
  const done = await until("refresh run", async () => {
    const w = await h.websites.get(f.id);
    return w?.lastJob && w.lastJob.id === job.id && w.lastJob.status === "success" ? w : undefined;
  });
  expect(done.lastSuccessAt).toBeDefined();
}, 30_000);
