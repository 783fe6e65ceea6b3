/**
 * A real redis-server per test file: a free loopback port, its own temp dir, `noeviction` (what
 * ltx requires), no RDB snapshots (`--save ""`) unless asked. The log is in the temp dir; stop()
 * deletes the dir unless told to keep it or LTX_KEEP_LOGS=1 is set, and then prints where it is.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export interface RedisServerOptions {
  appendonly?: boolean;
  /** Default "noeviction"; tests of the start-up check pass "allkeys-lru". */
  maxmemoryPolicy?: string;
  /** Extra redis-server arguments ("--maxmemory", "100mb"). */
  args?: string[];
}

export interface RedisServer {
  url: string;
  port: number;
  dir: string;
  logFile: string;
  /** SIGTERM and wait; the temp dir is removed unless keepDir or the log is wanted. Idempotent. */
  stop(opts?: { keepDir?: boolean }): Promise<void>;
  /** SIGKILL: a crash, for persistence tests. */
  kill9(): Promise<void>;
  /** Start again on the same port and dir (after stop or kill9). */
  restart(): Promise<void>;
}

const BINARY = "/usr/bin/redis-server";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startRedis(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ltx-redis-"));
  const logFile = path.join(dir, "redis.log");
  let port = 0;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const argsFor = (p: number): string[] => [
    "--bind",
    "127.0.0.1",
    "--port",
    String(p),
    "--dir",
    dir,
    "--logfile",
    logFile,
    "--save",
    "",
    "--appendonly",
    opts.appendonly ? "yes" : "no",
    "--maxmemory-policy",
    opts.maxmemoryPolicy ?? "noeviction",
    "--daemonize",
    "no",
    ...(opts.args ?? []),
  ];

  /** Starts redis-server on port p; false when it didn't come up (port taken, …). */
  const spawnOn = async (p: number): Promise<boolean> => {
    const proc = spawn(BINARY, argsFor(p), { stdio: "ignore" });
    exited = new Promise((resolve) => proc.once("exit", () => resolve()));
    if (await waitReady(p, proc, 5000)) {
      child = proc;
      return true;
    }
    proc.kill("SIGKILL");
    await exited;
    return false;
  };

  const launch = async (): Promise<void> => {
    // A free port can be taken between the probe and redis' bind: try a few.
    for (let tries = 0; tries < 4; tries++) {
      port = await freePort();
      if (await spawnOn(port)) return;
    }
    throw new Error(`redis-server did not start; log: ${logFile}`);
  };

  const relaunchOnSamePort = async (): Promise<void> => {
    if (!(await spawnOn(port))) throw new Error(`redis-server did not restart on ${port}; log: ${logFile}`);
  };

  await launch();
  let stopped = false;

  const server: RedisServer = {
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    dir,
    logFile,
    async stop({ keepDir } = {}) {
      if (stopped) return;
      stopped = true;
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child?.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
      if (keepDir || process.env.LTX_KEEP_LOGS === "1") process.stderr.write(`redis-server log kept: ${logFile}\n`);
      else fs.rmSync(dir, { recursive: true, force: true });
    },
    async kill9() {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
    },
    async restart() {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
      stopped = false;
      await relaunchOnSamePort();
    },
  };
  return server;
}

/** Polls PING over a raw socket until PONG, the process exits, or the time is up. */
async function waitReady(port: number, proc: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) return false;
    if (await ping(port)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    let buf = "";
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once("error", () => done(false));
    sock.once("connect", () => sock.write("PING\r\n"));
    sock.on("data", (d) => {
      buf += d.toString();
      if (buf.includes("PONG")) done(true);
      else if (buf.includes("LOADING") || buf.startsWith("-")) done(false);
    });
  });
}
