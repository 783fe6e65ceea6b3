/*
 * What the API and `ltx sites` do with websites: parse input, keep the record and its job scheduler
 * in step, refresh, and bulk import. The routes and the CLI are thin shells over this.
 *
 * Order of writes: the record first, then the scheduler. A crash in between leaves a record
 * without a scheduler (or the reverse on delete); the consistency check repairs both, and the
 * worker skips runs of websites that are gone or disabled.
 */
import type { Redis } from "ioredis";
import { z } from "zod";
import { ConflictError, InputError, NotFoundError, QuotaExceededError } from "../lib/errors";
import { coerceError } from "../lib/coerceError";
import type { Logger } from "../lib/logger";
import { HOUR, parseDuration } from "../lib/time";
import { resolveSite } from "../pipeline/site";
import { enqueueGenerate, type EnqueueResult } from "../queues/enqueue";
import type { Queues } from "../queues/queues";
import { GENERATE_OPTION_NAMES, generateOptionsShape, pickGenerateOptions } from "../queues/generateOptions";
import {
  WEBSITE_STATUSES,
  websiteIdOf,
  type NewWebsite,
  type Website,
  type WebsiteOptions,
  type WebsitePatch,
  type WebsiteStore,
} from "../store/websites";
import { nominalIntervalMs, parseSchedule, type Schedule } from "./schedule";
import { removeWebsiteSchedule, syncWebsiteSchedule } from "./sync";

export interface WebsiteServiceSettings {
  defaultEveryMs: number;
  maxPagesLimit: number;
  maxUrlLength: number;
  /** MAX_WEBSITES: registered websites in total (0: no limit). */
  maxWebsites: number;
  /** MAX_IMPORT_URLS: URLs one import may carry. */
  maxImportUrls: number;
}

export interface WebsiteServiceDeps {
  websites: WebsiteStore;
  /** The same client the store uses (reads the schedulers' next runs). */
  redis: Redis;
  /** schedule: the websites' schedulers; generate: where a refresh goes. */
  queues: Pick<Queues, "generate" | "schedule">;
  settings: WebsiteServiceSettings;
  /** The early SSRF check of registered URLs; the crawl's connect-time guard applies regardless. */
  urlGuard?: (url: string) => Promise<void>;
  logger?: Logger;
}

const every = z.union([z.string().trim().min(1).max(20), z.number().positive()]);

export function websiteSchemas(
  s: Pick<WebsiteServiceSettings, "maxPagesLimit" | "maxUrlLength"> &
    Partial<Pick<WebsiteServiceSettings, "maxImportUrls">>,
) {
  const optional = generateOptionsShape(s.maxPagesLimit);
  // PATCH: null clears an option.
  const nullable = Object.fromEntries(
    Object.entries(optional).map(([name, schema]) => [name, schema.unwrap().nullable().optional()]),
  ) as { [K in keyof typeof optional]: z.ZodOptional<z.ZodNullable<ReturnType<(typeof optional)[K]["unwrap"]>>> };
  const scheduleFields = {
    every: every.optional(),
    cron: z.string().trim().min(1).max(200).optional(),
    tz: z.string().trim().min(1).max(100).optional(),
    enabled: z.boolean().optional(),
  };
  // Where new versions are announced, and the key that signs the announcement (websites/webhook.ts).
  const webhookUrl = z.url({ protocol: /^https?$/ }).max(s.maxUrlLength);
  const webhookSecret = z.string().min(16).max(256);
  return {
    create: z.strictObject({
      url: z.string().trim().min(1).max(s.maxUrlLength),
      ...scheduleFields,
      ...optional,
      webhookUrl: webhookUrl.optional(),
      webhookSecret: webhookSecret.optional(),
    }),
    // null clears an option (and the webhook); the URL is the website's identity and can't change.
    patch: z.strictObject({
      ...scheduleFields,
      ...nullable,
      webhookUrl: webhookUrl.nullable().optional(),
      webhookSecret: webhookSecret.nullable().optional(),
    }),
    import: z.strictObject({
      urls: z
        .array(z.string().max(s.maxUrlLength + 100))
        .min(1)
        .max(s.maxImportUrls ?? 100_000),
      ...scheduleFields,
      ...optional,
      spread: every.optional(),
    }),
    list: z.strictObject({
      status: z.enum(WEBSITE_STATUSES).optional(),
      cursor: z.coerce.number().int().min(0).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(20),
    }),
  };
}

