/**
 * Issue 6's part of the API: /api/websites and /api/schedules, built from the API process's own
 * clients (runApiProcess's `extend` hook). The composer merges its apiRouters with the others':
 *
 *   extend: (ctx) => ({ ...security, apiRouters: [...(security.apiRouters ?? []), ...scheduleExtension(ctx, { urlGuard }).apiRouters] })
 */
import type { Router } from "express";
import { MAINTENANCE_QUEUE } from "../scheduler/maintenance";
import { withChangeSummaries } from "../websites/versions";
import { createWebsiteService, type WebsiteService } from "../websites/service";
import { createWebsiteStore } from "../store/websites";
import type { ApiContext } from "./main";
import { schedulesRouter } from "./routes/schedules";
import { websitesRouter } from "./routes/websites";

export interface ScheduleExtensionOptions {
  /** Issue 7's early SSRF check for registered URLs. */
  urlGuard?: (url: string) => Promise<void>;
}

export function scheduleExtension(
  ctx: Pick<ApiContext, "config" | "redis" | "prefix" | "queues" | "store" | "logger">,
  opts: ScheduleExtensionOptions = {},
): { apiRouters: Router[]; service: WebsiteService } {
  const websites = createWebsiteStore(ctx.redis, { prefix: ctx.prefix });
  const service = createWebsiteService({
    websites,
    redis: ctx.redis,
    queues: ctx.queues,
    settings: {
      defaultEveryMs: ctx.config.schedules.defaultIntervalMs,
      maxPagesLimit: ctx.config.crawl.maxPagesLimit,
      maxUrlLength: ctx.config.http.maxUrlLength,
    },
    ...(opts.urlGuard ? { urlGuard: opts.urlGuard } : {}),
    logger: ctx.logger,
  });
  // Listed by GET /api/schedules; the scheduler part of a process runs its worker.
  const maintenance = ctx.queues.byName(MAINTENANCE_QUEUE);
  return {
    apiRouters: [
      websitesRouter({ service, results: withChangeSummaries(ctx.store) }),
      schedulesRouter({ generate: ctx.queues.generate, maintenance }),
    ],
    service,
  };
}
