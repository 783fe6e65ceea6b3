/**
 * Maintenance schedules: each task is its own job scheduler, so a task that throws is logged,
 * kept as a failed job and runs again at its next tick while the others go on. And each real
 * task does its job: reap old finished jobs, prune versions, clean auth leftovers, repair schedules.
 */
import { loadConfig } from "../../src/config/env";
import { silentLogger } from "../../src/lib/logger";
import { sleep } from "../../src/lib/time";
import { maintenanceTasks, type MaintenanceTask } from "../../src/scheduler/maintenance";
import { pruneVersions } from "../../src/store/versionPruning";
import { runSchedulerProcess } from "../../src/scheduler/main";
import { createResultStore } from "../../src/store/results";
import { fakeResult } from "../support/workerHarness";
import { startRedis, type RedisServer } from "../support/redisServer";
import { createScheduleHarness, type ScheduleHarness } from "../support/scheduleHarness";
import { testFileStore } from "../support/fileStore";

let server: RedisServer;
let h: ScheduleHarness;
const files = testFileStore();

beforeAll(async () => {
  server = await startRedis();
  h = await createScheduleHarness(server.url);
});

afterAll(async () => {
  await h.close();
  await server.stop();
});

test("a throwing task fails only its own job, is retried at its next tick, and the others keep running", async () => {
  const config = loadConfig({
    REDIS_URL: server.url,
    REDIS_PREFIX: `${h.prefix}m`,
    FILES_DIR: files.dir,
    MAINTENANCE_INTERVAL: "1s",
    LOG_LEVEL: "silent",
  });
  const ran: Record<string, number> = {};
  const count = (task: MaintenanceTask) => async () => {
    ran[task] = (ran[task] ?? 0) + 1;
    return { ok: true };
  };
  const proc = await runSchedulerProcess(config, silentLogger(), {
    overrides: {
      "reap-jobs": async () => {
        ran["reap-jobs"] = (ran["reap-jobs"] ?? 0) + 1;
        throw new Error("disk on fire");
      },
      "prune-versions": count("prune-versions"),
      "sweep-files": count("sweep-files"),
      "auth-cleanup": count("auth-cleanup"),
      "check-schedules": count("check-schedules"),
    },
  });
  try {
    expect(await proc.maintenance.getJobSchedulersCount()).toBe(5);
    await sleep(3600); // ticks at ~1 s, 2 s, 3 s after start
    for (const task of ["reap-jobs", "prune-versions", "sweep-files", "auth-cleanup", "check-schedules"]) {
      expect([task, (ran[task] ?? 0) >= 2]).toEqual([task, true]);
    }
    const failed = await proc.maintenance.getFailed();
    expect(failed.length).toBe(ran["reap-jobs"]);
    expect(failed.every((j) => j.name === "reap-jobs" && j.failedReason === "disk on fire")).toBe(true);
    expect(await proc.maintenance.getJobSchedulersCount()).toBe(5);
  } finally {
    await proc.shutdown.run("test done");
  }
}, 20_000);

test("reap-jobs removes finished jobs older than the retention", async () => {
  await h.startWorker();
  const added = await Promise.all(
    [1, 2, 3].map((i) =>
      h.queues.generate.add("generate", {
        url: `http://127.0.0.1:9/r${i}/`,
        siteKey: `127.0.0.1:9/r${i}`,
        trigger: "api",
      }),
    ),
  );
  for (;;) {
    if ((await h.queues.generate.getCompletedCount()) >= 3) break;
    await sleep(50);
  }
  const tasks = (retentionDays: number) =>
    maintenanceTasks({
      redis: h.redis,
      prefix: h.prefix,
      files,
      generate: h.queues.generate,
      schedule: h.queues.schedule,
      websites: h.websites,
      settings: { retentionDays, maxVersionsPerSite: 5, intervalMs: 1000 },
      logger: silentLogger(),
    });
  expect(await tasks(1)["reap-jobs"]()).toEqual({ completed: 0, failed: 0 }); // all younger than a day
  await sleep(300);
  expect(await tasks(0.1 / 86_400)["reap-jobs"]()).toEqual({ completed: 3, failed: 0 }); // retention 0.1 s
  expect(await h.queues.generate.getJob(added[0]?.id ?? "")).toBeUndefined();
});

