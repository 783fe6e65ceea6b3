/**
 * /api/websites and /api/schedules over real HTTP: the API's composition root with the schedule
 * extension, against a real redis-server. Bad input answers 400/404/409 and leaves Redis as it was.
 */
import { fakeResult } from "../support/workerHarness";
import { request, startTestApi, type TestApi } from "../support/apiHarness";
import { startRedis, type RedisServer } from "../support/redisServer";

let server: RedisServer;
let t: TestApi;

beforeAll(async () => {
  server = await startRedis();
  t = await startTestApi(server.url, { DEFAULT_UPDATE_INTERVAL: "1d" }, {});
});

afterAll(async () => {
  await t.close();
  await server.stop();
});

const api = (method: string, path: string, body?: unknown) => request(t.url, method, path, body);

test("register, read, list, change, refresh and delete a website", async () => {
  const created = await api("POST", "/api/websites", {
    url: "http://127.0.0.1:9/docs/?utm_source=x",
    every: "1h",
    maxPages: 5,
  });
  expect(created.status).toBe(201);
  const w = created.body;
  expect(created.headers.get("location")).toBe(`/api/websites/${w.id}`);
  expect(w).toMatchObject({
    url: "http://127.0.0.1:9/docs/",
    siteKey: "127.0.0.1:9/docs",
    status: "active",
    enabled: true,
    schedule: { every: "1h", everyMs: 3_600_000 },
    consecutiveFailures: 0,
    pausedReason: null,
    lastJob: null,
    options: { maxPages: 5 },
  });
  expect(w.links).toMatchObject({
    llmsTxt: "/sites/127.0.0.1:9/docs/llms.txt",
    llmsFullTxt: "/sites/127.0.0.1:9/docs/llms-full.txt",
    versions: `/api/websites/${w.id}/versions`,
  });
  expect(Date.parse(w.nextRunAt)).toBeLessThanOrEqual(Date.now() + 1000); // a new website runs at once

  expect((await api("POST", "/api/websites", { url: "http://127.0.0.1:9/docs/" })).status).toBe(409);
  expect((await api("GET", `/api/websites/${w.id}`)).body.id).toBe(w.id);
  expect((await api("GET", "/api/websites/nosuchsite")).status).toBe(404);

  const cron = await api("POST", "/api/websites", {
    url: "http://127.0.0.1:9/blog/",
    cron: "0 3 * * *",
    tz: "Europe/Berlin",
    enabled: false,
  });
  expect(cron.body).toMatchObject({
    status: "disabled",
    schedule: { cron: "0 3 * * *", tz: "Europe/Berlin" },
    nextRunAt: null,
  });

  const page1 = await api("GET", "/api/websites?limit=1");
  expect(page1.body.items).toHaveLength(1);
  const page2 = await api("GET", `/api/websites?limit=1&cursor=${page1.body.nextCursor}`);
  expect(page2.body.items[0].id).not.toBe(page1.body.items[0].id);
  expect(page2.body.nextCursor).toBeUndefined();
  expect((await api("GET", "/api/websites?status=disabled")).body.items.map((x: { id: string }) => x.id)).toEqual([
    cron.body.id,
  ]);

  const patched = await api("PATCH", `/api/websites/${w.id}`, { every: "2h", maxPages: null, include: ["/docs/*"] });
  expect(patched.status).toBe(200);
  expect(patched.body).toMatchObject({ schedule: { every: "2h" }, options: { include: ["/docs/*"] } });
  expect(patched.body.options.maxPages).toBeUndefined();
  const schedules = await api("GET", "/api/schedules");
  expect(schedules.body.items).toEqual([
    expect.objectContaining({ queue: "schedule", id: w.id, every: 7_200_000, websiteId: w.id }),
  ]);

  const refresh = await api("POST", `/api/websites/${w.id}/refresh`);
  expect(refresh.status).toBe(202);
  const again = await api("POST", `/api/websites/${w.id}/refresh`);
  expect(again.status).toBe(200);
  expect(again.body).toMatchObject({ id: refresh.body.id, deduplicated: true });
  const job = await t.api.context.queues.generate.getJob(refresh.body.id);
  expect(job?.data).toMatchObject({ websiteId: w.id, trigger: "refresh", include: ["/docs/*"] });

  const disabled = await api("PATCH", `/api/websites/${w.id}`, { enabled: false });
  expect(disabled.body).toMatchObject({ status: "disabled", nextRunAt: null });
  expect((await api("GET", "/api/schedules")).body.items).toEqual([]);

  expect((await api("DELETE", `/api/websites/${w.id}`)).status).toBe(204);
  expect((await api("GET", `/api/websites/${w.id}`)).status).toBe(404);
  expect((await api("DELETE", `/api/websites/${w.id}`)).status).toBe(404);
});

