/*
 * sitemap.xml and sitemap indexes (sitemaps.org), plain or gzip (by .gz name or by the gzip magic
 * bytes, whatever the Content-Type). Everything is bounded, because a sitemap is input we don't
 * control: index depth, number of sitemap files, bytes per file (compressed and uncompressed),
 * number of URLs kept. Files are scanned as they download (sitemapScanner.ts, one linear pass) and
 * the download stops once enough URLs are kept: a 50 MB sitemap for a 20-page crawl costs the
 * first few hundred KB, not 50 MB in memory.
 *
 * Sources: the robots.txt `Sitemap:` lines; without any, /sitemap.xml at the origin and, for a site
 * under a prefix, <prefix>sitemap.xml. Only sitemaps on the site's own origin are read (a sitemap
 * elsewhere would make us fetch a host the user never named), and robots.txt rules apply to them.
 */
import { TextDecoder } from "node:util";
import zlib from "node:zlib";
import { coerceError } from "../../lib/coerceError";
import { isLtxError } from "../../lib/errors";
import { fetchRaw, type FetchOptions } from "./fetch";
import { type LocKind, SitemapScanner } from "./sitemapScanner";
import type { RobotsRules } from "./robots";
import type { FetchSettings, Site } from "../types";

export interface SitemapLimits {
  /** Sitemap files read at most (indexes included). */
  maxFiles: number;
  /** Index nesting followed at most (an index of indexes of sitemaps = 2). */
  maxDepth: number;
  /**
   * Bytes per sitemap file, after decompression (the protocol's own limit is 50 MB). Default:
   * 2 KB per URL still wanted, at least the page cap (PAGE_MAX_BYTES), at most 50 MB.
   */
  maxBytes: number;
  /** Page URLs returned at most (after `accept`). */
  maxUrls: number;
}

export const DEFAULT_SITEMAP_LIMITS: Omit<SitemapLimits, "maxBytes"> = {
  maxFiles: 50,
  maxDepth: 3,
  maxUrls: 50_000,
};
const PROTOCOL_MAX_BYTES = 50 * 1024 * 1024;
/** An entry with lastmod, changefreq and priority is ~200 bytes; image and news entries more. */
const BYTES_PER_URL = 2048;

export interface SitemapResult {
  /** Page URLs in sitemap order, as written (the caller normalises), accepted and de-duplicated. */
  urls: string[];
  /** Sitemap files read successfully. */
  files: string[];
  warnings: string[];
}

export interface SitemapOptions extends Pick<FetchOptions, "signal" | "agents" | "budget"> {
  limits?: Partial<SitemapLimits>;
  /** Keeps only the page URLs the crawl can use (scope, patterns, robots). */
  accept?: (url: string) => boolean;
  /** Wraps each request (the crawl passes its HostLimiter, so Crawl-delay covers sitemaps too). */
  schedule?: <T>(fn: () => Promise<T>) => Promise<T>;
}

export { parseSitemap } from "./sitemapScanner";

function isGzip(b: Buffer): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/**
 * One sitemap body, fed chunk by chunk: plain XML goes straight to the scanner; a gzip file (told
 * by its magic bytes, whatever the headers say) goes through a streaming gunzip first, whose output
 * is capped at maxBytes, so a gzip bomb stops there.
 */
class SitemapBody {
  private readonly text = new TextDecoder("utf-8");
  private readonly scanner: SitemapScanner;
  private gunzip: zlib.Gunzip | undefined;
  private gunzipDone: Promise<void> | undefined;
  private head: Buffer | undefined;
  private decoded = 0;
  truncated = false;
  error: Error | undefined;

  constructor(
    private readonly maxBytes: number,
    onLoc: (kind: LocKind, value: string) => void,
    private readonly wantMore: () => boolean,
  ) {
    this.scanner = new SitemapScanner(onLoc);
  }

  /** Returns false once no more bytes are wanted (enough URLs, or over maxBytes). */
  write(chunk: Buffer): boolean {
    if (this.gunzip === undefined && this.head === undefined && chunk.length < 2) {
      this.head = chunk; // too short to tell gzip from XML yet
      return true;
    }
    if (this.head !== undefined) {
      chunk = Buffer.concat([this.head, chunk]);
      this.head = undefined;
      if (this.gunzip === undefined && isGzip(chunk)) this.startGunzip();
    } else if (this.gunzip === undefined && this.decoded === 0 && isGzip(chunk)) this.startGunzip();
    if (this.gunzip) this.gunzip.write(chunk);
    else this.scan(chunk);
    return this.wantMore() && !this.truncated && this.error === undefined;
  }

  /** Flushes what is left; resolves once a gunzip stream has drained. */
  async end(): Promise<void> {
    if (this.head !== undefined) this.scan(this.head);
    if (this.gunzip) {
      this.gunzip.end();
      await this.gunzipDone;
    }
    this.scanner.feed(this.text.decode());
  }

  private scan(bytes: Buffer): void {
    if (this.truncated || !this.wantMore()) return;
    let piece = bytes;
    if (this.decoded + bytes.length > this.maxBytes) {
      piece = bytes.subarray(0, this.maxBytes - this.decoded);
      this.truncated = true;
    }
    this.decoded += piece.length;
    this.scanner.feed(this.text.decode(piece, { stream: true }));
  }

