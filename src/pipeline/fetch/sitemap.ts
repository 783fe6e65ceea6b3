/*
 * sitemap.xml and sitemap indexes (sitemaps.org), plain or gzip (by .gz name or by the gzip magic
 * bytes, whatever the Content-Type). Everything is bounded, because a sitemap is input we don't
 * control: index depth, number of sitemap files, bytes per file (compressed and uncompressed),
 * number of URLs kept.
 *
 * Sources: the robots.txt `Sitemap:` lines; without any, /sitemap.xml at the origin and, for a site
 * under a prefix, <prefix>sitemap.xml. Only sitemaps on the site's own origin are read (a sitemap
 * elsewhere would make us fetch a host the user never named), and robots.txt rules apply to them.
 */
import zlib from "node:zlib";
import { coerceError } from "../../lib/coerceError";
import { isLtxError } from "../../lib/errors";
import { fetchRaw, type FetchOptions } from "./fetch";
import type { RobotsRules } from "./robots";
import type { FetchSettings, Site } from "../types";

export interface SitemapLimits {
  /** Sitemap files read at most (indexes included). */
  maxFiles: number;
  /** Index nesting followed at most (an index of indexes of sitemaps = 2). */
  maxDepth: number;
  /** Bytes per sitemap file, after decompression (the protocol's own limit is 50 MB). */
  maxBytes: number;
  /** Page URLs returned at most (after `accept`). */
  maxUrls: number;
}

export const DEFAULT_SITEMAP_LIMITS: SitemapLimits = {
  maxFiles: 50,
  maxDepth: 3,
  maxBytes: 50 * 1024 * 1024,
  maxUrls: 50_000,
};

export interface SitemapResult {
  /** Page URLs in sitemap order, as written (the caller normalises), accepted and de-duplicated. */
  urls: string[];
  /** Sitemap files read successfully. */
  files: string[];
  warnings: string[];
}

export interface SitemapOptions extends Pick<FetchOptions, "signal" | "agents"> {
  limits?: Partial<SitemapLimits>;
  /** Keeps only the page URLs the crawl can use (scope, patterns, robots). */
  accept?: (url: string) => boolean;
  /** Wraps each request (the crawl passes its HostLimiter, so Crawl-delay covers sitemaps too). */
  schedule?: <T>(fn: () => Promise<T>) => Promise<T>;
}

/** `<loc>` values of one sitemap document, split into child sitemaps (an index) and pages. */
export function parseSitemap(xml: string): { sitemaps: string[]; urls: string[] } {
  const sitemaps: string[] = [];
  const urls: string[] = [];
  // Namespace prefixes (<sm:loc>) occur in the wild; CDATA and entities in <loc> too.
  const entry = /<(?:[\w-]+:)?(sitemap|url)\b[^>]*>([\s\S]*?)<\/(?:[\w-]+:)?\1\s*>/gi;
  for (const m of xml.matchAll(entry)) {
    const loc = /<(?:[\w-]+:)?loc\b[^>]*>([\s\S]*?)<\/(?:[\w-]+:)?loc\s*>/i.exec(m[2] ?? "")?.[1];
    if (loc === undefined) continue;
    const value = decodeXmlText(loc);
    if (value === "") continue;
    (m[1]?.toLowerCase() === "sitemap" ? sitemaps : urls).push(value);
  }
  return { sitemaps, urls };
}

function decodeXmlText(s: string): string {
  const cdata = /^\s*<!\[CDATA\[([\s\S]*?)\]\]>\s*$/.exec(s);
  if (cdata) return (cdata[1] ?? "").trim();
  return s.trim().replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);/gi, (all, name: string) => {
    const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
    const lower = name.toLowerCase();
    if (named[lower] !== undefined) return named[lower];
    const code = lower.startsWith("#x") ? parseInt(lower.slice(2), 16) : parseInt(lower.slice(1), 10);
    return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : all;
  });
}

function isGzip(b: Buffer): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
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
  const limits = { ...DEFAULT_SITEMAP_LIMITS, ...opts.limits };
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
      const doc = await readOne(url, settings, opts, limits.maxBytes, schedule, result.warnings);
      if (!doc) continue;
      result.files.push(url);
      for (const child of doc.sitemaps) {
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
      for (const page of doc.urls) {
        if (seenUrls.has(page) || (opts.accept && !opts.accept(page))) continue;
        seenUrls.add(page);
        result.urls.push(page);
        if (result.urls.length >= limits.maxUrls) {
          result.warnings.push(`sitemaps: kept the first ${limits.maxUrls} URLs`);
          return result;
        }
      }
    }
    queue = next;
  }
  return result;
}

async function readOne(
  url: string,
  settings: FetchSettings,
  opts: SitemapOptions,
  maxBytes: number,
  schedule: <T>(fn: () => Promise<T>) => Promise<T>,
  warnings: string[],
): Promise<{ sitemaps: string[]; urls: string[] } | undefined> {
  try {
    const raw = await schedule(() =>
      fetchRaw(url, settings, {
        signal: opts.signal,
        agents: opts.agents,
        accept: "application/xml,text/xml,*/*;q=0.5",
        maxBytes,
      }),
    );
    if (raw.status === 404 || raw.status === 410) return undefined;
    if (raw.status < 200 || raw.status >= 300) {
      warnings.push(`sitemap ${url}: HTTP ${raw.status}`);
      return undefined;
    }
    let bytes = raw.buffer;
    if (isGzip(bytes)) {
      // maxOutputLength bounds a gzip bomb; Z_SYNC_FLUSH accepts a file cut at the byte cap.
      bytes = zlib.gunzipSync(bytes, { maxOutputLength: maxBytes, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    }
    if (raw.truncated) warnings.push(`sitemap ${url}: larger than ${maxBytes} bytes; read the first part only`);
    return parseSitemap(bytes.toString("utf8"));
  } catch (e) {
    const err = coerceError(e);
    if (isLtxError(err) && (err.code === "ABORTED" || err.code === "BLOCKED_ADDRESS")) throw err;
    warnings.push(`sitemap ${url}: ${err.message}`);
    return undefined;
  }
}
