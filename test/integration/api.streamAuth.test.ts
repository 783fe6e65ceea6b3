/*
 * An open event stream doesn't outlive its credentials: revoking the token it was opened with,
 * or logging out the session, ends it within one heartbeat with an UNAUTHORIZED error event.
 * A stream whose credentials still hold keeps running.
 */
import { hashPassword } from "../../src/security/password";
import { request, startTestApi, type TestApi } from "../support/apiHarness";
import { type RedisServer, startRedis } from "../support/redisServer";

const PASSWORD = "pw";
let redis: RedisServer;
let t: TestApi;

beforeAll(async () => {
  redis = await startRedis();
  const hash = await hashPassword(PASSWORD, { N: 1024, r: 8, p: 1 });
  // No worker runs: the submitted job stays waiting, so its stream stays open.
  t = await startTestApi(redis.url, { ENABLE_AUTH: "1", AUTH_PASSWORD_HASH: hash, SESSION_SECRET: "s".repeat(32) });
});
afterAll(async () => {
  await t?.close();
  await redis?.stop();
});

async function login(): Promise<string> {
  const res = await request(t.url, "POST", "/auth/login", { password: PASSWORD });
  return (res.headers.getSetCookie().find((c) => c.startsWith("ltx_session=")) ?? "").split(";")[0] ?? "";
}

/** Reads a stream's text until it ends or `ms` pass; says which. */
async function readStream(res: Response, ms: number): Promise<{ text: string; ended: boolean }> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) {
      await reader.cancel();
      return { text, ended: false };
    }
    let timer: NodeJS.Timeout | undefined;
    const chunk = await Promise.race([
      reader.read(),
      new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), left))),
    ]).finally(() => clearTimeout(timer));
    if (chunk === "timeout") continue;
    if (chunk.done) return { text, ended: true };
    text += decoder.decode(chunk.value, { stream: true });
  }
}

let site = 0;
async function openStream(headers: Record<string, string>): Promise<Response> {
  // One site per stream: a second job for the same site would be the first one again.
  const job = await request(t.url, "POST", "/api/jobs", { url: `http://127.0.0.1:9/s${++site}/` }, headers);
  expect(job.body.status).toBe("queued");
  const res = await fetch(`${t.url}/api/jobs/${job.body.id}/events`, { headers });
  expect(res.status).toBe(200);
  return res;
}

test("a revoked token's stream ends with UNAUTHORIZED within a heartbeat; a live one keeps running", async () => {
  const cookie = await login();
  const made = await request(t.url, "POST", "/api/tokens", { name: "stream" }, { cookie });
  const bearer = { authorization: `Bearer ${made.body.token}` };
  const revoked = await openStream(bearer);
  const live = await openStream({ cookie });
  expect((await request(t.url, "DELETE", `/api/tokens/${made.body.id}`, undefined, { cookie })).status).toBe(204);
  const [gone, still] = await Promise.all([readStream(revoked, 3000), readStream(live, 3000)]);
  expect(gone.ended).toBe(true);
  expect(gone.text).toMatch(/event: error\ndata: \{"error":\{"code":"UNAUTHORIZED"/);
  expect(still.ended).toBe(false);
  expect(still.text).toContain(": ping");
  expect(still.text).not.toContain("event: error");
});

test("a logged-out session's stream ends with UNAUTHORIZED", async () => {
  const cookie = await login();
  const stream = await openStream({ cookie });
  expect((await request(t.url, "POST", "/auth/logout", undefined, { cookie })).status).toBe(204);
  const out = await readStream(stream, 3000);
  expect(out.ended).toBe(true);
  expect(out.text).toContain('"code":"UNAUTHORIZED"');
});
