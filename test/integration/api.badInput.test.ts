/*
 * Bad input over every write endpoint: malformed JSON, wrong types, oversized bodies, 10 KB URLs,
 * unicode and IDN hosts, negative and huge numbers. Each answer is a 4xx `{error:{code,message}}`
 * and Redis holds exactly the keys it held before (the write rate limiter's own counters aside:
 * counting requests is its job, and they expire within a minute).
 *
 * The write endpoints come from the router walk, so a new one fails this test until it has rows.
 * DNS is stubbed: the URL pre-check resolves nothing (unknown hosts are ENOTFOUND → 400), so no
 * lookup ever leaves the process.
 */
import { hashPassword } from "../../src/security/password";
import { request, startTestApi, type TestApi } from "../support/apiHarness";
import { installDnsStub } from "../support/dnsStub";
import { type RedisServer, startRedis } from "../support/redisServer";
import { listRoutes } from "../support/routes";

const BODY_LIMIT = 4096;
const LONG = "a".repeat(10 * 1024);
const URL_10KB = `http://example.test/${LONG}`;

interface Case {
  name: string;
  /** A JSON value (serialised), or raw text sent as-is. */
  body?: unknown;
  raw?: string;
  contentType?: string;
  path?: string;
}

const MALFORMED: Case[] = [
  { name: "truncated JSON", raw: '{"url":' },
  { name: "single quotes", raw: "{'url': 'http://example.test/'}" },
  { name: "trailing comma", raw: '{"a": 1,}' },
  { name: "NaN literal", raw: '{"maxPages": NaN}' },
  { name: "oversized body", raw: JSON.stringify({ padding: "x".repeat(BODY_LIMIT * 2) }) },
  {
    name: "invalid UTF-8",
    raw: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]).toString("latin1"),
    contentType: "application/json; charset=utf-16",
  },
];

const WRONG_SHAPES: Case[] = [
  { name: "array body", body: [] },
  { name: "string body", body: "http://example.test/" },
  { name: "number body", body: 42 },
  { name: "null body", raw: "null" },
  { name: "empty object", body: {} },
  {
    name: "JSON as text/plain",
    raw: '{"url":"http://example.test/","name":"x","password":"x"}',
    contentType: "text/plain",
  },
];

const JOB_CASES: Case[] = [
  ...MALFORMED,
  ...WRONG_SHAPES,
  { name: "url missing", body: { maxPages: 5 } },
  { name: "url null", body: { url: null } },
  { name: "url number", body: { url: 123 } },
  { name: "url array", body: { url: ["http://example.test/"] } },
  { name: "url object", body: { url: { href: "http://example.test/" } } },
  { name: "url empty", body: { url: "" } },
  { name: "url relative", body: { url: "/docs" } },
  { name: "url 10 KB", body: { url: URL_10KB } },
  { name: "url with credentials", body: { url: "http://user:pw@example.test/" } },
  { name: "url javascript:", body: { url: "javascript:alert(1)" } },
  { name: "url data:", body: { url: "data:text/html,<h1>x</h1>" } },
  { name: "url with space in host", body: { url: "http://exa mple.test/" } },
  { name: "IDN host (unicode)", body: { url: "http://bücher.test/" } },
  { name: "IDN host (punycode)", body: { url: "http://xn--bcher-kva.test/" } },
  { name: "IDN host (CJK)", body: { url: "http://例え.テスト/" } },
  { name: "zero-width char in host", body: { url: "http://exa\u200bmple.test/" } },
  { name: "fullwidth dots to loopback", body: { url: "http://127。0。0。1/" } },
  { name: "circled digits to loopback", body: { url: "http://①②⑦.0.0.1/" } },
  { name: "percent-encoded host", body: { url: "http://%6c%6f%63%61%6c%68%6f%73%74/" } },
  { name: "RTL override in host", body: { url: "http://\u202eevil.test/" } },
  { name: "maxPages negative", body: { url: "http://example.test/", maxPages: -1 } },
  { name: "maxPages zero", body: { url: "http://example.test/", maxPages: 0 } },
  { name: "maxPages fraction", body: { url: "http://example.test/", maxPages: 1.5 } },
  { name: "maxPages huge", body: { url: "http://example.test/", maxPages: 1e12 } },
  { name: "maxPages 1e308", raw: '{"url":"http://example.test/","maxPages":1e308}' },
  { name: "maxPages over MAX_PAGES_LIMIT", body: { url: "http://example.test/", maxPages: 1001 } },
  { name: "maxPages string", body: { url: "http://example.test/", maxPages: "10" } },
  { name: "maxDepth negative", body: { url: "http://example.test/", maxDepth: -1 } },
  { name: "maxDepth huge", body: { url: "http://example.test/", maxDepth: 2 ** 53 } },
  { name: "provider unknown", body: { url: "http://example.test/", provider: "gpt" } },
  { name: "model empty", body: { url: "http://example.test/", model: "" } },
  { name: "model 10 KB", body: { url: "http://example.test/", model: LONG } },
  { name: "include not an array", body: { url: "http://example.test/", include: "/docs/*" } },
  {
    name: "include too many",
    body: { url: "http://example.test/", include: Array.from({ length: 51 }, (_, i) => `/p${i}`) },
  },
  { name: "include numbers", body: { url: "http://example.test/", include: [1, 2] } },
  { name: "exclude empty pattern", body: { url: "http://example.test/", exclude: [""] } },
  { name: "unknown field", body: { url: "http://example.test/", priority: 1 } },
  { name: "prototype pollution", raw: '{"url":"http://example.test/","__proto__":{"admin":true}}' },
];

