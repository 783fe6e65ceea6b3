/**
 * Bull Board over every queue we own, as an Express router the API mounts at BOARD_BASE_PATH
 * (behind the API's auth guard). Retry, clean, promote and friends are on: an operator uses the
 * board to retry a job that failed all its attempts (the old "dead" state).
 */
import { createBullBoard } from "@bull-board/api";
import type { BoardHooks, HookContext } from "@bull-board/api/typings/app";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type { Queue } from "bullmq";
import type { Router } from "express";
import helmet from "helmet";
import { VERSION } from "../lib/version";

export const BOARD_BASE_PATH = "/admin/queues";

export interface BoardOptions {
  /** Every queue to show: the board lists exactly these. */
  queues: readonly Queue[];
  basePath?: string;
  /** Descriptions keyed by queue name, e.g. from the job catalog. */
  descriptions?: Readonly<Record<string, string>>;
  /**
   * Runs before the board retries one job. Returns undefined to let it go on (and a release
   * function that is called when the retry then fails), or a message to refuse it with 409.
   * The API uses it to keep "one job in flight per site" (see api/routes/retryJob.ts).
   */
  beforeRetry?: (
    queueName: string,
    jobId: string,
  ) => Promise<{ refuse: string } | { release: () => Promise<void> } | undefined>;
}

const RETRY_ROUTE = "/api/queues/:queueName/:jobId/retry";

function retryHooks(beforeRetry: NonNullable<BoardOptions["beforeRetry"]>): BoardHooks {
  // The board hands the same context object to `before` and `after` of one request.
  const releases = new WeakMap<HookContext, () => Promise<void>>();
  return {
    before: async (ctx) => {
      if (ctx.method !== "put" || ctx.route !== RETRY_ROUTE) return undefined;
      const params = ctx.request.params as { queueName?: unknown; jobId?: unknown };
      if (typeof params.queueName !== "string" || typeof params.jobId !== "string") return undefined;
      const verdict = await beforeRetry(params.queueName, params.jobId);
      if (verdict && "refuse" in verdict) return { allow: false, status: 409, message: verdict.refuse };
      if (verdict) releases.set(ctx, verdict.release);
      return undefined;
    },
    after: async (ctx, result) => {
      const release = releases.get(ctx);
      if (release && (result.status ?? 200) >= 300) await release();
      return result;
    },
  };
}

/**
 * The board's page loads its own bundles and styles: scripts from 'self' suffice, but its markup
 * uses inline `style` attributes, so styles need 'unsafe-inline'. Its web fonts live on another
 * host; we leave them blocked (the board falls back to system fonts) rather than make the admin
 * page call out. This policy replaces the app-wide one for the board's paths only.
 */
export const boardSecurityHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", "data:"],
      fontSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      frameAncestors: ["'none'"],
      formAction: ["'self'"],
    },
  },
});

export function createBoardRouter(opts: BoardOptions): Router {
  const basePath = opts.basePath ?? BOARD_BASE_PATH;
  const serverAdapter = new ExpressAdapter().setBasePath(basePath);
  createBullBoard({
    queues: opts.queues.map(
      (q) =>
        new BullMQAdapter(q, {
          readOnlyMode: false,
          allowRetries: true,
          description: opts.descriptions?.[q.name] ?? "",
        }),
    ),
    serverAdapter,
    options: {
      uiConfig: { boardTitle: `ltx ${VERSION}`, hideDocsLink: true },
      ...(opts.beforeRetry ? { handlerHooks: retryHooks(opts.beforeRetry) } : {}),
    },
  });
  return serverAdapter.getRouter() as Router;
}