test("bad input answers 400/404 and changes nothing in Redis", async () => {
  const created = await api("POST", "/api/websites", { url: "http://127.0.0.1:9/bad-input/" });
  const before = await t.redis.dbsize();
  const cases: [string, string, unknown, number][] = [
    ["POST", "/api/websites", { url: "ftp://127.0.0.1/x" }, 400],
    ["POST", "/api/websites", { url: "not a url" }, 400],
    ["POST", "/api/websites", { url: "http://127.0.0.1:9/x", every: "0s" }, 400],
    ["POST", "/api/websites", { url: "http://127.0.0.1:9/x", every: "often" }, 400],
    ["POST", "/api/websites", { url: "http://127.0.0.1:9/x", cron: "not cron" }, 400],
    ["POST", "/api/websites", { url: "http://127.0.0.1:9/x", every: "1h", cron: "* * * * *" }, 400],
    ["POST", "/api/websites", { url: "http://127.0.0.1:9/x", maxPages: 0 }, 400],
    ["POST", "/api/websites", { url: "http://127.0.0.1:9/x", color: "red" }, 400],
    ["PATCH", `/api/websites/${created.body.id}`, { url: "http://127.0.0.1:9/y" }, 400],
    ["PATCH", `/api/websites/${created.body.id}`, { every: -1 }, 400],
    ["PATCH", "/api/websites/nosuch", { every: "1h" }, 404],
    ["POST", "/api/websites/nosuch/refresh", undefined, 404],
    ["GET", "/api/websites?status=bogus", undefined, 400],
    ["GET", `/api/websites/${created.body.id}/versions/0`, undefined, 404],
    ["POST", "/api/websites/import", { urls: [] }, 400],
    ["GET", "/api/schedules?limit=0", undefined, 400],
  ];
  for (const [method, path, body, status] of cases) {
    const res = await api(method, path, body);
    expect([method, path, res.status]).toEqual([method, path, status]);
    expect(res.body.error.code).toMatch(/INVALID_INPUT|INVALID_URL|NOT_FOUND/);
  }
  expect(await t.redis.dbsize()).toBe(before);
});

test("import reports added / skipped / rejected per URL", async () => {
  await api("POST", "/api/websites", { url: "http://127.0.0.1:9/existing/" });
  const urls = [
    "http://127.0.0.1:9/i1/",
    "http://127.0.0.1:9/i2/",
    "http://127.0.0.1:9/i1/#frag",
    "http://127.0.0.1:9/existing/",
    "mailto:a@b.c",
    "http://user:pw@127.0.0.1:9/x",
    "  ",
  ];
  const res = await api("POST", "/api/websites/import", { urls, every: "6h", spread: "10m" });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ added: 2, skipped: 2, rejected: 3 });
  expect(res.body.items.map((i: { status: string }) => i.status)).toEqual([
    "added",
    "added",
    "skipped",
    "skipped",
    "rejected",
    "rejected",
    "rejected",
  ]);
  expect(res.body.items[2].reason).toMatch(/duplicate/);
  expect(res.body.items[3].reason).toMatch(/already registered/);
  // Spread: the first runs fall within the next 10 minutes, not all at once.
  for (const item of res.body.items.filter((i: { status: string }) => i.status === "added")) {
    const w = (await api("GET", `/api/websites/${item.id}`)).body;
    expect(Date.parse(w.nextRunAt)).toBeLessThanOrEqual(Date.now() + 600_000);
    expect(w.schedule.every).toBe("6h");
  }
});

