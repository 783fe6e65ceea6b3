/**
 * Generated files per site: the latest llms.txt, llms-full.txt and their metadata, plus a capped
 * history of earlier versions. Given a Redis client, never makes one (the root does).
 *
 * Atomicity: one save is one Lua script (SAVE_SCRIPT), so a reader sees the old result or the new
 * one, never a mix (files of one version with the metadata of another).
 *
 * Memory per site (what an operator pays for): the latest llms.txt + llms-full.txt as plain text
 * (llms-full is capped by FULL_MAX_BYTES), the metadata JSON (~200 B per page record), the
 * included pages' content as one gzip'd JSON blob (markdown compresses ~3-5×, so ~25-35% of the
 * markdown size; kept so a re-run can reuse unchanged pages without re-extracting), and
 * up to maxVersions earlier llms.txt files, gzip'd.
 */
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gunzip as gunzipCb, gzip as gzipCb } from "node:zlib";
import type { Redis } from "ioredis";
import type {
  Page,
  PageRecord,
  PipelineResult,
  QualityReport,
  PreviousRun,
  ProviderName,
  Timings,
  TokenUsage,
} from "../pipeline/types";
import { storeKeys } from "./keys";

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

export type SiteFileName = "llms.txt" | "llms-full.txt";
export const SITE_FILE_NAMES: readonly SiteFileName[] = ["llms.txt", "llms-full.txt"];

/** A served file with its validators (strong ETag of the body; Last-Modified = generatedAt). */
export interface StoredFile {
  body: string;
  etag: string;
  /** An HTTP date (toUTCString). */
  lastModified: string;
}

/** What change detection records about a version's difference to the previous one (free-form JSON). */
export type VersionChanges = Record<string, unknown>;

export interface SiteMeta {
  siteKey: string;
  /** The normalised start URL of the run that made this version. */
  url: string;
  version: number;
  jobId: string;
  generatedAt: string;
  /** When a run last confirmed these files (a new version, or an unchanged re-check). */
  checkedAt: string;
  /** The job of that last check (differs from jobId after an unchanged run). */
  checkedByJobId: string;
  provider: ProviderName;
  model: string | null;
  fallback: boolean;
  /** LLM tries made (0 for extractive). */
  attempts: number;
  usage: TokenUsage;
  warnings: string[];
  /** The checker's warnings and score for this version's llms.txt (absent on versions stored before it). */
  quality?: QualityReport;
  timings: Timings;
  /** Every URL the run looked at, kept or skipped, with hash/ETag/Last-Modified. */
  pages: PageRecord[];
  files: Record<SiteFileName, { bytes: number; etag: string }>;
}

export interface VersionSummary {
  version: number;
  jobId: string;
  generatedAt: string;
  provider: ProviderName;
  model: string | null;
  fallback: boolean;
  pagesIncluded: number;
  bytes: number;
  etag: string;
  changes?: VersionChanges;
  quality?: QualityReport;
}

export interface StoredVersion extends VersionSummary {
  llmsTxt: string;
}

export interface SiteResult {
  meta: SiteMeta;
  llmsTxt: string;
  llmsFullTxt: string;
}

export interface SaveResultInput {
  siteKey: string;
  url: string;
  jobId: string;
  result: PipelineResult;
  /** The included pages with their markdown, kept (gzip'd) for the next run's getPreviousRun. */
  content?: Page[];
  changes?: VersionChanges;
}

export interface ResultStore {
  /** Stores a new version atomically; returns its number. */
  save(input: SaveResultInput): Promise<{ version: number; meta: SiteMeta }>;
  /** An unchanged re-check: the files stay, checkedAt moves. null when the site has no result. */
  markChecked(siteKey: string, check: { jobId: string; checkedAt: string }): Promise<SiteMeta | null>;
  getLatest(siteKey: string): Promise<SiteResult | null>;
  getFile(siteKey: string, name: SiteFileName): Promise<StoredFile | null>;
  getMeta(siteKey: string): Promise<SiteMeta | null>;
  /** Kept versions, newest first, the latest included. */
  listVersions(siteKey: string): Promise<VersionSummary[]>;
  getVersion(siteKey: string, version: number): Promise<StoredVersion | null>;
  /** What a re-run needs to check a site cheaply: page records, files and page content. */
  getPreviousRun(siteKey: string): Promise<PreviousRun | undefined>;
  /** The latest version's quality report of each site that has one (one round trip for a page of sites). */
  getQualities(siteKeys: string[]): Promise<Map<string, QualityReport>>;
  /** Sites with a result, most recently generated first. */
  listSites(opts?: { offset?: number; limit?: number }): Promise<Array<{ siteKey: string; generatedAt: string }>>;
  /** Deletes a site's files and history. true when there was something to delete. */
  remove(siteKey: string): Promise<boolean>;
}

