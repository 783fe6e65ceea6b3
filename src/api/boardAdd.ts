/**
 * Bull Board's "add job", held to what POST /api/jobs allows: the same body schema and limits
 * (maxPages ≤ MAX_PAGES_LIMIT, pattern checks), the same early SSRF check, and the same
 * de-duplication (one job in flight per site) and job ids. The board's options editor may only
 * set when a job runs (delay, priority, lifo); options equal to the queue's defaults (which the
 * board pre-fills) are dropped; anything else (jobId, attempts, backoff, repeat, …) is refused.
 * Adds to any other queue are refused: those jobs are made by ltx itself.
 */
import { randomUUID } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import type { JobsOptions } from "bullmq";
import { z } from "zod";
import type { AddVerdict } from "../admin/board";
import { DAY } from "../lib/time";
import { dedupIdOf, generateJobData } from "../queues/enqueue";
import type { Queues } from "../queues/queues";
import { toHttpError } from "./middleware/errors";
import { createJobBodySchema, type SchemaLimits } from "./schemas";

const BoardAddBody = z.object({
  name: z.string(),
  data: z.record(z.string(), z.unknown()).default({}),
  options: z.record(z.string(), z.unknown()).default({}),
});

const SchedulingOptions = z.strictObject({
  delay: z
    .number()
    .int()
    .min(0)
    .max(366 * DAY)
    .optional(),
  priority: z.number().int().min(0).max(2_097_152).optional(),
  lifo: z.boolean().optional(),
});

/** Job data a board user may copy from an existing job: derived fields we set ourselves. */
const DERIVED_FIELDS = ["siteKey", "trigger", "backoff", "websiteId"];

export function boardAddGuard(deps: {
  queue: Queues["generate"];
  limits: SchemaLimits;
  urlGuard?: ((url: string) => Promise<void>) | undefined;
}) {
  const bodySchema = createJobBodySchema(deps.limits);
  return async (queueName: string, rawBody: unknown): Promise<AddVerdict> => {
    if (queueName !== deps.queue.name)
      return { refuse: `jobs of the ${queueName} queue are added by ltx itself`, status: 403 };
    try {
      const body = BoardAddBody.parse(rawBody);
      if (body.name !== "generate") return { refuse: `the generate queue runs "generate" jobs only`, status: 400 };
      const data = Object.fromEntries(Object.entries(body.data).filter(([k]) => !DERIVED_FIELDS.includes(k)));
      const request = bodySchema.parse(data);
      await deps.urlGuard?.(request.url);
      const job = generateJobData({ ...request, trigger: "api" }, { maxPagesLimit: deps.limits.maxPagesLimit });
      const options = SchedulingOptions.parse(withoutDefaults(body.options, deps.queue.defaultJobOptions));
      const jobOptions: JobsOptions = {
        ...options,
        jobId: randomUUID(),
        deduplication: { id: dedupIdOf(job.siteKey) },
      };
      return { job: { name: "generate", data: job, options: jobOptions } };
    } catch (e) {
      // The API's one mapping decides the status; the board can only say 400, 403, 409 or 500.
      const { status, body, unexpected } = toHttpError(e);
      if (unexpected) throw e;
      return { refuse: body.error.message, status: status === 403 || status === 409 ? status : 400 };
    }
  };
}

function withoutDefaults(options: Record<string, unknown>, defaults: JobsOptions): Record<string, unknown> {
  const given = defaults as Record<string, unknown>;
  return Object.fromEntries(Object.entries(options).filter(([k, v]) => !isDeepStrictEqual(given[k], v)));
}