export interface ImportItem {
  url: string;
  status: "added" | "skipped" | "rejected";
  id?: string;
  reason?: string;
}

export interface ImportReport {
  added: number;
  skipped: number;
  rejected: number;
  items: ImportItem[];
  durationMs: number;
}

/** A website with its scheduler's next run (epoch ms; undefined when it has no scheduler). */
export interface ScheduledWebsite extends Website {
  nextRunMs: number | undefined;
}

export interface WebsiteService {
  create(body: unknown): Promise<ScheduledWebsite>;
  get(id: string): Promise<Website>;
  withNextRun(w: Website): Promise<ScheduledWebsite>;
  list(query: unknown): Promise<{ items: ScheduledWebsite[]; nextCursor?: string }>;
  update(id: string, body: unknown): Promise<ScheduledWebsite>;
  remove(id: string): Promise<void>;
  /** Regenerates now (de-duplicated with a job in flight) and clears any failure back-off or pause. */
  refresh(id: string): Promise<EnqueueResult>;
  import(body: unknown): Promise<ImportReport>;
}

/** Imports spread first runs over the interval, at most this long, so 10,000 sites don't all start at once. */
export const IMPORT_SPREAD_MAX_MS = HOUR;

export function createWebsiteService(deps: WebsiteServiceDeps): WebsiteService {
  const schemas = websiteSchemas(deps.settings);
  const queue = deps.queues.schedule;

  async function get(id: string): Promise<Website> {
    const w = await deps.websites.get(id);
    if (!w) throw new NotFoundError(`no website ${JSON.stringify(id.slice(0, 100))}`);
    return w;
  }

  async function withNextRuns(list: Website[]): Promise<ScheduledWebsite[]> {
    if (list.length === 0) return [];
    // One ZMSCORE on the schedulers' sorted set gives every next run at once.
    const next = await deps.redis.zmscore(queue.keys.repeat ?? queue.toKey("repeat"), ...list.map((w) => w.id));
    return list.map((w, i) => ({ ...w, nextRunMs: next[i] == null ? undefined : Number(next[i]) }));
  }

  const withNextRun = async (w: Website): Promise<ScheduledWebsite> => (await withNextRuns([w]))[0] as ScheduledWebsite;

  function toNew(
    url: string,
    schedule: Schedule,
    enabled: boolean,
    options: WebsiteOptions,
    firstRunAt: number,
  ): NewWebsite {
    const site = resolveSite(url);
    return { url: site.startUrl, siteKey: site.key, schedule, enabled, options, firstRunAt };
  }

  /**
   * An import that would take the service past MAX_WEBSITES is refused whole, before anything is
   * added: a partial import would leave the caller sorting out which half landed. URLs already
   * registered don't count. The create script checks again per website, for concurrent writers.
   */
  async function checkImportQuota(urls: string[]): Promise<void> {
    const max = deps.settings.maxWebsites;
    if (max <= 0 || urls.length === 0) return;
    const [registered, known] = await Promise.all([deps.websites.count(), deps.websites.exists(urls.map(websiteIdOf))]);
    const fresh = known.filter((k) => !k).length;
    if (registered + fresh > max)
      throw new QuotaExceededError(
        `this import adds ${fresh} websites to ${registered}: more than MAX_WEBSITES=${max}; nothing was imported`,
      );
  }

  return {
    async create(body) {
      const input = schemas.create.parse(body);
      const schedule = parseSchedule(input, deps.settings.defaultEveryMs);
      const fresh: NewWebsite = {
        ...toNew(input.url, schedule, input.enabled ?? true, optionsOf(input), Date.now()),
        ...(input.webhookUrl !== undefined ? { webhookUrl: input.webhookUrl } : {}),
        ...(input.webhookSecret !== undefined ? { webhookSecret: input.webhookSecret } : {}),
      };
      await deps.urlGuard?.(fresh.url);
      // The SSRF guard applies to webhook targets too (again at delivery, at connect time).
      if (fresh.webhookUrl !== undefined) await deps.urlGuard?.(fresh.webhookUrl);
      const { website, outcome } = await deps.websites.create(fresh, deps.settings.maxWebsites);
      if (outcome === "quota" || !website) throw quotaError(deps.settings.maxWebsites);
      if (outcome === "exists")
        throw new ConflictError(`${website.url} is already registered as website ${website.id}`);
      await syncWebsiteSchedule(queue, website);
      deps.logger?.info({ websiteId: website.id, url: website.url }, "website registered");
      return withNextRun(website);
    },

    get,
    withNextRun,

    async list(query) {
      const q = schemas.list.parse(query);
      const page = await deps.websites.list({
        limit: q.limit,
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        ...(q.status ? { status: q.status } : {}),
      });
      return {
        items: await withNextRuns(page.items),
        ...(page.nextCursor !== undefined ? { nextCursor: String(page.nextCursor) } : {}),
      };
    },

    async update(id, body) {
      const input = schemas.patch.parse(body);
      const before = await get(id);
      const patch: WebsitePatch = {};
      if (input.every !== undefined || input.cron !== undefined || input.tz !== undefined) {
        patch.schedule = parseSchedule(
          input.cron === undefined && input.tz !== undefined && "pattern" in before.schedule
            ? { ...input, cron: before.schedule.pattern }
            : input,
          deps.settings.defaultEveryMs,
        );
        // A new interval replaces a back-off interval computed from the old one.
        if (before.backoffEveryMs !== undefined) patch.backoffEveryMs = null;
      }
      if (input.enabled !== undefined) patch.enabled = input.enabled;
      // Enabling is the operator saying "try again": it lifts a pause (and back-off) after failures.
      if (input.enabled === true && (before.pausedReason !== undefined || before.backoffEveryMs !== undefined)) {
        patch.pausedReason = null;
        patch.backoffEveryMs = null;
        patch.consecutiveFailures = 0;
      }
      if (input.webhookUrl !== undefined) {
        if (input.webhookUrl !== null) await deps.urlGuard?.(input.webhookUrl);
        patch.webhookUrl = input.webhookUrl;
      }
      if (input.webhookSecret !== undefined) patch.webhookSecret = input.webhookSecret;
      const options = mergeOptions(before.options, input);
      if (options) patch.options = options;
      const after = await deps.websites.update(id, patch);
      if (!after) throw new NotFoundError(`no website ${JSON.stringify(id)}`);
      await syncWebsiteSchedule(queue, after);
      return withNextRun(after);
    },

    async remove(id) {
      const w = await deps.websites.remove(id);
      if (!w) throw new NotFoundError(`no website ${JSON.stringify(id.slice(0, 100))}`);
      await removeWebsiteSchedule(queue, id);
      deps.logger?.info({ websiteId: id, url: w.url }, "website deleted");
    },

    async refresh(id) {
      const before = await get(id);
      let w = before;
      if (before.consecutiveFailures > 0 || before.pausedReason || before.backoffEveryMs !== undefined) {
        w =
          (await deps.websites.update(id, { consecutiveFailures: 0, pausedReason: null, backoffEveryMs: null })) ??
          before;
        const now = Date.now();
        await syncWebsiteSchedule(queue, w, { force: true, nextRunAt: now + nominalIntervalMs(w.schedule, now) });
      }
      return enqueueGenerate(
        deps.queues,
        { url: w.url, ...w.options, websiteId: w.id, trigger: "refresh" },
        { maxPagesLimit: deps.settings.maxPagesLimit },
      );
    },

    async import(body) {
      const started = Date.now();
      const input = schemas.import.parse(body);
      const schedule = parseSchedule(input, deps.settings.defaultEveryMs);
      const spreadMs =
        input.spread !== undefined
          ? parseSpread(input.spread)
          : Math.min(nominalIntervalMs(schedule), IMPORT_SPREAD_MAX_MS);
      const items: ImportItem[] = [];
      const pending: { item: ImportItem; fresh: NewWebsite }[] = [];
      const seen = new Set<string>();
      const now = Date.now();
      for (const raw of input.urls) {
        const url = raw.trim();
        const item: ImportItem = { url, status: "rejected" };
        items.push(item);
        try {
          if (url.length > deps.settings.maxUrlLength)
            throw new InputError(`longer than ${deps.settings.maxUrlLength} characters`);
          const fresh = toNew(
            url,
            schedule,
            input.enabled ?? true,
            optionsOf(input),
            now + Math.floor(Math.random() * spreadMs),
          );
          if (seen.has(fresh.url)) {
            Object.assign(item, { status: "skipped", reason: "duplicate in this import" });
            continue;
          }
          seen.add(fresh.url);
          pending.push({ item, fresh });
        } catch (e) {
          item.reason = coerceError(e).message;
        }
      }
      if (deps.urlGuard) await guardAll(pending, deps.urlGuard);
      const toAdd = pending.filter((p) => p.item.reason === undefined);
      await checkImportQuota(toAdd.map((p) => p.fresh.url));
      for (let i = 0; i < toAdd.length; i += 1000) {
        const chunk = toAdd.slice(i, i + 1000);
        const res = await deps.websites.createMany(
          chunk.map((p) => p.fresh),
          deps.settings.maxWebsites,
        );
        const created: string[] = [];
        res.forEach((r, j) => {
          const p = chunk[j];
          if (!p) return;
          if (r.outcome === "quota") {
            // Only when another request filled the quota since checkImportQuota looked.
            p.item.reason = `the website limit is reached (MAX_WEBSITES=${deps.settings.maxWebsites})`;
            return;
          }
          p.item.id = r.id;
          if (r.outcome === "created") {
            p.item.status = "added";
            created.push(r.id);
          } else Object.assign(p.item, { status: "skipped", reason: "already registered" });
        });
        const sites = await deps.websites.getMany(created);
        await Promise.all(sites.flatMap((w) => (w ? [syncWebsiteSchedule(queue, w)] : [])));
      }
      const count = (s: ImportItem["status"]) => items.filter((it) => it.status === s).length;
      const report: ImportReport = {
        added: count("added"),
        skipped: count("skipped"),
        rejected: count("rejected"),
        items,
        durationMs: Date.now() - started,
      };
      deps.logger?.info(
        { added: report.added, skipped: report.skipped, rejected: report.rejected, ms: report.durationMs },
        "websites imported",
      );
      return report;
    },
  };
}

