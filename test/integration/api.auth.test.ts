/*
 * Auth on (ENABLE_AUTH=1): every protected route refuses a request without credentials, found by
 * walking the app's router (so a route added later is covered without editing this file);
 * sessions and tokens work and stop working when logged out, expired or revoked; repeated wrong
 * passwords lock a client out; the write rate limit answers 429. Loopback only.
 */
import type { ApiHandle } from "../../src/api/main";
import { BOARD_BASE_PATH, createBoardRouter } from "../../src/admin/board";
import { hashPassword } from "../../src/security/password";
import { request, startTestApi, type TestApi } from "../support/apiHarness";
import { type RedisServer, startRedis } from "../support/redisServer";
import { examplePath, listRoutes, type RouteInfo } from "../support/routes";

const PASSWORD = "correct horse battery staple";
const SECRET = "s".repeat(32);
// Routes that are public by design, with auth on. /sites/* is checked on its own below.
const PUBLIC = new Set([
  "GET /healthz",
  "GET /readyz",
  "GET /metrics",
  "GET /openapi.json",
  "POST /auth/login",
  "POST /auth/logout",
  "GET /auth/me",
  "GET /",
  "GET /index.html",
]);
const REGEX_EXAMPLES: Record<string, string> = { [String(/^\/sites\//)]: "/sites/example.com/llms.txt" };

let redis: RedisServer;
let hash: string;
let skewMs = 0;
const now = (): number => Date.now() + skewMs;

interface App {
  t: TestApi;
  parts: Pick<ApiHandle, "authServices" | "metrics">;
}

async function start(
  env: Record<string, string> = {},
  loginLimits = { maxFailures: 3, windowSeconds: 60, lockSeconds: 60 },
): Promise<App> {
  const t = await startTestApi(
    redis.url,
    {
      ENABLE_AUTH: "1",
      AUTH_PASSWORD_HASH: hash,
      SESSION_SECRET: SECRET,
      SESSION_DURATION_SECONDS: "60",
      ALLOW_PRIVATE_NETWORKS: "0",
      ...env,
    },
    {
      now,
      loginLimits,
      lookup: async () => ["127.0.0.1"],
    },
  );
  return { t, parts: t.api };
}

async function login(
  base: string,
  password = PASSWORD,
): Promise<{ status: number; cookie: string; setCookie: string }> {
  const res = await request(base, "POST", "/auth/login", { password });
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith("ltx_session=")) ?? "";
  return { status: res.status, cookie: setCookie.split(";")[0] ?? "", setCookie };
}

beforeAll(async () => {
  redis = await startRedis();
  hash = await hashPassword(PASSWORD, { N: 1024, r: 8, p: 1 });
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(() => {
  skewMs = 0;
});

describe("with auth on (PUBLIC_FILES default)", () => {
  let app: App;
  beforeAll(async () => {
    app = await start();
  });
  afterAll(async () => {
    await app.t.close();
  });

  test("every protected route (router walk, Bull Board included) answers 401 JSON without credentials, and nothing is enqueued", async () => {
    const board = createBoardRouter({ queues: app.t.api.context.queues.all });
    const routes: RouteInfo[] = [...listRoutes(app.t.api.app), ...listRoutes(board as never, BOARD_BASE_PATH)];
    const protectedRoutes = routes.filter((r) => typeof r.path === "string" && !PUBLIC.has(`${r.method} ${r.path}`));
    // The walk must see the app's routes, or this test would pass vacuously.
    const seen = new Set(protectedRoutes.map((r) => `${r.method} ${String(r.path)}`));
    for (const must of [
      "POST /api/jobs",
      "GET /api/jobs/:id/events",
      "DELETE /api/tokens/:id",
      "GET /admin/queues",
      "PUT /admin/queues/api/queues/:queueName/:jobId/retry",
    ])
      expect(seen).toContain(must);

    const failures: string[] = [];
    for (const r of protectedRoutes) {
      const path = examplePath(r, REGEX_EXAMPLES);
      const body = ["POST", "PUT", "PATCH"].includes(r.method) ? { url: "http://127.0.0.1:1/" } : undefined;
      const res = await request(app.t.url, r.method, path, body);
      if (res.status !== 401 || res.body?.error?.code !== "UNAUTHORIZED")
        failures.push(`${r.method} ${path} → ${res.status}`);
    }
    // Paths no route names: Bull Board's static assets, unknown /api paths (no 404 leaks what exists).
    for (const path of [
      "/admin/queues/static/js/main.js",
      "/admin/queues/anything",
      "/api/nope",
      "/api/jobs/x/events?x=1",
    ]) {
      const res = await request(app.t.url, "GET", path);
      if (res.status !== 401) failures.push(`GET ${path} → ${res.status}`);
    }
    // Spellings of protected paths: refused, or no route at all; never served.
    for (const path of [
      "/API/jobs",
      "/Admin/Queues/api/queues",
      "/api/jobs/",
      "/api//jobs",
      "//api/jobs",
      "/%61pi/jobs",
      "/api/jobs%2F",
      "/api/tokens?x=/healthz",
    ]) {
      const res = await request(app.t.url, "GET", path);
      if (res.status !== 401 && res.status !== 404) failures.push(`GET ${path} → ${res.status}`);
    }
    expect(failures).toEqual([]);
    expect(await app.t.api.context.queues.generate.count()).toBe(0);
  });

  test("/healthz, /readyz, /openapi.json and /sites/* files stay public", async () => {
    expect((await request(app.t.url, "GET", "/healthz")).status).toBe(200);
    expect((await request(app.t.url, "GET", "/readyz")).status).toBe(200);
    expect((await request(app.t.url, "GET", "/openapi.json")).status).toBe(200);
    const file = await request(app.t.url, "GET", "/sites/example.com/llms.txt");
    expect(file.status).toBe(404); // no file yet, but not refused
    expect(file.body.error.code).toBe("NOT_FOUND");
  });

  test("a wrong password is refused; the right one gives an HttpOnly SameSite=Lax session cookie that works until logout", async () => {
    const wrong = await login(app.t.url, "wrong");
    expect(wrong.status).toBe(401);
    expect(wrong.cookie).toBe("");

    const ok = await login(app.t.url);
    expect(ok.status).toBe(200);
    expect(ok.setCookie).toMatch(/HttpOnly/i);
    expect(ok.setCookie).toMatch(/SameSite=Lax/i);
    expect(ok.setCookie).toMatch(/Path=\//);
    expect(ok.setCookie).toMatch(/Max-Age=60/);
    expect(ok.setCookie).not.toMatch(/Secure/i); // plain HTTP here; TLS adds Secure
    const headers = { cookie: ok.cookie };
    expect((await request(app.t.url, "GET", "/api/jobs", undefined, headers)).status).toBe(200);
    expect((await request(app.t.url, "GET", "/admin/queues/api/queues", undefined, headers)).status).toBe(200);
    const me = await request(app.t.url, "GET", "/auth/me", undefined, headers);
    expect(me.body).toMatchObject({ authenticated: true, authEnabled: true, via: "session" });

    const out = await request(app.t.url, "POST", "/auth/logout", undefined, headers);
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie().join()).toMatch(/ltx_session=;/);
    expect((await request(app.t.url, "GET", "/api/jobs", undefined, headers)).status).toBe(401);
    expect((await request(app.t.url, "GET", "/auth/me", undefined, headers)).status).toBe(401);
  });

  test("a forged or tampered session cookie is refused", async () => {
    const ok = await login(app.t.url);
    const [name, value = ""] = ok.cookie.split("=");
    const [id = "", mac = ""] = value.split(".");
    const flipped = `${id.slice(0, -1)}${id.endsWith("A") ? "B" : "A"}.${mac}`;
    for (const bad of [
      `${name}=${flipped}`,
      `${name}=${id}.${mac.slice(0, -2)}xx`,
      `${name}=${id}`,
      `${name}=`,
      `${name}=%E0%A4%A`,
    ]) {
      expect((await request(app.t.url, "GET", "/api/jobs", undefined, { cookie: bad })).status).toBe(401);
    }
  });

  test("an expired session is refused (and Redis expires it by itself)", async () => {
    const ok = await login(app.t.url);
    const keys = await app.t.redis.keys(`${app.t.prefix}:auth:session:*`);
    const ttls = await Promise.all(keys.map((k) => app.t.redis.ttl(k)));
    expect(ttls.length).toBeGreaterThan(0);
    for (const ttl of ttls) {
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60);
    }
    expect((await request(app.t.url, "GET", "/api/jobs", undefined, { cookie: ok.cookie })).status).toBe(200);
    skewMs = 61_000;
    expect((await request(app.t.url, "GET", "/api/jobs", undefined, { cookie: ok.cookie })).status).toBe(401);
  });

  test("API tokens: shown once, stored hashed, listed without secrets, refused once revoked", async () => {
    const session = { cookie: (await login(app.t.url)).cookie };
    const created = await request(app.t.url, "POST", "/api/tokens", { name: "ci" }, session);
    expect(created.status).toBe(201);
    const token: string = created.body.token;
    expect(token).toMatch(/^ltx_[A-Za-z0-9_-]{40,}$/);
    const bearer = { authorization: `Bearer ${token}` };
    expect((await request(app.t.url, "GET", "/api/jobs", undefined, bearer)).status).toBe(200);
    expect((await request(app.t.url, "GET", "/auth/me", undefined, bearer)).body).toMatchObject({
      via: "token",
      tokenName: "ci",
    });

    const list = await request(app.t.url, "GET", "/api/tokens", undefined, bearer);
    expect(list.body.tokens).toEqual([expect.objectContaining({ id: created.body.id, name: "ci" })]);
    expect(JSON.stringify(list.body)).not.toContain(token.slice(8));
    // Redis holds no copy of the secret, in key names or values.
    for (const key of await app.t.redis.keys(`${app.t.prefix}:auth:*`)) {
      expect(key).not.toContain(token.slice(4));
      const type = await app.t.redis.type(key);
      const value =
        type === "hash"
          ? JSON.stringify(await app.t.redis.hgetall(key))
          : type === "string"
            ? await app.t.redis.get(key)
            : "";
      expect(value).not.toContain(token.slice(4));
    }

    expect((await request(app.t.url, "DELETE", `/api/tokens/${created.body.id}`, undefined, session)).status).toBe(204);
    expect((await request(app.t.url, "GET", "/api/jobs", undefined, bearer)).status).toBe(401);
    expect((await request(app.t.url, "DELETE", `/api/tokens/${created.body.id}`, undefined, session)).status).toBe(404);
    // A bad token is refused even alongside a good session cookie: the client meant the token.
    expect(
      (await request(app.t.url, "GET", "/api/jobs", undefined, { ...session, authorization: "Bearer ltx_nope" }))
        .status,
    ).toBe(401);
  });
});

describe("with PUBLIC_FILES=0, a write limit of 3/min and a 3-failure lockout", () => {
  let app: App;
  beforeAll(async () => {
    app = await start({ PUBLIC_FILES: "0", RATE_LIMIT_PER_MINUTE: "3" });
  });
  afterAll(async () => {
    await app.t.close();
  });

  test("/sites/* needs credentials", async () => {
    expect((await request(app.t.url, "GET", "/sites/example.com/llms.txt")).status).toBe(401);
    const session = { cookie: (await login(app.t.url)).cookie };
    expect((await request(app.t.url, "GET", "/sites/example.com/llms.txt", undefined, session)).status).toBe(404);
  });

  test("write requests over RATE_LIMIT_PER_MINUTE get 429 with Retry-After; reads don't count", async () => {
    // Start just past a minute boundary of the limiter's clock, so the 4 requests share a window.
    skewMs = 60_000 - (Date.now() % 60_000) + 500;
    const session = { cookie: (await login(app.t.url)).cookie };
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await request(app.t.url, "POST", "/api/tokens", { name: `t${i}` }, session)).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    const limited = await request(app.t.url, "POST", "/api/tokens", { name: "again" }, session);
    expect(limited.body.error.code).toBe("TOO_MANY_REQUESTS");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await request(app.t.url, "GET", "/api/tokens", undefined, session)).status).toBe(200);
  });

  test("repeated wrong passwords lock the client out, even for the right password", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await login(app.t.url, `guess-${i}`)).status);
    expect(statuses).toEqual([401, 401, 401]);
    const res = await request(app.t.url, "POST", "/auth/login", { password: PASSWORD });
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe("TOO_MANY_REQUESTS");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect((await request(app.t.url, "GET", "/healthz")).status).toBe(200);
  });
});

describe("parallel guesses", () => {
  test("a burst of concurrent wrong passwords gets at most maxFailures checks, the rest 429", async () => {
    const app = await start({}, { maxFailures: 3, windowSeconds: 60, lockSeconds: 60 });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 12 }, (_, i) => login(app.t.url, `guess-${i}`).then((r) => r.status)),
      );
      expect(statuses.filter((s) => s === 401)).toHaveLength(3);
      expect(statuses.filter((s) => s === 429)).toHaveLength(9);
    } finally {
      await app.t.close();
    }
  });
});
