/*
 * The types of one crawl: its options and result (the public face of crawl.ts) and the state that
 * crawl.ts and crawlPage.ts share while it runs.
 */
import type { Logger } from "../../lib/logger";
import type { ByteBudget } from "../fetch/byteBudget";
import type { RobotsRules } from "../fetch/robots";
import type { UrlPatterns } from "../urlPatterns";
import type { PageQueue } from "./pageQueue";
import type { SiteLanguage } from "./language";

export type { PageWork } from "./pageQueue";
import type { CrawlLimits, Extractor, FetchSettings, Page, PageRecord, PreviousRun, Progress, Site } from "../types";

export interface CrawlOptions {
  limits: CrawlLimits;
  fetch: FetchSettings;
  extractor: Extractor;
  /** Total bytes this crawl may fetch (default DEFAULT_JOB_MAX_BYTES): see fetch/byteBudget.ts. */
  jobMaxBytes?: number;
  previous?: PreviousRun;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  logger?: Logger;
}

export interface CrawlResult {
  /** The site as crawled: moved to the start page's final origin/prefix if it redirected, same key. */
  site: Site;
  /** Kept pages in discovery order, the start page first. */
  pages: Page[];
  /** Every URL looked at, kept or skipped, in discovery order. */
  records: PageRecord[];
  warnings: string[];
  /** Pages taken from previous.content (304 or same hash) without extracting again. */
  reusedCount: number;
  /** False iff the kept page set equals the previous one and every page was reused. */
  changed: boolean;
}

/** Shared state of one crawl; crawlPage.ts reads and updates it. */
export interface CrawlState {
  site: Site;
  robots: RobotsRules;
  opts: CrawlOptions;
  /** include/exclude, compiled once for the crawl. */
  patterns: UrlPatterns;
  seen: Set<string>;
  done: Set<string>;
  queue: PageQueue;
  /** Row order: discovery order (seq), whatever order concurrent fetches finish in. */
  records: { seq: number; record: PageRecord }[];
  pages: { seq: number; page: Page }[];
  keptByUrl: Map<string, Page>;
  keptByHash: Map<string, string>;
  /** The previous run's rows by URL (the first row with a hash wins), for reuse decisions. */
  prevRecords: Map<string, PageRecord>;
  followLinks: boolean;
  /** The start page's language, and which URLs and pages are in another (language.ts). */
  language: SiteLanguage;
  /**
   * Ask with If-None-Match / If-Modified-Since: only when a sitemap names the URLs too, since a
   * 304 has no body whose links could be walked (the previous copy's links stand in, if kept).
   */
  conditional: boolean;
  warnings: string[];
  /** attempts: page fetches started (the cap); disallowed: robots rows; dropped: URLs not queued (frontier full). */
  counts: {
    fetched: number;
    extracted: number;
    reused: number;
    seq: number;
    attempts: number;
    disallowed: number;
    otherLanguage: number;
    dropped: number;
  };
  caps: { maxAttempts: number };
  /** The job's byte budget, shared by every request of the crawl. */
  budget: ByteBudget;
}
