/**
 * Adds generate jobs. The only way a job enters a queue: the API, `POST …/refresh`, schedules
 * (their job template is built by generateJobData) and retries all come through here, so every
 * job is parsed, normalised and de-duplicated the same way.
 *
 * De-duplication is BullMQ's own: `deduplication: { id }` makes addJob's Lua script SET the key
 * `<prefix>:generate:de:<id>` NX to the new job's id, atomically with the add; while the key
 * exists (the job is waiting, delayed or active, retries included) a later add returns the id
 * of the job already in flight instead of creating one. The key is deleted when that job
 * completes or finally fails, so the next submission makes a new job. A read-then-add here
 * would race; the script can't.
 *
 * Scheduled runs live on the schedule queue, whose de-duplication keys are its own. A scheduled run
 * claims the site on the schedule queue only after checking the generate queue (outcomes.ts), and
 * enqueueGenerate checks the schedule queue after its add: whichever of the two writes second
 * sees the first (each write is atomic in Redis), so a site still never has two jobs in flight. An add that finds a scheduled run
 * joins it, as it would join a one-off job.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Job, JobsOptions } from "bullmq";
import { InputError, LtxError, TooManyQueuedError } from "../lib/errors";
import { resolveSite } from "../pipeline/site";
import { GenerateJobData, TRIGGERS, type GenerateJobResult } from "./catalog";
import type { ClientShare } from "./clientShare";
import type { GenerateQueue, Queues } from "./queues";

/** What a caller may ask for: a GenerateJobData before normalisation (no siteKey yet). */
export const GenerateRequest = GenerateJobData.pick({
  maxPages: true,
  maxDepth: true,
  include: true,
  exclude: true,
  provider: true,
  model: true,
  websiteId: true,
}).extend({
  // Any string here: normalising it (and refusing what isn't a URL) is enqueue's job.
  url: z.string().min(1).max(4096),
  trigger: z.enum(TRIGGERS).default("api"),
});
export type GenerateRequest = z.input<typeof GenerateRequest>;

export type GenerateJob = Job<GenerateJobData, GenerateJobResult, "generate">;

export interface EnqueueOptions {
  /** maxPages above this is an InputError (MAX_PAGES_LIMIT). */
  maxPagesLimit?: number;
  /** Extra BullMQ options for this add (delay). jobId, deduplication and priority are ours. */
  jobOptions?: Omit<JobsOptions, "jobId" | "deduplication" | "priority">;
  /**
   * The submitting client: its job is prioritised by its count of jobs in flight (fair share), and
   * refused with TooManyQueuedError when it has maxQueued already. Without one the job gets the
   * priority of a client's first job.
   */
  client?: { id: string; maxQueued: number; share: ClientShare };
}

export interface EnqueueResult {
  /** The job in flight for this site: the new one, or the one that was already there. */
  job: GenerateJob;
  /** true when no job was added because one was already in flight for the site. */
  deduplicated: boolean;
}

/** The de-duplication id of a site: one job in flight per site key (= per stored file set). */
export function dedupIdOf(siteKey: string): string {
  return `site:${siteKey}`;
}

/** Parses and normalises a request into the job payload: InputError/InvalidUrlError on bad input. */
export function generateJobData(input: unknown, opts: Pick<EnqueueOptions, "maxPagesLimit"> = {}): GenerateJobData {
  const parsed = GenerateRequest.safeParse(input);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
    throw new InputError(`invalid generate request: ${detail}`);
  }
  const req = parsed.data;
  if (opts.maxPagesLimit !== undefined && req.maxPages !== undefined && req.maxPages > opts.maxPagesLimit) {
    throw new InputError(`maxPages ${req.maxPages} is above the limit of ${opts.maxPagesLimit}`);
  }
  const site = resolveSite(req.url); // throws InvalidUrlError
  const data: GenerateJobData = { ...req, url: site.startUrl, siteKey: site.key };
  // Parse the result too: catches a normaliser that yields something the worker would reject.
  const checked = GenerateJobData.safeParse(data);
  if (!checked.success)
    throw new InputError(`invalid generate request: ${checked.error.issues[0]?.message ?? "rejected"}`);
  return checked.data;
}

/** How often to re-add when the in-flight job finished between our add and our read. */
const ADD_TRIES = 3;

