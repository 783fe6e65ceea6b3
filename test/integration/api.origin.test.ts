/*
 * Where a request comes from: an API bound to loopback answers only to loopback host names (a
 * DNS-rebinding page sends its own name), ALLOWED_HOSTS replaces that list, probes answer any
 * Host; a write carrying another site's Origin or Sec-Fetch-Site is refused and changes nothing;
 * behind a proxy trusted by TRUST_PROXY, X-Forwarded-Proto https makes the session cookie Secure and `__Host-` prefixed.
 */
import http from "node:http";
import { loadConfig } from "../../src/config/env";
import { hashPassword } from "../../src/security/password";
import { startTestApi, type TestApi } from "../support/apiHarness";
import { type RedisServer, startRedis } from "../support/redisServer";

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

interface Answer {
  status: number;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
}

/** node:http rather than fetch, so the Host header is ours to set. */
function send(
  t: TestApi,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<Answer> {
  const url = new URL(t.url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port: url.port,
        method,
        path,
        headers: { ...(payload ? { "content-type": "application/json" } : {}), ...headers },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: text ? (JSON.parse(text) as Answer["body"]) : {},
            headers: res.headers,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

test("bound to loopback: only loopback host names are answered; probes answer any Host", async () => {
  const t = await startTestApi(redis.url);
  try {
    const port = new URL(t.url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, "LOCALHOST"]) {
      expect((await send(t, "GET", "/api/jobs", { host })).status).toBe(200);
    }
    for (const host of [`rebound.example:${port}`, "127.0.0.1.rebound.example", `10.0.0.1:${port}`]) {
      const res = await send(t, "GET", "/api/jobs", { host });
      expect(res.status).toBe(403);
      expect(res.body.error?.code).toBe("FORBIDDEN");
    }
    expect((await send(t, "GET", "/admin/queues", { host: "rebound.example" })).status).toBe(403);
    expect((await send(t, "GET", "/healthz", { host: `10.1.2.3:${port}` })).status).toBe(200);
  } finally {
    await t.close();
  }
});

test("ALLOWED_HOSTS names the hosts, with or without a port", async () => {
  const t = await startTestApi(redis.url, { ALLOWED_HOSTS: "docs.example, api.example:8443" });
  try {
    expect((await send(t, "GET", "/api/jobs", { host: "docs.example:3000" })).status).toBe(200);
    expect((await send(t, "GET", "/api/jobs", { host: "api.example:8443" })).status).toBe(200);
    expect((await send(t, "GET", "/api/jobs", { host: "api.example:9999" })).status).toBe(403);
    expect((await send(t, "GET", "/api/jobs", { host: "127.0.0.1" })).status).toBe(403);
  } finally {
    await t.close();
  }
});

test("a cross-site write is refused and changes nothing; same-site, listed and non-browser writes pass", async () => {
  const t = await startTestApi(redis.url, { CORS_ORIGINS: "https://app.example" });
  try {
    const own = new URL(t.url).host;
    const paused = async () => (await send(t, "GET", "/api/schedules")).body.paused;
    for (const headers of <Record<string, string>[]>[
      { origin: "https://evil.example" },
      { origin: "null" },
      { "sec-fetch-site": "cross-site" },
      { origin: `http://${own}.evil.example` },
    ]) {
      const res = await send(t, "POST", "/api/schedules/pause", headers);
      expect(res.status).toBe(403);
      expect(res.body.error?.code).toBe("FORBIDDEN");
      expect(await paused()).toBe(false);
    }
    const job = await send(t, "POST", "/api/jobs", { origin: "https://evil.example" }, { url: "http://127.0.0.1:9/" });
    expect(job.status).toBe(403);
    expect((await send(t, "GET", "/api/jobs")).body.jobs).toEqual([]);
    // A cross-site GET is a read: CORS decides whether the page may see it.
    expect((await send(t, "GET", "/api/jobs", { origin: "https://evil.example" })).status).toBe(200);

    expect(
      (await send(t, "POST", "/api/schedules/pause", { origin: `http://${own}`, "sec-fetch-site": "same-origin" }))
        .status,
    ).toBe(200);
    expect(await paused()).toBe(true);
    expect((await send(t, "POST", "/api/schedules/resume", { origin: "https://app.example" })).status).toBe(200);
    expect(await paused()).toBe(false);
    expect((await send(t, "POST", "/api/schedules/pause")).status).toBe(200); // curl, scripts
  } finally {
    await t.close();
  }
});

test("TRUST_PROXY: X-Forwarded-Proto https makes the session cookie Secure and __Host- prefixed; untrusted, it is ignored", async () => {
  const hash = await hashPassword("pw", { N: 1024, r: 8, p: 1 });
  const env = { ENABLE_AUTH: "1", AUTH_PASSWORD_HASH: hash, SESSION_SECRET: "s".repeat(32) };
  const login = (t: TestApi) =>
    send(
      t,
      "POST",
      "/auth/login",
      { "x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.9" },
      { password: "pw" },
    );
  const direct = await startTestApi(redis.url, env);
  try {
    const res = await login(direct);
    expect(res.status).toBe(200);
    expect(String(res.headers["set-cookie"])).not.toMatch(/;\s*Secure/i);
  } finally {
    await direct.close();
  }
  const proxied = await startTestApi(redis.url, { ...env, TRUST_PROXY: "loopback" });
  try {
    const res = await login(proxied);
    expect(res.status).toBe(200);
    const setCookie = String(res.headers["set-cookie"]);
    expect(setCookie).toMatch(/^__Host-ltx_session=[^;]+;/);
    expect(setCookie).toMatch(/;\s*Secure/i);
    expect(setCookie).toMatch(/;\s*Path=\/(;|$)/i);
    expect(setCookie).not.toMatch(/Domain=/i);
    const value = setCookie.split(";")[0]!.slice("__Host-ltx_session=".length);
    const https = { "x-forwarded-proto": "https" };
    // Over HTTPS only the prefixed name counts: a plain-named cookie (which a plain-HTTP response
    // or a sibling subdomain could have planted) is not a session there.
    expect((await send(proxied, "GET", "/auth/me", { ...https, cookie: `__Host-ltx_session=${value}` })).status).toBe(
      200,
    );
    expect((await send(proxied, "GET", "/auth/me", { ...https, cookie: `ltx_session=${value}` })).status).toBe(401);
  } finally {
    await proxied.close();
  }
});

test("TRUST_PROXY accepts hop counts and subnets, and refuses 'true' (any client could pick its own address)", () => {
  const base = { REDIS_URL: "redis://127.0.0.1:1" };
  expect(loadConfig({ ...base, TRUST_PROXY: "1" }).http.trustProxy).toBe(1);
  expect(loadConfig({ ...base, TRUST_PROXY: "loopback, 10.0.0.0/8" }).http.trustProxy).toBe("loopback,10.0.0.0/8");
  expect(loadConfig(base).http.trustProxy).toBe(false);
  expect(() => loadConfig({ ...base, TRUST_PROXY: "true" })).toThrow(/TRUST_PROXY/);
  expect(() => loadConfig({ ...base, TRUST_PROXY: "10.0.0.0/99" })).toThrow(/TRUST_PROXY/);
});

test("behind a trusted proxy each client has its own login lockout; an IPv6 client is its /64", async () => {
  const hash = await hashPassword("pw", { N: 1024, r: 8, p: 1 });
  const t = await startTestApi(
    redis.url,
    { ENABLE_AUTH: "1", AUTH_PASSWORD_HASH: hash, SESSION_SECRET: "s".repeat(32), TRUST_PROXY: "loopback" },
    { loginLimits: { maxFailures: 2, windowSeconds: 60, lockSeconds: 60 } },
  );
  const attempt = (from: string, password = "wrong") =>
    send(t, "POST", "/auth/login", { "x-forwarded-for": from }, { password });
  try {
    for (const from of ["2001:db8:1:2::1", "2001:db8:1:2::2"]) expect((await attempt(from)).status).toBe(401);
    // A third address in the same /64 is the same client: locked out, even with the right password.
    expect((await attempt("2001:db8:1:2:ffff::3", "pw")).status).toBe(429);
    // Another /64 and another IPv4 client are not.
    expect((await attempt("2001:db8:1:3::1", "pw")).status).toBe(200);
    expect((await attempt("198.51.100.7", "pw")).status).toBe(200);
  } finally {
    await t.close();
  }
});
