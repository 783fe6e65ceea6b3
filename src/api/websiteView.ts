/*
 * How a website looks in the API and `ltx sites list`: its record, the next run from its BullMQ
 * job scheduler, a derived status and links to its files and sub-resources.
 */
import type { ScheduledWebsite } from "../websites/service";
import { siteFileLinks } from "./jobView";
import { websiteStatus, type LastJob, type WebsiteOptions, type WebsiteStatus } from "../store/websites";
import { formatDuration } from "../websites/schedule";

export interface ScheduleView {
  /** "6h" when the schedule is an interval. */
  every?: string;
  everyMs?: number;
  cron?: string;
  tz?: string;
  /** The stretched interval while the website backs off after repeated failures. */
  backoffEveryMs?: number;
}

export interface WebsiteView {
  id: string;
  url: string;
  siteKey: string;
  status: WebsiteStatus;
  enabled: boolean;
  schedule: ScheduleView;
  nextRunAt: string | null;
  lastJob: LastJob | null;
  lastSuccessAt: string | null;
  lastChangedAt: string | null;
  lastCheckedAt: string | null;
  consecutiveFailures: number;
  /** How late the last scheduled run started after its tick fell due (ms); null before the first. */
  lastRunDelayMs: number | null;
  pausedReason: string | null;
  options: WebsiteOptions;
  /** Where new versions are announced; its webhookSecret is never shown. */
  webhookUrl: string | null;
  createdAt: string;
  updatedAt: string;
  links: {
    self: string;
    versions: string;
    refresh: string;
    llmsTxt: string;
    llmsFullTxt: string;
    lastJob: string | null;
  };
}

/** The HTTP (and `ltx sites --json`) shape of a website. */
export function websiteView(w: ScheduledWebsite): WebsiteView {
  const { nextRunMs } = w;
  const schedule: ScheduleView =
    "every" in w.schedule
      ? { every: formatDuration(w.schedule.every), everyMs: w.schedule.every }
      : { cron: w.schedule.pattern, ...(w.schedule.tz ? { tz: w.schedule.tz } : {}) };
  if (w.backoffEveryMs !== undefined) schedule.backoffEveryMs = w.backoffEveryMs;
  const self = `/api/websites/${w.id}`;
  return {
    id: w.id,
    url: w.url,
    siteKey: w.siteKey,
    status: websiteStatus(w),
    enabled: w.enabled,
    schedule,
    nextRunAt: nextRunMs === undefined ? null : new Date(nextRunMs).toISOString(),
    lastJob: w.lastJob ?? null,
    lastSuccessAt: w.lastSuccessAt ?? null,
    lastChangedAt: w.lastChangedAt ?? null,
    lastCheckedAt: w.lastCheckedAt ?? null,
    consecutiveFailures: w.consecutiveFailures,
    lastRunDelayMs: w.lastRunDelayMs ?? null,
    pausedReason: w.pausedReason ?? null,
    options: w.options,
    webhookUrl: w.webhookUrl ?? null,
    createdAt: w.createdAt,
    updatedAt: w.updatedAt,
    links: {
      self,
      versions: `${self}/versions`,
      refresh: `${self}/refresh`,
      ...siteFileLinks(w.siteKey),
      lastJob: w.lastJob ? `/api/jobs/${encodeURIComponent(w.lastJob.id)}` : null,
    },
  };
}
