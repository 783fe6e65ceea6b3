/**
 * The ltx processes of a chaos or load run: children running the built CLI (`node bin/ltx.js api`
 * / `worker`), each with its own log file. The harness kills and restarts them; at the end it
 * reads every log for crashes and unhandled rejections. Every child is killed on exit, whatever
 * happens to the harness.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export const PACKAGE_ROOT = path.resolve(__dirname, "..", "..");
const CLI = path.join(PACKAGE_ROOT, "bin", "ltx.js");

export type Role = "api" | "worker";

export interface ExitRecord {
  name: string;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What the harness did to it: an exit after our kill -9 or SIGTERM is not a crash. */
  cause: "kill9" | "sigterm" | "none";
  uptimeMs: number;
}

export interface LtxProcess {
  name: string;
  role: Role;
  pid(): number;
  running(): boolean;
  /** Starts (again); the log file is appended to, so one file holds every life of this slot. */
  start(): void;
  kill9(): Promise<void>;
  /** SIGTERM and wait for the exit (graceful shutdown), SIGKILL after timeoutMs. */
  terminate(timeoutMs: number): Promise<ExitRecord | undefined>;
  logFile: string;
}

export interface ProcessGroup {
  spawn(role: Role, name: string, env: Record<string, string>): LtxProcess;
  all(): LtxProcess[];
  exits: ExitRecord[];
  /** Kills every live child (SIGKILL). Sync so it also works from process.on("exit"). */
  killAll(): void;
}

export function createProcessGroup(logDir: string): ProcessGroup {
  const procs: LtxProcess[] = [];
  const exits: ExitRecord[] = [];
  const live = new Set<ChildProcess>();
  const group: ProcessGroup = {
    exits,
    all: () => [...procs],
    killAll() {
      for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    },
    spawn(role, name, env) {
      const logFile = path.join(logDir, `${name}.log`);
      let child: ChildProcess | undefined;
      let cause: ExitRecord["cause"] = "none";
      let startedAt = 0;
      let exited: Promise<ExitRecord> = Promise.resolve({
        name,
        pid: -1,
        code: 0,
        signal: null,
        cause: "none",
        uptimeMs: 0,
      });
      const isRunning = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;
      const proc: LtxProcess = {
        name,
        role,
        logFile,
        pid: () => child?.pid ?? -1,
        running: isRunning,
        start() {
          if (isRunning()) return;
          const fd = fs.openSync(logFile, "a");
          cause = "none";
          startedAt = Date.now();
          const c = spawn(process.execPath, [CLI, role], {
            env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
            stdio: ["ignore", fd, fd],
          });
          fs.closeSync(fd);
          child = c;
          live.add(c);
          exited = new Promise((resolve) =>
            c.once("exit", (code, signal) => {
              live.delete(c);
              const rec: ExitRecord = { name, pid: c.pid ?? -1, code, signal, cause, uptimeMs: Date.now() - startedAt };
              exits.push(rec);
              resolve(rec);
            }),
          );
        },
        async kill9() {
          if (!isRunning() || !child) return;
          cause = "kill9";
          child.kill("SIGKILL");
          await exited;
        },
        async terminate(timeoutMs) {
          if (!isRunning() || !child) return undefined;
          cause = "sigterm";
          const c = child;
          c.kill("SIGTERM");
          const timer = setTimeout(() => c.kill("SIGKILL"), timeoutMs);
          const rec = await exited;
          clearTimeout(timer);
          return rec;
        },
      };
      procs.push(proc);
      proc.start();
      return proc;
    },
  };
  return group;
}

/** Waits until url answers 200 (e.g. /healthz), polling; false when the time is up. */
export async function waitHttpOk(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

export interface LogProblem {
  file: string;
  line: string;
}

// What a crash or a lost promise looks like in our logs: pino's fatal level, Node's own messages
// for an unhandled rejection or uncaught exception, and the handlers' messages in src/lib.
const PROBLEM =
  /"level":60|unhandled ?rejection|uncaught ?exception|UnhandledPromiseRejection|FATAL ERROR|Segmentation fault|heap out of memory/i;

/** Lines in the processes' logs that show a crash or an unhandled rejection. */
export function scanLogs(files: string[]): LogProblem[] {
  const problems: LogProblem[] = [];
  for (const file of files) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
      if (PROBLEM.test(line)) problems.push({ file: path.basename(file), line: line.slice(0, 400) });
    }
  }
  return problems;
}

/** Distinct job ids the workers logged as stalled (their worker died holding them) and recovered. */
export function countStalledJobs(files: string[]): number {
  const ids = new Set<string>();
  for (const file of files) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
      if (!line.includes("stalled")) continue;
      const id = /"jobId":"([^"]+)"/.exec(line)?.[1];
      if (id) ids.add(id);
    }
  }
  return ids.size;
}