const ID_CASES: Case[] = [
  ...MALFORMED,
  { name: "10 KB id", path: LONG },
  { name: "unicode id", path: encodeURIComponent("ジョブ") },
  { name: "dot-dot id", path: ".." },
  { name: "NUL in id", path: "%00" },
];

const TOKEN_CASES: Case[] = [
  ...MALFORMED,
  ...WRONG_SHAPES,
  { name: "name number", body: { name: 5 } },
  { name: "name empty", body: { name: "  " } },
  { name: "name 10 KB", body: { name: LONG } },
  { name: "name with control characters", body: { name: "ci\u0000\u001b[31m" } },
  { name: "unknown field", body: { name: "ci", scopes: ["admin"] } },
];

const URL_CASES: Case[] = JOB_CASES.filter(
  (c) => c.name.startsWith("url ") || c.name.includes("host") || c.name.includes("loopback"),
);

const SCHEDULE_CASES: Case[] = [
  { name: "every negative", body: { every: -1 } },
  { name: "every zero", body: { every: 0 } },
  { name: "every gibberish", body: { every: "often" } },
  { name: "every 10 KB", body: { every: LONG } },
  { name: "every overflowing to Infinity", body: { every: 1e308 } },
  { name: "every over a year", body: { every: "400d" } },
  { name: "cron invalid", body: { cron: "not a cron" } },
  { name: "cron and every both", body: { cron: "0 * * * *", every: "1h" } },
  { name: "tz unknown", body: { cron: "0 * * * *", tz: "Mars/Olympus_Mons" } },
  { name: "enabled as string", body: { enabled: "yes" } },
  { name: "maxPages negative", body: { maxPages: -1 } },
  { name: "maxPages huge", body: { maxPages: 1e12 } },
  { name: "provider unknown", body: { provider: "gpt" } },
];

const WEBSITE_CREATE_CASES: Case[] = [
  ...MALFORMED,
  ...WRONG_SHAPES,
  ...URL_CASES,
  ...SCHEDULE_CASES.map((c) => ({ ...c, body: { url: "http://site.test/new/", ...(c.body as object) } })),
  { name: "unknown field", body: { url: "http://site.test/new/", owner: "me" } },
];

const WEBSITE_PATCH_CASES: Case[] = [
  ...MALFORMED,
  ...WRONG_SHAPES.filter((c) => c.name !== "empty object" && c.name !== "JSON as text/plain"),
  ...SCHEDULE_CASES,
  { name: "url cannot change", body: { url: "http://site.test/other/" } },
  { name: "unknown field", body: { owner: "me" } },
];

const IMPORT_CASES: Case[] = [
  ...MALFORMED,
  ...WRONG_SHAPES,
  { name: "urls empty", body: { urls: [] } },
  { name: "urls a string", body: { urls: "http://site.test/a/" } },
  { name: "urls numbers", body: { urls: [1, 2] } },
  { name: "spread negative", body: { urls: ["http://site.test/a/"], spread: -5 } },
  { name: "unknown field", body: { urls: ["http://site.test/a/"], owner: "me" } },
];

const LOGIN_CASES: Case[] = [
  ...MALFORMED,
  ...WRONG_SHAPES,
  { name: "password number", body: { password: 1234 } },
  { name: "password null", body: { password: null } },
  { name: "password 10 KB", body: { password: LONG } },
  { name: "unknown field", body: { password: "x", admin: true } },
];

