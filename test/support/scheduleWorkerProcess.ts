/**
 * A worker + scheduler process for the schedule tests, run as a child of the test through the .ts
 * require hook: the real worker (startWorker) with the website-run wrapper (outcomes.ts) around a
 * stub generate handler, plus runSchedulerProcess (start-up consistency check, maintenance).
 * The stub records each finished run in `<prefix>:test:runs` (JSON {jobId, websiteId, pid, at})
 * so the test can count runs exactly; it takes LTX_TEST_STUB_MS and fails for website ids listed
 * in the Redis set `<prefix>:test:failing`.
 *   child → parent  { type: "ready", pid }      SIGTERM: graceful shutdown, exit 0
 */
import pino from "pino";
import { UnrecoverableError } from "bullmq";
import { loadConfig } from "../../src/config/env";
import { coerceError } from "../../src/lib/coerceError";
import { createLogger } from "../../src/lib/logger";
import { createShutdown, installSignalHandlers } from "../../src/lib/shutdown";
import { sleep } from "../../src/lib/time";
import type { GenerateJobResult } from "../../src/queues/catalog";
import { closeRedis, createRedis } from "../../src/queues/connection";
import { createQueues } from "../../src/queues/queues";
import { withWebsiteRuns, type GenerateHandler } from "../../src/websites/outcomes";
import { runSchedulerProcess } from "../../src/scheduler/main";
import { createWebsiteStore } from "../../src/store/websites";
import { startWorker } from "../../src/workers/worker";

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const url = config.redis.url ?? "";
  const prefix = config.redis.prefix;
  const logFile = process.env.LTX_TEST_LOG_FILE;
  const logger = createLogger({
    level: config.logLevel,
    name: `sched-${process.pid}`,
    destination: logFile ? pino.destination({ dest: logFile, sync: true }) : pino.destination(2),
  });
  const shutdown = createShutdown(logger);
  installSignalHandlers(shutdown, { deadlineMs: 20_000, logger });
  const stubMs = Number(process.env.LTX_TEST_STUB_MS ?? "50");

  const redis = createRedis(url, { forWorker: true });
  shutdown.add("redis", () => closeRedis(redis));
  const queues = createQueues({ connection: redis, prefix, jobs: config.jobs, logger });
  shutdown.add("queues", () => queues.close());
  const websites = createWebsiteStore(redis, { prefix });

  const stub: GenerateHandler = async (job) => {
    await sleep(stubMs);
    const websiteId = job.data.websiteId ?? "";
    if (await redis.sismember(`${prefix}:test:failing`, websiteId))
      throw new UnrecoverableError("FETCH_FAILED: the test says this site fails");
    await redis.rpush(
      `${prefix}:test:runs`,
      JSON.stringify({ jobId: job.id, websiteId, pid: process.pid, at: Date.now() }),
    );
    return {
      siteKey: job.data.siteKey,
      url: job.data.url,
      version: 1,
      unchanged: false,
      pagesIncluded: 1,
      pagesSkipped: 0,
      provider: "extractive",
      model: null,
      fallback: false,
      usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0, requests: 0 },
      warnings: [],
      timings: { discoverMs: 0, crawlMs: 0, generateMs: 0, composeMs: 0, totalMs: stubMs },
      generatedAt: new Date().toISOString(),
    } satisfies GenerateJobResult;
  };
  const generate = withWebsiteRuns(stub, {
    websites,
    queues,
    redis,
    settings: { backoffAfter: config.schedules.failureBackoffAfter, pauseAfter: config.schedules.failurePauseAfter },
    logger,
  });
  const worker = await startWorker({
    connection: redis,
    prefix,
    handlers: { generate },
    logger,
    settings: {
      concurrency: 4,
      scheduleConcurrency: 4,
      retryBaseDelayMs: 50,
      retryMaxDelayMs: 100,
      shutdownGraceMs: 5000,
      drainDelaySeconds: 1,
      stalledIntervalMs: 2000,
      lockDurationMs: 4000,
    },
  });
  shutdown.add("worker", () => worker.close());
  const { startupReport } = await runSchedulerProcess(config, logger, { shutdown, redisUrl: url });
  process.channel?.unref();
  process.send?.({ type: "ready", pid: process.pid, repaired: startupReport?.repaired ?? -1 });
}

main().catch((e: unknown) => {
  const err = coerceError(e);
  process.stderr.write(`schedule worker process failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
