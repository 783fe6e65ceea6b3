/**
 * /api/jobs: submit, read, list, cancel and retry generate jobs. Bodies and queries are parsed by
 * api/schemas.ts before anything touches Redis, so bad input leaves Redis as it was. Adding goes
 * through queues/enqueue.ts, which de-duplicates per site inside BullMQ's add script.
 */
import type { Job } from "bullmq";
import { type Request, type Response, Router } from "express";
import type { Redis } from "ioredis";
import { ConflictError, NotFoundError } from "../../lib/errors";
import { resolveSite } from "../../pipeline/site";
import { enqueueGenerate } from "../../queues/enqueue";
import { findGenerateJob, generateQueueOf, type Queues } from "../../queues/queues";
import type { ClientShare } from "../../queues/clientShare";
import { fairShareClient } from "../clientId";
import { listJobs } from "../jobList";
import { jobLinks, jobView } from "../jobView";
import { createJobBodySchema, jobIdSchema, listJobsQuerySchema, type SchemaLimits } from "../schemas";
import { retryFailedJob } from "./retryJob";

/** Stops an active job wherever it runs (the worker owns the AbortController). */
export interface JobCanceller {
  /** Resolves once the request to abort is delivered; the job then ends as a failure (ABORTED). */
  cancel(jobId: string, reason: string): Promise<void>;
}

export interface JobsRouteDeps {
  queues: Pick<Queues, "generate" | "schedule">;
  redis: Redis;
  limits: SchemaLimits;
  /** Without one, DELETE of a running job answers 409. */
  canceller?: JobCanceller;
  /** The early SSRF check (security/urlGuard.ts): refuses before anything is enqueued. */
  urlGuard?: (url: string) => Promise<void>;
  /** Fair share and MAX_QUEUED_PER_CLIENT of submissions; without it jobs are first in, first out. */
  fairShare?: { share: ClientShare; maxQueued: number };
}

export function jobsRouter(deps: JobsRouteDeps): Router {
  const router = Router();
  const bodySchema = createJobBodySchema(deps.limits);
  const listSchema = listJobsQuerySchema(deps.limits);
  const { queues } = deps;

  const findJob = async (rawId: string): Promise<Job> => {
    const id = jobIdSchema.safeParse(rawId);
    const job = id.success ? await findGenerateJob(queues, id.data) : undefined;
    if (!job) throw new NotFoundError(`no job ${JSON.stringify(rawId.slice(0, 200))}`);
    return job as Job;
  };

  router.post("/api/jobs", async (req: Request, res: Response) => {
    const body = bodySchema.parse(req.body);
    await deps.urlGuard?.(body.url);
    const fair = deps.fairShare;
    const { job, deduplicated } = await enqueueGenerate(
      deps.queues,
      { ...body, trigger: "api" },
      {
        maxPagesLimit: deps.limits.maxPagesLimit,
        ...(fair ? { client: { id: fairShareClient(req, res), maxQueued: fair.maxQueued, share: fair.share } } : {}),
      },
    );
    if (deduplicated) {
      // The job already in flight for this site: 200, and its real state.
      res.status(200).json({ ...jobView(job as Job, await job.getState()), deduplicated: true });
      return;
    }
    const id = job.id ?? "";
    const links = jobLinks(id, job.data.siteKey);
    // No state read: a job we just added is queued, and POST stays one round trip to Redis.
    res
      .status(202)
      .location(links.self)
      .json({ id, url: job.data.url, siteKey: job.data.siteKey, status: "queued", links, deduplicated: false });
  });

  router.get("/api/jobs", async (req: Request, res: Response) => {
    const query = listSchema.parse(req.query);
    const siteKey = query.url === undefined ? undefined : resolveSite(query.url).key;
    const page = await listJobs([queues.generate, queues.schedule], deps.redis, {
      status: query.status,
      siteKey,
      cursor: query.cursor,
      limit: query.limit,
    });
    res.json(page);
  });

  router.get("/api/jobs/:id", async (req: Request<{ id: string }>, res: Response) => {
    const job = await findJob(req.params.id);
    res.json(jobView(job, await job.getState()));
  });

  router.delete("/api/jobs/:id", async (req: Request<{ id: string }>, res: Response) => {
    const job = await findJob(req.params.id);
    const state = await job.getState();
    if (state === "active") {
      if (!deps.canceller) throw new ConflictError("this job is running and this server cannot cancel running jobs");
      await deps.canceller.cancel(job.id ?? "", "cancelled through the API");
      // The worker aborts the pipeline; the job then ends as a failure with code ABORTED.
      res.status(202).json({ ...jobView(job, state), cancelling: true });
      return;
    }
    try {
      // Removing a queued job also frees its site's de-duplication key (BullMQ's remove script).
      await job.remove();
      const client = (job.data as { client?: unknown }).client;
      if (typeof client === "string" && job.id !== undefined) await deps.fairShare?.share.release(client, job.id);
    } catch (e) {
      // It became active between our read and the remove (the lock refuses removal).
      if ((await job.getState()) === "active")
        throw new ConflictError("the job started while being removed; DELETE again to cancel it");
      throw e;
    }
    res.status(204).end();
  });

  router.post("/api/jobs/:id/retry", async (req: Request<{ id: string }>, res: Response) => {
    const job = await findJob(req.params.id);
    const queue = generateQueueOf(queues, job);
    await retryFailedJob(queue, deps.redis, job);
    const fresh = (await queue.getJob(job.id ?? "")) as Job | undefined;
    if (!fresh) throw new NotFoundError(`job ${job.id} disappeared while being retried`);
    res.status(202).json(jobView(fresh, await fresh.getState()));
  });

  return router;
}
