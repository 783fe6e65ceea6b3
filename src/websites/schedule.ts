/*
 * A website's schedule: either a fixed interval (`every`, ms) or a cron pattern with an optional
 * time zone. This module parses what users type ("30s", "6h", 3600, "0 3 * * *") and computes the
 * stretched interval of a site that keeps failing. Pure: no Redis, no BullMQ queue.
 */
import { getNextMillis } from "bullmq";
import { coerceError } from "../lib/coerceError";
import { InputError } from "../lib/errors";
import { DAY, SECOND, parseDuration } from "../lib/time";
import type { Schedule } from "../store/websiteRecord";

export type { Schedule };

export interface ScheduleInput {
  /** "30s", "15m", "6h", "1d", or a number of seconds; from 1 s to 366 days. */
  every?: string | number | undefined;
  /** A cron pattern, 5 fields (or 6 with seconds first). */
  cron?: string | undefined;
  /** IANA time zone for the cron pattern. */
  tz?: string | undefined;
}

export interface BackoffSettings {
  /** FAILURE_BACKOFF_AFTER: consecutive failed runs before the interval stretches. */
  backoffAfter: number;
}

/** The longest a stretched interval gets: 16× the base, and never more than 7 days unless the base already is. */
export const BACKOFF_MAX_FACTOR = 16;
export const BACKOFF_MAX_MS = 7 * DAY;
/** The longest interval a website may be regenerated at: a year (a leap one). */
export const MAX_EVERY_MS = 366 * DAY;

/** Parses user input into a Schedule; neither every nor cron → the default interval. Throws InputError. */
export function parseSchedule(input: ScheduleInput, defaultEveryMs: number): Schedule {
  if (input.every !== undefined && input.cron !== undefined)
    throw new InputError("give either every or cron, not both");
  if (input.cron !== undefined) {
    const pattern = input.cron.trim();
    const tz = input.tz?.trim() || undefined;
    if (tz !== undefined) checkTimeZone(tz);
    try {
      const next = getNextMillis(Date.now(), { pattern, tz });
      if (next === undefined) throw new Error("the pattern never fires");
    } catch (e) {
      throw new InputError(`invalid cron pattern ${JSON.stringify(pattern)}: ${coerceError(e).message}`);
    }
    if (nominalIntervalMs({ pattern, tz }) < SECOND)
      throw new InputError("a cron pattern may fire at most once a second");
    return tz === undefined ? { pattern } : { pattern, tz };
  }
  if (input.tz !== undefined) throw new InputError("tz only applies to a cron pattern");
  if (input.every === undefined) return { every: defaultEveryMs };
  const ms = parseDuration(input.every);
  // A finite upper bound: BullMQ keeps `every` as a number in the scheduler's hash, and an
  // interval that overflows to Infinity would be stored as "inf" and break the next update.
  if (ms === undefined || !Number.isFinite(ms) || ms < SECOND || ms > MAX_EVERY_MS) {
    throw new InputError(
      `invalid every ${JSON.stringify(input.every)}: expected "30s", "15m", "6h", "1d" or a number of seconds, from 1 s to 366 days`,
    );
  }
  return { every: ms };
}

function checkTimeZone(tz: string): void {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
  } catch {
    throw new InputError(`unknown time zone ${JSON.stringify(tz)}`);
  }
}

/** The gap between two runs: `every`, or for a cron pattern the gap between its next two firings. */
export function nominalIntervalMs(s: Schedule, now = Date.now()): number {
  if ("every" in s) return s.every;
  const first = getNextMillis(now, { pattern: s.pattern, tz: s.tz }) ?? now;
  const second = getNextMillis(first, { pattern: s.pattern, tz: s.tz }) ?? first + DAY;
  return Math.max(second - first, SECOND);
}

/**
 * The interval of a site after `failures` consecutive failed runs, or undefined while the normal
 * schedule applies. From the K-th failure on it doubles per failure (2×, 4×, …), capped at
 * min(16× base, max(base, 7 d)): a broken site is still looked at, but rarely.
 */
export function backoffIntervalMs(
  s: Schedule,
  failures: number,
  settings: BackoffSettings,
  now = Date.now(),
): number | undefined {
  if (failures < settings.backoffAfter) return undefined;
  const base = nominalIntervalMs(s, now);
  const cap = Math.min(base * BACKOFF_MAX_FACTOR, Math.max(base, BACKOFF_MAX_MS));
  const exponent = Math.min(failures - settings.backoffAfter + 1, 30);
  return Math.min(base * 2 ** exponent, cap);
}

/** "every 6h" / "cron 0 3 * * * (Europe/Berlin)": for tables and logs. */
export function describeSchedule(s: Schedule): string {
  if ("every" in s) return `every ${formatDuration(s.every)}`;
  return s.tz ? `cron ${s.pattern} (${s.tz})` : `cron ${s.pattern}`;
}

export function formatDuration(ms: number): string {
  const units: [string, number][] = [
    ["d", DAY],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", SECOND],
  ];
  for (const [unit, size] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