export async function enqueueGenerate(
  queues: Pick<Queues, "generate" | "schedule">,
  input: unknown,
  opts: EnqueueOptions = {},
): Promise<EnqueueResult> {
  const data = generateJobData(input, opts);
  const queue = queues.generate;
  // Before the add as well as after it: an idle worker takes a new job within milliseconds, and a
  // job already taken can't be withdrawn, so the check after the add only covers the instant
  // between this one and the add.
  const scheduled = await scheduledRunInFlight(queues.schedule, data.siteKey);
  if (scheduled) return { job: scheduled, deduplicated: true };
  const client = opts.client;
  for (let i = 0; i < ADD_TRIES; i++) {
    // Our own id, so we can tell: addJob returns the in-flight job's id instead when it
    // de-duplicated, and the Job object it hands back then carries *our* data, not that job's.
    const jobId = randomUUID();
    const priority = client ? await reserve(queue, data, client, jobId) : 1;
    if (typeof priority !== "number") return priority;
    const added = await queue.add("generate", client ? { ...data, client: client.id } : data, {
      ...opts.jobOptions,
      jobId,
      priority,
      deduplication: { id: dedupIdOf(data.siteKey) },
    });
    if (added.id === jobId) {
      const result = await joinScheduledRun(queues.schedule, added);
      if (result.job.id !== jobId) await client?.share.release(client.id, jobId);
      return result;
    }
    await client?.share.release(client.id, jobId); // nothing of ours was queued
    const existing = added.id === undefined ? undefined : await queue.getJob(added.id);
    if (existing) return { job: existing, deduplicated: true };
    // The in-flight job ended (and was removed) between the add and the read: add again.
  }
  throw new LtxError("UNAVAILABLE", `could not enqueue ${data.url}: the in-flight job kept disappearing`);
}

/**
 * The client's place for a new job: its priority (fair share), or, at MAX_QUEUED_PER_CLIENT, the
 * site's job in flight to join; else TooManyQueuedError.
 */
async function reserve(
  queue: GenerateQueue,
  data: GenerateJobData,
  client: NonNullable<EnqueueOptions["client"]>,
  jobId: string,
): Promise<number | EnqueueResult> {
  const priority = await client.share.reserve(client.id, jobId, client.maxQueued);
  if (priority !== undefined) return priority;
  const holder = await queue.getDeduplicationJobId(dedupIdOf(data.siteKey));
  const existing = holder ? await queue.getJob(holder) : undefined;
  if (existing && existing.finishedOn === undefined) return { job: existing, deduplicated: true };
  throw new TooManyQueuedError(
    `this client has ${client.maxQueued} jobs queued or running already (MAX_QUEUED_PER_CLIENT): wait for some to finish`,
  );
}

/**
 * A scheduled run may hold the site (it claims it on the schedule queue after checking ours):
 * then ours goes and theirs stays, exactly as if BullMQ had de-duplicated the add.
 * (If a worker took ours in that instant, it can't be removed and both run: a window of a few
 * milliseconds, logged by nobody; the next runs are de-duplicated again.)
 */
async function joinScheduledRun(schedule: GenerateQueue, added: GenerateJob): Promise<EnqueueResult> {
  const scheduled = await scheduledRunInFlight(schedule, added.data.siteKey);
  if (!scheduled) return { job: added, deduplicated: false };
  try {
    await added.remove();
    return { job: scheduled, deduplicated: true };
  } catch {
    return { job: added, deduplicated: false };
  }
}

/** The scheduled run holding a site, if it is still in flight (a holder that is gone or finished is stale). */
async function scheduledRunInFlight(schedule: GenerateQueue, siteKey: string): Promise<GenerateJob | undefined> {
  const id = await schedule.getDeduplicationJobId(dedupIdOf(siteKey));
  if (!id) return undefined;
  const job = await schedule.getJob(id);
  return job && job.finishedOn === undefined ? job : undefined;
}

/** The id of the job in flight for a site, or null (for the API's "is it running?" answers). */
export async function inFlightJobId(
  queues: Pick<Queues, "generate" | "schedule">,
  siteKey: string,
): Promise<string | null> {
  const oneOff = await queues.generate.getDeduplicationJobId(dedupIdOf(siteKey));
  return oneOff ?? (await scheduledRunInFlight(queues.schedule, siteKey))?.id ?? null;
}