export interface ResultStoreOptions {
  prefix: string;
  /** Versions kept per site, the latest included (MAX_VERSIONS_PER_SITE). */
  maxVersions: number;
}

// KEYS: latest, versions, sites. ARGV: maxVersions, siteKey, generatedAtMs, then the latest
// hash's field/value pairs (without "version"), then the gzip'd version entry as the last arg.
// Returns the new version number. Trimming reads HKEYS of a hash that holds maxVersions+1 fields.
const SAVE_SCRIPT = `
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
local fields = {}
for i = 4, #ARGV - 1 do fields[#fields + 1] = ARGV[i] end
redis.call('HDEL', KEYS[1], 'content')
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('HSET', KEYS[2], tostring(version), ARGV[#ARGV])
local oldest = version - tonumber(ARGV[1])
if oldest > 0 then
  for _, f in ipairs(redis.call('HKEYS', KEYS[2])) do
    if tonumber(f) <= oldest then redis.call('HDEL', KEYS[2], f) end
  end
end
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
return version
`;

// KEYS: latest. ARGV: checkedAt, jobId. Only touches a site that has a result.
const CHECKED_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'checkedAt', ARGV[1], 'checkedBy', ARGV[2])
return 1
`;

type StoredMeta = Omit<SiteMeta, "version" | "checkedAt" | "checkedByJobId">;

export function etagOf(body: string): string {
  return `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
}

