/*
 * `<meta http-equiv="refresh" content="0; url=en/">` on a start page is a redirect written in HTML:
 * a multilingual tree whose root only sends readers on to one language (DocBook and Sphinx i18n
 * builds), a stub left where a page used to be (javadoc's overview-summary.html). The crawl
 * treats it as the HTTP redirect it stands for. Read from the head of the page only, linearly.
 */

/** Bytes of the page searched: a refresh belongs in <head>, which is near the top. */
const HEAD_CHARS = 16_384;
/** A refresh later than this is a page meant to be read first (a notice, a countdown), not a redirect. */
const MAX_DELAY_S = 5;

const META = /<meta\b[^>]{0,1000}>/gi;
const ATTR = /([a-z-]+)\s*=\s*("([^"]*)"|'([^']*)'|([^\s"'>]+))/gi;

function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of tag.matchAll(ATTR)) {
    const name = (m[1] ?? "").toLowerCase();
    if (!out.has(name)) out.set(name, m[3] ?? m[4] ?? m[5] ?? "");
  }
  return out;
}

/** The absolute URL a page's meta refresh sends readers to at once, if it has one. */
export function metaRefreshTarget(html: string, pageUrl: string): string | undefined {
  const head = html.slice(0, HEAD_CHARS);
  for (const m of head.matchAll(META)) {
    const attrs = attributes(m[0]);
    if ((attrs.get("http-equiv") ?? "").toLowerCase() !== "refresh") continue;
    const content = (attrs.get("content") ?? "").replace(/&quot;|&#39;/g, "").trim();
    const parsed = /^(\d+(?:\.\d*)?)\s*(?:[;,]\s*(?:url\s*=\s*)?(.*))?$/i.exec(content);
    if (!parsed || Number(parsed[1]) > MAX_DELAY_S) return undefined;
    const target = (parsed[2] ?? "").trim().replace(/^['"]|['"]$/g, "");
    if (target === "") return undefined;
    try {
      const u = new URL(target.replace(/&amp;/g, "&"), pageUrl);
      return u.protocol === "http:" || u.protocol === "https:" ? u.toString() : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
