/*
 * site:     an origin (plus optional path prefix) whose llms.txt we keep; named by its site key
 *           ("docs.example.com", "127.0.0.1:8080", "example.com/docs")
 * page:     one fetched URL of a site, with its extracted markdown
 * job:      one request to (re)generate a site's files, held by BullMQ
 * attempt:  one try at a job; failed attempts back off (60 s doubling, capped at 1 h) and retry
 * in flight: a job that is waiting, delayed or active; at most one per site (de-duplication)
 * version:  one stored result of a site; the latest is served, earlier ones kept up to a cap
 * schedule: a BullMQ job scheduler that adds a generate job every interval, on the schedule queue
 * notification: a POST to a website's webhookUrl saying a run made a new version (notify queue)
 * scheduled run: a generate job made by a schedule; it runs on worker slots of its own
 *           (SCHEDULE_CONCURRENCY), so one-off work queued on the generate queue can't starve it
 *
 * The job catalog below is the single source of truth: enqueue(), the worker's handler map and
 * Bull Board are all built from it, so a queue, its payload and its options can't drift apart.
 */
import { z } from "zod";
import type { JobsOptions } from "bullmq";
import type { Config } from "../config/env";
import { generateOptionsShape } from "./generateOptions";
import type { Phase, ProviderName, QualityReport, Timings, TokenUsage } from "../pipeline/types";

/**
 * Every queue ltx uses. "maintenance" holds the periodic tasks (scheduler/maintenance.ts): its
 * jobs come only from its own job schedulers and its worker runs in the scheduler part of a
 * process, so it has no jobCatalog entry; it is listed for Bull Board, metrics and health.
 *
 * "schedule" holds the websites' job schedulers and so their scheduled runs: generate jobs like
 * those of the "generate" queue, served by the same handler. Its own queue because BullMQ adds a
 * scheduler's next job only when a worker takes the current one, and serves a queue first in,
 * first out: on the shared queue, ticks waited behind every one-off job and were skipped. A
 * separate Worker with SCHEDULE_CONCURRENCY slots takes them as they fall due.
 */
export const QUEUE_NAMES = ["generate", "schedule", "notify", "maintenance"] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** The queue of the websites' schedulers and their runs. */
export const SCHEDULE_QUEUE = "schedule" satisfies QueueName;

/** Why a generate job exists: shown in Bull Board and the API, used by schedules. */
export const TRIGGERS = ["api", "schedule", "refresh", "retry"] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** The payload of a generate job, as stored in Redis. Parsed on add and again on process. */
export const GenerateJobData = z.object({
  /** The normalised start URL (normalizeUrl). */
  url: z.url({ protocol: /^https?$/ }).max(4096),
  /** Where the result is stored and served (resolveSite(url).key). */
  siteKey: z.string().min(1).max(4096),
  ...generateOptionsShape(),
  /** Set when a registered website owns this job. */
  websiteId: z.string().min(1).max(200).optional(),
  trigger: z.enum(TRIGGERS),
  /** Who submitted a one-off job ("token:<id>", "session:<hash>", "ip:<address>"): its fair share (clientShare.ts). */
  client: z.string().min(1).max(200).optional(),
  /** Set by a website's scheduler while the site backs off after failed runs (visible in Bull Board). */
  backoff: z.object({ consecutiveFailures: z.number().int().min(0), everyMs: z.number().int().positive() }).optional(),
});
export type GenerateJobData = z.infer<typeof GenerateJobData>;

/** The payload of a notify job: which version of which website to announce (the rest is read at delivery). */
export const NotifyJobData = z.object({
  websiteId: z.string().min(1).max(200),
  siteKey: z.string().min(1).max(4096),
  version: z.number().int().positive(),
});
export type NotifyJobData = z.infer<typeof NotifyJobData>;

/** job.returnvalue of a notify job. */
export interface NotifyJobResult {
  /** The receiver's HTTP status; undefined when nothing was sent. */
  status?: number;
  /** Why nothing was sent (the website is gone or has no webhookUrl any more). */
  skipped?: string;
}

/** job.progress of a generate job. "store" is the worker's own last step after the pipeline. */
export interface GenerateProgress {
  phase: Phase | "store";
  /** Pages finished (extracted or skipped) so far: what a progress bar shows against pagesTotal. */
  pagesDone: number;
  pagesTotal: number;
  pagesDiscovered: number;
  pagesFetched: number;
  pagesExtracted: number;
}

/** job.returnvalue of a generate job: a summary, never the files (those live in the store). */
export interface GenerateJobResult {
  siteKey: string;
  url: string;
  /** The stored version the files now are (unchanged runs report the version they kept). */
  version: number;
  unchanged: boolean;
  pagesIncluded: number;
  pagesSkipped: number;
  provider: ProviderName;
  model: string | null;
  fallback: boolean;
  usage: TokenUsage;
  warnings: string[];
  /** The checker's warnings and score of the llms.txt the site now has. */
  quality?: QualityReport;
  timings: Timings;
  generatedAt: string;
  /** A scheduled run that did nothing, and why (its website was disabled, or a job for the site was in flight). */
  skipped?: string;
}

/** The slice of Config that shapes default job options. */
export type JobsConfig = Config["jobs"];

/** The custom back-off type name; the worker's settings.backoffStrategy implements it (backoff.ts). */
export const CAPPED_BACKOFF = "capped";

const SECONDS_PER_DAY = 24 * 3600;

/** Retention of finished jobs: BullMQ evaluates it whenever another job finishes. */
export function retention(jobs: JobsConfig): { age: number; count: number } {
  // KeepJobs.age is in seconds, not milliseconds.
  return { age: Math.round(jobs.retentionDays * SECONDS_PER_DAY), count: jobs.retentionCount };
}

export interface CatalogEntry {
  queue: QueueName;
  schema: z.ZodType;
  defaults: (jobs: JobsConfig) => JobsOptions;
}

export const jobCatalog = {
  generate: {
    queue: "generate",
    schema: GenerateJobData,
    // 60 s doubling, capped at 1 h by the worker's backoffStrategy (BullMQ's "exponential" has no
    // cap). Errors that can't get better fail at once (UnrecoverableError in the processor)
    // instead of spending these attempts. Failed jobs stay inspectable until retention.
    defaults: (jobs) => ({
      attempts: jobs.maxAttempts,
      backoff: { type: CAPPED_BACKOFF },
      removeOnComplete: retention(jobs),
      removeOnFail: retention(jobs),
    }),
  },
  notify: {
    queue: "notify",
    schema: NotifyJobData,
    // The receiver may be down for a while: the same capped back-off as generate jobs, then failed
    // for good (kept for Bull Board until retention).
    defaults: (jobs) => ({
      attempts: jobs.maxAttempts,
      backoff: { type: CAPPED_BACKOFF },
      removeOnComplete: retention(jobs),
      removeOnFail: retention(jobs),
    }),
  },
} satisfies Record<string, CatalogEntry>;

export type JobName = keyof typeof jobCatalog;

/** The parsed payload of each job name. */
export type JobData<K extends JobName> = z.infer<(typeof jobCatalog)[K]["schema"]>;

/** The return value of each job name; a new job name without an entry here won't compile. */
export interface JobResults {
  generate: GenerateJobResult;
  notify: NotifyJobResult;
}
export type JobResult<K extends JobName> = JobResults[K];
