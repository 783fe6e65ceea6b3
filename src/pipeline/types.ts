/*
 * The pipeline's vocabulary. Every stage module imports its input/output types from here, so the
 * stages (and the queues, workers and API that call runPipeline) agree on one shape.
 *
 * site:  an origin plus an optional path prefix whose llms.txt we keep
 * page:  one URL of a site, fetched and (if readable) extracted to markdown
 * doc:   the structured content of an llms.txt (title, summary, sections of links)
 */
import type { Logger } from "../lib/logger";

/** A site is an origin plus a path prefix; the crawl never leaves it. */
export interface Site {
  /** "https://docs.example.com" — scheme, host, and the port only when not the default. */
  origin: string;
  /** "/" or a prefix ending in "/", e.g. "/docs/". */
  prefix: string;
  /** The normalised start URL. */
  startUrl: string;
  /** Where the files are served: "docs.example.com", "127.0.0.1:8080", "example.com/docs". */
  key: string;
}

export type Phase = "discover" | "fetch" | "extract" | "generate" | "validate" | "compose" | "done";

export interface Progress {
  phase: Phase;
  pagesDiscovered: number;
  pagesFetched: number;
  pagesExtracted: number;
  /** Best current estimate of the pages this run will process (min(discovered, maxPages)). */
  pagesTotal: number;
  message?: string;
}

/** What fetchPage returns for one URL. */
export interface FetchedPage {
  url: string;
  finalUrl: string;
  status: number;
  contentType: string;
  etag?: string;
  lastModified?: string;
  /** sha256 hex of the body bytes that were read. */
  hash: string;
  body: string;
  bytes: number;
  /** The body was longer than the byte cap; the rest was not read. */
  truncated: boolean;
  /** A conditional request answered 304: body is empty, reuse the previous extraction. */
  notModified?: boolean;
}

export interface Heading {
  level: number;
  text: string;
  /** The fragment that lands on it (`page.html#id`): its id, or the name/id of an anchor in or just before it. */
  id?: string;
}

/** What the extractor returns for one page body. */
export interface ExtractedPage {
  title: string;
  description: string;
  headings: Heading[];
  lang?: string;
  markdown: string;
  /** Characters of readable text (markdown without syntax); near 0 for JavaScript shells. */
  textLength: number;
  /** Absolute hrefs found on the page (not yet normalised or scoped). */
  links: string[];
  canonical?: string;
  /** The page is a <frameset>: its content is in its frames' pages (links[] starts with them). */
  frameset?: true;
  /** `<link rel=alternate hreflang=… href=…>`: the page in other languages (hrefs absolute). */
  alternates?: { hreflang: string; href: string }[];
  /** The site's own name for itself (og:site_name, application-name), when the page gives one. */
  siteName?: string;
}

export interface ExtractInput {
  url: string;
  body: string;
  contentType: string;
}

/** Turns page bodies into ExtractedPage, off the main thread. */
export interface Extractor {
  extract(input: ExtractInput, signal?: AbortSignal): Promise<ExtractedPage>;
  close(): Promise<void>;
}

/** Why a looked-at URL is not among the pages (PageRecord.skipCode). */
export type SkipCode =
  | "robots-disallowed"
  | "redirect"
  | "fetch-failed"
  | "http-status"
  | "not-modified-unknown"
  | "content-type"
  | "same-content"
  | "duplicate-canonical"
  | "under-canonical"
  | "extraction-failed"
  | "internal-error"
  | "frameset"
  | "other-language";

/** One row of the result's page table: every URL the run looked at, kept or skipped. */
export interface PageRecord {
  url: string;
  status: number | null;
  depth: number;
  title?: string;
  description?: string;
  /** Why the page is not in the files ("robots.txt disallows", "content-type image/png", …). */
  skipReason?: string;
  /** The same, as a stable code a program branches on (skipReason is its detail, for people). */
  skipCode?: SkipCode;
  /** The URL a skipped row points to: a redirect's target, the page it duplicates, its canonical URL. */
  skipTarget?: string;
  hash?: string;
  etag?: string;
  lastModified?: string;
  bytes?: number;
  /** Readable text is near-empty (a JavaScript-rendered shell). */
  thin?: boolean;
}

/** A page that made it into the files, with its content. */
export interface Page extends PageRecord {
  title: string;
  description: string;
  headings: Heading[];
  lang?: string;
  /** og:site_name or application-name, when the page gives one. */
  siteName?: string;
  markdown: string;
  textLength: number;
  /**
   * The page's links to other pages of the site (normalised, in scope, in page order): the site's
   * navigation, which the extractive provider reads to section flat sites. Set by the crawl for
   * this run only; runPipeline's `content` leaves it out, so stored pages don't carry it.
   */
  links?: string[];
}

export interface CrawlLimits {
  maxPages: number;
  maxDepth: number;
  /** URL patterns (globs with * or regexes written /…/) a page must match, if any are given. */
  include: string[];
  exclude: string[];
}

