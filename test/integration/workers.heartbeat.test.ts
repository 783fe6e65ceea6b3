/*
 * A stuck fleet is visible: worker heartbeats show in /readyz (`workers`) and /metrics
 * (ltx_workers_*), and "jobs waiting, nothing taking them" is flagged. Also METRICS_TOKEN on
 * /metrics and the metrics cache (METRICS_CACHE_MS) that keeps a scrape's Redis cost flat.
 */
import { silentLogger } from "../../src/lib/logger";
import { fleetStatus, startHeartbeat, STUCK_AFTER_MS, type WorkerBeat } from "../../src/queues/workerHeartbeat";
import { request, startTestApi, type TestApi } from "../support/apiHarness";
import { type RedisServer, startRedis } from "../support/redisServer";
import { waitFor } from "../support/workerHarness";

let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const TOKEN = "metrics-token-0123456789";

function api(env: Record<string, string>): Promise<TestApi> {
  return startTestApi(redis.url, env, {});
}

function gauge(text: string, name: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

async function addJob(t: TestApi, host: string): Promise<void> {
  await t.api.context.queues.generate.add("generate", { url: `http://${host}/`, siteKey: host, trigger: "api" });
}

test("no worker alive while jobs wait: /readyz stays 200 and says stuck; /metrics shows it", async () => {
  const t = await api({ METRICS_CACHE_MS: "0" });
  try {
    const idle = await request(t.url, "GET", "/readyz");
    expect(idle.status).toBe(200);
    expect(idle.body.workers).toMatchObject({ alive: 0, waiting: 0, stuck: false });
    await addJob(t, "a.test");
    const stuck = await request(t.url, "GET", "/readyz");
    expect(stuck.status).toBe(200); // the API can still take submissions
    expect(stuck.body.workers).toMatchObject({ alive: 0, waiting: 1, stuck: true });
    expect(stuck.body.workers.reason).toMatch(/no worker is alive/);
    const m = String((await request(t.url, "GET", "/metrics")).body);
    expect(gauge(m, "ltx_workers_alive")).toBe(0);
    expect(gauge(m, "ltx_workers_stuck")).toBe(1);
  } finally {
    await t.close();
  }
});

test("a worker's heartbeat shows its slots and activity, and disappears when it stops", async () => {
  const t = await api({ METRICS_CACHE_MS: "0" });
  let active = 0;
  let lastTakenAt: number | null = null;
  const hb = startHeartbeat(
    t.redis,
    t.prefix,
    { concurrency: 3, activeCount: () => active, lastTakenAt: () => lastTakenAt },
    silentLogger(),
    100,
  );
  try {
    const seen = await waitFor(async () => {
      const r = await request(t.url, "GET", "/readyz");
      return r.body.workers?.alive === 1 ? r.body.workers : undefined;
    });
    expect(seen).toMatchObject({ alive: 1, slots: 3, active: 0, stuck: false });
    await addJob(t, "b.test");
    active = 1;
    lastTakenAt = Date.now();
    const busy = await waitFor(async () => {
      const r = await request(t.url, "GET", "/readyz");
      return r.body.workers?.active === 1 ? r.body.workers : undefined;
    });
    expect(busy).toMatchObject({ alive: 1, slots: 3, waiting: 1, stuck: false });
    const m = String((await request(t.url, "GET", "/metrics")).body);
    expect(gauge(m, "ltx_worker_slots")).toBe(3);
    expect(gauge(m, "ltx_worker_active_jobs")).toBe(1);
    await hb.stop();
    expect((await request(t.url, "GET", "/readyz")).body.workers).toMatchObject({ alive: 0, stuck: true });
  } finally {
    await hb.stop();
    await t.close();
  }
});

test("fleetStatus: alive workers that took nothing for a minute while jobs wait are stuck", () => {
  const now = 1_000_000_000;
  const beat = (over: Partial<WorkerBeat>): WorkerBeat => ({
    id: "w",
    host: "h",
    pid: 1,
    concurrency: 2,
    active: 0,
    startedAt: now - 10 * STUCK_AFTER_MS,
    beatAt: now,
    lastTakenAt: null,
    ...over,
  });
  expect(fleetStatus([beat({ lastTakenAt: now - 5_000 })], 10, now).stuck).toBe(false);
  expect(fleetStatus([beat({ lastTakenAt: now - STUCK_AFTER_MS - 1 })], 10, now)).toMatchObject({
    stuck: true,
    reason: expect.stringMatching(/none took a job for 60 s/),
  });
  expect(fleetStatus([beat({ startedAt: now - 1000 })], 10, now).stuck).toBe(false); // just started
  expect(fleetStatus([beat({ active: 2, lastTakenAt: now - 10 * STUCK_AFTER_MS })], 10, now).stuck).toBe(false); // long jobs
  expect(fleetStatus([beat({ lastTakenAt: now - 10 * STUCK_AFTER_MS })], 0, now).stuck).toBe(false); // idle, nothing waits
});

test("METRICS_TOKEN protects /metrics with the standard error JSON; /readyz and /healthz stay public", async () => {
  const t = await api({ METRICS_TOKEN: TOKEN });
  try {
    const none = await request(t.url, "GET", "/metrics");
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: { code: "UNAUTHORIZED", message: expect.stringContaining("METRICS_TOKEN") } });
    const wrong = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain("ltx_queue_depth");
    expect((await request(t.url, "GET", "/readyz")).status).toBe(200);
  } finally {
    await t.close();
  }
});

/** Commands Redis has executed so far (INFO stats), read on the assertion client. */
async function commandsProcessed(t: TestApi): Promise<number> {
  const info = await t.redis.info("stats");
  return Number(/total_commands_processed:(\d+)/.exec(info)?.[1]);
}

test("METRICS_CACHE_MS: scrapes within the window reuse one Redis snapshot", async () => {
  const uncached = await api({ METRICS_CACHE_MS: "0" });
  let perScrape: number;
  try {
    const before = await commandsProcessed(uncached);
    for (let i = 0; i < 5; i++) await request(uncached.url, "GET", "/metrics");
    perScrape = ((await commandsProcessed(uncached)) - before - 1) / 5;
  } finally {
    await uncached.close();
  }
  expect(perScrape).toBeGreaterThan(3);
  const t = await api({ METRICS_CACHE_MS: "60000" });
  try {
    await addJob(t, "c.test");
    const first = String((await request(t.url, "GET", "/metrics")).body);
    expect(gauge(first, "ltx_queue_depth")).toBe(1);
    await addJob(t, "d.test");
    const before = await commandsProcessed(t);
    for (let i = 0; i < 20; i++) await request(t.url, "GET", "/metrics");
    // The INFO call itself and at most a stray background read: the twenty scrapes cost nothing.
    process.stdout.write(`uncached scrape: ${perScrape} Redis commands\n`);
    expect((await commandsProcessed(t)) - before).toBeLessThan(perScrape);
    expect(gauge(String((await request(t.url, "GET", "/metrics")).body), "ltx_queue_depth")).toBe(1);
  } finally {
    await t.close();
  }
});
