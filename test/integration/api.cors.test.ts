/*
 * CORS is off unless CORS_ORIGINS is set; then only the listed origins get Access-Control-*
 * headers (with credentials), and a preflight is answered before auth (it carries none).
 * helmet's headers are on every answer.
 */
import { hashPassword } from "../../src/security/password";
import { startTestApi } from "../support/apiHarness";
import { type RedisServer, startRedis } from "../support/redisServer";

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

test("without CORS_ORIGINS no Access-Control header is sent, and helmet's headers are", async () => {
  const t = await startTestApi(redis.url, {}, {});
  try {
    const res = await fetch(`${t.url}/api/jobs`, { headers: { origin: "https://evil.example" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toBeTruthy();
    const pre = await fetch(`${t.url}/api/jobs`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
  } finally {
    await t.close();
  }
});

test("with CORS_ORIGINS only listed origins are allowed, with credentials; preflights skip auth", async () => {
  const hash = await hashPassword("pw", { N: 1024, r: 8, p: 1 });
  const t = await startTestApi(
    redis.url,
    {
      CORS_ORIGINS: "https://ui.example, https://other.example",
      ENABLE_AUTH: "1",
      AUTH_PASSWORD_HASH: hash,
      SESSION_SECRET: "s".repeat(32),
    },
    {},
  );
  try {
    const pre = await fetch(`${t.url}/api/jobs`, {
      method: "OPTIONS",
      headers: {
        origin: "https://ui.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,authorization",
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("https://ui.example");
    expect(pre.headers.get("access-control-allow-credentials")).toBe("true");
    expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
    expect(pre.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");

    const denied = await fetch(`${t.url}/api/jobs`, { headers: { origin: "https://evil.example" } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("access-control-allow-origin")).toBeNull();
    const allowed = await fetch(`${t.url}/api/jobs`, { headers: { origin: "https://other.example" } });
    expect(allowed.status).toBe(401); // CORS is not auth
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://other.example");
    expect(allowed.headers.get("vary")).toMatch(/Origin/i);
  } finally {
    await t.close();
  }
});
