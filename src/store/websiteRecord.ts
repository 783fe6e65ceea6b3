/*
 * One website as stored: its types, its id (derived from the normalised URL), its derived status,
 * and the mapping to and from the fields of its Redis hash. Short field names keep the hash a
 * small listpack: url, key (site key), on (enabled), every | cron + tz, opts (JSON), created,
 * updated, first (first run), seq, job (last job JSON), okAt, changedAt, checkedAt, fails,
 * paused (reason), backoff (stretched interval), runToken (recordRun's idempotency key), delay
 * (how late the last scheduled run started, ms), hook + hookKey (webhookUrl and webhookSecret).
 */
import { createHash } from "node:crypto";
import type { GenerateOptions } from "../queues/generateOptions";

/** A fixed interval (ms) or a cron pattern with an optional IANA time zone (websites/schedule.ts parses them). */
export type Schedule = { every: number } | { pattern: string; tz?: string };

/** A website's generate options: the one schema's type (queues/generateOptions.ts). */
export type WebsiteOptions = GenerateOptions;

export type RunOutcome = "success" | "unchanged" | "failure";

export interface LastJob {
  id: string;
  status: "running" | RunOutcome;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
}

export type WebsiteStatus = "active" | "failing" | "backoff" | "paused" | "disabled";
export const WEBSITE_STATUSES: readonly WebsiteStatus[] = ["active", "failing", "backoff", "paused", "disabled"];

export interface Website {
  id: string;
  url: string;
  siteKey: string;
  schedule: Schedule;
  enabled: boolean;
  options: WebsiteOptions;
  createdAt: string;
  updatedAt: string;
  /** When the first scheduled run is due (epoch ms); imports spread these out. */
  firstRunAt: number;
  lastJob?: LastJob;
  lastSuccessAt?: string;
  lastChangedAt?: string;
  lastCheckedAt?: string;
  consecutiveFailures: number;
  /** How late the last scheduled run started after its tick fell due, ms. */
  lastRunDelayMs?: number;
  /** Set when repeated failures paused the schedule; `enabled` stays as the user left it. */
  pausedReason?: string;
  /** The stretched interval while backing off after repeated failures. */
  backoffEveryMs?: number;
  /** Where a new version is announced (POST, websites/webhook.ts). */
  webhookUrl?: string;
  /** Signs those POSTs (X-Ltx-Signature); never shown by the API. */
  webhookSecret?: string;
  seq: number;
}

export interface NewWebsite {
  url: string;
  siteKey: string;
  schedule: Schedule;
  enabled: boolean;
  options: WebsiteOptions;
  firstRunAt: number;
  webhookUrl?: string;
  webhookSecret?: string;
}

export function websiteStatus(
  w: Pick<Website, "enabled" | "pausedReason" | "backoffEveryMs" | "consecutiveFailures">,
): WebsiteStatus {
  if (!w.enabled) return "disabled";
  if (w.pausedReason) return "paused";
  if (w.backoffEveryMs !== undefined) return "backoff";
  if (w.consecutiveFailures > 0) return "failing";
  return "active";
}
/**
 * A website's id: 10 base-36 characters (~51 bits) of the sha256 of its normalised URL. Short in
 * keys and URLs, safe as a BullMQ scheduler id (no colons), and the same URL always maps to it.
 */
export function websiteIdOf(url: string): string {
  const n = createHash("sha256").update(url).digest().readBigUInt64BE() % 36n ** 10n;
  return n.toString(36).padStart(10, "0");
}

export function toRecordFields(w: NewWebsite & { createdAt: number }): string[] {
  const f = [
    "url",
    w.url,
    "key",
    w.siteKey,
    "on",
    w.enabled ? "1" : "0",
    "created",
    String(w.createdAt),
    "first",
    String(w.firstRunAt),
    "fails",
    "0",
  ];
  if ("every" in w.schedule) f.push("every", String(w.schedule.every));
  else {
    f.push("cron", w.schedule.pattern);
    if (w.schedule.tz) f.push("tz", w.schedule.tz);
  }
  if (Object.keys(w.options).length > 0) f.push("opts", JSON.stringify(w.options));
  if (w.webhookUrl !== undefined) f.push("hook", w.webhookUrl);
  if (w.webhookSecret !== undefined) f.push("hookKey", w.webhookSecret);
  return f;
}

function iso(ms: string | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(Number(ms)).toISOString();
}

export function fromRecord(id: string, h: Record<string, string> | null | undefined): Website | undefined {
  if (!h || h.url === undefined) return undefined;
  const schedule: Schedule =
    h.cron !== undefined ? (h.tz ? { pattern: h.cron, tz: h.tz } : { pattern: h.cron }) : { every: Number(h.every) };
  const w: Website = {
    id,
    url: h.url,
    siteKey: h.key ?? "",
    schedule,
    enabled: h.on === "1",
    options: h.opts ? (JSON.parse(h.opts) as WebsiteOptions) : {},
    createdAt: iso(h.created) ?? new Date(0).toISOString(),
    updatedAt: iso(h.updated) ?? iso(h.created) ?? new Date(0).toISOString(),
    firstRunAt: Number(h.first ?? h.created ?? 0),
    consecutiveFailures: Number(h.fails ?? 0),
    seq: Number(h.seq ?? 0),
  };
  if (h.job) w.lastJob = JSON.parse(h.job) as LastJob;
  const ok = iso(h.okAt);
  if (ok) w.lastSuccessAt = ok;
  const changed = iso(h.changedAt);
  if (changed) w.lastChangedAt = changed;
  const checked = iso(h.checkedAt);
  if (checked) w.lastCheckedAt = checked;
  if (h.paused) w.pausedReason = h.paused;
  if (h.backoff) w.backoffEveryMs = Number(h.backoff);
  if (h.delay !== undefined) w.lastRunDelayMs = Number(h.delay);
  if (h.hook) w.webhookUrl = h.hook;
  if (h.hookKey) w.webhookSecret = h.hookKey;
  return w;
}
