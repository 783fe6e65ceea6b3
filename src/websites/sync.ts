/*
 * One BullMQ job scheduler per schedulable website, keyed by the website's id, on the schedule
 * queue (queues/catalog.ts says why scheduled runs don't share the generate queue). Every function
 * here takes that queue. The scheduler lives in Redis, so any number of API/worker processes can run: BullMQ makes
 * each due run one job, and a worker adds the next iteration when it takes the current one.
 *
 * A website is schedulable when it is enabled and not paused by failures. Its scheduler runs
 * `every` ms or on a cron pattern, or every `backoffEveryMs` while a failing site backs off.
 * syncWebsiteSchedule compares before it writes: re-syncing an unchanged website (at every
 * process start, in the consistency check) leaves its next run where it was, so restarts never
 * add or move runs.
 */
import type { JobSchedulerJson, Queue } from "bullmq";
import type { GenerateJobData } from "../queues/catalog";
import { compactOptions } from "../queues/generateOptions";
import type { GenerateQueue } from "../queues/queues";
import type { Website, WebsiteStore } from "../store/websites";
import type { Logger } from "../lib/logger";
import { coerceError } from "../lib/coerceError";
import { nominalIntervalMs } from "./schedule";

export type RepeatSpec = { every: number } | { pattern: string; tz?: string };

/** What the scheduler of a website should be, or undefined when it should have none. */
export function desiredRepeat(w: Website): RepeatSpec | undefined {
  if (!w.enabled || w.pausedReason) return undefined;
  if (w.backoffEveryMs !== undefined) return { every: w.backoffEveryMs };
  return w.schedule;
}

/** The job template of a website's scheduler: a generate job that says who owns it. */
export function scheduledJobData(w: Website): GenerateJobData {
  return {
    url: w.url,
    siteKey: w.siteKey,
    websiteId: w.id,
    trigger: "schedule",
    ...compactOptions(w.options),
    // Shown in Bull Board on every scheduled job of a site that is backing off.
    ...(w.backoffEveryMs !== undefined
      ? { backoff: { consecutiveFailures: w.consecutiveFailures, everyMs: w.backoffEveryMs } }
      : {}),
  };
}

export type SyncAction = "created" | "updated" | "removed" | "unchanged";

export interface SyncOptions {
  /** When the next run should be (epoch ms) if the scheduler is (re)written. Default: see below. */
  nextRunAt?: number;
  /** Write even when nothing differs (resets the next run to nextRunAt). */
  force?: boolean;
}

/**
 * Makes the website's scheduler match the record. The next run of a rewritten scheduler:
 * opts.nextRunAt, else for a new scheduler the website's firstRunAt (now for one registered by
 * hand, spread for imports), else the earlier of the current next run and now + interval.
 */
export async function syncWebsiteSchedule(
  queue: GenerateQueue,
  w: Website,
  opts: SyncOptions = {},
): Promise<SyncAction> {
  const want = desiredRepeat(w);
  const have = await queue.getJobScheduler(w.id);
  if (!want) {
    if (!have) return "unchanged";
    await removeWebsiteSchedule(queue, w.id);
    return "removed";
  }
  const data = scheduledJobData(w);
  if (have && !opts.force && sameRepeat(have, want) && sameData(have.template?.data, data)) return "unchanged";

  const now = Date.now();
  let next = opts.nextRunAt;
  if (next === undefined) {
    next = have?.next ? Math.min(have.next, now + nominalIntervalMs(want, now)) : Math.max(w.firstRunAt, now);
  }
  next = Math.max(next, now);
  // `every`: the first run is at startDate, later ones every ms after it. A cron pattern fires at
  // its own times; `immediately` makes a new site's first run now instead of at the next firing.
  const repeat =
    "every" in want
      ? { every: want.every, startDate: next }
      : have === undefined && next <= now + 1000
        ? { pattern: want.pattern, ...(want.tz ? { tz: want.tz } : {}), immediately: true }
        : { pattern: want.pattern, ...(want.tz ? { tz: want.tz } : {}), startDate: next };
  // With an unchanged `every`, BullMQ keeps a scheduler's next run whatever startDate says; a
  // forced new time (back-off reset, manual refresh) needs the old scheduler gone first.
  if (have && opts.force && opts.nextRunAt !== undefined && "every" in want && have.every === want.every)
    await removeWebsiteSchedule(queue, w.id);
  // bullmq types the scheduler id as the job-name type; ours are website ids.
  const anyNameQueue = queue as unknown as Queue<GenerateJobData, unknown, string>;
  await anyNameQueue.upsertJobScheduler(w.id, repeat, { name: "generate", data });
  return have ? "updated" : "created";
}

