/**
 * GET /api/jobs: newest first, filtered by status and site, with a cursor that stays stable while
 * jobs move between states.
 *
 * Why not BullMQ's getJobs(types, start, end)? Its offsets index each state's list separately and
 * shift whenever a job moves (waiting → active → completed), so page 2 would repeat or skip jobs.
 * Instead every page orders the candidate ids by (createdAt, id), both fixed for a job's life, and
 * the cursor is the last (createdAt, id) returned: the next page starts strictly after it, wherever
 * the jobs have moved meanwhile. The cost is one HMGET per candidate job (pipelined); retention
 * (JOB_RETENTION_COUNT per state) bounds the candidates.
 */
import type { Job, JobState, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { InputError } from "../lib/errors";
import { type JobView, jobView } from "./jobView";
import type { JobStatus } from "./schemas";

export interface ListJobsInput {
  status?: JobStatus;
  /** Only jobs of this site (resolveSite(url).key). */
  siteKey?: string;
  cursor?: string;
  limit: number;
}

export interface ListJobsPage {
  jobs: JobView[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

type ListedState = Exclude<JobState, "unknown">;

const STATES_OF: Record<JobStatus, ListedState[]> = {
  queued: ["waiting", "delayed", "prioritized", "waiting-children"],
  started: ["active"],
  running: ["active"],
  success: ["completed"],
  failure: ["failed"],
};
const ALL_STATES: ListedState[] = [
  "active",
  "waiting",
  "delayed",
  "prioritized",
  "waiting-children",
  "completed",
  "failed",
];

interface Candidate {
  id: string;
  createdAt: number;
  state: ListedState;
  queue: JobReader;
}

// Jobs are read in batches of this many while filling a page (started/running filter drops some).
const LOAD_BATCH = 50;

/** What the listing needs of a queue; any Queue<Data, Result, Name> has it. */
export interface JobReader {
  getRanges: Queue["getRanges"];
  toKey(id: string): string;
  getJob(id: string): Promise<Job | undefined>;
}

/** Lists the jobs of every given queue (one-off and scheduled runs) as one list. */
export async function listJobs(queues: JobReader[], redis: Redis, input: ListJobsInput): Promise<ListJobsPage> {
  const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor);
  const candidates = (await Promise.all(queues.map((q) => readCandidates(q, redis, input))))
    .flat()
    .filter((c) => after === undefined || isAfter(c, after))
    .sort(compare);
  const jobs: JobView[] = [];
  let lastTaken: Candidate | undefined;
  let i = 0;
  while (i < candidates.length && jobs.length < input.limit) {
    const batch = candidates.slice(i, i + Math.max(LOAD_BATCH, input.limit - jobs.length));
    const loaded = await Promise.all(batch.map((c) => c.queue.getJob(c.id)));
    for (let k = 0; k < batch.length; k++) {
      const c = batch[k] as Candidate;
      i++;
      const job = loaded[k];
      if (!job) continue; // removed (retention, DELETE) since we read its id
      const view = jobView(job, c.state);
      // started vs running is decided by progress, which only the loaded job knows.
      if (input.status !== undefined && view.status !== input.status) continue;
      jobs.push(view);
      lastTaken = c;
      if (jobs.length === input.limit) break;
    }
  }
  const more = i < candidates.length;
  return { jobs, nextCursor: more && lastTaken ? encodeCursor(lastTaken) : null };
}

async function readCandidates(queue: JobReader, redis: Redis, input: ListJobsInput): Promise<Candidate[]> {
  const states = input.status ? STATES_OF[input.status] : ALL_STATES;
  const seen = new Map<string, ListedState>();
  for (const state of states) {
    // One state at a time, so each id is tagged with the set it was found in.
    for (const id of await queue.getRanges([state], 0, -1)) if (!seen.has(id)) seen.set(id, state);
  }
  if (seen.size === 0) return [];
  const ids = [...seen.keys()];
  const fields = input.siteKey === undefined ? ["timestamp"] : ["timestamp", "data"];
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hmget(queue.toKey(id), ...fields);
  const rows = (await pipeline.exec()) ?? [];
  const out: Candidate[] = [];
  ids.forEach((id, n) => {
    const [err, value] = rows[n] ?? [null, null];
    if (err || !Array.isArray(value)) return;
    const [ts, data] = value as Array<string | null>;
    if (ts === null || ts === undefined) return; // the hash is gone: removed meanwhile
    if (input.siteKey !== undefined && siteKeyOf(data ?? null) !== input.siteKey) return;
    out.push({ id, createdAt: Number(ts), state: seen.get(id) as ListedState, queue });
  });
  return out;
}

function siteKeyOf(data: string | null): string | undefined {
  if (data === null) return undefined;
  try {
    const parsed: unknown = JSON.parse(data);
    if (typeof parsed === "object" && parsed !== null && "siteKey" in parsed && typeof parsed.siteKey === "string")
      return parsed.siteKey;
  } catch {
    // a payload that isn't JSON belongs to no site
  }
  return undefined;
}

/** Newest first; ties (same millisecond) broken by id so the order is total. */
function compare(a: Pick<Candidate, "createdAt" | "id">, b: Pick<Candidate, "createdAt" | "id">): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

function isAfter(c: Candidate, cursor: { createdAt: number; id: string }): boolean {
  return compare(c, cursor) > 0;
}

export function encodeCursor(c: Pick<Candidate, "createdAt" | "id">): string {
  return Buffer.from(`${c.createdAt}.${c.id}`, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): { createdAt: number; id: string } {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const dot = text.indexOf(".");
  const createdAt = Number(text.slice(0, dot));
  const id = text.slice(dot + 1);
  if (dot <= 0 || !Number.isSafeInteger(createdAt) || id === "")
    throw new InputError("cursor: not a cursor from a previous page");
  return { createdAt, id };
}
