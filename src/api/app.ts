/**
 * buildApp(deps) wires the HTTP surface and never listens: api/main.ts (and each test) decides
 * where it runs. The order of the chain is the security model, so it is spelled out here:
 *
 *   1. security headers      helmet everywhere; Bull Board's paths get their own CSP
 *   2. JSON body parser      BODY_LIMIT_BYTES (413), malformed JSON (400)
 *   3. publicRouters         /healthz, /readyz, /metrics, /openapi.json, /auth/* (issue 7)
 *   4. pageRouter            the web page at / (issue 8): public, it shows a login form
 *   5. auth                  (issue 7) on /api/* and /admin/* (and /sites/* when PUBLIC_FILES=0)
 *   6. /sites/* files
 *   7. /admin/queues         Bull Board
 *   8. /api/jobs, events, results, then apiRouters (/api/websites, /api/schedules: issue 6)
 *   9. 404 JSON, then the one error middleware
 */
import express, { type Express, type RequestHandler, type Router } from "express";
import helmet from "helmet";
import type { Redis } from "ioredis";
import { BOARD_BASE_PATH, boardSecurityHeaders, createBoardRouter } from "../admin/board";
import type { Config } from "../config/env";
import type { Logger } from "../lib/logger";
import type { Queues } from "../queues/queues";
import type { ResultStore } from "../store/results";
import type { JobEventHub } from "./jobEvents";
import { errorMiddleware, notFoundHandler } from "./middleware/errors";
import { eventsRouter } from "./routes/events";
import { type JobCanceller, jobsRouter } from "./routes/jobs";
import { resultsApiRouter, siteFilesRouter } from "./routes/results";
import { boardRetryGuard } from "./routes/retryJob";

/** The slice of Config the app reads. */
export interface AppConfig {
  http: Pick<Config["http"], "bodyLimitBytes" | "maxUrlLength">;
  crawl: Pick<Config["crawl"], "maxPagesLimit">;
  auth: Pick<Config["auth"], "publicFiles">;
}

export interface AppDeps {
  config: AppConfig;
  queues: Pick<Queues, "generate" | "all">;
  store: ResultStore;
  /** The API's client (the same one the store and queues use): job listing and retry claims. */
  redis: Redis;
  /** Fed by the process's one QueueEvents on the generate queue. */
  jobEvents: JobEventHub;
  logger: Logger;
  /** Aborts running jobs for DELETE /api/jobs/:id; without it that answers 409. */
  canceller?: JobCanceller;
  /** Issue 7's early SSRF check of submitted URLs (security/urlGuard.ts createUrlGuard). */
  urlGuard?: (url: string) => Promise<void>;
  /** SSE heartbeat interval (tests shorten it). */
  sseHeartbeatMs?: number;
  /** Issue 7: checks a session or token; runs before /api/*, /admin/* (and /sites/* when PUBLIC_FILES=0). */
  auth?: RequestHandler;
  /** Issue 7: routes that stay public and see no auth: health, readiness, metrics, OpenAPI, login. */
  publicRouters?: Router[];
  /** Issue 6: more authenticated routers (/api/websites, /api/schedules), mounted after /api/jobs. */
  apiRouters?: Router[];
  /** Issue 8: the web page at /, mounted before auth (its data calls go to /api, which is guarded). */
  pageRouter?: Router;
  /** Runs first of all (issue 7: request metrics, rate limits, CORS). */
  preMiddleware?: RequestHandler[];
}

export function buildApp(deps: AppDeps): Express {
  const app = express();
  const limits = { maxPagesLimit: deps.config.crawl.maxPagesLimit, maxUrlLength: deps.config.http.maxUrlLength };
  app.disable("x-powered-by");
  // Bodies are small and hashing every JSON answer for a weak ETag costs more than it saves; the
  // file routes set their own strong ETags.
  app.set("etag", false);

  for (const mw of deps.preMiddleware ?? []) app.use(mw);
  // No upgrade-insecure-requests: on a plain-HTTP deployment (a LAN address, compose on :3000) it
  // would make browsers fetch the web page's own assets over https, which isn't there.
  const apiHeaders = helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } });
  app.use((req, res, next) =>
    isBoardPath(req.path) ? boardSecurityHeaders(req, res, next) : apiHeaders(req, res, next),
  );
  app.use(express.json({ limit: deps.config.http.bodyLimitBytes }));

  for (const r of deps.publicRouters ?? []) app.use(r);
  // The page itself is public: with auth on it shows a login form, and its data comes from /api.
  if (deps.pageRouter) app.use(deps.pageRouter);
  if (deps.auth) app.use(deps.config.auth.publicFiles ? ["/api", "/admin"] : ["/api", "/admin", "/sites"], deps.auth);
  app.use(siteFilesRouter({ store: deps.store }));

  app.use(
    BOARD_BASE_PATH,
    createBoardRouter({ queues: deps.queues.all, beforeRetry: boardRetryGuard(deps.queues.generate, deps.redis) }),
  );
  app.use(
    jobsRouter({ queues: deps.queues, redis: deps.redis, limits, canceller: deps.canceller, urlGuard: deps.urlGuard }),
  );
  app.use(
    eventsRouter({
      queue: deps.queues.generate,
      hub: deps.jobEvents,
      logger: deps.logger,
      heartbeatMs: deps.sseHeartbeatMs,
    }),
  );
  app.use(resultsApiRouter({ store: deps.store, limits }));
  for (const r of deps.apiRouters ?? []) app.use(r);

  app.use(notFoundHandler);
  app.use(errorMiddleware(deps.logger));
  return app;
}

function isBoardPath(path: string): boolean {
  return path === BOARD_BASE_PATH || path.startsWith(`${BOARD_BASE_PATH}/`);
}