  private startGunzip(): void {
    // Z_SYNC_FLUSH: a file cut at the byte cap (or by us) ends without an error.
    const gunzip = zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
    this.gunzip = gunzip;
    this.gunzipDone = new Promise<void>((resolve) => {
      gunzip.on("data", (out: Buffer) => {
        this.scan(out);
        if (this.truncated || !this.wantMore()) {
          gunzip.destroy();
          resolve();
        }
      });
      gunzip.once("end", resolve);
      gunzip.once("close", resolve);
      gunzip.once("error", (e) => {
        this.error = coerceError(e);
        resolve();
      });
    });
  }
}

/** The sitemap URLs to start from: robots.txt's, else the conventional places. */
export function sitemapSources(site: Site, robots: RobotsRules): string[] {
  const sameOrigin = (u: string): boolean => {
    try {
      return new URL(u).origin === site.origin;
    } catch {
      return false;
    }
  };
  const listed = robots.sitemaps.filter(sameOrigin);
  if (listed.length > 0) return [...new Set(listed)];
  const conventional = [new URL("/sitemap.xml", site.origin).toString()];
  if (site.prefix !== "/") conventional.push(new URL(`${site.prefix}sitemap.xml`, site.origin).toString());
  return conventional;
}

/**
 * Reads the site's sitemaps breadth-first. A missing sitemap (404) is normal and silent; other
 * failures become warnings, never errors: a crawl without a sitemap still works.
 */
export async function readSitemaps(
  site: Site,
  robots: RobotsRules,
  settings: FetchSettings,
  opts: SitemapOptions = {},
): Promise<SitemapResult> {
  const maxUrls = opts.limits?.maxUrls ?? DEFAULT_SITEMAP_LIMITS.maxUrls;
  const limits: SitemapLimits = {
    ...DEFAULT_SITEMAP_LIMITS,
    maxBytes: Math.min(PROTOCOL_MAX_BYTES, Math.max(settings.maxBytes, maxUrls * BYTES_PER_URL)),
    ...opts.limits,
  };
  const schedule = opts.schedule ?? (<T>(fn: () => Promise<T>) => fn());
  const result: SitemapResult = { urls: [], files: [], warnings: [] };
  const seenFiles = new Set<string>();
  const seenUrls = new Set<string>();
  let queue = sitemapSources(site, robots).map((url) => ({ url, depth: 0 }));
  let fetched = 0;
  while (queue.length > 0) {
    const next: typeof queue = [];
    for (const { url, depth } of queue) {
      if (seenFiles.has(url) || !robots.allowed(url)) continue;
      seenFiles.add(url);
      if (fetched >= limits.maxFiles) {
        result.warnings.push(`sitemaps: stopped after ${limits.maxFiles} files`);
        return result;
      }
      fetched++;
      const children: string[] = [];
      const ok = await readOne(url, settings, opts, limits.maxBytes, schedule, result.warnings, {
        wantMore: () => result.urls.length < limits.maxUrls,
        onLoc: (kind, value) => {
          if (kind === "sitemap") {
            if (children.length < limits.maxFiles) children.push(value);
            return;
          }
          if (result.urls.length >= limits.maxUrls || seenUrls.has(value) || (opts.accept && !opts.accept(value)))
            return;
          seenUrls.add(value);
          result.urls.push(value);
        },
      });
      if (!ok) continue;
      result.files.push(url);
      if (result.urls.length >= limits.maxUrls) {
        result.warnings.push(`sitemaps: kept the first ${limits.maxUrls} URLs`);
        return result;
      }
      for (const child of children) {
        let abs: string;
        try {
          abs = new URL(child, url).toString();
        } catch {
          continue;
        }
        if (new URL(abs).origin !== site.origin) continue;
        if (depth + 1 > limits.maxDepth)
          result.warnings.push(`sitemaps: ${abs} is nested deeper than ${limits.maxDepth} indexes; not read`);
        else next.push({ url: abs, depth: depth + 1 });
      }
    }
    queue = next;
  }
  return result;
}

/** Reads one sitemap file into sink.onLoc; false when it was missing or unreadable (a warning says why). */
async function readOne(
  url: string,
  settings: FetchSettings,
  opts: SitemapOptions,
  maxBytes: number,
  schedule: <T>(fn: () => Promise<T>) => Promise<T>,
  warnings: string[],
  sink: { onLoc: (kind: LocKind, value: string) => void; wantMore: () => boolean },
): Promise<boolean> {
  let body: SitemapBody | undefined;
  try {
    const raw = await schedule(() => {
      // A fresh body per attempt: a retry starts the document again (kept URLs are de-duplicated).
      body = new SitemapBody(maxBytes, sink.onLoc, sink.wantMore);
      const b = body;
      return fetchRaw(url, settings, {
        signal: opts.signal,
        agents: opts.agents,
        budget: opts.budget,
        accept: "application/xml,text/xml,*/*;q=0.5",
        maxBytes,
        onChunk: (chunk) => b.write(chunk),
      });
    });
    if (raw.status === 404 || raw.status === 410) return false;
    if (raw.status < 200 || raw.status >= 300) {
      warnings.push(`sitemap ${url}: HTTP ${raw.status}`);
      return false;
    }
    const b = body;
    if (!b) return false;
    await b.end();
    if (b.error) throw b.error;
    // Stopping because enough URLs were kept is no truncation worth a warning.
    if ((raw.truncated || b.truncated) && sink.wantMore())
      warnings.push(`sitemap ${url}: larger than ${maxBytes} bytes; read the first part only`);
    return true;
  } catch (e) {
    const err = coerceError(e);
    if (isLtxError(err) && (err.code === "ABORTED" || err.code === "BLOCKED_ADDRESS")) throw err;
    warnings.push(`sitemap ${url}: ${err.message}`);
    return false;
  }
}
