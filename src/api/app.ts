/**
 * buildApp(deps) wires the HTTP surface and never listens: api/main.ts (and each test, through
 * it) decides where it runs. The order of the chain is the security model, so it is spelled out
 * here, once:
 *
 *   1. CORS, then security headers   helmet everywhere; Bull Board's paths get their own CSP
 *   2. JSON body parser               BODY_LIMIT_BYTES (413), malformed JSON (400)
 *   3. probes                         /healthz, /readyz, /metrics (orchestrators call them by address)
 *   4. where the request comes from   the Host allowlist, cross-site writes refused
 *   5. public routes                  /openapi.json, /auth/*, and the web page at / (it holds no
 *                                     data and shows a login form on 401)
 *   6. auth, then the write limit     on /api/* and /admin/* (and /sites/* when PUBLIC_FILES=0)
 *   7. /sites/* files
 *   8. /admin/queues                  Bull Board
 *   9. /api/*                         jobs, events, results, tokens, websites, schedules
 *  10. 404 JSON, then the one error middleware
 */
import express, { type Express, type RequestHandler, type Router } from "express";
import helmet from "helmet";
import type { Redis } from "ioredis";
import { BOARD_BASE_PATH, boardSecurityHeaders, createBoardRouter } from "../admin/board";
import { boardAddGuard } from "./boardAdd";
import type { Config } from "../config/env";
import type { Logger } from "../lib/logger";
import type { Metrics } from "../metrics/registry";
import type { FleetStatus } from "../queues/workerHeartbeat";
import type { ClientShare } from "../queues/clientShare";
import { findGenerateJob, type Queues } from "../queues/queues";
import type { AuthServices } from "../security/authServices";
import type { RateLimiter } from "../security/rateLimiter";
import type { ResultStore } from "../store/results";
import { MAINTENANCE_QUEUE } from "../scheduler/maintenance";
import { withChangeSummaries } from "../websites/versions";
import type { WebsiteService } from "../websites/service";
import type { JobEventHub } from "./jobEvents";
import { authenticate, checkAuth } from "./middleware/auth";
import { cors } from "./middleware/cors";
import { errorMiddleware, notFoundHandler } from "./middleware/errors";
import { checkRateLimit } from "./middleware/rateLimit";
import { allowedHostNames, requestOriginCheck } from "./middleware/requestOrigin";
import { openapiRouter } from "./openapi";
import { authRouter } from "./routes/auth";
import { eventsRouter } from "./routes/events";
import { healthRouter } from "./routes/health";
import { type JobCanceller, jobsRouter } from "./routes/jobs";
import { metricsRouter } from "./routes/metrics";
import { resultsApiRouter, siteFilesRouter } from "./routes/results";
import { boardRetryAll, boardRetryGuard } from "./routes/retryJob";
import { schedulesRouter } from "./routes/schedules";
import { tokensRouter } from "./routes/tokens";
import { websitesRouter } from "./routes/websites";

/** The slice of Config the app reads. */
export interface AppConfig {
  http: Pick<
    Config["http"],
    "bodyLimitBytes" | "maxUrlLength" | "corsOrigins" | "allowedHosts" | "trustProxy" | "host" | "maxQueuedPerClient"
  >;
  crawl: Pick<Config["crawl"], "maxPagesLimit">;
  auth: Pick<Config["auth"], "publicFiles">;
  metricsToken?: string | undefined;
}

export interface AppDeps {
  config: AppConfig;
  queues: Pick<Queues, "generate" | "schedule" | "all" | "byName">;
  store: ResultStore;
  /** The API's client (the same one the store and queues use): listing, retry claims, health. */
  redis: Redis;
  /** Fed by the process's QueueEvents on the generate and schedule queues. */
  jobEvents: JobEventHub;
  logger: Logger;
  authServices: AuthServices;
  /** The per-client write limit (RATE_LIMIT_PER_MINUTE), counted after auth so a token counts as itself. */
  limiter: RateLimiter;
  metrics: Pick<Metrics, "render">;
  /** The worker fleet given the generate queue's waiting count (/readyz). */
  fleet: (waiting: number) => Promise<FleetStatus>;
  websites: WebsiteService;
  /** The early SSRF check of submitted URLs (security/urlGuard.ts). */
  urlGuard: (url: string) => Promise<void>;
  /** Each client's count of one-off jobs in flight: fair share and MAX_QUEUED_PER_CLIENT. */
  clientShare: ClientShare;
  /** The web page at /. */
  page: Router;
  /** Aborts running jobs for DELETE /api/jobs/:id; without it that answers 409. */
  canceller?: JobCanceller;
  /** SSE heartbeat interval (tests shorten it). */
  sseHeartbeatMs?: number | undefined;
  /** FILES_PUBLIC_BASE_URL: /sites/… redirects there; keys start with the Redis prefix. */
  publicFiles?: { baseUrl: string; prefix: string } | undefined;
}

