/*
 * Issue 7's part of the API, as the AppExtensions that runApiProcess's `extend` hook returns:
 * auth + write rate limit on /api and /admin, CORS, the public routes (health, readiness,
 * metrics, OpenAPI, login) and /api/tokens, and the early SSRF check of submitted URLs.
 */
import type { RequestHandler } from "express";
import { createMetrics, type Metrics } from "../metrics/registry";
import { fleetStatus, readHeartbeats } from "../queues/workerHeartbeat";
import { createAddressPolicy } from "../security/addressPolicy";
import { type AuthServices, type AuthServicesOptions, createAuthServices } from "../security/authServices";
import { createRateLimiter } from "../security/rateLimiter";
import { createUrlGuard, type LookupAll } from "../security/urlGuard";
import type { ApiContext, AppExtensions } from "./main";
import { checkAuth } from "./middleware/auth";
import { cors } from "./middleware/cors";
import { checkRateLimit } from "./middleware/rateLimit";
import type { OpenApiOptions } from "./openapi";
import { openapiRouter } from "./openapi";
import { authRouter } from "./routes/auth";
import { healthRouter } from "./routes/health";
import { metricsRouter } from "./routes/metrics";
import { tokensRouter } from "./routes/tokens";

export interface SecurityOptions {
  /** DNS for the URL pre-check; tests pass a stub that only ever answers loopback. */
  lookup?: LookupAll;
  loginLimits?: AuthServicesOptions["loginLimits"];
  /** process_* / nodejs_* metrics: on for a real process (default), off in tests. */
  processMetrics?: boolean;
  openapi?: OpenApiOptions;
  now?: () => number;
}

export interface SecurityParts {
  extensions: Required<Pick<AppExtensions, "auth" | "publicRouters" | "apiRouters" | "preMiddleware" | "urlGuard">>;
  authServices: AuthServices;
  metrics: Metrics;
}

export function securityExtensions(
  ctx: Pick<ApiContext, "config" | "redis" | "prefix" | "queues">,
  opts: SecurityOptions = {},
): SecurityParts {
  const { config, redis, prefix } = ctx;
  const authServices = createAuthServices({
    redis,
    prefix,
    auth: config.auth,
    secureCookies: config.http.tls !== undefined,
    ...(opts.loginLimits ? { loginLimits: opts.loginLimits } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const fleet = async (waiting: number) => fleetStatus(await readHeartbeats(redis, prefix), waiting);
  const metrics = createMetrics({
    queues: ctx.queues.all,
    processMetrics: opts.processMetrics ?? true,
    labels: { role: "api" },
    cacheMs: config.metricsCacheMs,
    fleet,
  });
  const policy = config.crawl.allowPrivateNetworks
    ? undefined
    : createAddressPolicy({ allowPrivate: false, allowHosts: config.crawl.allowHosts });
  const limiter = createRateLimiter({
    redis,
    prefix,
    perMinute: config.http.rateLimitPerMinute,
    ...(opts.now ? { now: opts.now } : {}),
  });

  // Auth first, so the rate limit can count a token's requests under its id rather than its address.
  const auth: RequestHandler = async (req, res, next) => {
    await checkAuth(authServices, req, res);
    await checkRateLimit(limiter, req, res);
    next();
  };

  return {
    authServices,
    metrics,
    extensions: {
      auth,
      preMiddleware: [cors(config.http.corsOrigins)],
      publicRouters: [
        healthRouter({ redis, queues: ctx.queues.all, fleet }),
        metricsRouter(metrics, config.metricsToken !== undefined ? { token: config.metricsToken } : {}),
        openapiRouter({
          ...opts.openapi,
          limits: { maxPagesLimit: config.crawl.maxPagesLimit, maxUrlLength: config.http.maxUrlLength },
        }),
        authRouter(authServices),
      ],
      apiRouters: [tokensRouter(authServices)],
      urlGuard: createUrlGuard({ policy, ...(opts.lookup ? { lookup: opts.lookup } : {}) }),
    },
  };
}
