/**
 * Bull Board over every queue we own, as an Express router the API mounts at BOARD_BASE_PATH
 * (behind the API's auth guard). Retry, clean, promote and friends are on: an operator uses the
 * board to retry a job that failed all its attempts (the old "dead" state). Its "add job" goes
 * through the API's own checks (beforeAdd): the job-data schema and limits, the SSRF check and the
 * one-job-per-site de-duplication, so the board is not a way around them.
 */
import { createBullBoard } from "@bull-board/api";
import type { BoardHooks, HookContext } from "@bull-board/api/typings/app";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type { JobsOptions, Queue } from "bullmq";
import express, { type Request, type Response, type Router } from "express";
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
  /**
   * Runs before the board adds a job, with the board's request body ({name, data, options}).
   * Returns the job to add instead (parsed data, our own job id and de-duplication), or a refusal
   * with its status. Without it the board's add is refused altogether.
   */
  beforeAdd?: (queueName: string, body: unknown) => Promise<AddVerdict>;
  /**
   * Replaces the board's "retry all" of a queue's failed or completed jobs: the board's own
   * handler calls job.retry() on each and would bypass beforeRetry. Returns the board's answer,
   * or undefined to leave the queue to the board.
   */
  retryAll?: (queueName: string, status: string) => Promise<{ retried: number; skipped: number } | undefined>;
}

export type AddVerdict =
  { refuse: string; status: 400 | 403 | 409 } | { job: { name: string; data: unknown; options: JobsOptions } };

const RETRY_ROUTE = "/api/queues/:queueName/:jobId/retry";
const ADD_ROUTE = "/api/queues/:queueName/add";
const RETRY_ALL_ROUTE = "/api/queues/:queueName/retry/:queueStatus";

function boardHooks(opts: BoardOptions): BoardHooks {
  // The board hands the same context object to `before` and `after` of one request.
  const releases = new WeakMap<HookContext, () => Promise<void>>();
  return {
    before: async (ctx) => {
      if (ctx.method === "post" && ctx.route === ADD_ROUTE) return guardAdd(ctx, opts.beforeAdd);
      const beforeRetry = opts.beforeRetry;
      if (!beforeRetry || ctx.method !== "put" || ctx.route !== RETRY_ROUTE) return undefined;
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

async function guardAdd(ctx: HookContext, beforeAdd: BoardOptions["beforeAdd"]) {
  const queueName = (ctx.request.params as { queueName?: unknown }).queueName;
  if (!beforeAdd || typeof queueName !== "string")
    return { allow: false, status: 403 as const, message: "adding jobs from the board is off" };
  const verdict = await beforeAdd(queueName, ctx.request.body);
  if ("refuse" in verdict) return { allow: false, status: verdict.status, message: verdict.refuse };
  // The board's handler reads the body after this hook: it adds exactly what we parsed.
  ctx.request.body = verdict.job;
  return undefined;
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
      handlerHooks: boardHooks(opts),
    },
  });
  const board = serverAdapter.getRouter() as Router;
  const retryAll = opts.retryAll;
  if (!retryAll) return board;
  // Answered before the board's router sees it; the board's page calls this route for its button.
  // An app, like the board's own router, so it mounts the same way.
  const router = express();
  router.put(RETRY_ALL_ROUTE, async (req: Request<{ queueName: string; queueStatus: string }>, res: Response, next) => {
    const answer = await retryAll(req.params.queueName, req.params.queueStatus);
    if (answer) res.status(200).json(answer);
    else next();
  });
  router.use(board);
  return router;
}