/**
 * Called with every address a hostname resolves to, at connect time (and for IP literals), for
 * the first request and every redirect. Throws BlockedAddressError to refuse. Unset: no guard.
 */
export type AddressPolicy = (address: string, hostname: string) => void;

export interface FetchSettings {
  userAgent: string;
  connectTimeoutMs: number;
  timeoutMs: number;
  /** Bytes read per page at most; the rest is not read. */
  maxBytes: number;
  maxRedirects: number;
  perHostConcurrency: number;
  /** Transient errors (5xx, resets, timeouts) are retried this many times. */
  retries: number;
  acceptInvalidCerts: boolean;
  addressPolicy?: AddressPolicy;
}

export interface LlmsLink {
  title: string;
  url: string;
  notes?: string;
}

export interface LlmsSection {
  name: string;
  links: LlmsLink[];
}

/** The structured content of an llms.txt. A section named "Optional" holds secondary pages. */
export interface LlmsDoc {
  title: string;
  summary?: string;
  details?: string;
  sections: LlmsSection[];
}

export interface ValidationIssue {
  line?: number;
  code: string;
  message: string;
}

/** The quality lint's defect classes (validate/quality/): one warning code each. */
export const WARNING_CODES = [
  "generic-title",
  "unusable-summary",
  "missing-notes",
  "navigation-note",
  "repeated-note",
  "shared-affix",
  "slug-section",
  "mixed-language",
  "generated-listing",
  "duplicate-link",
] as const;

export type WarningCode = (typeof WARNING_CODES)[number];

/** One defect class found in a file, with how many parts it touches and the first few lines. */
export interface QualityWarning {
  code: WarningCode;
  message: string;
  /** Parts of the file with this defect: links for link classes, 1 for the title or summary. */
  count: number;
  /** The first lines where it shows (at most 5). */
  lines: number[];
}

/** What the checker says of a generated llms.txt, kept with its version: small by design. */
export interface QualityReport {
  /** 0–100: 100 without warnings. */
  score: number;
  /** Share (0–1) of links with a note. */
  notesShare: number;
  links: number;
  primaryLinks: number;
  sections: number;
  primarySections: number;
  warnings: QualityWarning[];
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  requests: number;
}

export type { ProviderName } from "../lib/providers";
import type { ProviderName } from "../lib/providers";

export interface GenerateInput {
  site: Site;
  /** Included pages, the start page first. */
  pages: Page[];
  /** Problems the validator found in the previous answer, to be fixed in this one. */
  feedback?: ValidationIssue[];
  signal?: AbortSignal;
}

export interface GenerateOutput {
  doc: LlmsDoc;
  usage: TokenUsage;
  model: string | null;
  warnings?: string[];
}

export interface Provider {
  readonly name: ProviderName;
  readonly model: string | null;
  generate(input: GenerateInput): Promise<GenerateOutput>;
}

/** What a previous run stored, so a re-run can ask "did anything change?" cheaply. */
export interface PreviousRun {
  pages: PageRecord[];
  llmsTxt?: string;
  llmsFullTxt?: string;
  /** The previous pages' content, by URL, to reuse when a page answers 304 or its hash is equal. */
  content?: Map<string, Page>;
}

export interface PipelineOptions {
  limits: CrawlLimits;
  fetch: FetchSettings;
  extractor: Extractor;
  provider: Provider;
  /** LLM answers that fail validation are retried with the errors fed back, this many tries in all. */
  llmAttempts: number;
  /** llms-full.txt size budget; pages that don't fit are left out whole. */
  fullMaxBytes: number;
  /** Total bytes one run may fetch; the crawl stops (with a warning) past it. */
  jobMaxBytes?: number;
  previous?: PreviousRun;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  logger?: Logger;
}

export interface Timings {
  discoverMs: number;
  crawlMs: number;
  generateMs: number;
  composeMs: number;
  totalMs: number;
}

export interface PipelineResult {
  site: Site;
  llmsTxt: string;
  llmsFullTxt: string;
  pages: PageRecord[];
  provider: ProviderName;
  model: string | null;
  /** LLM tries made (0 for the extractive provider). */
  attempts: number;
  /** The LLM's answers failed validation or the LLM failed; the extractive result was used. */
  fallback: boolean;
  usage: TokenUsage;
  timings: Timings;
  warnings: string[];
  /** The quality lint of llmsTxt (`ltx check`'s warnings and score). */
  quality: QualityReport;
  generatedAt: string;
  /** A re-run found nothing changed: the files are the previous ones and no LLM call was made. */
  unchanged?: boolean;
  /**
   * The included pages with their markdown, for the store to keep so the next scheduled run can
   * reuse unchanged pages (PreviousRun.content). Large: `ltx generate --json` leaves it out.
   */
  content: Page[];
}
