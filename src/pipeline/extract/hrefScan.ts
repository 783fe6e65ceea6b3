/*
 * The href of every <a> (and the first <base>) in an HTML string, without a DOM: for the part of a
 * huge page jsdom is not given, and for pages the crawl doesn't extract (reused or failed ones,
 * on the main thread). It is a one-pass tokenizer, not a RegExp: `<a\b[^>]*?\shref…` retries from
 * every "<a" to the next ">", so a page ending in 150k unclosed "<a " took 19 s on the main
 * thread. Here the scan only moves forward: a tag's attributes are read once, an unclosed quote
 * ends the scan (the rest of the page is inside it), and a tag longer than MAX_TAG_CHARS is given
 * up. Entities are decoded for the common cases only (&amp; and friends, numeric references).
 */

/** Links kept per page: a real index page (a Javadoc class list) has a few thousand. */
export const MAX_LINKS_PER_PAGE = 10_000;
/** Tags longer than this are not read (real <a> tags are well under 1 KB). */
const MAX_TAG_CHARS = 16 * 1024;

const NAMED: Record<string, string> = { amp: "&", quot: '"', apos: "'", lt: "<", gt: ">" };

export function decodeBasicEntities(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(/&(amp|quot|apos|lt|gt|#\d{1,7}|#x[0-9a-f]{1,6});/gi, (all, name: string) => {
    const n = name.toLowerCase();
    const named = NAMED[n];
    if (named !== undefined) return named;
    const code = n.startsWith("#x") ? parseInt(n.slice(2), 16) : parseInt(n.slice(1), 10);
    return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : all;
  });
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 12 || c === 13;
}

const LINK_TAGS = ["a", "area", "frame", "iframe"] as const;

/** The link-bearing tag that starts at i (just after "<"), if any. */
function linkTag(html: string, i: number): (typeof LINK_TAGS)[number] | undefined {
  return LINK_TAGS.find((t) => tagIs(html, i, t));
}

/** True when html at i (just after "<") starts the tag name `name` (lower case), whole. */
function tagIs(html: string, i: number, name: string): boolean {
  for (let k = 0; k < name.length; k++) if ((html.charCodeAt(i + k) | 0x20) !== name.charCodeAt(k)) return false;
  const after = html.charCodeAt(i + name.length);
  return isSpace(after) || after === 47 || after === 62; // "/" or ">"
}

export interface HrefScan {
  /** Raw href values (entities decoded, trimmed), in page order, at most maxLinks. */
  hrefs: string[];
  /** The first <base href>, if any. */
  base?: string;
}

export function scanHrefs(html: string, maxLinks = MAX_LINKS_PER_PAGE): HrefScan {
  const out: HrefScan = { hrefs: [] };
  const n = html.length;
  let i = 0;
  while (out.hrefs.length < maxLinks) {
    const lt = html.indexOf("<", i);
    if (lt < 0) break;
    // <area href> (image maps) and <frame>/<iframe src> (framesets) lead to pages as <a> does;
    // the scan reads <noframes> too, whose links the DOM keeps as text.
    const tag = linkTag(html, lt + 1);
    const isA = tag !== undefined;
    const isBase = !isA && out.base === undefined && tagIs(html, lt + 1, "base");
    if (!isA && !isBase) {
      i = lt + 1;
      continue;
    }
    const limit = Math.min(n, lt + MAX_TAG_CHARS);
    const attr = tag === "frame" || tag === "iframe" ? "src" : "href";
    let p = lt + 1 + (tag ?? "base").length;
    let href: string | undefined;
    let closed = false;
    let unclosedQuote = false;
    while (p < limit) {
      let c = html.charCodeAt(p);
      if (isSpace(c) || c === 47) {
        p++;
        continue;
      }
      if (c === 62) {
        closed = true;
        p++;
        break;
      }
      const nameStart = p;
      while (p < limit) {
        c = html.charCodeAt(p);
        if (isSpace(c) || c === 47 || c === 62 || c === 61) break;
        p++;
      }
      const name = html.slice(nameStart, p).toLowerCase();
      while (p < limit && isSpace(html.charCodeAt(p))) p++;
      if (html.charCodeAt(p) !== 61) continue; // no value
      p++;
      while (p < limit && isSpace(html.charCodeAt(p))) p++;
      const q = html.charCodeAt(p);
      let value: string;
      if (q === 34 || q === 39) {
        const end = html.indexOf(q === 34 ? '"' : "'", p + 1);
        if (end < 0) {
          unclosedQuote = true;
          break;
        }
        value = html.slice(p + 1, end);
        p = end + 1;
      } else {
        const start = p;
        while (p < limit) {
          c = html.charCodeAt(p);
          if (isSpace(c) || c === 62) break;
          p++;
        }
        value = html.slice(start, p);
      }
      if (name === (isA ? attr : "href") && href === undefined) href = value;
    }
    if (unclosedQuote) break; // the rest of the page is one attribute value
    if (href !== undefined && (closed || p >= n)) {
      const v = decodeBasicEntities(href.trim());
      if (isA) out.hrefs.push(v);
      else out.base = v;
    }
    i = Math.max(p, lt + 1);
  }
  return out;
}
