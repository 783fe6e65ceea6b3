/**
 * A worker process for the multi-process tests: `ltx worker`'s composition root
 * (runWorkerProcess) with test knobs from the environment, run as a child of the test through
 * the .ts require hook. It talks to the test over IPC:
 *   child → parent  { type: "ready", pid } once it takes jobs
 *   parent → child  { type: "stats" }  →  { type: "stats", active: string[], maxEventLoopBlockMs }
 * SIGTERM/SIGINT run the real shutdown path and exit 0.
 */
import fs from "node:fs";
import pino from "pino";
import { loadConfig } from "../../src/config/env";
import { coerceError } from "../../src/lib/coerceError";
import { createLogger } from "../../src/lib/logger";
import { runWorkerProcess } from "../../src/workers/main";

function num(name: string): number | undefined {
  const v = process.env[name];
  return v === undefined || v === "" ? undefined : Number(v);
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logFile = process.env.LTX_TEST_LOG_FILE;
  const logger = createLogger({
    level: config.logLevel,
    name: `worker-${process.pid}`,
    destination: logFile ? pino.destination({ dest: logFile, sync: true }) : pino.destination(2),
  });
  const { worker } = await runWorkerProcess(config, logger, {
    installSignals: true,
    worker: {
      ...(num("LTX_TEST_LOCK_MS") !== undefined ? { lockDurationMs: num("LTX_TEST_LOCK_MS") } : {}),
      ...(num("LTX_TEST_STALLED_MS") !== undefined ? { stalledIntervalMs: num("LTX_TEST_STALLED_MS") } : {}),
      drainDelaySeconds: 1,
    },
  });
  process.on("message", (msg: unknown) => {
    if (typeof msg === "object" && msg !== null && (msg as { type?: unknown }).type === "stats") {
      process.send?.({
        type: "stats",
        active: worker.activeJobIds(),
        maxEventLoopBlockMs: worker.maxEventLoopBlockMs(),
      });
    }
  });
  // The IPC channel must not keep a finished process alive after shutdown.
  process.channel?.unref();
  process.send?.({ type: "ready", pid: process.pid });
}

main().catch((e: unknown) => {
  const err = coerceError(e);
  try {
    if (process.env.LTX_TEST_LOG_FILE)
      fs.appendFileSync(process.env.LTX_TEST_LOG_FILE, `start-up failed: ${err.stack ?? err.message}\n`);
  } catch {
    // the log is best-effort
  }
  process.stderr.write(`worker process failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
