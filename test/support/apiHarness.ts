/**
 * The API as a test meets it: the one composition root (runApiProcess) on 127.0.0.1:0 against
 * the file's redis-server, with a fresh key prefix per call, plus a small SSE reader.
 * Loopback only: every URL here is built from the server's own address.
 */
import http from "node:http";
import { loadConfig } from "../../src/config/env";
import { silentLogger } from "../../src/lib/logger";
import { type ApiHandle, type RunApiOptions, runApiProcess } from "../../src/api/main";
import { createRedis, type Redis } from "../../src/queues/connection";
import { testFilesDir } from "./fileStore";

let counter = 0;

export interface TestApi {
  api: ApiHandle;
  url: string;
  prefix: string;
  /** A separate client for assertions (DBSIZE, raw keys). */
  redis: Redis;
  /** FILES_DIR of this API (the fs FileStore's directory). */
  filesDir: string;
  close(): Promise<void>;
}

export async function startTestApi(
  redisUrl: string,
  env: Record<string, string> = {},
  opts: RunApiOptions = {},
): Promise<TestApi> {
  const prefix = `t${process.pid}x${++counter}x${Date.now().toString(36)}`;
  const filesDir = env.FILES_DIR ?? testFilesDir();
  const config = loadConfig({
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "silent",
    // Most tests submit loopback sites; the SSRF tests turn the guard back on ("0").
    ALLOW_PRIVATE_NETWORKS: "1",
    ...env,
    FILES_DIR: filesDir,
  });
  const api = await runApiProcess(config, silentLogger(), {
    connectionGraceMs: 200,
    sseHeartbeatMs: 500,
    processMetrics: false,
    ...opts,
  });
  const redis = createRedis(redisUrl, { name: "ltx-test" });
  return {
    api,
    url: api.url,
    prefix,
    redis,
    filesDir,
    async close() {
      await api.close();
      redis.disconnect();
    },
  };
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test assertions read fields freely
}

export async function request(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] ??= "application/json";
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get("content-type") ?? "").includes("json") && text !== "") parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed };
}

export interface SseEvent {
  event: string;
  data: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface SseStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  events: SseEvent[];
  comments: number;
  /** Resolves with the first event (from the start of the stream) named `name`. */
  waitFor(name: string, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export function openEventStream(url: string): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: "text/event-stream" } }, (res) => {
      const events: SseEvent[] = [];
      const waiters: Array<() => void> = [];
      let buffer = "";
      let endedResolve!: () => void;
      const ended = new Promise<void>((r) => (endedResolve = r));
      const stream: SseStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        comments: 0,
        ended,
        waitFor(name, timeoutMs = 10_000) {
          return new Promise((ok, fail) => {
            const check = (): boolean => {
              const hit = events.find((e) => e.event === name);
              if (hit) ok(hit);
              return hit !== undefined;
            };
            if (check()) return;
            const timer = setTimeout(
              () =>
                fail(
                  new Error(`no "${name}" event within ${timeoutMs} ms; got ${events.map((e) => e.event).join(",")}`),
                ),
              timeoutMs,
            );
            waiters.push(() => {
              if (check()) clearTimeout(timer);
            });
          });
        },
        close: () => req.destroy(),
      };
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf("\n\n")) !== -1) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let event = "message";
          const data: string[] = [];
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) stream.comments++;
            else if (line.startsWith("event: ")) event = line.slice(7);
            else if (line.startsWith("data: ")) data.push(line.slice(6));
          }
          if (data.length > 0) events.push({ event, data: JSON.parse(data.join("\n")) });
        }
        for (const w of [...waiters]) w();
      });
      res.on("end", endedResolve);
      res.on("close", endedResolve);
      resolve(stream);
    });
    req.on("error", reject);
  });
}
