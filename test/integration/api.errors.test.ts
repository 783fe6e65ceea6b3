/**
 * Bad input never reaches Redis, and every error answers `{error:{code,message}}` with its status:
 * malformed JSON 400, oversized body 413, wrong types 400, unknown routes 404, unexpected errors 500
 * (logged with the stack, never shown). Also the mount points later issues plug into: auth in
 * front of /api and /admin (and /sites when PUBLIC_FILES=0), public routers before it.
 */
import { Writable } from "node:stream";
import express from "express";
import pino from "pino";
import { ConflictError, ERROR_CODES, RateLimitedError } from "../../src/lib/errors";
import { errorMiddleware, HTTP_STATUS, notFoundHandler, toHttpError } from "../../src/api/middleware/errors";
import { request, startTestApi, type TestApi } from "../support/apiHarness";
import { type RedisServer, startRedis } from "../support/redisServer";

let server: RedisServer;

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server.stop();
});

describe("bad input", () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi(server.url, {
      BODY_LIMIT_BYTES: "2048",
      MAX_PAGES: "10",
      MAX_PAGES_LIMIT: "50",
      MAX_URL_LENGTH: "300",
    });
  });
  afterAll(async () => {
    await t.close();
  });

  const cases: Array<[string, string, string, unknown, number, string]> = [
    ["malformed JSON", "POST", "/api/jobs", '{"url": "http://127.0.0.1/",', 400, "INVALID_INPUT"],
    ["JSON that isn't an object", "POST", "/api/jobs", "[1,2]", 400, "INVALID_INPUT"],
    ["no body", "POST", "/api/jobs", undefined, 400, "INVALID_INPUT"],
    [
      "oversized body",
      "POST",
      "/api/jobs",
      { url: "http://127.0.0.1/", include: ["x".repeat(300)].concat(Array(10).fill("y".repeat(300))) },
      413,
      "PAYLOAD_TOO_LARGE",
    ],
    ["url missing", "POST", "/api/jobs", { maxPages: 3 }, 400, "INVALID_INPUT"],
    ["url not a string", "POST", "/api/jobs", { url: 42 }, 400, "INVALID_INPUT"],
    ["url not absolute", "POST", "/api/jobs", { url: "example/docs" }, 400, "INVALID_INPUT"],
    ["file:// url", "POST", "/api/jobs", { url: "file:///etc/passwd" }, 400, "INVALID_INPUT"],
    ["gopher:// url", "POST", "/api/jobs", { url: "gopher://127.0.0.1:70/" }, 400, "INVALID_INPUT"],
    ["url with credentials", "POST", "/api/jobs", { url: "http://user:pw@127.0.0.1/" }, 400, "INVALID_INPUT"],
    [
      "url over MAX_URL_LENGTH",
      "POST",
      "/api/jobs",
      { url: `http://127.0.0.1/${"a".repeat(400)}` },
      400,
      "INVALID_INPUT",
    ],
    [
      "maxPages over MAX_PAGES_LIMIT",
      "POST",
      "/api/jobs",
      { url: "http://127.0.0.1/", maxPages: 51 },
      400,
      "INVALID_INPUT",
    ],
    ["maxPages negative", "POST", "/api/jobs", { url: "http://127.0.0.1/", maxPages: -1 }, 400, "INVALID_INPUT"],
    ["maxPages huge", "POST", "/api/jobs", { url: "http://127.0.0.1/", maxPages: 1e300 }, 400, "INVALID_INPUT"],
    ["maxPages a string", "POST", "/api/jobs", { url: "http://127.0.0.1/", maxPages: "5" }, 400, "INVALID_INPUT"],
    ["unknown provider", "POST", "/api/jobs", { url: "http://127.0.0.1/", provider: "gpt" }, 400, "INVALID_INPUT"],
    ["include not a list", "POST", "/api/jobs", { url: "http://127.0.0.1/", include: "/docs/*" }, 400, "INVALID_INPUT"],
    ["unknown field", "POST", "/api/jobs", { url: "http://127.0.0.1/", priority: 1 }, 400, "INVALID_INPUT"],
    ["list: unknown status", "GET", "/api/jobs?status=done", undefined, 400, "INVALID_INPUT"],
    ["list: limit 0", "GET", "/api/jobs?limit=0", undefined, 400, "INVALID_INPUT"],
    ["list: limit 1000", "GET", "/api/jobs?limit=1000", undefined, 400, "INVALID_INPUT"],
    ["list: forged cursor", "GET", "/api/jobs?cursor=bm9wZQ", undefined, 400, "INVALID_INPUT"],
    ["results: no url", "GET", "/api/results", undefined, 400, "INVALID_INPUT"],
    ["results: bad url", "GET", "/api/results?url=javascript:alert(1)", undefined, 400, "INVALID_INPUT"],
    ["retry of an unknown job", "POST", "/api/jobs/none/retry", undefined, 404, "NOT_FOUND"],
    ["unknown route", "GET", "/api/nothing", undefined, 404, "NOT_FOUND"],
    ["unknown method", "PUT", "/api/jobs", { url: "http://127.0.0.1/" }, 404, "NOT_FOUND"],
    ["unknown top-level path", "GET", "/wp-admin.php", undefined, 404, "NOT_FOUND"],
  ];

  // The write limit counts every request, refused ones too (that is its point): its window
  // counters are the one thing a bad request may leave behind.
  const storedKeys = async () => (await t.redis.keys("*")).filter((k) => !k.includes(":ratelimit:")).sort();

  test.each(cases)("%s: %s %s → %i %s, Redis unchanged", async (_name, method, path, body, status, code) => {
    const before = await storedKeys();
    const res = await request(t.url, method, path, body);
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
    expect(res.body.error.message.length).toBeGreaterThan(0);
    expect(await storedKeys()).toEqual(before);
  });

  test("a readable message names the field", async () => {
    const res = await request(t.url, "POST", "/api/jobs", { url: "ftp://127.0.0.1/", maxPages: 51 });
    expect(res.body.error.message).toMatch(/url: scheme ftp is not allowed/);
    expect(res.body.error.message).toMatch(/maxPages: must be at most 50/);
  });

  test("helmet headers on API answers; no X-Powered-By", async () => {
    const res = await request(t.url, "GET", "/api/jobs");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(res.headers.get("content-security-policy")).not.toContain("upgrade-insecure-requests");
    expect(res.headers.get("x-powered-by")).toBeNull();
  });
});

