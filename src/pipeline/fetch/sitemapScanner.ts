/*
 * The <loc> values of a sitemap or sitemap index, read as the bytes arrive. A sitemap is input the
 * site controls, so this is a one-pass scanner rather than a RegExp over the whole document: the
 * old `<url>([\s\S]*?)</url>` rescanned the rest of the file for every unclosed <url> (300 KB of
 * them: 6 s on the main thread, 1 MB: 50 s). Here every character is looked at a bounded number
 * of times: tags are found with indexOf, and what is kept between calls (an unfinished tag or
 * <loc> value) is capped at MAX_PENDING characters, so a tag or value longer than that is dropped.
 *
 * Only what sitemaps.org defines matters: <loc> inside <url> (a page) or <sitemap> (a child
 * sitemap), with or without a namespace prefix (<sm:loc>), as text, entities or CDATA.
 */
import { MAX_URL_LENGTH } from "../urlPatterns";

export type LocKind = "url" | "sitemap";

/** A tag or a <loc> value longer than this is not one we could use (URLs are capped shorter). */
const MAX_PENDING = MAX_URL_LENGTH + 512;

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(/&(amp|lt|gt|quot|apos|#\d{1,7}|#x[0-9a-f]{1,6});/gi, (all, name: string) => {
    const lower = name.toLowerCase();
    const named = NAMED[lower];
    if (named !== undefined) return named;
    const code = lower.startsWith("#x") ? parseInt(lower.slice(2), 16) : parseInt(lower.slice(1), 10);
    return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : all;
  });
}

/** The tag name starting at s[from] ("sm:loc" of "<sm:loc>", "url" of "</url>"), lower-cased. */
function tagName(s: string, from: number): string {
  let end = from;
  while (end < s.length) {
    const c = s.charCodeAt(end);
    // whitespace, "/" or ">" end the name
    if (c <= 32 || c === 47 || c === 62) break;
    end++;
  }
  return s.slice(from, end).toLowerCase();
}

/** "sm:loc" → ["sm", "loc"], "loc" → ["", "loc"]. */
function splitName(qname: string): [string, string] {
  const colon = qname.lastIndexOf(":");
  return colon >= 0 ? [qname.slice(0, colon), qname.slice(colon + 1)] : ["", qname];
}

export class SitemapScanner {
  private buf = "";
  private entry: LocKind | undefined;
  /** The open entry's namespace prefix: its <loc> has the same one (an <image:loc> is not it). */
  private entryPrefix = "";
  /** The open entry's <loc> was read: later ones (there should be none) are ignored. */
  private entryDone = false;
  private loc: string | undefined;
  /** Set while skipping past an over-long construct: the text that ends it. */
  private skipTo: string | undefined;

  /** onLoc gets the <loc> value of each entry, in document order. */
  constructor(private readonly onLoc: (kind: LocKind, value: string) => void) {}

  /** Scans the next piece of the document. */
  feed(text: string): void {
    let s = this.buf + text;
    let i = 0;
    if (this.skipTo !== undefined) {
      const end = s.indexOf(this.skipTo);
      if (end < 0) {
        // Keep just enough to find the terminator across the next boundary.
        this.buf = s.slice(Math.max(0, s.length - this.skipTo.length + 1));
        return;
      }
      i = end + this.skipTo.length;
      this.skipTo = undefined;
    }
    for (;;) {
      const lt = s.indexOf("<", i);
      if (lt < 0) {
        // Inside a <loc>, keep the text for the next call (an entity may be cut); else drop it.
        if (this.loc === undefined) i = s.length;
        break;
      }
      this.keepText(s, i, lt);
      const next = this.tag(s, lt);
      if (next < 0) {
        i = lt;
        break; // unfinished: wait for more
      }
      i = next;
    }
    s = s.slice(i);
    if (s.length > MAX_PENDING) {
      // An unfinished tag this long is no tag we need: skip to its end.
      this.loc = undefined;
      this.skipTo = s.startsWith("<![CDATA[") ? "]]>" : s.startsWith("<!--") ? "-->" : ">";
      s = "";
    }
    this.buf = s;
  }

  /** Text between tags: part of a <loc> value when one is open. */
  private keepText(s: string, from: number, to: number): void {
    if (this.loc === undefined || to <= from) return;
    this.loc += decodeEntities(s.slice(from, to));
    if (this.loc.length > MAX_PENDING) this.loc = undefined; // too long for a URL: drop it
  }

  /** Handles the construct at s[lt] === "<"; returns the index after it, or -1 if it is unfinished. */
  private tag(s: string, lt: number): number {
    if (s.startsWith("<![CDATA[", lt)) {
      const end = s.indexOf("]]>", lt + 9);
      if (end < 0) return -1;
      if (this.loc !== undefined) {
        this.loc += s.slice(lt + 9, end);
        if (this.loc.length > MAX_PENDING) this.loc = undefined;
      }
      return end + 3;
    }
    if (s.startsWith("<!--", lt)) {
      const end = s.indexOf("-->", lt + 4);
      return end < 0 ? -1 : end + 3;
    }
    const gt = s.indexOf(">", lt + 1);
    if (gt < 0) return -1;
    const closing = s.charCodeAt(lt + 1) === 47; // "/"
    const selfClosing = s.charCodeAt(gt - 1) === 47;
    const [prefix, name] = splitName(tagName(s, lt + (closing ? 2 : 1)));
    if (name === "url" || name === "sitemap") {
      // An unclosed <url> just starts the next entry: nothing is rescanned.
      this.entry = closing || selfClosing ? undefined : name;
      this.entryPrefix = prefix;
      this.entryDone = false;
      this.loc = undefined;
    } else if (name === "loc" && prefix === this.entryPrefix && this.entry !== undefined && !this.entryDone) {
      if (closing) this.endLoc();
      else if (!selfClosing) this.loc = "";
    }
    return gt + 1;
  }

  private endLoc(): void {
    const value = this.loc?.trim();
    this.loc = undefined;
    if (value === undefined || this.entry === undefined) return;
    this.entryDone = true;
    if (value !== "" && value.length <= MAX_URL_LENGTH) this.onLoc(this.entry, value);
  }
}

/** `<loc>` values of one whole sitemap document, split into child sitemaps (an index) and pages. */
export function parseSitemap(xml: string): { sitemaps: string[]; urls: string[] } {
  const sitemaps: string[] = [];
  const urls: string[] = [];
  new SitemapScanner((kind, value) => (kind === "sitemap" ? sitemaps : urls).push(value)).feed(xml);
  return { sitemaps, urls };
}
