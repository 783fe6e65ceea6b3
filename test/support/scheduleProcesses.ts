/**
 * Spawns test/support/scheduleWorkerProcess.ts as real child processes through the .ts require
 * hook, waits until each is ready, and stops them with SIGTERM (SIGKILL after a timeout).
 */
import { type ChildProcess, fork } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const ENTRY = path.resolve(__dirname, "scheduleWorkerProcess.ts");
const HOOK = path.resolve(__dirname, "../../tools/tsRequireHook.js");

export interface ScheduleChild {
  pid: number;
  proc: ChildProcess;
  logFile: string;
  exited: Promise<number>;
  /** Schedulers the process's start-up consistency check had to repair. */
  repairedAtStart: number;
  stop(timeoutMs?: number): Promise<number>;
}

export const scheduleLogDir = fs.mkdtempSync(path.join(os.tmpdir(), "ltx-sched-"));
let seq = 0;

export async function spawnScheduleWorker(
  env: Record<string, string>,
  readyTimeoutMs = 30_000,
): Promise<ScheduleChild> {
  const logFile = path.join(scheduleLogDir, `proc-${++seq}.log`);
  const proc = fork(ENTRY, [], {
    execArgv: ["-r", HOOK],
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", LTX_TEST_LOG_FILE: logFile, ...env },
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  let stderr = "";
  proc.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number>((resolve) =>
    proc.once("exit", (code, signal) => resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0))),
  );
  let repairedAtStart = -1;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`not ready after ${readyTimeoutMs} ms; log ${logFile}; stderr: ${stderr}`));
    }, readyTimeoutMs);
    proc.on("message", (m: unknown) => {
      const msg = m as { type?: string; repaired?: number };
      if (msg.type === "ready") {
        repairedAtStart = msg.repaired ?? -1;
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before ready; log ${logFile}; stderr: ${stderr}`));
    });
  });
  return {
    pid: proc.pid ?? 0,
    proc,
    logFile,
    exited,
    repairedAtStart,
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
}

export function removeScheduleLogs(): void {
  if (process.env.LTX_KEEP_LOGS !== "1") fs.rmSync(scheduleLogDir, { recursive: true, force: true });
}
