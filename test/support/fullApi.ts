/*
 * The API's extensions as `ltx api` composes them (cli/api.ts apiExtend): issue 7's security
 * parts, issue 6's websites/schedules routers and issue 8's web page, with test knobs for the
 * security part (DNS stub, login limits, clock, no process metrics). Tests that walk the router
 * (auth, OpenAPI, bad input) use it so that every production route is in their app.
 */
import type { ApiContext, AppExtensions } from "../../src/api/main";
import { scheduleExtension } from "../../src/api/scheduleExtension";
import { securityExtensions, type SecurityOptions, type SecurityParts } from "../../src/api/securityExtensions";
import { webRouter } from "../../src/web/router";

export function fullApiExtend(
  opts: SecurityOptions = {},
  onParts?: (parts: SecurityParts) => void,
): (ctx: ApiContext) => AppExtensions {
  return (ctx) => {
    const security = securityExtensions(ctx, { processMetrics: false, ...opts });
    onParts?.(security);
    const schedules = scheduleExtension(ctx, { urlGuard: security.extensions.urlGuard });
    return {
      ...security.extensions,
      apiRouters: [...security.extensions.apiRouters, ...schedules.apiRouters],
      pageRouter: webRouter(),
    };
  };
}