export function createResultStore(redis: Redis, opts: ResultStoreOptions): ResultStore {
  const keys = storeKeys(opts.prefix);

  function readMeta(raw: {
    meta: string | null;
    version: string | null;
    checkedAt: string | null;
    checkedBy: string | null;
  }): SiteMeta | null {
    if (raw.meta === null || raw.version === null) return null;
    const stored = JSON.parse(raw.meta) as StoredMeta;
    return {
      ...stored,
      version: Number(raw.version),
      checkedAt: raw.checkedAt ?? stored.generatedAt,
      checkedByJobId: raw.checkedBy ?? stored.jobId,
    };
  }

  async function getMeta(siteKey: string): Promise<SiteMeta | null> {
    const [meta, version, checkedAt, checkedBy] = await redis.hmget(
      keys.latest(siteKey),
      "meta",
      "version",
      "checkedAt",
      "checkedBy",
    );
    return readMeta({
      meta: meta ?? null,
      version: version ?? null,
      checkedAt: checkedAt ?? null,
      checkedBy: checkedBy ?? null,
    });
  }

  async function readVersions(siteKey: string): Promise<StoredVersion[]> {
    const all = await redis.hgetallBuffer(keys.versions(siteKey));
    const out: StoredVersion[] = [];
    for (const [field, gz] of Object.entries(all)) {
      const entry = JSON.parse((await gunzip(gz)).toString("utf8")) as Omit<StoredVersion, "version">;
      out.push({ ...entry, version: Number(field) });
    }
    return out.sort((a, b) => b.version - a.version);
  }

  return {
    async save(input) {
      const { result } = input;
      const generatedAtMs = Date.parse(result.generatedAt);
      const files: SiteMeta["files"] = {
        "llms.txt": { bytes: Buffer.byteLength(result.llmsTxt), etag: etagOf(result.llmsTxt) },
        "llms-full.txt": { bytes: Buffer.byteLength(result.llmsFullTxt), etag: etagOf(result.llmsFullTxt) },
      };
      const stored: StoredMeta = {
        siteKey: input.siteKey,
        url: input.url,
        jobId: input.jobId,
        generatedAt: result.generatedAt,
        provider: result.provider,
        model: result.model,
        fallback: result.fallback,
        attempts: result.attempts,
        usage: result.usage,
        warnings: result.warnings,
        quality: result.quality,
        timings: result.timings,
        pages: result.pages,
        files,
      };
      const pagesIncluded = result.pages.filter((p) => p.skipReason === undefined).length;
      const summary: Omit<StoredVersion, "version"> = {
        jobId: input.jobId,
        generatedAt: result.generatedAt,
        provider: result.provider,
        model: result.model,
        fallback: result.fallback,
        pagesIncluded,
        bytes: files["llms.txt"].bytes,
        etag: files["llms.txt"].etag,
        llmsTxt: result.llmsTxt,
        quality: result.quality,
        ...(input.changes ? { changes: input.changes } : {}),
      };
      const versionEntry = await gzip(JSON.stringify(summary));
      const lastModified = new Date(Number.isFinite(generatedAtMs) ? generatedAtMs : Date.now()).toUTCString();
      const fields: Array<string | Buffer> = [
        "txt",
        result.llmsTxt,
        "full",
        result.llmsFullTxt,
        "txtEtag",
        files["llms.txt"].etag,
        "fullEtag",
        files["llms-full.txt"].etag,
        "lastModified",
        lastModified,
        "meta",
        JSON.stringify(stored),
        "checkedAt",
        result.generatedAt,
        "checkedBy",
        input.jobId,
        // Apart from meta (which holds every page record) so a list of websites reads only this.
        "quality",
        JSON.stringify(result.quality),
      ];
      if (input.content) fields.push("content", await gzip(JSON.stringify(input.content)));
      const argv: Array<string | Buffer> = [
        String(opts.maxVersions),
        input.siteKey,
        String(Number.isFinite(generatedAtMs) ? generatedAtMs : Date.now()),
        ...fields,
        versionEntry,
      ];
      const version = Number(
        await redis.eval(SAVE_SCRIPT, 3, keys.latest(input.siteKey), keys.versions(input.siteKey), keys.sites, ...argv),
      );
      return { version, meta: { ...stored, version, checkedAt: result.generatedAt, checkedByJobId: input.jobId } };
    },

    async getQualities(siteKeys) {
      const out = new Map<string, QualityReport>();
      if (siteKeys.length === 0) return out;
      const pipeline = redis.pipeline();
      for (const k of siteKeys) pipeline.hget(keys.latest(k), "quality");
      const answers = (await pipeline.exec()) ?? [];
      answers.forEach(([err, raw], i) => {
        const key = siteKeys[i];
        if (!err && typeof raw === "string" && key !== undefined) out.set(key, JSON.parse(raw) as QualityReport);
      });
      return out;
    },

    async markChecked(siteKey, check) {
      const ok = Number(await redis.eval(CHECKED_SCRIPT, 1, keys.latest(siteKey), check.checkedAt, check.jobId));
      return ok === 1 ? getMeta(siteKey) : null;
    },

    async getLatest(siteKey) {
      const [meta, version, checkedAt, checkedBy, txt, full] = await redis.hmget(
        keys.latest(siteKey),
        "meta",
        "version",
        "checkedAt",
        "checkedBy",
        "txt",
        "full",
      );
      const m = readMeta({
        meta: meta ?? null,
        version: version ?? null,
        checkedAt: checkedAt ?? null,
        checkedBy: checkedBy ?? null,
      });
      if (!m || txt == null || full == null) return null;
      return { meta: m, llmsTxt: txt, llmsFullTxt: full };
    },

    async getFile(siteKey, name) {
      const [bodyField, etagField] = name === "llms.txt" ? ["txt", "txtEtag"] : ["full", "fullEtag"];
      const [body, etag, lastModified] = await redis.hmget(keys.latest(siteKey), bodyField, etagField, "lastModified");
      if (body == null || etag == null || lastModified == null) return null;
      return { body, etag, lastModified };
    },

    getMeta,

    async listVersions(siteKey) {
      return (await readVersions(siteKey)).map(({ llmsTxt: _omit, ...summary }) => summary);
    },

    async getVersion(siteKey, version) {
      const gz = await redis.hgetBuffer(keys.versions(siteKey), String(version));
      if (!gz) return null;
      const entry = JSON.parse((await gunzip(gz)).toString("utf8")) as Omit<StoredVersion, "version">;
      return { ...entry, version };
    },

    async getPreviousRun(siteKey) {
      const [meta, txt, full, content] = await redis.hmgetBuffer(
        keys.latest(siteKey),
        "meta",
        "txt",
        "full",
        "content",
      );
      if (!meta) return undefined;
      const stored = JSON.parse(meta.toString("utf8")) as StoredMeta;
      const previous: PreviousRun = { pages: stored.pages };
      if (txt) previous.llmsTxt = txt.toString("utf8");
      if (full) previous.llmsFullTxt = full.toString("utf8");
      if (content) {
        const pages = JSON.parse((await gunzip(content)).toString("utf8")) as Page[];
        previous.content = new Map(pages.map((p) => [p.url, p]));
      }
      return previous;
    },

    async listSites({ offset = 0, limit = 100 } = {}) {
      const flat = await redis.zrevrange(keys.sites, offset, offset + limit - 1, "WITHSCORES");
      const out: Array<{ siteKey: string; generatedAt: string }> = [];
      for (let i = 0; i + 1 < flat.length; i += 2)
        out.push({ siteKey: flat[i] as string, generatedAt: new Date(Number(flat[i + 1])).toISOString() });
      return out;
    },

    async remove(siteKey) {
      const [[, deleted] = [null, 0]] =
        (await redis.multi().del(keys.latest(siteKey), keys.versions(siteKey)).zrem(keys.sites, siteKey).exec()) ?? [];
      return Number(deleted) > 0;
    },
  };
}
