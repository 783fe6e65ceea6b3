/**
 * What the API accepts, as zod schemas. Bodies and queries are `unknown` until one of these parses
 * them; a failure is a ZodError, which middleware/errors.ts answers with 400 INVALID_INPUT before
 * anything touches Redis. The limits come from config, so the schemas are built per app.
 */
import { z } from "zod";
import { generateOptionsShape } from "../queues/generateOptions";

export interface SchemaLimits {
  /** MAX_PAGES_LIMIT: the most pages a request may ask for. */
  maxPagesLimit: number;
  /** MAX_URL_LENGTH, in characters of the URL as sent. */
  maxUrlLength: number;
}

/** The old service's words for a job's state; GET /api/jobs/:id answers with one of them. */
export const JOB_STATUSES = ["queued", "started", "running", "success", "failure"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** A site's start URL: http(s), parseable, within the length limit, no credentials in it. */
export function httpUrlSchema(maxUrlLength: number) {
  return z
    .string()
    .trim()
    .min(1, "is required")
    .max(maxUrlLength, `is longer than ${maxUrlLength} characters`)
    .superRefine((value, ctx) => {
      const reason = urlProblem(value);
      if (reason) ctx.addIssue({ code: "custom", message: reason });
    });
}

function urlProblem(value: string): string | undefined {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return "is not a valid absolute URL";
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    return `scheme ${u.protocol.replace(/:$/, "")} is not allowed (http or https only)`;
  if (u.hostname === "") return "has no host";
  if (u.username !== "" || u.password !== "") return "must not carry credentials";
  return undefined;
}

export function createJobBodySchema(limits: SchemaLimits) {
  return z.strictObject({
    url: httpUrlSchema(limits.maxUrlLength),
    ...generateOptionsShape(limits.maxPagesLimit),
  });
}

export const LIST_DEFAULT_LIMIT = 20;
export const LIST_MAX_LIMIT = 100;

export function listJobsQuerySchema(limits: SchemaLimits) {
  return z.strictObject({
    status: z.enum(JOB_STATUSES).optional(),
    url: httpUrlSchema(limits.maxUrlLength).optional(),
    // An opaque token from a previous page's `nextCursor`; its content is checked where it is read.
    cursor: z.string().min(1).max(200).optional(),
    limit: z.coerce.number().int().min(1).max(LIST_MAX_LIMIT).default(LIST_DEFAULT_LIMIT),
  });
}

export function resultsQuerySchema(limits: SchemaLimits) {
  return z.strictObject({ url: httpUrlSchema(limits.maxUrlLength) });
}

/** Job ids are BullMQ ids: short, no path tricks. Anything else is a 404, not a Redis lookup. */
export const jobIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9:_-]+$/, "is not a job id");
