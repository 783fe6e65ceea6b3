/**
 * `ltx start` without REDIS_URL runs its own redis-server: AOF on (so jobs survive a restart),
 * `noeviction` (BullMQ loses jobs when Redis evicts keys), bound to loopback on a free port, data
 * in REDIS_DATA_DIR. It is stopped with the process. When the binary is missing it says how to get
 * one: installing system packages is the setup scripts' job (scripts/install-redis.sh), not the
 * service's.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { coerceError } from "../lib/coerceError";
import { LtxError } from "../lib/errors";
import type { Logger } from "../lib/logger";
import { sleep } from "../lib/time";

export interface LocalRedisOptions {
  dataDir: string;
  logger: Logger;
  /** Port to bind; 0 (default) picks a free loopback port. */
  port?: number;
  binary?: string;
  startTimeoutMs?: number;
}

export interface LocalRedis {
  url: string;
  port: number;
  pid: number;
  /** Idempotent: SIGTERM (redis-server flushes the AOF on it), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

const DEFAULT_BINARY = "redis-server";
const STOP_TIMEOUT_MS = 10_000;

export async function startLocalRedis(opts: LocalRedisOptions): Promise<LocalRedis> {
  const binary = opts.binary ?? DEFAULT_BINARY;
  if (!(await hasBinary(binary))) throw missingRedis();
  const dataDir = path.resolve(opts.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const port = opts.port && opts.port > 0 ? opts.port : await freeLoopbackPort();
  const args = [
    "--bind",
    "127.0.0.1",
    "--port",
    String(port),
    "--dir",
    dataDir,
    "--appendonly",
    "yes",
    "--appendfsync",
    "everysec", // at most one second of writes lost on a power cut
    "--maxmemory-policy",
    "noeviction",
    // BullMQ's job and scheduler hashes hold 100–350-byte JSON values; above 64 bytes (the default)
    // Redis stores a hash as a hashtable instead of a listpack: ~0.7 KB more per scheduled website
    // (npm run bench:schedules). The ziplist spelling works on Redis 6 and 7.
    "--hash-max-ziplist-value",
    "1024",
    "--protected-mode",
    "yes",
    "--daemonize",
    "no",
    "--logfile",
    "",
  ];
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  const keep = (chunk: Buffer): void => {
    output.push(chunk.toString("utf8"));
    if (output.length > 50) output.shift();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  await waitReady(child, port, opts.startTimeoutMs ?? 15_000, output);
  // Ready: stop buffering its chatter, but keep draining the pipes so it never blocks on a full one.
  child.stdout?.off("data", keep).resume();
  child.stderr?.off("data", keep).resume();
  opts.logger.info({ port, dataDir, redisPid: child.pid }, "started local redis-server (AOF on, noeviction)");
  let stopping: Promise<void> | undefined;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? -1,
    stop: () => (stopping ??= stopChild(child, opts.logger)),
  };
}

async function waitReady(child: ChildProcess, port: number, timeoutMs: number, output: string[]): Promise<void> {
  let exited: string | undefined;
  child.once("exit", (code, signal) => (exited = `exited with ${code ?? signal}`));
  child.once("error", (e) => (exited = coerceError(e).message));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) break;
    if (await pingOk(port)) return;
    await sleep(50);
  }
  child.kill("SIGKILL");
  throw new LtxError(
    "UNAVAILABLE",
    `local redis-server did not start (${exited ?? "timed out"}): ${output.join("").trim().slice(-800)}`,
    { retryable: false },
  );
}

/** A raw RESP PING, so this module needs no Redis client. */
function pingOk(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let answer = "";
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (d) => {
      answer += d.toString("utf8");
      // "-LOADING" while the AOF is replayed: not ready yet.
      if (answer.includes("\r\n")) done(answer.startsWith("+PONG"));
    });
  });
}

function stopChild(child: ChildProcess, logger: Logger): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    timer.unref();
    child.once("exit", () => {
      clearTimeout(timer);
      logger.info({ redisPid: child.pid }, "stopped local redis-server");
      resolve();
    });
    child.kill("SIGTERM");
  });
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const addr = server.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function hasBinary(binary: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(binary, ["--version"], { stdio: "ignore" });
    child.once("error", () => resolve(false));
    child.once("exit", (code) => resolve(code === 0));
  });
}

function missingRedis(): LtxError {
  return new LtxError(
    "UNAVAILABLE",
    "redis-server is not installed. Install it (scripts/install-redis.sh, or Debian/Ubuntu: `sudo apt-get install -y redis-server`; macOS: `brew install redis`) or set REDIS_URL to a Redis 6.2+ server.",
    { retryable: false },
  );
}
