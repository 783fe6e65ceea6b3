/**
 * Spawns test/support/workerProcess.ts as real child processes (through the .ts require hook) and
 * talks to them over IPC: wait until ready, ask for stats, signal, kill -9, wait for the exit.
 */
import { type ChildProcess, fork } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const ENTRY = path.resolve(__dirname, "workerProcess.ts");
const HOOK = path.resolve(__dirname, "../../tools/tsRequireHook.js");

export interface WorkerStats {
  active: string[];
  maxEventLoopBlockMs: number;
}

export interface WorkerChild {
  pid: number;
  proc: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (or 128+signal) once the process is gone. */
  exited: Promise<number>;
  stats(): Promise<WorkerStats>;
  signal(sig: NodeJS.Signals): void;
  kill9(): Promise<number>;
  /** SIGTERM and wait (SIGKILL after timeoutMs). */
  stop(timeoutMs?: number): Promise<number>;
}

const logDir = fs.mkdtempSync(path.join(os.tmpdir(), "ltx-workers-"));
let seq = 0;

/** Where the children's logs are (printed by a failing test). */
export function workerLogDir(): string {
  return logDir;
}

export function removeWorkerLogs(): void {
  if (process.env.LTX_KEEP_LOGS !== "1") fs.rmSync(logDir, { recursive: true, force: true });
}

export async function spawnWorker(env: Record<string, string>, readyTimeoutMs = 30_000): Promise<WorkerChild> {
  const logFile = path.join(logDir, `worker-${++seq}.log`);
  const proc = fork(ENTRY, [], {
    execArgv: ["-r", HOOK],
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", LTX_TEST_LOG_FILE: logFile, ...env },
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  let stderr = "";
  proc.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number>((resolve) => {
    proc.once("exit", (code, signal) => resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0)));
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`worker process not ready after ${readyTimeoutMs} ms; log ${logFile}; stderr: ${stderr}`));
    }, readyTimeoutMs);
    const onMessage = (m: unknown): void => {
      if ((m as { type?: string }).type === "ready") {
        clearTimeout(timer);
        proc.off("message", onMessage);
        resolve();
      }
    };
    proc.on("message", onMessage);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`worker process exited ${code} before ready; log ${logFile}; stderr: ${stderr}`));
    });
  });
  const child: WorkerChild = {
    pid: proc.pid ?? 0,
    proc,
    logFile,
    exited,
    stats() {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no stats answer")), 5000);
        const onMessage = (m: unknown): void => {
          const msg = m as { type?: string } & WorkerStats;
          if (msg.type !== "stats") return;
          clearTimeout(timer);
          proc.off("message", onMessage);
          resolve({ active: msg.active, maxEventLoopBlockMs: msg.maxEventLoopBlockMs });
        };
        proc.on("message", onMessage);
        proc.send({ type: "stats" });
      });
    },
    signal(sig) {
      proc.kill(sig);
    },
    async kill9() {
      proc.kill("SIGKILL");
      return exited;
    },
    async stop(timeoutMs = 15_000) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
        const t = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
        const code = await exited;
        clearTimeout(t);
        return code;
      }
      return exited;
    },
  };
  return child;
}