describe("the error middleware", () => {
  test("every error code has a status (the Record makes a missing one a compile error)", () => {
    for (const code of ERROR_CODES) expect(HTTP_STATUS[code]).toBeGreaterThanOrEqual(400);
  });

  test("an unexpected error is a 500 without details, logged with its stack", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const boom = express.Router();
    boom.get("/api/boom", () => {
      throw new Error("secret internals at /srv/x");
    });
    // The app's last two handlers, after a route that throws, with a recording logger.
    const logger = pino({ level: "info" }, sink);
    const app = express();
    app.use(boom);
    app.use(notFoundHandler);
    app.use(errorMiddleware(logger));
    const srv = app.listen(0, "127.0.0.1");
    await new Promise((r) => srv.once("listening", r));
    try {
      const addr = srv.address() as { port: number };
      const res = await request(`http://127.0.0.1:${addr.port}`, "GET", "/api/boom");
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: { code: "INTERNAL", message: "internal error" } });
      const logged = lines
        .map((l) => JSON.parse(l) as { msg: string; err?: { stack?: string } })
        .find((l) => l.msg === "request failed");
      expect(logged?.err?.stack).toContain("secret internals");
    } finally {
      srv.closeAllConnections();
      await new Promise((r) => srv.close(r));
    }
  });

  test("toHttpError maps LtxErrors by code and body-parser errors by type", () => {
    expect(toHttpError(new ConflictError("x")).status).toBe(409);
    expect(toHttpError(new RateLimitedError("slow down", 1000)).status).toBe(503);
    expect(toHttpError(Object.assign(new Error("too big"), { type: "entity.too.large" })).body.error.code).toBe(
      "PAYLOAD_TOO_LARGE",
    );
    expect(toHttpError("a string").status).toBe(500);
  });
});
