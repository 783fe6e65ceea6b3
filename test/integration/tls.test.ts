/*
 * HTTPS: scripts/dev-cert.sh makes a self-signed pair; with TLS_CERT_PATH/TLS_KEY_PATH the API
 * serves HTTPS and the session cookie gets `Secure`. Loopback only.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import express from "express";
import { createHttpServer } from "../../src/api/server";
import { ConfigError } from "../../src/lib/errors";
import { hashPassword } from "../../src/security/password";
import { startTestApi } from "../support/apiHarness";
import { type RedisServer, startRedis } from "../support/redisServer";

let dir: string;
let cert: Buffer;
let certPath: string;
let keyPath: string;
let redis: RedisServer;

function get(
  url: string,
  opts: https.RequestOptions & { body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { ca: cert, ...opts }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ltx-tls-"));
  execFileSync(path.resolve(__dirname, "../../scripts/dev-cert.sh"), [dir], { stdio: "ignore" });
  certPath = path.join(dir, "dev-cert.pem");
  keyPath = path.join(dir, "dev-key.pem");
  cert = fs.readFileSync(certPath);
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("createHttpServer serves HTTPS with the dev certificate (verified against it)", async () => {
  const app = express().get("/ping", (_req, res) => void res.json({ ok: true }));
  const server = createHttpServer(app, { certPath, keyPath });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  try {
    const res = await get(`https://127.0.0.1:${(server.address() as AddressInfo).port}/ping`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ ok: true });
    // Without the dev CA the certificate is refused: it really is TLS, and really self-signed.
    await expect(
      new Promise((resolve, reject) =>
        https.get(`https://127.0.0.1:${(server.address() as AddressInfo).port}/ping`, resolve).on("error", reject),
      ),
    ).rejects.toThrow(/self[- ]signed/i);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test("unreadable TLS files are a config error, not a crash later", () => {
  expect(() => createHttpServer(express(), { certPath: path.join(dir, "nope.pem"), keyPath })).toThrow(ConfigError);
  expect(() => createHttpServer(express(), { certPath: keyPath, keyPath: certPath })).toThrow(ConfigError);
});

test("under TLS the API answers HTTPS and the session cookie is Secure", async () => {
  const hash = await hashPassword("pw", { N: 1024, r: 8, p: 1 });
  const t = await startTestApi(
    redis.url,
    {
      ENABLE_AUTH: "1",
      AUTH_PASSWORD_HASH: hash,
      SESSION_SECRET: "s".repeat(32),
      TLS_CERT_PATH: certPath,
      TLS_KEY_PATH: keyPath,
    },
    {},
  );
  try {
    expect(t.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await get(`${t.url}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: "pw" }),
    });
    expect(res.status).toBe(200);
    const cookie = ([] as string[]).concat(res.headers["set-cookie"] ?? []).join(";");
    expect(cookie).toMatch(/^__Host-ltx_session=/);
    expect(cookie).toMatch(/;\s*Secure/i);
    expect(cookie).toMatch(/HttpOnly/i);
  } finally {
    await t.close();
  }
});
