/*
 * A cheap scan for <a href> links, on the main thread. The extractor returns links too; this is
 * for pages we don't extract (reused unchanged pages, failed or timed-out extractions), so that
 * the breadth-first crawl still walks through them. scanHrefs is linear in the page (a page built
 * to stall a RegExp stalls nothing here) and keeps at most MAX_LINKS_PER_PAGE links.
 */
import { scanHrefs } from "../extract/hrefScan";

/** Absolute http(s) hrefs of an HTML body (resolved against <base href> or pageUrl), in page order. */
export function scanLinks(html: string, pageUrl: string): string[] {
  const out: string[] = [];
  const { hrefs, base: baseHref } = scanHrefs(html);
  let base = pageUrl;
  if (baseHref !== undefined) {
    try {
      base = new URL(baseHref, pageUrl).toString();
    } catch {
      // an unusable <base> is ignored, as browsers do
    }
  }
  for (const href of hrefs) {
    if (href === "" || href.startsWith("#") || /^(javascript|mailto|tel|data):/i.test(href)) continue;
    try {
      const u = new URL(href, base);
      if (u.protocol === "http:" || u.protocol === "https:") out.push(u.toString());
    } catch {
      // not a URL: skip it
    }
  }
  return out;
}
