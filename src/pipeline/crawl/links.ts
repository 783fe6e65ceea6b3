/*
 * A cheap regex scan for <a href> links, on the main thread. The extractor returns links too; this
 * is for pages we don't extract (reused unchanged pages, failed extractions), so that the
 * breadth-first crawl still walks through them.
 */
const HREF = /<a\b[^>]*?\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/gi;
const BASE = /<base\b[^>]*?\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/i;

function decodeEntities(s: string): string {
  return s.replace(/&(amp|quot|apos|lt|gt|#\d+|#x[0-9a-f]+);/gi, (all, name: string) => {
    const n = name.toLowerCase();
    const named: Record<string, string> = { amp: "&", quot: '"', apos: "'", lt: "<", gt: ">" };
    if (named[n] !== undefined) return named[n];
    const code = n.startsWith("#x") ? parseInt(n.slice(2), 16) : parseInt(n.slice(1), 10);
    return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : all;
  });
}

/** Absolute http(s) hrefs of an HTML body (resolved against <base href> or pageUrl), in page order. */
export function scanLinks(html: string, pageUrl: string): string[] {
  const out: string[] = [];
  let base = pageUrl;
  const b = BASE.exec(html);
  const baseHref = b ? (b[1] ?? b[2] ?? b[3]) : undefined;
  if (baseHref !== undefined) {
    try {
      base = new URL(decodeEntities(baseHref), pageUrl).toString();
    } catch {
      // an unusable <base> is ignored, as browsers do
    }
  }
  for (const m of html.matchAll(HREF)) {
    const href = decodeEntities((m[1] ?? m[2] ?? m[3] ?? "").trim());
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
