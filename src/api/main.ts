/**
 * The API process's composition root, the only place the API is assembled: config → redis →
 * checks → queues → events → file store → the one-time upgrade of files kept in Redis → result store → services (auth, rate limit, metrics, URL guard, websites) →
 * app (api/app.ts: the middleware order) → listen. Each part's close() is registered with the shutdown registry as it is built; the
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
import { SCHEDULE_QUEUE } from "../queues/catalog";
import { clientShare } from "../queues/clientShare";
import { readStartDelays } from "../queues/runDelay";
import { closeRedis, createRedis, keyPrefix, type Redis } from "../queues/connection";
import { createQueueEvents, createQueues, type Queues } from "../queues/queues";
import { checkRedis } from "../store/redisChecks";
import { createFileStore } from "../store/files/createFileStore";
import type { FileStore } from "../store/files/fileStore";
import { upgradeLegacyFiles } from "../store/legacyUpgrade";
import { createResultStore, type ResultStore } from "../store/results";
import { createMetrics, type Metrics } from "../metrics/registry";
import { fleetStatus, readHeartbeats } from "../queues/workerHeartbeat";
import { createAddressPolicy } from "../security/addressPolicy";
import { type AuthServices, type AuthServicesOptions, createAuthServices } from "../security/authServices";
import { createRateLimiter } from "../security/rateLimiter";
import { createUrlGuard, type LookupAll } from "../security/urlGuard";
import { createWebsiteStore } from "../store/websites";
import { webRouter } from "../web/router";
import { createWebsiteService, type WebsiteService } from "../websites/service";
import { buildApp } from "./app";
import { createJobEventHub, type JobEventHub } from "./jobEvents";
import { createHttpServer } from "./server";

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
  /** How long open connections (event streams) get after close() before they are cut. Default 2 s. */
  connectionGraceMs?: number;
  sseHeartbeatMs?: number;
  /** DNS for the URL pre-check; tests pass a stub that only ever answers loopback. */
  lookup?: LookupAll;
  /** Tests shorten the login lockout. */
  loginLimits?: AuthServicesOptions["loginLimits"];
  /** process_* / nodejs_* metrics: on for a real process (default), off in tests. */
  processMetrics?: boolean;
  /** The clock of sessions, tokens and rate limits (tests move it). */
  now?: () => number;
  /** Replaces the FileStore config.files describes (tests inject faults); the caller closes it. */
  files?: FileStore;
}

export interface ApiHandle {
  app: Express;
  server: http.Server;
  /** "http://127.0.0.1:3000" — where it listens. */
  url: string;
  context: ApiContext;
  /** The SSE fan-out (its size() is the number of open event streams). */
  jobEvents: JobEventHub;
  authServices: AuthServices;
  metrics: Metrics;
  websites: WebsiteService;
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
    const scheduledEvents = createQueueEvents({ connection: redis, prefix, queue: SCHEDULE_QUEUE, logger });
    shutdown.add("api schedule queue events", () => scheduledEvents.close());
    await Promise.all([events.events.waitUntilReady(), scheduledEvents.events.waitUntilReady()]);
    const jobEvents = createJobEventHub([events.events, scheduledEvents.events]);
    const files = opts.files ?? createFileStore(config.files);
    if (!opts.files) shutdown.add("api file store", () => files.close());
    // Before serving: an older ltx kept the files in Redis, and this code reads them only from the store.
    await upgradeLegacyFiles(redis, { prefix, files, logger });
    const store = createResultStore(redis, { prefix, maxVersions: config.schedules.maxVersionsPerSite, files });

    const context: ApiContext = { config, redis, prefix, queues, store, logger, shutdown };

    const clock = opts.now ? { now: opts.now } : {};
    const authServices = createAuthServices({
      redis,
      prefix,
      auth: config.auth,
      secureCookies: config.http.tls !== undefined,
      ...(opts.loginLimits ? { loginLimits: opts.loginLimits } : {}),
      ...clock,
    });
    const limiter = createRateLimiter({ redis, prefix, perMinute: config.http.rateLimitPerMinute, ...clock });
    const fleet = async (waiting: number) => fleetStatus(await readHeartbeats(redis, prefix), waiting);
    const metrics = createMetrics({
      queues: queues.all,
      processMetrics: opts.processMetrics ?? true,
      labels: { role: "api" },
      cacheMs: config.metricsCacheMs,
      fleet,
      startDelays: () => readStartDelays(redis, queues.schedule),
    });
    const policy = config.crawl.allowPrivateNetworks
      ? undefined
      : createAddressPolicy({ allowPrivate: false, allowHosts: config.crawl.allowHosts });
    const urlGuard = createUrlGuard({ policy, ...(opts.lookup ? { lookup: opts.lookup } : {}) });
    const websites = createWebsiteService({
      websites: createWebsiteStore(redis, { prefix }),
      redis,
      queues,
      settings: {
        defaultEveryMs: config.schedules.defaultIntervalMs,
        maxPagesLimit: config.crawl.maxPagesLimit,
        maxUrlLength: config.http.maxUrlLength,
        maxWebsites: config.schedules.maxWebsites,
        maxImportUrls: config.schedules.maxImportUrls,
      },
      urlGuard,
      logger,
    });

    const app = buildApp({
      config,
      queues,
      store,
      redis,
      publicFiles: config.files.publicBaseUrl ? { baseUrl: config.files.publicBaseUrl, prefix } : undefined,
      jobEvents,
      logger,
      authServices,
      limiter,
      metrics,
      fleet,
      websites,
      urlGuard,
      clientShare: clientShare(redis, prefix, queues.generate.toKey("")),
      page: webRouter(),
      canceller: { cancel: async (jobId, reason) => void (await requestCancel(redis, prefix, jobId, reason)) },
      sseHeartbeatMs: opts.sseHeartbeatMs,
    });
    const server = createHttpServer(app, config.http.tls);
    shutdown.add("http server", () => closeServer(server, opts.connectionGraceMs ?? 2000));
    await listen(server, opts.port ?? config.http.port, opts.host ?? config.http.host);
    const url = serverUrl(server, config);
    logger.info({ url, board: `${url}/admin/queues` }, "API listening");
    return {
      app,
      server,
      url,
      context,
      jobEvents,
      authServices,
      metrics,
      websites,
      close: () => shutdown.run("close"),
    };
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
