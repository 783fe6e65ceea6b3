/*
 * Registered websites in Redis. A website's id is derived from its normalised URL (websiteIdOf:
 * 10 base-36 characters of its sha256), so "is this URL registered?" is an EXISTS on its record,
 * checked inside the create script so two API processes can't both add it, and no URL index is
 * needed (memory per website is a goal: < 2 KB with its BullMQ scheduler).
 *
 *   <prefix>:website:<id>      hash  the record (short fields, listpack-encoded: ~250 bytes)
 *   <prefix>:websites:index    zset  id scored by its creation sequence number (stable paging)
 *   <prefix>:websites:seq      string  the last sequence number handed out
 *
 * The store never normalises URLs or touches BullMQ: callers pass a normalised url and site key,
 * and scheduler/sync.ts keeps the job schedulers in line with these records.
 */
import type { Redis } from "ioredis";
import {
  fromRecord,
  toRecordFields,
  websiteIdOf,
  websiteStatus,
  type LastJob,
  type NewWebsite,
  type RunOutcome,
  type Website,
  type WebsiteOptions,
  type WebsiteStatus,
  type Schedule,
} from "./websiteRecord";

export * from "./websiteRecord";

export interface WebsitePatch {
  schedule?: Schedule;
  enabled?: boolean;
  options?: WebsiteOptions;
  /** null clears. */
  pausedReason?: string | null;
  backoffEveryMs?: number | null;
  consecutiveFailures?: number;
  firstRunAt?: number;
  /** null clears. */
  webhookUrl?: string | null;
  webhookSecret?: string | null;
}

export interface ListQuery {
  cursor?: number;
  limit: number;
  status?: WebsiteStatus;
}

export interface WebsitePage {
  items: Website[];
  /** Pass back as `cursor` for the next page; undefined at the end. */
  nextCursor?: number;
}

export interface RunRecord {
  jobId: string;
  /** Makes recordRun idempotent: the same token twice counts once (a re-run after a crash). */
  token: string;
  outcome: RunOutcome;
  /** A new version was stored (success with changes). */
  changed: boolean;
  at: number;
  error?: string;
}

/** What a create did: added it, found it registered, or refused it because MAX_WEBSITES is reached. */
export type CreateOutcome = "created" | "exists" | "quota";

export interface WebsiteStore {
  /** Adds the website unless its URL is registered (the existing one is returned then) or the store holds maxWebsites. */
  create(input: NewWebsite, maxWebsites?: number): Promise<{ website?: Website; outcome: CreateOutcome }>;
  /** Many creates in one round trip; same semantics per item, in order. */
  createMany(inputs: NewWebsite[], maxWebsites?: number): Promise<{ id: string; outcome: CreateOutcome }[]>;
  get(id: string): Promise<Website | undefined>;
  getMany(ids: string[]): Promise<(Website | undefined)[]>;
  idByUrl(url: string): Promise<string | undefined>;
  /** For each id: is it a registered website? */
  exists(ids: string[]): Promise<boolean[]>;
  update(id: string, patch: WebsitePatch): Promise<Website | undefined>;
  remove(id: string): Promise<Website | undefined>;
  list(query: ListQuery): Promise<WebsitePage>;
  /** Every id, in creation order, a batch at a time (for the consistency check). */
  scanIds(batchSize?: number): AsyncGenerator<string[]>;
  count(): Promise<number>;
  /** Marks a run as started: lastJob = {id, status: running}. */
  /** delayMs: how late a scheduled run started (kept as lastRunDelayMs until the next one). */
  recordStart(id: string, jobId: string, at: number, delayMs?: number): Promise<void>;
  /** Counts a finished run once; returns the website after it, or undefined when already counted / gone. */
  recordRun(id: string, run: RunRecord): Promise<Website | undefined>;
}

/** Records read per round while filling a page filtered by status. */
const FILTER_BATCH = 500;

// Creates atomically: the existence check, the quota check and the writes can't interleave with
// another process. KEYS: record, index, seq. ARGV: id, url, fields (JSON array), the most websites
// there may be (0: no limit). Returns {1, id} created, {0, id} already registered, {2, id} the
// quota is full. A record of another URL under the same id (a hash collision, ~1 in 2^51 per
// pair) is refused rather than overwritten.
const CREATE_LUA = `
local existing = redis.call('HGET', KEYS[1], 'url')
if existing then
  if existing == ARGV[2] then return {0, ARGV[1]} end
  return redis.error_reply('website id collision for ' .. ARGV[2])
end
local max = tonumber(ARGV[4])
if max > 0 and redis.call('ZCARD', KEYS[2]) >= max then return {2, ARGV[1]} end
local seq = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[2], seq, ARGV[1])
redis.call('HSET', KEYS[1], 'seq', seq, unpack(cjson.decode(ARGV[3])))
return {1, ARGV[1]}
`;