test("prune-versions keeps the newest MAX_VERSIONS_PER_SITE of each site", async () => {
  const store = createResultStore(h.redis, { prefix: h.prefix, maxVersions: 10, files });
  const url = "http://127.0.0.1:9/p/";
  for (let i = 1; i <= 6; i++)
    await store.save({
      siteKey: "127.0.0.1:9/p",
      url,
      jobId: `j${i}`,
      result: fakeResult(url, { llmsTxt: `# P\n\n> v${i}\n` }),
    });
  expect(await pruneVersions(h.redis, { prefix: h.prefix, keep: 4, files })).toEqual({ sites: 1, removed: 2, keep: 4 });
  expect((await store.listVersions("127.0.0.1:9/p")).map((v) => v.version)).toEqual([6, 5, 4, 3]);
  expect(await pruneVersions(h.redis, { prefix: h.prefix, keep: 4, files })).toEqual({ sites: 1, removed: 0, keep: 4 });
});

test("auth-cleanup removes expired sessions without a TTL and hashes of revoked tokens", async () => {
  const p = h.prefix;
  await h.redis.set(`${p}:auth:session:old`, JSON.stringify({ expiresAt: new Date(Date.now() - 1000).toISOString() }));
  await h.redis.set(
    `${p}:auth:session:live`,
    JSON.stringify({ expiresAt: new Date(Date.now() + 60_000).toISOString() }),
    "EX",
    60,
  );
  await h.redis.set(`${p}:auth:token:abc`, "tok1");
  await h.redis.set(`${p}:auth:token:def`, "tok2");
  await h.redis.hset(`${p}:auth:tokens`, "tok2", "{}");
  const tasks = maintenanceTasks({
    redis: h.redis,
    prefix: p,
    files,
    generate: h.queues.generate,
    schedule: h.queues.schedule,
    websites: h.websites,
    settings: { retentionDays: 1, maxVersionsPerSite: 5, intervalMs: 1000 },
    logger: silentLogger(),
  });
  expect(await tasks["auth-cleanup"]()).toEqual({ expiredSessions: 1, revokedTokens: 1 });
  expect(await h.redis.exists(`${p}:auth:session:live`, `${p}:auth:token:def`)).toBe(2);
});

test("check-schedules repairs a missing scheduler, a wrong interval and an orphan", async () => {
  const a = await h.service.create({ url: "http://127.0.0.1:9/ca/", every: "1h" });
  const b = await h.service.create({ url: "http://127.0.0.1:9/cb/", every: "1h" });
  await h.queues.schedule.removeJobScheduler(a.id); // lost
  await h.queues.schedule.upsertJobScheduler(
    b.id as "generate",
    { every: 5000, startDate: Date.now() + 60_000 },
    { name: "generate", data: { url: b.url, siteKey: b.siteKey, trigger: "schedule", websiteId: b.id } },
  ); // drifted
  await h.queues.schedule.upsertJobScheduler(
    "ghost" as "generate",
    { every: 5000, startDate: Date.now() + 60_000 },
    { name: "generate", data: { url: b.url, siteKey: b.siteKey, trigger: "schedule", websiteId: "ghost" } },
  ); // no website (a future start: the running worker would remove it first)
  const tasks = maintenanceTasks({
    redis: h.redis,
    prefix: h.prefix,
    files,
    generate: h.queues.generate,
    schedule: h.queues.schedule,
    websites: h.websites,
    settings: { retentionDays: 1, maxVersionsPerSite: 5, intervalMs: 1000 },
    logger: silentLogger(),
  });
  const report = await tasks["check-schedules"]();
  expect(report).toMatchObject({ missing: [a.id], mismatched: [b.id], orphaned: ["ghost"], repaired: 3, errors: [] });
  expect((await h.queues.schedule.getJobSchedulers()).map((s) => [s.key, s.every]).sort()).toEqual(
    [
      [a.id, 3_600_000],
      [b.id, 3_600_000],
    ].sort(),
  );
  expect(await tasks["check-schedules"]()).toMatchObject({ repaired: 0 });
});
