/**
 * `ltx start` without REDIS_URL runs its own redis-server: AOF on (so jobs survive a restart),
 * `noeviction` (BullMQ loses jobs when Redis evicts keys), bound to loopback on a free port, data
 * in REDIS_DATA_DIR. It is stopped with the process. When the binary is missing we install
 * Debian's package if we are root, else say how to.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { coerceError } from "./coerceError";
import { LtxError } from "./errors";
import type { Logger } from "./logger";
import { sleep } from "./time";

export interface LocalRedisOptions {
  dataDir: string;
  logger: Logger;
  /** Port to bind; 0 (default) picks a free loopback port. */
  port?: number;
  /** Install redis-server with apt-get when it is missing and we are root (default true). */
  install?: boolean;
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
  if (!(await hasBinary(binary))) await installRedis(binary, opts);
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
  return run(binary, ["--version"], "ignore").then(
    (code) => code === 0,
    () => false,
  );
}

async function installRedis(binary: string, opts: LocalRedisOptions): Promise<void> {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const hasApt = await hasBinaryNamed("apt-get");
  if (opts.install === false || !isRoot || !hasApt) {
    throw new LtxError(
      "UNAVAILABLE",
      `redis-server is not installed. Install it (Debian/Ubuntu: \`sudo apt-get install -y redis-server\`; macOS: \`brew install redis\`) or set REDIS_URL to a Redis 6.2+ server.`,
      { retryable: false },
    );
  }
  opts.logger.warn("redis-server is missing: installing Debian's redis-server package");
  // Installing the package also enables a system service on :6379; we don't use it, ours runs apart.
  for (const args of [["update"], ["install", "-y", "--no-install-recommends", "redis-server"]]) {
    const code = await run("apt-get", args, "inherit", { DEBIAN_FRONTEND: "noninteractive" });
    if (code !== 0)
      throw new LtxError(
        "UNAVAILABLE",
        `apt-get ${args.join(" ")} failed with exit code ${code}; install redis-server by hand or set REDIS_URL`,
        { retryable: false },
      );
  }
  if (!(await hasBinary(binary)))
    throw new LtxError("UNAVAILABLE", "redis-server is still missing after apt-get install", { retryable: false });
}

function hasBinaryNamed(name: string): Promise<boolean> {
  return run("sh", ["-c", `command -v ${name}`], "ignore").then(
    (code) => code === 0,
    () => false,
  );
}

function run(
  cmd: string,
  args: string[],
  stdio: "ignore" | "inherit",
  env: Record<string, string> = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    // stdout of ours may be a pipe someone reads (llms.txt): send the child's chatter to stderr.
    const child = spawn(cmd, args, {
      stdio: stdio === "inherit" ? ["ignore", process.stderr, process.stderr] : "ignore",
      env: { ...process.env, ...env },
    });
    child.once("error", reject);
    child.once("exit", (code) => resolve(code ?? 1));
  });
}