// Counts a finished run once per token; a failure increments, anything else resets the streak.
const RECORD_RUN_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'runToken') == ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'runToken', ARGV[1], 'job', ARGV[3])
if ARGV[2] == 'failure' then
  redis.call('HINCRBY', KEYS[1], 'fails', 1)
else
  redis.call('HSET', KEYS[1], 'fails', 0, 'checkedAt', ARGV[4], 'okAt', ARGV[4])
  if ARGV[5] == '1' then redis.call('HSET', KEYS[1], 'changedAt', ARGV[4]) end
end
return 1
`;

export function createWebsiteStore(redis: Redis, opts: { prefix: string }): WebsiteStore {
  const p = opts.prefix;
  const keys = {
    website: (id: string) => `${p}:website:${id}`,
    index: `${p}:websites:index`,
    seq: `${p}:websites:seq`,
  };

  async function get(id: string): Promise<Website | undefined> {
    if (!/^[a-z0-9]{1,40}$/.test(id)) return undefined; // never build keys from arbitrary input
    const h = await redis.hgetall(keys.website(id));
    return fromRecord(id, h);
  }

  async function getMany(ids: string[]): Promise<(Website | undefined)[]> {
    if (ids.length === 0) return [];
    const pipe = redis.pipeline();
    for (const id of ids) pipe.hgetall(keys.website(id));
    const res = (await pipe.exec()) ?? [];
    return res.map(([err, h], i) => (err ? undefined : fromRecord(ids[i] as string, h as Record<string, string>)));
  }

  function createCall(
    input: NewWebsite,
    now: number,
    maxWebsites: number,
  ): [string, string, string, string, string, string, string] {
    const id = websiteIdOf(input.url);
    return [
      keys.website(id),
      keys.index,
      keys.seq,
      id,
      input.url,
      JSON.stringify(toRecordFields({ ...input, createdAt: now })),
      String(maxWebsites),
    ];
  }

  return {
    async create(input, maxWebsites = 0) {
      const [code, actualId] = (await redis.eval(CREATE_LUA, 3, ...createCall(input, Date.now(), maxWebsites))) as [
        number,
        string,
      ];
      const outcome = outcomeOf(code);
      if (outcome === "quota") return { outcome };
      const website = await get(actualId);
      if (!website) throw new Error(`website ${actualId} vanished right after create`);
      return { website, outcome };
    },

    async createMany(inputs, maxWebsites = 0) {
      if (inputs.length === 0) return [];
      const now = Date.now();
      // One script load, then EVALSHA per item in a pipeline: thousands per round trip.
      const sha = (await redis.script("LOAD", CREATE_LUA)) as string;
      const pipe = redis.pipeline();
      for (const input of inputs) pipe.evalsha(sha, 3, ...createCall(input, now, maxWebsites));
      const res = (await pipe.exec()) ?? [];
      return res.map(([err, r]) => {
        if (err) throw err;
        const [code, id] = r as [number, string];
        return { id, outcome: outcomeOf(code) };
      });
    },

    get,
    getMany,

    async idByUrl(url) {
      const id = websiteIdOf(url);
      return (await redis.hget(keys.website(id), "url")) === url ? id : undefined;
    },

    async exists(ids) {
      if (ids.length === 0) return [];
      const scores = await redis.zmscore(keys.index, ...ids);
      return scores.map((s) => s !== null);
    },

    async update(id, patch) {
      const before = await get(id);
      if (!before) return undefined;
      const set: string[] = [];
      const del: string[] = [];
      if (patch.schedule) {
        del.push("every", "cron", "tz");
        if ("every" in patch.schedule) set.push("every", String(patch.schedule.every));
        else {
          set.push("cron", patch.schedule.pattern);
          if (patch.schedule.tz) set.push("tz", patch.schedule.tz);
        }
      }
      if (patch.enabled !== undefined) set.push("on", patch.enabled ? "1" : "0");
      if (patch.options) {
        if (Object.keys(patch.options).length > 0) set.push("opts", JSON.stringify(patch.options));
        else del.push("opts");
      }
      if (patch.pausedReason === null) del.push("paused");
      else if (patch.pausedReason !== undefined) set.push("paused", patch.pausedReason);
      if (patch.backoffEveryMs === null) del.push("backoff");
      else if (patch.backoffEveryMs !== undefined) set.push("backoff", String(patch.backoffEveryMs));
      if (patch.consecutiveFailures !== undefined) set.push("fails", String(patch.consecutiveFailures));
      if (patch.firstRunAt !== undefined) set.push("first", String(patch.firstRunAt));
      if (patch.webhookUrl === null) del.push("hook");
      else if (patch.webhookUrl !== undefined) set.push("hook", patch.webhookUrl);
      if (patch.webhookSecret === null) del.push("hookKey");
      else if (patch.webhookSecret !== undefined) set.push("hookKey", patch.webhookSecret);
      set.push("updated", String(Date.now()));
      const finalDel = del.filter((f) => !set.some((s, i) => i % 2 === 0 && s === f));
      const multi = redis.multi();
      if (finalDel.length > 0) multi.hdel(keys.website(id), ...finalDel);
      multi.hset(keys.website(id), ...set);
      await multi.exec();
      return get(id);
    },

    async remove(id) {
      const w = await get(id);
      if (!w) return undefined;
      await redis.multi().del(keys.website(id)).zrem(keys.index, id).exec();
      return w;
    },

    async list(query) {
      const items: Website[] = [];
      let cursor = query.cursor ?? 0;
      // With a status filter a page may need many records read past: it is filled anyway (batches
      // of FILTER_BATCH, one pipelined read each), so a page is short only at the end and a client
      // can take a short page for the last one. The cost is bounded by the registry's size.
      while (items.length < query.limit) {
        const batch = query.status ? FILTER_BATCH : query.limit - items.length;
        const rows = await redis.zrangebyscore(keys.index, `(${cursor}`, "+inf", "WITHSCORES", "LIMIT", 0, batch);
        if (rows.length === 0) return { items };
        const ids: string[] = [];
        for (let i = 0; i < rows.length; i += 2) ids.push(rows[i] as string);
        const sites = await getMany(ids);
        for (let i = 0; i < ids.length; i++) {
          cursor = Number(rows[i * 2 + 1]);
          const w = sites[i];
          if (w && (!query.status || websiteStatus(w) === query.status)) items.push(w);
          if (items.length >= query.limit) break;
        }
      }
      const more = (await redis.zcount(keys.index, `(${cursor}`, "+inf")) > 0;
      return more ? { items, nextCursor: cursor } : { items };
    },

    async *scanIds(batchSize = 500) {
      let cursor = 0;
      for (;;) {
        const rows = await redis.zrangebyscore(keys.index, `(${cursor}`, "+inf", "WITHSCORES", "LIMIT", 0, batchSize);
        if (rows.length === 0) return;
        const ids: string[] = [];
        for (let i = 0; i < rows.length; i += 2) ids.push(rows[i] as string);
        cursor = Number(rows[rows.length - 1]);
        yield ids;
      }
    },

    count() {
      return redis.zcard(keys.index);
    },

    async recordStart(id, jobId, at, delayMs) {
      const lastJob: LastJob = { id: jobId, status: "running", startedAt: new Date(at).toISOString() };
      const fields = ["job", JSON.stringify(lastJob)];
      if (delayMs !== undefined) fields.push("delay", String(Math.round(delayMs)));
      // HSET only when the record exists: a run of a website deleted meanwhile must not recreate it.
      await redis.eval(
        "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], unpack(ARGV)) end",
        1,
        keys.website(id),
        ...fields,
      );
    },

    async recordRun(id, run) {
      const lastJob: LastJob = {
        id: run.jobId,
        status: run.outcome,
        finishedAt: new Date(run.at).toISOString(),
        ...(run.error ? { error: run.error.slice(0, 300) } : {}),
      };
      const counted = (await redis.eval(
        RECORD_RUN_LUA,
        1,
        keys.website(id),
        run.token,
        run.outcome,
        JSON.stringify(lastJob),
        String(run.at),
        run.changed ? "1" : "0",
      )) as number;
      return counted === 1 ? get(id) : undefined;
    },
  };
}

function outcomeOf(code: number): CreateOutcome {
  return code === 1 ? "created" : code === 2 ? "quota" : "exists";
}