export function buildApp(deps: AppDeps): Express {
  const { config, queues, redis } = deps;
  const app = express();
  const limits = { maxPagesLimit: config.crawl.maxPagesLimit, maxUrlLength: config.http.maxUrlLength };
  app.disable("x-powered-by");
  // Behind a reverse proxy: the client's address (rate limits, login lockout), https (Secure
  // cookies) and the public host name come from the proxy's X-Forwarded-* headers.
  app.set("trust proxy", config.http.trustProxy);
  // Bodies are small and hashing every JSON answer for a weak ETag costs more than it saves; the
  // file routes set their own strong ETags.
  app.set("etag", false);

  // 1–2. CORS, headers, body.
  app.use(cors(config.http.corsOrigins));
  // No upgrade-insecure-requests: on a plain-HTTP deployment (a LAN address, compose on :3000) it
  // would make browsers fetch the web page's own assets over https, which isn't there.
  const apiHeaders = helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } });
  app.use((req, res, next) =>
    isBoardPath(req.path) ? boardSecurityHeaders(req, res, next) : apiHeaders(req, res, next),
  );
  app.use(express.json({ limit: config.http.bodyLimitBytes }));

  // 3. Probes and metrics (with its own token): public, and answered whatever the Host.
  app.use(healthRouter({ redis, queues: queues.all, fleet: deps.fleet }));
  app.use(metricsRouter(deps.metrics, config.metricsToken !== undefined ? { token: config.metricsToken } : {}));

  // 4. DNS rebinding and cross-site writes.
  app.use(
    requestOriginCheck({
      allowedHosts: allowedHostNames(config.http.allowedHosts, config.http.host),
      corsOrigins: config.http.corsOrigins,
    }),
  );

  // 5. Public: the API description, login, the page.
  app.use(openapiRouter({ limits }));
  app.use(authRouter(deps.authServices));
  app.use(deps.page);

  // 6. Auth first, so the rate limit can count a token's requests under its id rather than its address.
  const guard: RequestHandler = async (req, res, next) => {
    await checkAuth(deps.authServices, req, res);
    await checkRateLimit(deps.limiter, req, res);
    next();
  };
  app.use(config.auth.publicFiles ? ["/api", "/admin"] : ["/api", "/admin", "/sites"], guard);

  // 7–9. Files, Bull Board, the API.
  app.use(siteFilesRouter({ store: deps.store, publicFiles: deps.publicFiles, logger: deps.logger }));
  app.use(
    BOARD_BASE_PATH,
    createBoardRouter({
      queues: queues.all,
      beforeRetry: boardRetryGuard(queues.generate, redis),
      beforeAdd: boardAddGuard({ queue: queues.generate, limits, urlGuard: deps.urlGuard }),
      retryAll: boardRetryAll(queues.generate, redis),
    }),
  );
  app.use(
    jobsRouter({
      queues,
      redis,
      limits,
      canceller: deps.canceller,
      urlGuard: deps.urlGuard,
      fairShare: { share: deps.clientShare, maxQueued: config.http.maxQueuedPerClient },
    }),
  );
  app.use(
    eventsRouter({
      queue: { getJob: (id) => findGenerateJob(queues, id) },
      hub: deps.jobEvents,
      logger: deps.logger,
      heartbeatMs: deps.sseHeartbeatMs,
      stillAuthorized: async (req) =>
        !deps.authServices.enabled || (await authenticate(deps.authServices, req)) !== undefined,
    }),
  );
  app.use(resultsApiRouter({ store: deps.store, limits }));
  app.use(tokensRouter(deps.authServices));
  app.use(websitesRouter({ service: deps.websites, results: withChangeSummaries(deps.store) }));
  // The maintenance queue is listed by GET /api/schedules; the scheduler part of a process runs its worker.
  app.use(
    schedulesRouter({
      schedule: queues.schedule,
      generate: queues.generate,
      maintenance: queues.byName(MAINTENANCE_QUEUE),
    }),
  );

  // 10.
  app.use(notFoundHandler);
  app.use(errorMiddleware(deps.logger));
  return app;
}

function isBoardPath(path: string): boolean {
  return path === BOARD_BASE_PATH || path.startsWith(`${BOARD_BASE_PATH}/`);
}
