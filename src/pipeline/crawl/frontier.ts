/*
 * The crawl's frontier: which discovered URLs are queued, and the caps that keep a job's memory
 * and request count bounded whatever the site serves (a sitemap of 3,000 URLs that all 404, pages
 * of 150k links each):
 * - fetch attempts: 3 × maxPages (the start page included). A page that fails, is skipped, or
 *   redirects counts too: without this a 2-page crawl of a broken site made 1,003 requests.
 * - the queue holds no more URLs than attempts are left, so a URL that could never be fetched is
 *   never held; once it is full, a URL that comes before the queue's last (pageQueue.ts: nearer,
 *   linked rather than only in a sitemap, not a generated listing) takes the last one's place,
 *   which is forgotten; any other is neither queued nor remembered.
 * - robots-disallowed URLs get a record each, up to the same number.
 * The seen-set is only added to through these doors (plus a redirect target and a canonical URL
 * per fetched page), so it stays within a small multiple of the attempt cap too.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import type { CrawlState } from "./crawlState";
import { isGeneratedListing } from "./generatedListing";
import { PageQueue, tierOf } from "./pageQueue";
import { inScope, tryNormalizeUrl } from "../site";

export const ATTEMPTS_PER_PAGE = 3;

/** Fetch attempts a crawl of maxPages may make. */
export function maxAttempts(maxPages: number): number {
  return ATTEMPTS_PER_PAGE * maxPages;
}

/** True when no more URLs can be queued: every attempt left is spoken for. */
export function frontierFull(s: CrawlState): boolean {
  return s.counts.attempts + s.queue.length >= s.caps.maxAttempts;
}

/**
 * Queues url (found at depth, by a link or only in a sitemap) unless seen, disallowed (then
 * recorded) or the frontier is full of URLs that come first. A queued URL found again nearer, or
 * by a link, moves up.
 */
export function enqueue(s: CrawlState, url: string, depth: number, linked = true): void {
  const tier = tierOf(linked, isGeneratedListing(s.site, url));
  if (s.queue.has(url)) {
    s.queue.push({ url, depth, seq: s.counts.seq++ }, tier);
    return;
  }
  if (s.seen.has(url)) return;
  if (frontierFull(s)) {
    const worst = s.queue.worstKey();
    if (worst === undefined || PageQueue.keyOf(tier, depth) >= worst) {
      s.counts.dropped++;
      return;
    }
    const evicted = s.queue.popWorst();
    if (evicted) s.seen.delete(evicted.url);
    s.counts.dropped++;
  }
  const otherLanguage = s.language.otherByUrl(url);
  if (otherLanguage !== undefined) {
    // Recorded (up to the attempt cap, like robots rows) so that the run says what it left out.
    if (s.counts.otherLanguage >= s.caps.maxAttempts) return;
    s.counts.otherLanguage++;
    s.seen.add(url);
    s.records.push({
      seq: s.counts.seq++,
      record: {
        url,
        status: null,
        depth,
        skipReason: `in another language (${otherLanguage}) than the start page (${s.language.language ?? "?"})`,
        skipCode: "other-language",
      },
    });
    return;
  }
  if (!s.robots.allowed(url)) {
    if (s.counts.disallowed >= s.caps.maxAttempts) return;
    s.counts.disallowed++;
    s.seen.add(url);
    s.records.push({
      seq: s.counts.seq++,
      record: { url, status: null, depth, skipReason: "robots.txt disallows", skipCode: "robots-disallowed" },
    });
    return;
  }
  s.seen.add(url);
  s.queue.push({ url, depth, seq: s.counts.seq++ }, tier);
}

/** Work done between yields to the event loop (each link is a URL parse and a few matches). */
const SLICE_MS = 20;

/**
 * Queues the in-scope, allowed-by-pattern links of a page found at depth - 1. Yields to the event
 * loop every SLICE_MS, so a page of 10,000 links never holds it (health checks, lock renewals).
 */
export async function enqueueLinks(s: CrawlState, links: readonly string[], depth: number): Promise<void> {
  if (depth > s.opts.limits.maxDepth) return;
  let sliceStart = Date.now();
  for (let i = 0; i < links.length; i++) {
    if ((i & 63) === 63 && Date.now() - sliceStart > SLICE_MS) {
      await nextTurn();
      sliceStart = Date.now();
    }
    const url = tryNormalizeUrl(links[i] ?? "");
    // seen first: it is the cheap test, and a page links to the same URLs again and again.
    if (url === undefined || (s.seen.has(url) && !s.queue.has(url)) || !inScope(s.site, url)) continue;
    if (!s.patterns.matches(url)) continue;
    enqueue(s, url, depth);
  }
}
