/**
 * Job schedulers across real processes: two worker+scheduler processes (the real worker, the
 * website-run wrapper, runSchedulerProcess) over one redis-server, websites every 1 s, a stub
 * pipeline that records each finished run. Exactly one run per due tick, no duplicate schedulers
 * or runs after rolling restarts, and disable/delete stop runs at once.
 */
import { Redis } from "ioredis";
import { silentLogger } from "../../src/lib/logger";
import { sleep } from "../../src/lib/time";
import { createQueues, type Queues } from "../../src/queues/queues";
import { createWebsiteService, type WebsiteService } from "../../src/websites/service";
import { createWebsiteStore } from "../../src/store/websites";
import { startRedis, type RedisServer } from "../support/redisServer";
import { testFilesDir } from "../support/fileStore";
import { MAINTENANCE_TASKS } from "../../src/scheduler/maintenance";
import {
  removeScheduleLogs,
  scheduleLogDir,
  spawnScheduleWorker,
  type ScheduleChild,
} from "../support/scheduleProcesses";

interface Run {
  jobId: string;
  websiteId: string;
  pid: number;
  at: number;
}

const PREFIX = "sp";
let server: RedisServer;
let redis: Redis;
let queues: Queues;
let service: WebsiteService;
let children: ScheduleChild[] = [];
let failed = false;
const filesDir = testFilesDir();

const env = (): Record<string, string> => ({
  REDIS_URL: server.url,
  REDIS_PREFIX: PREFIX,
  FILES_DIR: filesDir,
  MAINTENANCE_INTERVAL: "1h",
  DEFAULT_UPDATE_INTERVAL: "1d",
  LTX_TEST_STUB_MS: "50",
});

async function runs(): Promise<Run[]> {
  return (await redis.lrange(`${PREFIX}:test:runs`, 0, -1)).map((r) => JSON.parse(r) as Run);
}

/** Tick times (the ms in "repeat:<id>:<ms>") of a website's recorded runs, sorted. */
function ticks(all: Run[], id: string): number[] {
  return all
    .filter((r) => r.websiteId === id)
    .map((r) => Number(r.jobId.split(":").pop()))
    .sort((a, b) => a - b);
}

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  queues = createQueues({
    connection: redis,
    prefix: PREFIX,
    jobs: { maxAttempts: 1, retryBaseDelayMs: 50, retryMaxDelayMs: 100, retentionDays: 1, retentionCount: 10_000 },
  });
  const websites = createWebsiteStore(redis, { prefix: PREFIX });
  service = createWebsiteService({
    websites,
    redis,
    queues,
    settings: {
      defaultEveryMs: 86_400_000,
      maxPagesLimit: 100,
      maxUrlLength: 2048,
      maxWebsites: 100_000,
      maxImportUrls: 10_000,
    },
    logger: silentLogger(),
  });
  children = await Promise.all([spawnScheduleWorker(env()), spawnScheduleWorker(env())]);
});

afterEach(() => {
  failed ||= expect.getState().assertionCalls !== expect.getState().numPassingAsserts;
});

afterAll(async () => {
  await Promise.all(children.map((c) => c.stop()));
  await queues.close();
  redis.disconnect();
  await server.stop({ keepDir: failed });
  if (failed) process.stderr.write(`schedule process logs kept in ${scheduleLogDir}\n`);
  else removeScheduleLogs();
});

test("two processes: every due tick of every website runs exactly once, none skipped", async () => {
  const created = await Promise.all(
    ["a", "b", "c"].map((p) => service.create({ url: `http://127.0.0.1:9/${p}/`, every: "1s" })),
  );
  const t0 = Date.now();
  await sleep(6000);
  const end = Date.now();
  const all = await runs();
  expect(new Set(all.map((r) => r.jobId)).size).toBe(all.length); // no tick ran twice
  for (const w of created) {
    const t = ticks(all, w.id);
    // The first tick is at registration, then one per second with no gap: 6 s → 6 or 7 ticks.
    expect(t[0]).toBeGreaterThanOrEqual(t0 - 1000);
    expect(t[0]).toBeLessThanOrEqual(t0 + 100);
    for (let i = 1; i < t.length; i++) expect((t[i] as number) - (t[i - 1] as number)).toBe(1000);
    expect(t[t.length - 1]).toBeGreaterThan(end - 1600);
    expect(t.length).toBeGreaterThanOrEqual(6);
    expect(t.length).toBeLessThanOrEqual(7);
  }
  expect(new Set(all.map((r) => r.pid)).size).toBe(2); // both processes took runs
  expect(await queues.schedule.getJobSchedulersCount()).toBe(3);
}, 30_000);

test("rolling restarts (5 per process): one scheduler per website, no extra or lost runs", async () => {
  const before = (await runs()).length;
  const repaired: number[] = [];
  for (let round = 0; round < 5; round++) {
    // Replacements start before the old processes stop, so a process is always up to take runs.
    const fresh = await Promise.all(children.map(() => spawnScheduleWorker(env())));
    await Promise.all(children.map((c) => c.stop()));
    children = fresh;
    repaired.push(...fresh.map((c) => c.repairedAtStart));
  }
  // Every start-up consistency check found the schedules as they should be: nothing to repair.
  expect(repaired).toEqual(new Array(10).fill(0));
  await sleep(1500);
  const all = await runs();
  expect(all.length).toBeGreaterThan(before);
  expect(new Set(all.map((r) => r.jobId)).size).toBe(all.length);
  expect(await queues.schedule.getJobSchedulersCount()).toBe(3);
  const ids = (await queues.schedule.getJobSchedulers()).map((s) => s.key).sort();
  for (const id of ids) {
    const t = ticks(all, id);
    for (let i = 1; i < t.length; i++) expect((t[i] as number) - (t[i - 1] as number)).toBe(1000);
  }
  // The maintenance schedulers were upserted by every start, and still number one per task.
  const maintenance = await redis.zcard(`${PREFIX}:maintenance:repeat`);
  expect(maintenance).toBe(MAINTENANCE_TASKS.length);
}, 120_000);

test("disable and delete stop runs at once; the other website keeps running", async () => {
  const list = (await service.list({ limit: 10 })).items;
  const [a, b, c] = list;
  if (!a || !b || !c) throw new Error("expected three websites");
  await service.update(a.id, { enabled: false });
  await service.remove(b.id);
  const stoppedAt = Date.now();
  await sleep(3500);
  const all = await runs();
  // A run already executing may finish (the stub takes 50 ms); nothing starts afterwards.
  const late = all.filter((r) => (r.websiteId === a.id || r.websiteId === b.id) && r.at > stoppedAt + 300);
  expect(late).toEqual([]);
  expect(all.filter((r) => r.websiteId === c.id && r.at > stoppedAt + 300).length).toBeGreaterThanOrEqual(2);
  expect((await queues.schedule.getJobSchedulers()).map((s) => s.key)).toEqual([c.id]);
}, 30_000);
