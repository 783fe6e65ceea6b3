/**
 * The API process's composition root: config → redis → checks → queues → events → store → app →
 * listen. Each part's close() is registered with the shutdown registry as it is built; the
 * registry runs them in reverse, so the stop order is HTTP (no new requests, streams ended) →
 * QueueEvents → queues → Redis, which everything before it still needs while closing.
 */
import type http from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";
import type { Config } from "../config/env";
import { ConfigError } from "../lib/errors";
import type { Logger } from "../lib/logger";
import { createShutdown, type Shutdown } from "../lib/shutdown";
import { requestCancel } from "../queues/cancel";
import { closeRedis, createRedis, keyPrefix, type Redis } from "../queues/connection";
import { createQueueEvents, createQueues, type Queues } from "../queues/queues";
import { checkRedis } from "../store/redisChecks";
import { createResultStore, type ResultStore } from "../store/results";
import { type AppDeps, buildApp } from "./app";
import { createJobEventHub, type JobEventHub } from "./jobEvents";
import { createHttpServer } from "./server";

/** What the parts of later issues add to the app, built from the process's own clients. */
export type AppExtensions = Partial<
  Pick<AppDeps, "auth" | "publicRouters" | "apiRouters" | "pageRouter" | "preMiddleware" | "urlGuard">
>;

export interface ApiContext {
  config: Readonly<Config>;
  redis: Redis;
  prefix: string;
  queues: Queues;
  store: ResultStore;
  logger: Logger;
  shutdown: Shutdown;
}

export interface RunApiOptions {
  /** Overrides config.redis.url (ltx start passes its local redis-server). */
  redisUrl?: string;
  /** Shared with other parts of the process (ltx start); a new one otherwise. */
  shutdown?: Shutdown;
  /** Overrides config.http.port/host (tests pass 0). */
  port?: number;
  host?: string;
  /** Issues 6–8 plug in here: auth, health, metrics, websites, the web page. */
  extend?: (ctx: ApiContext) => AppExtensions | Promise<AppExtensions>;
  /** How long open connections (event streams) get after close() before they are cut. Default 2 s. */
  connectionGraceMs?: number;
  sseHeartbeatMs?: number;
}

export interface ApiHandle {
  app: Express;
  server: http.Server;
  /** "http://127.0.0.1:3000" — where it listens. */
  url: string;
  context: ApiContext;
  /** The SSE fan-out (its size() is the number of open event streams). */
  jobEvents: JobEventHub;
  /** Runs the shutdown registry (everything registered, this API's parts included). */
  close(): Promise<void>;
}

export async function runApiProcess(
  config: Readonly<Config>,
  logger: Logger,
  opts: RunApiOptions = {},
): Promise<ApiHandle> {
  const redisUrl = opts.redisUrl ?? config.redis.url;
  if (redisUrl === undefined)
    throw new ConfigError(
      "invalid configuration: REDIS_URL is not set (`ltx start` runs a local redis-server when it is unset; `ltx api` needs one)",
    );
  const prefix = keyPrefix(config.redis.prefix);
  const shutdown = opts.shutdown ?? createShutdown(logger);
  try {
    // The logger observes this client's errors and those of every client duplicated from it.
    const redis = createRedis(redisUrl, { name: "ltx-api", logger });
    shutdown.add("api redis", () => closeRedis(redis));
    await checkRedis(redis, logger);

    const queues = createQueues({ connection: redis, prefix, jobs: config.jobs, logger });
    shutdown.add("api queues", () => queues.close());
    const events = createQueueEvents({ connection: redis, prefix, queue: "generate", logger });
    shutdown.add("api queue events", () => events.close());
    await events.events.waitUntilReady();
    const jobEvents = createJobEventHub(events.events);
    const store = createResultStore(redis, { prefix, maxVersions: config.schedules.maxVersionsPerSite });

    const context: ApiContext = { config, redis, prefix, queues, store, logger, shutdown };
    const extensions = (await opts.extend?.(context)) ?? {};
    const app = buildApp({
      config,
      queues,
      store,
      redis,
      jobEvents,
      logger,
      canceller: { cancel: async (jobId, reason) => void (await requestCancel(redis, prefix, jobId, reason)) },
      sseHeartbeatMs: opts.sseHeartbeatMs,
      ...extensions,
    });
    const server = createHttpServer(app, config.http.tls);
    shutdown.add("http server", () => closeServer(server, opts.connectionGraceMs ?? 2000));
    await listen(server, opts.port ?? config.http.port, opts.host ?? config.http.host);
    const url = serverUrl(server, config);
    logger.info({ url, board: `${url}/admin/queues` }, "API listening");
    return { app, server, url, context, jobEvents, close: () => shutdown.run("close") };
  } catch (e) {
    // Start-up failed midway: close what was built (only when the registry is ours alone).
    if (!opts.shutdown) await shutdown.run("start-up failed");
    throw e;
  }
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function serverUrl(server: http.Server, config: Readonly<Config>): string {
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return `${config.http.tls ? "https" : "http"}://${host}:${addr.port}`;
}

/**
 * Stops accepting connections, drops idle keep-alive ones at once, and gives busy ones (requests
 * in progress, event streams, which never end by themselves) graceMs before cutting them: an
 * EventSource reconnects by itself, to another API process if there is one.
 */
function closeServer(server: http.Server, graceMs: number): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