test("versions with change summaries", async () => {
  const w = (await api("POST", "/api/websites", { url: "http://127.0.0.1:9/v/" })).body;
  expect((await api("GET", `/api/websites/${w.id}/versions`)).body.items).toEqual([]);
  const store = t.api.context.store;
  const url = "http://127.0.0.1:9/v/";
  const v1 = "# V\n\n## Docs\n\n- [A](http://127.0.0.1:9/v/a)\n";
  const v2 = "# V\n\n## Docs\n\n- [A](http://127.0.0.1:9/v/a)\n- [B](http://127.0.0.1:9/v/b)\n";
  await store.save({ siteKey: w.siteKey, url, jobId: "j1", result: fakeResult(url, { llmsTxt: v1 }) });
  await store.save({ siteKey: w.siteKey, url, jobId: "j2", result: fakeResult(url, { llmsTxt: v2 }) });
  const list = (await api("GET", `/api/websites/${w.id}/versions`)).body.items;
  expect(list.map((v: { version: number }) => v.version)).toEqual([2, 1]);
  expect(list[0].changes.text).toBe("1 link added");
  const one = (await api("GET", `/api/websites/${w.id}/versions/2`)).body;
  expect(one).toMatchObject({
    version: 2,
    jobId: "j2",
    llmsTxt: v2,
    changes: { links: { added: [{ url: "http://127.0.0.1:9/v/b", title: "B", section: "Docs" }] } },
  });
  expect((await api("GET", `/api/websites/${w.id}/versions/3`)).status).toBe(404);
});

test("schedules: list, pause and resume", async () => {
  const res = await api("GET", "/api/schedules");
  expect(res.body.paused).toBe(false);
  expect(res.body.total).toBeGreaterThan(0);
  expect((await api("POST", "/api/schedules/pause")).body).toEqual({ paused: true, queues: ["schedule", "generate"] });
  expect(await t.api.context.queues.generate.isPaused()).toBe(true);
  expect((await api("GET", "/api/schedules")).body.paused).toBe(true);
  expect((await api("POST", "/api/schedules/resume")).body.paused).toBe(false);
  expect(await t.api.context.queues.generate.isPaused()).toBe(false);
});

test("MAX_WEBSITES: a create past it is 403 QUOTA_EXCEEDED; an import that would pass it is refused whole, nothing added", async () => {
  const small = await startTestApi(server.url, { MAX_WEBSITES: "3", MAX_IMPORT_URLS: "4", REDIS_PREFIX: "quota" }, {});
  const call = (method: string, path: string, body?: unknown) => request(small.url, method, path, body);
  try {
    expect((await call("POST", "/api/websites", { url: "http://127.0.0.1:9/q1/" })).status).toBe(201);
    // Two new URLs and one already registered: 1 + 2 = 3 fits.
    const fits = await call("POST", "/api/websites/import", {
      urls: ["http://127.0.0.1:9/q1/", "http://127.0.0.1:9/q2/", "http://127.0.0.1:9/q3/"],
    });
    expect(fits.status).toBe(200);
    expect(fits.body).toMatchObject({ added: 2, skipped: 1 });

    // The rate limiter's per-minute keys come and go with the clock: everything else must stay.
    const stateKeys = async () => (await small.redis.keys("*")).filter((k) => !k.includes(":ratelimit:")).sort();
    const before = await stateKeys();
    const full = await call("POST", "/api/websites", { url: "http://127.0.0.1:9/q4/" });
    expect(full.status).toBe(403);
    expect(full.body.error.code).toBe("QUOTA_EXCEEDED");
    const over = await call("POST", "/api/websites/import", { urls: ["http://127.0.0.1:9/q5/"] });
    expect(over.status).toBe(403);
    expect(over.body.error).toMatchObject({ code: "QUOTA_EXCEEDED" });
    expect(over.body.error.message).toMatch(/nothing was imported/);
    // Re-importing what is registered adds nothing, so it passes even at the limit.
    expect((await call("POST", "/api/websites/import", { urls: ["http://127.0.0.1:9/q2/"] })).body).toMatchObject({
      added: 0,
      skipped: 1,
    });
    // MAX_IMPORT_URLS bounds one request's size.
    const tooMany = await call("POST", "/api/websites/import", {
      urls: ["a", "b", "c", "d", "e"].map((p) => `http://127.0.0.1:9/${p}/`),
    });
    expect(tooMany.status).toBe(400);
    expect(await stateKeys()).toEqual(before);
    expect((await call("GET", "/api/websites?limit=100")).body.items).toHaveLength(3);
  } finally {
    await small.close();
  }
});