/** The table, keyed by "METHOD path" as the router names the route. */
const TABLE: Record<string, Case[]> = {
  "POST /api/jobs": JOB_CASES,
  "DELETE /api/jobs/:id": ID_CASES,
  "POST /api/jobs/:id/retry": ID_CASES,
  "POST /api/tokens": TOKEN_CASES,
  "DELETE /api/tokens/:id": ID_CASES,
  "POST /auth/login": LOGIN_CASES,
  "POST /api/websites": WEBSITE_CREATE_CASES,
  "POST /api/websites/import": IMPORT_CASES,
  "PATCH /api/websites/:id": WEBSITE_PATCH_CASES,
  "DELETE /api/websites/:id": ID_CASES,
  "POST /api/websites/:id/refresh": ID_CASES,
  // Take no body.
  "POST /api/schedules/pause": MALFORMED,
  "POST /api/schedules/resume": MALFORMED,
  // Takes no body: only what the body parser refuses applies.
  "POST /auth/logout": MALFORMED,
};

let redis: RedisServer;
let t: TestApi;
let bearer: Record<string, string>;
/** A registered (disabled) website, so PATCH rows reach validation instead of 404. */
let websiteId: string;

async function keysNow(): Promise<string[]> {
  const keys = await t.redis.keys("*");
  return keys.filter((k) => !k.includes(":ratelimit:")).sort();
}

beforeAll(async () => {
  // Only site.test resolves (to loopback, allow-listed, never fetched: no worker runs here);
  // IDN and other hosts are ENOTFOUND.
  const dnsStub = installDnsStub({ "site.test": ["127.0.0.1"] });
  redis = await startRedis();
  const hash = await hashPassword("pw", { N: 1024, r: 8, p: 1 });
  t = await startTestApi(
    redis.url,
    {
      ENABLE_AUTH: "1",
      AUTH_PASSWORD_HASH: hash,
      SESSION_SECRET: "s".repeat(32),
      BODY_LIMIT_BYTES: String(BODY_LIMIT),
      RATE_LIMIT_PER_MINUTE: "100000",
      CRAWL_ALLOW_HOSTS: "site.test",
      ALLOW_PRIVATE_NETWORKS: "0",
    },
    { lookup: (host) => dnsStub.lookupAll(host) },
  );
  const login = await request(t.url, "POST", "/auth/login", { password: "pw" });
  const cookie = (login.headers.getSetCookie()[0] ?? "").split(";")[0] ?? "";
  const created = await request(t.url, "POST", "/api/tokens", { name: "bad-input" }, { cookie });
  bearer = { authorization: `Bearer ${created.body.token as string}` };
  const website = await request(
    t.url,
    "POST",
    "/api/websites",
    { url: "http://site.test/docs/", enabled: false },
    bearer,
  );
  expect(website.status).toBe(201);
  websiteId = website.body.id as string;
});

afterAll(async () => {
  await t?.close();
  await redis?.stop();
  jest.restoreAllMocks();
});

test("every write endpoint has rows in the table", () => {
  const writes = listRoutes(t.api.app)
    .filter((r) => ["POST", "PUT", "PATCH", "DELETE"].includes(r.method))
    .map((r) => `${r.method} ${String(r.path)}`);
  expect(writes.length).toBeGreaterThan(0);
  expect(writes.filter((w) => !(w in TABLE))).toEqual([]);
});

describe.each(Object.entries(TABLE))("%s", (route, cases) => {
  const [method = "", pattern = ""] = route.split(" ");
  test.each(cases.map((c) => [c.name, c] as const))("%s → 4xx, Redis unchanged", async (_name, c) => {
    const before = await keysNow();
    const path = pattern.replace(":id", c.path ?? (route === "PATCH /api/websites/:id" ? websiteId : "no-such-id"));
    const headers: Record<string, string> = { ...bearer, "content-type": c.contentType ?? "application/json" };
    const payload = c.raw ?? (c.body === undefined ? undefined : JSON.stringify(c.body));
    const res = await fetch(`${t.url}${path}`, {
      method,
      headers,
      ...(payload === undefined ? {} : { body: payload }),
    });
    const text = await res.text();
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    expect(typeof body.error?.code).toBe("string");
    // Refused for the input, not for who sent it (a broken token would make every row pass).
    expect(["UNAUTHORIZED", "TOO_MANY_REQUESTS"]).not.toContain(body.error?.code);
    expect(typeof body.error?.message).toBe("string");
    expect(await keysNow()).toEqual(before);
  });
});

test("nothing was enqueued by any of it", async () => {
  const counts = await t.api.context.queues.generate.getJobCounts();
  expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
});
