/**
 * GET /api/jobs/:id/events — Server-Sent Events for one job.
 *
 *   event: state     the job's full view (JobView): first on connect, then on every state change
 *   event: progress  {id, status, progress} on each progress report of the worker
 *   event: done      the final JobView (success or failure); the stream then ends
 *   event: removed   the job was deleted; the stream then ends
 *   : ping           a comment every heartbeat, so proxies keep the connection open
 *   event: error     {error:{code,message}}; the stream then ends. UNAUTHORIZED when the token
 *                    was revoked, the session logged out or expired: credentials are checked
 *                    again every heartbeat, so a stream never outlives them by more than one
 *
 * Events come from the app's one shared QueueEvents (see jobEvents.ts). The listener is attached
 * before the first snapshot is read, so nothing that happens in between is lost; each heartbeat
 * also re-reads the job, which covers an event missed while Redis reconnected.
 */
import type { Job } from "bullmq";
import { type Request, type Response, Router } from "express";
import { coerceError } from "../../lib/coerceError";
import { NotFoundError } from "../../lib/errors";
import type { Logger } from "../../lib/logger";
import type { JobEvent, JobEventHub } from "../jobEvents";
import { isFinal, type JobView, jobView, mapStatus, progressView } from "../jobView";
import { UnauthorizedError } from "../middleware/auth";
import { toHttpError } from "../middleware/errors";
import { jobIdSchema } from "../schemas";

export interface EventsRouteDeps {
  queue: { getJob(id: string): Promise<Job | undefined> };
  hub: JobEventHub;
  logger: Logger;
  /** Default 15 s: under the 30–60 s idle timeouts of common proxies. */
  heartbeatMs?: number;
  /** Whether the request's credentials still hold (re-checked every heartbeat); default: always. */
  stillAuthorized?: (req: Request) => Promise<boolean>;
}

const DEFAULT_HEARTBEAT_MS = 15_000;

export function eventsRouter(deps: EventsRouteDeps): Router {
  const router = Router();
  router.get("/api/jobs/:id/events", async (req: Request<{ id: string }>, res: Response) => {
    const id = jobIdSchema.safeParse(req.params.id);
    if (!id.success) throw new NotFoundError(`no job ${JSON.stringify(req.params.id)}`);
    await streamJob(id.data, req, res, deps);
  });
  return router;
}

async function streamJob(id: string, req: Request, res: Response, deps: EventsRouteDeps): Promise<void> {
  const { queue, hub, logger } = deps;
  let open = false; // headers sent, stream running
  let ended = false;
  let last = { status: "", attempts: -1 };
  let heartbeat: NodeJS.Timeout | undefined;
  // Events are handled one at a time, in order, and only once the headers and the first snapshot
  // are out: the gate holds back whatever arrives while that snapshot is read.
  let openGate!: () => void;
  let chain = new Promise<void>((resolve) => (openGate = resolve));

  const send = (event: string, data: unknown): void => {
    if (open && !ended) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const finish = (): void => {
    if (ended) return;
    ended = true;
    unsubscribe();
    clearInterval(heartbeat);
    if (open) res.end();
  };
  const snapshot = async (): Promise<JobView | undefined> => {
    const job = await queue.getJob(id);
    return job ? jobView(job, await job.getState()) : undefined;
  };
  const publish = (view: JobView | undefined): void => {
    if (ended) return;
    if (!view) {
      send("removed", { id });
      return finish();
    }
    if (isFinal(view.status)) {
      send("done", view);
      return finish();
    }
    if (view.status !== last.status || view.attempts !== last.attempts) send("state", view);
    last = { status: view.status, attempts: view.attempts };
  };
  const fail = (e: unknown): void => {
    logger.warn({ err: coerceError(e), jobId: id }, "event stream failed");
    send("error", toHttpError(e).body);
    finish();
  };
  const enqueue = (step: () => Promise<void> | void): void => {
    chain = chain
      .then(async () => {
        if (!ended) await step();
      })
      .catch(fail);
  };
  const unsubscribe = hub.subscribe(id, (event: JobEvent) =>
    enqueue(async () => {
      // A progress report only comes from an active job: no read needed.
      if (event.name === "progress") {
        last = { ...last, status: "running" };
        return send("progress", { id, status: mapStatus("active", event.data), progress: progressView(event.data) });
      }
      publish(await snapshot());
    }),
  );
  // "close" on the response: the client went away (or we ended it); either way stop listening.
  res.on("close", finish);

  let first: JobView | undefined;
  try {
    first = await snapshot();
  } finally {
    // Not found or Redis failed: no stream was opened; the error middleware answers.
    if (first === undefined) finish();
  }
  if (!first) throw new NotFoundError(`no job ${JSON.stringify(id)}`);
  if (ended) return; // the client left while we read
  res.status(200).set({
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache, no-transform",
    Connection: "keep-alive",
    // nginx buffers responses by default, which would hold events back until the stream ends.
    "X-Accel-Buffering": "no",
  });
  res.flushHeaders();
  open = true;
  res.write("retry: 3000\n\n");
  if (isFinal(first.status)) return publish(first);
  send("state", first);
  last = { status: first.status, attempts: first.attempts };
  heartbeat = setInterval(() => {
    if (ended) return;
    res.write(": ping\n\n");
    enqueue(async () => {
      if (deps.stillAuthorized && !(await deps.stillAuthorized(req))) {
        send(
          "error",
          toHttpError(new UnauthorizedError("the credentials of this stream were revoked or expired")).body,
        );
        return finish();
      }
      publish(await snapshot());
    });
  }, deps.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  openGate();
}
