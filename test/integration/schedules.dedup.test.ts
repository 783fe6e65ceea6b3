/**
 * Scheduled runs share the per-site de-duplication of enqueueGenerate: a tick that comes while a
 * job for the site is in flight does nothing (completed, `skipped`), and a refresh or API
 * submission during a scheduled run joins that run instead of starting a second one.
 */
import { sleep } from "../../src/lib/time";
import { enqueueGenerate } from "../../src/queues/enqueue";
import { startRedis, type RedisServer } from "../support/redisServer";
import { createScheduleHarness, type ScheduleHarness } from "../support/scheduleHarness";

let server: RedisServer;
let h: ScheduleHarness;

beforeAll(async () => {
  server = await startRedis();
  h = await createScheduleHarness(server.url);
  await h.startWorker({ stubMs: 1500 });
});

afterAll(async () => {
  await h.close();
  await server.stop();
});

test("a refresh or an API submission during a scheduled run joins it", async () => {
  const w = await h.service.create({ url: "http://127.0.0.1:9/join/", every: "1h" });
  await sleep(400); // the first scheduled run is now active (the stub takes 1.5 s)
  const refresh = await h.service.refresh(w.id);
  expect(refresh.deduplicated).toBe(true);
  expect(refresh.job.id).toMatch(new RegExp(`^repeat:${w.id}:\\d+$`));
  const api = await enqueueGenerate(h.queues, { url: w.url, trigger: "api" });
  expect(api).toMatchObject({ deduplicated: true, job: { id: refresh.job.id } });
  await sleep(1600);
  expect(h.runs.filter((r) => r.websiteId === w.id)).toHaveLength(1);
  // Once it finished, the site's key is free again: a new submission makes a new job.
  const next = await enqueueGenerate(h.queues, { url: w.url, trigger: "api" });
  expect(next.deduplicated).toBe(false);
});

test("a tick while a job for the site is in flight is skipped, not run twice", async () => {
  const url = "http://127.0.0.1:9/busy/";
  const inFlight = await enqueueGenerate(h.queues, { url, trigger: "api" }, { jobOptions: { delay: 60_000 } });
  const w = await h.service.create({ url, every: "1h" }); // its first tick is due now
  let tick;
  for (let i = 0; i < 50 && !tick; i++) {
    await sleep(100);
    tick = (await h.queues.schedule.getJobs(["completed"])).find((j) => j.id?.startsWith(`repeat:${w.id}:`));
  }
  expect(tick?.returnvalue?.skipped).toBe(`job ${inFlight.job.id} for this site is already in flight`);
  expect(h.runs.filter((r) => r.websiteId === w.id)).toEqual([]);
  expect((await h.websites.get(w.id))?.lastJob).toBeUndefined(); // a skip is not a run
  await inFlight.job.remove();
});
