/*
 * Compact page digests for the model: a short page id, the path, title, description, headings and
 * the first words. Never whole pages: a digest is ~100 tokens, so a 12k-token budget carries ~80
 * pages per request. Each digest is one JSON line, easy for the model to read and for tests to
 * parse back. The model names pages by id ("p17"), never by URL: an id is a token or two where a
 * URL is dozens, and a model can't mangle a URL it never has to copy (answer.ts maps ids back).
 */
import type { Page, Site } from "../types";
import { placePages } from "./structure";
import { clipWords, firstWords, fullTitle } from "./text";

export interface PageDigest {
  /** "p" + the page's index in the run's page list: stable across batches and retries. */
  id: string;
  /** The page's path (and query) on the site: what sections are usually made from. */
  path: string;
  title: string;
  desc?: string;
  headings?: string[];
  text?: string;
}

export interface DigestDetail {
  words: number;
  headings: number;
}

/** Most detail first; a digest that can't fit the budget is retried with less. */
export const DIGEST_LEVELS: DigestDetail[] = [
  { words: 60, headings: 8 },
  { words: 25, headings: 4 },
  { words: 0, headings: 0 },
];

export function pageId(index: number): string {
  return `p${index}`;
}

export function digestPage(
  page: Page,
  detail: DigestDetail = DIGEST_LEVELS[0] ?? { words: 60, headings: 8 },
  title = fullTitle(page),
  index = 0,
): PageDigest {
  const u = new URL(page.url);
  const d: PageDigest = {
    id: pageId(index),
    path: `${u.pathname}${u.search}`,
    title: clipWords(title, 120) || page.url,
  };
  const desc = clipWords(page.description, detail.words > 0 ? 200 : 120);
  if (desc) d.desc = desc;
  if (detail.headings > 0) {
    const headings = page.headings
      .filter((h) => h.level >= 2 && h.level <= 3)
      .map((h) => clipWords(h.text, 60))
      .filter(Boolean);
    if (headings.length > 0) d.headings = headings.slice(0, detail.headings);
  }
  if (detail.words > 0) {
    let text = firstWords(page.markdown, detail.words);
    // Descriptions are often the first paragraph: don't pay for the same words twice.
    const head = (d.desc ?? "").replace(/…$/, "").trim();
    if (head.length >= 20 && text.startsWith(head)) text = text.slice(head.length).trim();
    if (text && text !== "…") d.text = text;
  }
  return d;
}

export function digestLine(d: PageDigest): string {
  return JSON.stringify(d);
}

/** Rough token count: ~4 characters a token for English prose and URLs. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * Splits pages into batches whose digest lines fit `tokensPerBatch`, in the given order (crawl
 * order: the first batch holds the most prominent pages). A page is never dropped: if even its
 * smallest digest is bigger than a whole batch, it travels alone with that digest.
 */
export function batchDigests(pages: Page[], tokensPerBatch: number, titles: string[] = []): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let used = 0;
  for (const [i, page] of pages.entries()) {
    const line = fittingLine(page, i, tokensPerBatch, titles[i]);
    const cost = estimateTokens(line) + 1;
    if (current.length > 0 && used + cost > tokensPerBatch) {
      batches.push(current);
      current = [];
      used = 0;
    }
    current.push(line);
    used += cost;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

// A page alone may use at most a quarter of a batch, so one verbose page can't crowd out the rest.
function fittingLine(page: Page, index: number, tokensPerBatch: number, title: string | undefined): string {
  let line = "";
  for (const detail of DIGEST_LEVELS) {
    line = digestLine(digestPage(page, detail, title, index));
    if (estimateTokens(line) <= tokensPerBatch / 4) return line;
  }
  return line;
}

/** "/guide/: 120 pages" lines for the whole site, so batch 1 can plan sections for every batch. */
export function siteOutline(site: Site, pages: Page[], maxLines = 30): string[] {
  const counts = new Map<string, number>();
  for (const place of placePages(site, pages)) counts.set(place.key, (counts.get(place.key) ?? 0) + 1);
  const lines = [...counts].map(
    ([key, n]) => `${key ? `${site.prefix}${key}/` : site.prefix}: ${n} page${n === 1 ? "" : "s"}`,
  );
  return lines.length > maxLines ? [...lines.slice(0, maxLines), `… ${lines.length - maxLines} more paths`] : lines;
}
