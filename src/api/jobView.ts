/**
 * How a BullMQ job looks to an API client: the old service's status words, ISO times, links to
 * its files. One function builds the view so GET /api/jobs/:id, the list and the event stream
 * can't disagree about what "running" means.
 */
import type { Job, JobState } from "bullmq";
import type { ErrorCode } from "../lib/errors";
import { readFailure } from "../queues/failure";
import type { JobStatus } from "./schemas";

export interface JobLinks {
  self: string;
  events: string;
  llmsTxt: string;
  llmsFullTxt: string;
}

export interface JobProgressView {
  phase: string | null;
  pagesDone: number;
  pagesTotal: number;
}

export interface JobView {
  id: string;
  url: string;
  siteKey: string;
  status: JobStatus;
  progress: JobProgressView;
  /** Attempts that ran (failed retries included); `maxAttempts` is the budget. */
  attempts: number;
  maxAttempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** The last attempt's error: a failed job's reason, or why a queued retry is waiting. */
  error: { code: ErrorCode | null; message: string } | null;
  /** job.returnvalue of a successful job (a summary; the files are behind links). */
  result: unknown;
  links: JobLinks;
}

/** Where a site's files are served; the site key already holds host[:port] and any path prefix. */
export function siteFileLinks(siteKey: string): Pick<JobLinks, "llmsTxt" | "llmsFullTxt"> {
  return { llmsTxt: `/sites/${siteKey}/llms.txt`, llmsFullTxt: `/sites/${siteKey}/llms-full.txt` };
}

export function jobLinks(id: string, siteKey: string): JobLinks {
  const self = `/api/jobs/${encodeURIComponent(id)}`;
  return { self, events: `${self}/events`, ...siteFileLinks(siteKey) };
}

/**
 * BullMQ state → the old service's words. An active job is "started" until its first progress
 * report (the worker has it but has not crawled a page yet), then "running".
 */
export function mapStatus(state: JobState | "unknown", progress: unknown): JobStatus {
  switch (state) {
    case "completed":
      return "success";
    case "failed":
      return "failure";
    case "active":
      return hasProgress(progress) ? "running" : "started";
    default:
      // waiting, delayed (a retry backing off), prioritized, waiting-children, and "unknown"
      // (the job moved between two reads) all mean "not being worked on right now".
      return "queued";
  }
}

function hasProgress(progress: unknown): boolean {
  return typeof progress === "object" && progress !== null;
}

export function progressView(progress: unknown): JobProgressView {
  if (typeof progress !== "object" || progress === null) return { phase: null, pagesDone: 0, pagesTotal: 0 };
  const p = progress as Record<string, unknown>;
  return {
    phase: typeof p.phase === "string" ? p.phase : null,
    pagesDone: typeof p.pagesDone === "number" ? p.pagesDone : 0,
    pagesTotal: typeof p.pagesTotal === "number" ? p.pagesTotal : 0,
  };
}

/** The fields of job.data the view reads; the payload was parsed when it was added. */
function dataOf(job: Job): { url: string; siteKey: string } {
  const d: unknown = job.data;
  const o = typeof d === "object" && d !== null ? (d as Record<string, unknown>) : {};
  return { url: typeof o.url === "string" ? o.url : "", siteKey: typeof o.siteKey === "string" ? o.siteKey : "" };
}

export function jobView(job: Job, state: JobState | "unknown"): JobView {
  const id = job.id ?? "";
  const { url, siteKey } = dataOf(job);
  const status = mapStatus(state, job.progress);
  return {
    id,
    url,
    siteKey,
    status,
    progress: progressView(job.progress),
    attempts: job.attemptsMade,
    maxAttempts: job.opts.attempts ?? 1,
    createdAt: new Date(job.timestamp).toISOString(),
    startedAt: job.processedOn ? new Date(job.processedOn).toISOString() : null,
    finishedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    error: job.failedReason ? readFailure(job.failedReason) : null,
    result: status === "success" ? (job.returnvalue ?? null) : null,
    links: jobLinks(id, siteKey),
  };
}

export function isFinal(status: JobStatus): boolean {
  return status === "success" || status === "failure";
}