const optionsOf = pickGenerateOptions;

/** The options after a PATCH, or undefined when the body names none. */
function mergeOptions(
  before: WebsiteOptions,
  input: Partial<Record<keyof WebsiteOptions, unknown>>,
): WebsiteOptions | undefined {
  if (!GENERATE_OPTION_NAMES.some((n) => input[n] !== undefined)) return undefined;
  const merged: Record<string, unknown> = { ...before };
  for (const n of GENERATE_OPTION_NAMES) {
    if (input[n] === null) delete merged[n];
    else if (input[n] !== undefined) merged[n] = input[n];
  }
  return optionsOf(merged);
}

function parseSpread(v: string | number): number {
  const ms = parseDuration(v);
  if (ms === undefined) throw new InputError(`invalid spread ${JSON.stringify(v)}: expected a duration like "10m"`);
  return ms;
}

/** Runs the SSRF pre-check on every URL, 50 at a time; a refused URL is rejected with the reason. */
async function guardAll(
  pending: { item: ImportItem; fresh: NewWebsite }[],
  guard: (url: string) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(50, pending.length) }, async () => {
    while (next < pending.length) {
      const p = pending[next++];
      if (!p) continue;
      try {
        await guard(p.fresh.url);
      } catch (e) {
        p.item.reason = coerceError(e).message;
      }
    }
  });
  await Promise.all(workers);
}

function quotaError(max: number): QuotaExceededError {
  return new QuotaExceededError(`the website limit is reached (MAX_WEBSITES=${max}): delete websites or raise it`);
}
