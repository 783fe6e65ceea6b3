/**
 * `ltx worker`: runs generate jobs from Redis (REDIS_URL) until SIGTERM/SIGINT, WORKER_CONCURRENCY
 * at once. Exit codes: 0 after a clean shutdown, 1 when Redis is misconfigured or unreachable at
 * start or the shutdown deadline passed, 2 for bad configuration or usage.
 */
import { loadConfig } from "../config/env";
import { coerceError } from "../lib/coerceError";
import { isLtxError } from "../lib/errors";
import { createLogger } from "../lib/logger";
import { createShutdown, installSignalHandlers } from "../lib/shutdown";
import { runSchedulerProcess } from "../scheduler/main";
import { runWorkerProcess } from "../workers/main";

const USAGE =
  "Usage: ltx worker\n\nRuns a worker process against REDIS_URL. Configuration comes from environment variables (WORKER_CONCURRENCY, MAX_ATTEMPTS, SHUTDOWN_GRACE_MS, …).\n";

export async function workerCommand(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (argv.length > 0) {
    process.stderr.write(`ltx worker: unexpected argument ${JSON.stringify(argv[0])}\n${USAGE}`);
    return 2;
  }
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    process.stderr.write(`ltx worker: ${coerceError(e).message}\n`);
    return 2;
  }
  const logger = createLogger({ level: config.logLevel, name: "ltx-worker" });
  const shutdown = createShutdown(logger);
  // Resolves with 0 once the registry has closed everything; the deadline and a second
  // signal exit at once (process.exit), since something is then stuck.
  const stopped = new Promise<number>((resolve) => {
    installSignalHandlers(shutdown, {
      deadlineMs: config.worker.shutdownGraceMs + 15_000,
      logger,
      exit: (code) => (code === 0 ? resolve(0) : process.exit(code)),
    });
  });
  try {
    // The schedules' part (maintenance worker, start-up consistency check) rides along in every
    // worker replica: its job schedulers make each tick one job, so replicas don't multiply runs.
    await runSchedulerProcess(config, logger.child({ part: "scheduler" }), { shutdown });
    await runWorkerProcess(config, logger, { shutdown });
  } catch (e) {
    const err = coerceError(e);
    logger.fatal({ err, code: isLtxError(err) ? err.code : undefined }, "worker failed to start");
    process.stderr.write(`ltx worker: ${err.message}\n`);
    return isLtxError(err) && err.code === "CONFIG_INVALID" ? 2 : 1;
  }
  return stopped;
}
