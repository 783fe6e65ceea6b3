/*
 * What the crawl does with one fetched response: follow its redirect bookkeeping, keep or skip it
 * (with a reason), reuse the previous run's extraction when the body is unchanged, else extract it,
 * apply rel=canonical, and hand back the links to walk. The rules are listed at the top of crawl.ts.
 */
import { coerceError } from "../../lib/coerceError";
import { AbortedError, FetchError, LtxError } from "../../lib/errors";
import type { CrawlState, PageWork } from "./crawlState";
import { scanLinks } from "./links";
import { MAX_LINKS_PER_PAGE } from "../extract/hrefScan";
import { extractorContentType, pageKind } from "../extract/pageKind";
import { inScope, tryNormalizeUrl } from "../site";
import type { ExtractedPage, ExtractInput, Extractor, FetchedPage, Page, PageRecord, SkipCode } from "../types";

/**
 * Below this many characters of readable text a page is flagged thin. 200 is about two sentences:
 * a real docs page (even a short index) has more, a JavaScript shell's <noscript> line has less.
 */
export const THIN_TEXT_CHARS = 200;
/**
 * ...unless it links to at least this many other pages of the site: then it is a table of contents
 * (a manual's "Chapter 29" page lists its sections, and Readability drops link lists), not a
 * JavaScript shell, whose HTML has next to no links until a browser runs it.
 */
export const TOC_LINKS_MIN = 5;

function addRecord(s: CrawlState, seq: number, record: PageRecord): void {
  s.records.push({ seq, record });
}

function keep(s: CrawlState, seq: number, page: Page): void {
  s.pages.push({ seq, page });
  s.keptByUrl.set(page.url, page);
  if (page.hash !== undefined) s.keptByHash.set(page.hash, page.url);
  const {
    markdown: _markdown,
    headings: _headings,
    lang: _lang,
    textLength: _textLength,
    links: _links,
    siteName: _siteName,
    ...record
  } = page;
  addRecord(s, seq, record);
}

/** A previous run's page, brought up to date with this fetch's record fields. */
function reuse(s: CrawlState, prev: Page, base: PageRecord, notModified: boolean): Page {
  s.counts.reused++;
  return {
    ...prev,
    url: base.url,
    depth: base.depth,
    status: notModified ? (prev.status ?? 200) : base.status,
    hash: notModified ? prev.hash : base.hash,
    bytes: notModified ? prev.bytes : base.bytes,
    etag: base.etag ?? prev.etag,
    lastModified: base.lastModified ?? prev.lastModified,
    skipReason: undefined,
    skipCode: undefined,
    skipTarget: undefined,
  };
}

function titleFromUrl(url: string): string {
  const segments = new URL(url).pathname.split("/").filter(Boolean);
  const last = segments[segments.length - 1];
  let name = last ?? "";
  try {
    name = decodeURIComponent(name);
  } catch {
    // a malformed escape: keep the segment as written
  }
  return last ? name.replace(/\.(x?html?|md|txt)$/i, "").replace(/[-_]+/g, " ") : new URL(url).host;
}

/**
 * An unchanged page that the previous run filed under rel=canonical (as a duplicate, or under its
 * canonical URL) gets the same treatment without extracting it again. True when handled.
 */
function reuseCanonicalDecision(s: CrawlState, work: PageWork, base: PageRecord): boolean {
  const prev = s.prevRecords.get(base.url);
  if (!prev || prev.hash !== base.hash || prev.skipReason === undefined) return false;
  const decision = { skipReason: prev.skipReason, skipCode: prev.skipCode, skipTarget: prev.skipTarget };
  if (prev.skipCode === "duplicate-canonical") {
    addRecord(s, work.seq, { ...base, ...decision });
    return true;
  }
  const canonical = prev.skipCode === "under-canonical" ? prev.skipTarget : undefined;
  const content = canonical !== undefined ? s.opts.previous?.content?.get(canonical) : undefined;
  if (canonical === undefined || !content || s.done.has(canonical)) return false;
  addRecord(s, work.seq, { ...base, ...decision });
  s.seen.add(canonical);
  s.done.add(canonical);
  keep(s, work.seq, reuse(s, content, { ...base, url: canonical }, false));
  return true;
}

