/**
 * Generated files per site: the latest llms.txt, llms-full.txt and their metadata, plus a capped
 * history of earlier versions. Given a Redis client and a FileStore, never makes them (the root does).
 *
 * Where things live: every version's files (llms.txt, llms-full.txt, page records, page content)
 * are in the FileStore, gzip'd, under keys of their own save (versionFiles.ts). Redis keeps a
 * small record per site whatever its page count: the metadata without page records, ETags,
 * sizes, the quality summary, and for each kept version which save holds its files.
 *
 * Atomicity: a save writes its files under new keys first, then one Lua script (SAVE_SCRIPT)
 * points the metadata at them. A reader sees the old version or the new one, never a mix; a crash
 * between the two leaves files nothing points at, which the orphan sweep removes.
 */
import type { Readable } from "node:stream";
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
import { coerceError } from "../lib/coerceError";
import { FileStoreError } from "../lib/errors";
import { newSaveId } from "./files/fileKeys";
import type { FileStore } from "./files/fileStore";
import { storeKeys } from "./keys";
import { CHECKED_SCRIPT, SAVE_SCRIPT } from "./resultScripts";
import { etagOf, type VersionFiles, versionFileIo } from "./versionFiles";

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

export type SiteFileName = "llms.txt" | "llms-full.txt";

/** A file's validators (strong ETag of the body; Last-Modified = generatedAt). */
export interface FileValidators {
  etag: string;
  /** An HTTP date (toUTCString). */
  lastModified: string;
}

/** A whole file read back as text (the worker, tests). */
export interface StoredFile extends FileValidators {
  body: string;
}