/** Removes the scheduler and its next job, also when that job was already moved to waiting. */
export async function removeWebsiteSchedule(queue: GenerateQueue, id: string): Promise<boolean> {
  const have = await queue.getJobScheduler(id);
  const removed = await queue.removeJobScheduler(id);
  // removeJobScheduler only deletes the next job while it is delayed; one already promoted to
  // waiting would still run. (The processor also skips runs of disabled or deleted websites.)
  if (have?.next !== undefined) {
    const job = await queue.getJob(`repeat:${id}:${have.next}`);
    if (job && (await job.isWaiting())) await job.remove().catch(() => undefined);
  }
  return removed;
}

/** The next run of a website's scheduler (epoch ms), or undefined. */
export async function nextRunAt(queue: GenerateQueue, id: string): Promise<number | undefined> {
  const s = await queue.getJobScheduler(id);
  return s?.next ?? undefined;
}

function sameRepeat(have: JobSchedulerJson, want: RepeatSpec): boolean {
  if ("every" in want) return have.every === want.every && !have.pattern;
  return have.pattern === want.pattern && (have.tz ?? undefined) === (want.tz ?? undefined) && !have.every;
}

function sameData(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

function stableJson(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "undefined";
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
    .join(",")}}`;
}

export interface ConsistencyReport {
  websites: number;
  schedulers: number;
  /** Schedulable websites that had no scheduler: created. */
  missing: string[];
  /** Schedulers whose interval or job template differed from the record: rewritten. */
  mismatched: string[];
  /** Schedulers of disabled, paused or deleted websites: removed. */
  orphaned: string[];
  repaired: number;
  errors: string[];
  durationMs: number;
}

/** Shown ids per list in a report; the counts are complete. */
const REPORT_IDS = 100;

/**
 * Every schedulable website has exactly its scheduler, and every scheduler on the schedule queue
 * belongs to a schedulable website. Repairs what differs and reports it. Safe to run from several
 * processes at once: every repair is an idempotent upsert or remove by website id.
 */
export async function checkConsistency(deps: {
  /** The schedule queue. */
  queue: GenerateQueue;
  websites: WebsiteStore;
  /**
   * The generate queue: schedulers made there before scheduled runs had their own queue are
   * removed (the loop above has made their replacements on the schedule queue), so an upgraded
   * site doesn't tick twice.
   */
  legacy?: GenerateQueue;
  logger?: Logger;
}): Promise<ConsistencyReport> {
  const started = Date.now();
  const report: ConsistencyReport = {
    websites: 0,
    schedulers: 0,
    missing: [],
    mismatched: [],
    orphaned: [],
    repaired: 0,
    errors: [],
    durationMs: 0,
  };
  const counts = { missing: 0, mismatched: 0, orphaned: 0 };
  const note = (list: "missing" | "mismatched" | "orphaned", id: string): void => {
    counts[list]++;
    if (report[list].length < REPORT_IDS) report[list].push(id);
  };

  for await (const ids of deps.websites.scanIds(500)) {
    const sites = await deps.websites.getMany(ids);
    await Promise.all(
      sites.map(async (w) => {
        if (!w) return;
        report.websites++;
        try {
          const action = await syncWebsiteSchedule(deps.queue, w);
          if (action === "created") note("missing", w.id);
          else if (action === "updated") note("mismatched", w.id);
          else if (action === "removed") note("orphaned", w.id);
          if (action !== "unchanged") report.repaired++;
        } catch (e) {
          report.errors.push(`${w.id}: ${coerceError(e).message}`);
        }
      }),
    );
  }

  // Schedulers without a website (deleted while a process was down, or a half-finished delete).
  const pageSize = 1000;
  for (let start = 0; ; start += pageSize) {
    const page = await deps.queue.getJobSchedulers(start, start + pageSize - 1, true);
    report.schedulers += page.length;
    const ids = page.map((s) => s.key);
    const exists = await deps.websites.exists(ids);
    const gone = ids.filter((_, i) => !exists[i]);
    for (const id of gone) {
      try {
        await removeWebsiteSchedule(deps.queue, id);
        note("orphaned", id);
        report.repaired++;
      } catch (e) {
        report.errors.push(`${id}: ${coerceError(e).message}`);
      }
    }
    if (page.length < pageSize) break;
    start -= gone.length; // removed entries shift the next page forward
  }
  if (deps.legacy) {
    for (;;) {
      const page = await deps.legacy.getJobSchedulers(0, 999, true);
      for (const s of page) {
        try {
          await removeWebsiteSchedule(deps.legacy, s.key);
          report.repaired++;
        } catch (e) {
          report.errors.push(`${s.key}: ${coerceError(e).message}`);
        }
      }
      if (page.length < 1000 || report.errors.length > 0) break;
    }
  }
  report.schedulers = await deps.queue.getJobSchedulersCount();
  report.durationMs = Date.now() - started;
  const level = report.repaired > 0 || report.errors.length > 0 ? "warn" : "info";
  deps.logger?.[level](
    {
      ...counts,
      websites: report.websites,
      schedulers: report.schedulers,
      errors: report.errors.length,
      ms: report.durationMs,
    },
    "schedule consistency check",
  );
  return report;
}