/** Processes one fetched response and returns the links to walk (empty when none are needed). */
export async function processFetched(
  s: CrawlState,
  work: PageWork,
  page: FetchedPage,
  isStart: boolean,
): Promise<string[]> {
  const { opts } = s;
  if (!isStart) s.counts.fetched++;
  s.done.add(work.url);
  let url = work.url;
  const finalUrl = tryNormalizeUrl(page.finalUrl) ?? page.finalUrl;
  if (finalUrl !== work.url) {
    addRecord(s, work.seq, {
      url: work.url,
      status: page.status,
      depth: work.depth,
      skipReason: `redirects to ${finalUrl}`,
      skipCode: "redirect",
      skipTarget: finalUrl,
    });
    if (s.done.has(finalUrl)) return [];
    s.seen.add(finalUrl);
    s.done.add(finalUrl);
    url = finalUrl;
  }
  const base: PageRecord = {
    url,
    status: page.status,
    depth: work.depth,
    hash: page.hash,
    etag: page.etag,
    lastModified: page.lastModified,
    bytes: page.bytes,
  };
  const skip = (code: SkipCode, reason: string, target?: string): void =>
    addRecord(s, work.seq, {
      ...base,
      skipReason: reason,
      skipCode: code,
      ...(target !== undefined ? { skipTarget: target } : {}),
    });

  const previous = opts.previous?.content?.get(url);
  if (page.notModified) {
    if (previous) keep(s, work.seq, reuse(s, previous, base, true));
    else skip("not-modified-unknown", "HTTP 304 with no previous copy");
    return previous?.links ?? [];
  }
  if (page.status < 200 || page.status >= 300) {
    skip("http-status", `HTTP ${page.status}`);
    return [];
  }
  const kind = pageKind(page.contentType, url);
  if (kind === undefined) {
    const reason = `content-type ${page.contentType || "unknown"}`;
    if (isStart)
      throw new FetchError(
        url,
        `start page ${url} is ${page.contentType || "of unknown type"}, not HTML, markdown or text`,
        { code: "START_PAGE_FAILED", retryable: false },
      );
    skip("content-type", reason);
    return [];
  }
  if (page.truncated)
    s.warnings.push(`${url} is larger than ${page.bytes} bytes; only the first ${page.bytes} were read`);
  const linksOf = (): string[] => (s.followLinks && kind === "html" ? scanLinks(page.body, url) : []);
  const sameAs = s.keptByHash.get(page.hash);
  if (sameAs !== undefined && sameAs !== url) {
    skip("same-content", `same content as ${sameAs}`, sameAs);
    return [];
  }
  if (previous && previous.hash === page.hash) {
    // Stored content carries no links (index.ts strips them); the body is here to read them again.
    const reused = reuse(s, previous, base, false);
    if (kind === "html") {
      reused.links = siteLinks(s, url, scanLinks(page.body, url));
      reused.thin = reused.textLength < THIN_TEXT_CHARS && reused.links.length < TOC_LINKS_MIN ? true : undefined;
    }
    keep(s, work.seq, reused);
    return linksOf();
  }
  if (reuseCanonicalDecision(s, work, base)) return linksOf();

  let ex: ExtractedPage;
  try {
    ex = await extractOrAbort(
      opts.extractor,
      { url, body: page.body, contentType: extractorContentType(kind) },
      opts.signal,
    );
  } catch (e) {
    const err = coerceError(e);
    if (opts.signal?.aborted) throw new AbortedError(undefined, { cause: err });
    skip(
      "extraction-failed",
      err instanceof LtxError && err.code === "TIMEOUT" ? err.message : `extraction failed: ${err.message}`,
    );
    return linksOf(); // the page is unusable, but its links may still lead somewhere
  }
  s.counts.extracted++;
  const links = s.followLinks ? ex.links : [];
  if (isStart) s.language.setStartLang(ex.lang);
  if (ex.alternates)
    s.language.addAlternates(
      ex.alternates.flatMap((a) => {
        const href = tryNormalizeUrl(a.href);
        return href === undefined ? [] : [{ hreflang: a.hreflang, href }];
      }),
    );
  const otherLang = isStart ? undefined : s.language.otherByLang(ex.lang);
  if (otherLang !== undefined) {
    // Its links lead on into that language's pages: not walked.
    skip("other-language", `in another language (${otherLang}) than the start page (${s.language.language ?? "?"})`);
    return [];
  }

  const canonical = ex.canonical !== undefined && ex.canonical !== "" ? tryNormalizeUrl(ex.canonical, url) : undefined;
  if (canonical !== undefined && canonical !== url && inScope(s.site, canonical) && s.robots.allowed(canonical)) {
    if (s.keptByUrl.has(canonical)) {
      skip("duplicate-canonical", `duplicate of ${canonical} (rel=canonical)`, canonical);
      return links;
    }
    if (!s.done.has(canonical)) {
      skip("under-canonical", `recorded under its canonical URL ${canonical}`, canonical);
      s.seen.add(canonical);
      s.done.add(canonical);
      url = canonical;
    }
  }
  // A frameset (hand-written sites of the frames era) shows other pages, which its frame links lead
  // to: an inner frameset (a frame wrapper around one content page) adds nothing of its own and is
  // not listed; the start page stays the site's home page, and neither is "no readable text".
  if (ex.frameset && !isStart) {
    skip("frameset", "a frameset: its frames' pages are followed instead");
    return links;
  }
  const onSite = siteLinks(s, url, ex.links);
  keep(s, work.seq, {
    ...base,
    url,
    title: ex.title.trim() || titleFromUrl(url),
    description: ex.description,
    headings: ex.headings,
    lang: ex.lang,
    ...(ex.siteName ? { siteName: ex.siteName } : {}),
    markdown: ex.markdown,
    textLength: ex.textLength,
    thin: !ex.frameset && ex.textLength < THIN_TEXT_CHARS && onSite.length < TOC_LINKS_MIN ? true : undefined,
    links: onSite,
  });
  return links;
}

/** A page's links to other pages of the site: normalised, once each, in page order. */
function siteLinks(s: CrawlState, pageUrl: string, hrefs: string[]): string[] {
  const out = new Set<string>();
  for (const href of hrefs) {
    const u = tryNormalizeUrl(href);
    if (u !== undefined && u !== pageUrl && inScope(s.site, u)) out.add(u);
    if (out.size >= MAX_LINKS_PER_PAGE) break;
  }
  return [...out];
}

/**
 * extractor.extract, settled at once when the run is aborted. The per-page time budget is the
 * extractor's own (createExtractor's timeoutMs), counted from when a thread starts the page: a
 * timer here would also count the time the page waits in the pool's queue, and on a busy machine
 * drop big pages that were never late.
 */
async function extractOrAbort(
  extractor: Extractor,
  input: ExtractInput,
  signal: AbortSignal | undefined,
): Promise<ExtractedPage> {
  if (signal?.aborted) throw new AbortedError();
  if (!signal) return extractor.extract(input);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new AbortedError());
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([extractor.extract(input, signal), aborted]);
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}