/** Where the latest version of a file is, to stream it: sizes plain and gzip'd. */
export interface FileRef extends FileValidators {
  siteKey: string;
  name: SiteFileName;
  files: VersionFiles;
  bytes: number;
  gzipBytes: number;
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

/** What Redis keeps per version: the summary and where its files are. */
export interface VersionEntry extends Omit<VersionSummary, "version"> {
  files: VersionFiles;
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
  /** The latest file's validators and location (one Redis read, no file read). */
  getFile(siteKey: string, name: SiteFileName): Promise<FileRef | null>;
  /** The stored gzip bytes of a file; null when it is gone (a newer save pruned it: ask getFile again). */
  openFile(ref: FileRef): Promise<Readable | null>;
  /** The latest file, whole, as text. */
  readFile(siteKey: string, name: SiteFileName): Promise<StoredFile | null>;
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
  /** Deletes a site's metadata, history and files. true when there was something to delete. */
  remove(siteKey: string): Promise<boolean>;
}

export interface ResultStoreOptions {
  prefix: string;
  /** Versions kept per site, the latest included (MAX_VERSIONS_PER_SITE). */
  maxVersions: number;
  files: FileStore;
}

/** The metadata as Redis holds it: page records are a file of the version. */
export type StoredMeta = Omit<SiteMeta, "version" | "checkedAt" | "checkedByJobId" | "pages">;

const LATEST_FIELDS = ["meta", "version", "checkedAt", "checkedBy", "files"] as const;
type LatestRaw = Record<(typeof LATEST_FIELDS)[number], string | null>;

/** A reader that finds a file gone (pruned by a newer save) reads the metadata again this often. */
const READ_TRIES = 3;

export { etagOf };

export async function encodeVersionEntry(entry: VersionEntry): Promise<Buffer> {
  return gzip(JSON.stringify(entry));
}

export async function decodeVersionEntry(gz: Buffer): Promise<VersionEntry> {
  return JSON.parse((await gunzip(gz)).toString("utf8")) as VersionEntry;
}

interface Latest {
  meta: Omit<SiteMeta, "pages">;
  files: VersionFiles;
}

export function createResultStore(redis: Redis, opts: ResultStoreOptions): ResultStore {
  const keys = storeKeys(opts.prefix);
  const io = versionFileIo(opts.files, opts.prefix);

  async function readLatest(siteKey: string): Promise<Latest | null> {
    const values = await redis.hmget(keys.latest(siteKey), ...LATEST_FIELDS);
    const raw = Object.fromEntries(LATEST_FIELDS.map((f, i) => [f, values[i] ?? null])) as LatestRaw;
    if (raw.meta === null || raw.version === null || raw.files === null) return null;
    const stored = JSON.parse(raw.meta) as StoredMeta;
    return {
      meta: {
        ...stored,
        version: Number(raw.version),
        checkedAt: raw.checkedAt ?? stored.generatedAt,
        checkedByJobId: raw.checkedBy ?? stored.jobId,
      },
      files: JSON.parse(raw.files) as VersionFiles,
    };
  }

  /**
   * Reads the latest metadata, then files of it with `read`; when a file is gone (a newer save
   * pruned it between the two reads) starts again from the newer metadata.
   */
  async function withLatest<T>(siteKey: string, read: (l: Latest) => Promise<T | null>): Promise<T | null> {
    for (let i = 0; i < READ_TRIES; i++) {
      const latest = await readLatest(siteKey);
      if (!latest) return null;
      const out = await read(latest);
      if (out !== null) return out;
    }
    return null;
  }

  async function readPages(siteKey: string, files: VersionFiles): Promise<PageRecord[] | null> {
    const raw = await io.read(siteKey, files, "pages.json");
    return raw === null ? null : (JSON.parse(raw) as PageRecord[]);
  }

  async function getMeta(siteKey: string): Promise<SiteMeta | null> {
    return withLatest(siteKey, async ({ meta, files }) => {
      const pages = await readPages(siteKey, files);
      return pages === null ? null : { ...meta, pages };
    });
  }

  async function readVersions(siteKey: string): Promise<Array<VersionEntry & { version: number }>> {
    const all = await redis.hgetallBuffer(keys.versions(siteKey));
    const out: Array<VersionEntry & { version: number }> = [];
    for (const [field, gz] of Object.entries(all))
      out.push({ ...(await decodeVersionEntry(gz)), version: Number(field) });
    return out.sort((a, b) => b.version - a.version);
  }

  async function fileRef(siteKey: string, name: SiteFileName): Promise<FileRef | null> {
    // Validators and sizes come with the location, never from separate fields: one consistent set.
    const [files, lastModified] = await redis.hmget(keys.latest(siteKey), "files", "lastModified");
    if (files == null || lastModified == null) return null;
    const v = JSON.parse(files) as VersionFiles;
    const gzipBytes = v.stored[name];
    const plain = v.plain?.[name];
    if (gzipBytes === undefined || plain === undefined) return null;
    return { siteKey, name, etag: plain.etag, lastModified, files: v, bytes: plain.bytes, gzipBytes };
  }

  return {
    async save(input) {
      const { result } = input;
      const generatedAtMs = Date.parse(result.generatedAt);
      const atMs = Number.isFinite(generatedAtMs) ? generatedAtMs : Date.now();
      const meta: StoredMeta = {
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
        files: {
          "llms.txt": { bytes: Buffer.byteLength(result.llmsTxt), etag: etagOf(result.llmsTxt) },
          "llms-full.txt": { bytes: Buffer.byteLength(result.llmsFullTxt), etag: etagOf(result.llmsFullTxt) },
        },
      };
      // 1. The files, under keys nothing points at yet.
      const files = await io.write(input.siteKey, newSaveId(atMs), {
        "llms.txt": result.llmsTxt,
        "llms-full.txt": result.llmsFullTxt,
        "pages.json": JSON.stringify(result.pages),
        ...(input.content ? { "content.json": JSON.stringify(input.content) } : {}),
      });
      const entry: VersionEntry = {
        jobId: input.jobId,
        generatedAt: result.generatedAt,
        provider: result.provider,
        model: result.model,
        fallback: result.fallback,
        pagesIncluded: result.pages.filter((p) => p.skipReason === undefined).length,
        bytes: meta.files["llms.txt"].bytes,
        etag: meta.files["llms.txt"].etag,
        quality: result.quality,
        ...(input.changes ? { changes: input.changes } : {}),
        files,
      };
      const fields: string[] = [
        "lastModified",
        new Date(atMs).toUTCString(),
        "meta",
        JSON.stringify(meta),
        "files",
        JSON.stringify(files),
        "checkedAt",
        result.generatedAt,
        "checkedBy",
        input.jobId,
        // Apart from meta so a list of websites reads only this.
        "quality",
        JSON.stringify(result.quality),
      ];
      // 2. One script switches the metadata and trims the history.
      const reply = (await redis.callBuffer(
        "EVAL",
        SAVE_SCRIPT,
        3,
        keys.latest(input.siteKey),
        keys.versions(input.siteKey),
        keys.sites,
        String(opts.maxVersions),
        input.siteKey,
        String(atMs),
        await encodeVersionEntry(entry),
        ...fields,
      )) as [number, ...Buffer[]];
      const [version, ...removed] = reply;
      // 3. The trimmed versions' files. A failure here only leaves orphans for the sweep.
      const gone = await Promise.all(removed.map(async (gz) => (await decodeVersionEntry(gz)).files));
      await io.remove(input.siteKey, gone).catch(() => undefined);
      return {
        version: Number(version),
        meta: {
          ...meta,
          pages: result.pages,
          version: Number(version),
          checkedAt: result.generatedAt,
          checkedByJobId: input.jobId,
        },
      };
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
      return withLatest(siteKey, async ({ meta, files }) => {
        const [pages, llmsTxt, llmsFullTxt] = await Promise.all([
          readPages(siteKey, files),
          io.read(siteKey, files, "llms.txt"),
          io.read(siteKey, files, "llms-full.txt"),
        ]);
        if (pages === null || llmsTxt === null || llmsFullTxt === null) return null;
        return { meta: { ...meta, pages }, llmsTxt, llmsFullTxt };
      });
    },

    getFile: fileRef,

    async openFile(ref) {
      try {
        return await opts.files.get(io.keys.file(ref.siteKey, ref.files.saveId, ref.name));
      } catch (e) {
        const err = coerceError(e);
        throw new FileStoreError(`reading ${ref.siteKey}'s ${ref.name} failed: ${err.message}`, { cause: err });
      }
    },

    async readFile(siteKey, name) {
      for (let i = 0; i < READ_TRIES; i++) {
        const ref = await fileRef(siteKey, name);
        if (!ref) return null;
        const body = await io.read(siteKey, ref.files, name);
        if (body !== null) return { body, etag: ref.etag, lastModified: ref.lastModified };
      }
      return null;
    },

    getMeta,

    async listVersions(siteKey) {
      return (await readVersions(siteKey)).map(({ files: _omit, ...summary }) => summary);
    },

    async getVersion(siteKey, version) {
      const gz = await redis.hgetBuffer(keys.versions(siteKey), String(version));
      if (!gz) return null;
      const { files, ...entry } = await decodeVersionEntry(gz);
      const llmsTxt = await io.read(siteKey, files, "llms.txt");
      return llmsTxt === null ? null : { ...entry, version, llmsTxt };
    },

    async getPreviousRun(siteKey) {
      const latest = await readLatest(siteKey);
      if (!latest) return undefined;
      const { files } = latest;
      const [pages, llmsTxt, llmsFullTxt, content] = await Promise.all([
        readPages(siteKey, files),
        io.read(siteKey, files, "llms.txt"),
        io.read(siteKey, files, "llms-full.txt"),
        io.read(siteKey, files, "content.json"),
      ]);
      // Pruned under us: a run without a previous one only costs a full re-extraction.
      if (pages === null) return undefined;
      const previous: PreviousRun = { pages };
      if (llmsTxt !== null) previous.llmsTxt = llmsTxt;
      if (llmsFullTxt !== null) previous.llmsFullTxt = llmsFullTxt;
      if (content !== null) {
        const list = JSON.parse(content) as Page[];
        previous.content = new Map(list.map((p) => [p.url, p]));
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
      // Metadata first: it must never point at a deleted file. Files a crash leaves are orphans.
      const [[, deleted] = [null, 0]] =
        (await redis.multi().del(keys.latest(siteKey), keys.versions(siteKey)).zrem(keys.sites, siteKey).exec()) ?? [];
      const doomed: string[] = [];
      for await (const f of opts.files.list(io.keys.site(siteKey))) doomed.push(f.key);
      if (doomed.length > 0) await opts.files.delete(doomed);
      return Number(deleted) > 0 || doomed.length > 0;
    },
  };
}
