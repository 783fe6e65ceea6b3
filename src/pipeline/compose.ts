/*
 * llms-full.txt: the site's pages in one file, for tools that want the content and not just links.
 *
 * Format (plain markdown, pages in llms.txt link order, then any kept page the index doesn't link):
 *
 *   # <doc title>
 *
 *   > <doc summary>
 *
 *   Source: <site start URL>
 *
 *   ---
 *
 *   # <page title>
 *
 *   Source: <page URL>
 *
 *   <page markdown>
 *
 *   ---
 *
 *   # <next page title> …
 *
 * The size budget counts UTF-8 bytes of the whole file. A page that doesn't fit is left out whole,
 * never cut mid-page (half a page reads as a complete one), and the next pages are still tried, so
 * one huge page doesn't push out every smaller page after it.
 */
import { oneLine, orderSections } from "./render";
import type { LlmsDoc, Page, Site } from "./types";

export interface ComposeOptions {
  /** Budget for the whole file, in UTF-8 bytes. */
  maxBytes: number;
  site: Site;
}

export interface ComposeResult {
  text: string;
  /** URLs of the pages left out to stay within maxBytes, in the order they were dropped. */
  omitted: string[];
  warnings: string[];
}

export const PAGE_SEPARATOR = "\n\n---\n\n";
const LISTED_IN_WARNING = 20;

export function composeFullTxt(doc: LlmsDoc, pages: Page[], opts: ComposeOptions): ComposeResult {
  const header = renderHeader(doc, opts.site);
  let used = Buffer.byteLength(header, "utf8");
  const parts = [header];
  const omitted: string[] = [];
  for (const page of pagesInLinkOrder(doc, pages)) {
    const block = PAGE_SEPARATOR + renderPage(page);
    const size = Buffer.byteLength(block, "utf8");
    if (used + size + 1 > opts.maxBytes) {
      omitted.push(page.url);
      continue;
    }
    parts.push(block);
    used += size;
  }
  const warnings: string[] = [];
  if (omitted.length > 0) {
    const named = omitted.slice(0, LISTED_IN_WARNING).join(", ");
    const more = omitted.length > LISTED_IN_WARNING ? ` and ${omitted.length - LISTED_IN_WARNING} more` : "";
    warnings.push(
      `llms-full.txt: ${omitted.length} page(s) left out to stay under ${opts.maxBytes} bytes: ${named}${more}`,
    );
  }
  return { text: `${parts.join("")}\n`, omitted, warnings };
}

/** Pages linked from the doc, in link order (Optional last), then the rest in crawl order. */
export function pagesInLinkOrder(doc: LlmsDoc, pages: Page[]): Page[] {
  const byUrl = new Map(pages.map((p) => [p.url, p]));
  const ordered: Page[] = [];
  const seen = new Set<string>();
  const take = (url: string): void => {
    const page = byUrl.get(url);
    if (page && !seen.has(url)) {
      seen.add(url);
      ordered.push(page);
    }
  };
  for (const section of orderSections(doc.sections)) for (const link of section.links) take(link.url);
  for (const page of pages) take(page.url);
  return ordered;
}

function renderHeader(doc: LlmsDoc, site: Site): string {
  const lines = [`# ${oneLine(doc.title) || site.key}`, ""];
  const summary = oneLine(doc.summary ?? "");
  if (summary) lines.push(`> ${summary}`, "");
  lines.push(`Source: ${site.startUrl}`);
  return lines.join("\n");
}

function renderPage(page: Page): string {
  const title = oneLine(page.title) || page.url;
  const body = page.markdown.trim() || "(no readable content on this page)";
  return `# ${title}\n\nSource: ${page.url}\n\n${body}`;
}
