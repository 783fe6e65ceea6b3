/**
 * extractPage: one page body → ExtractedPage (title, description, headings, language, markdown,
 * links). Pure and synchronous, and slow on big HTML (jsdom + readability run 3–18 pages/s): call
 * it through the Extractor pool (extract.ts), which runs it on worker threads with a time budget.
 */
import { Readability } from "@mozilla/readability";
import { JSDOM, VirtualConsole } from "jsdom";
import type TurndownService from "turndown";

import { extractMarkdown, extractPlainText, resolveHttp } from "./extractText";
import { MAX_LINKS_PER_PAGE, scanHrefs } from "./hrefScan";
import { createMarkdownConverter } from "./htmlToMarkdown";
import type { ExtractedPage, ExtractInput, Heading } from "../types";

export interface ExtractPageOptions {
  /**
   * jsdom and readability get at most this many characters of a page (default 1 MB); links past
   * the cut are still found by a plain scan of the rest. Readability's cost grows faster than the
   * page (it re-walks ancestors and subtrees for every candidate), so a 2.5 MB page can take
   * 12–19 s, and jsdom needs 150–250 MB of heap per MB of HTML. The first 1 MB of a page that big
   * is a huge single-page reference or changelog; the rest would rarely fit an llms-full.txt budget. The cut is made on the string, not in the DOM:
   * jsdom re-counts a parent's children on every removal, so pruning a long <pre> is quadratic.
   */
  maxHtmlBytes?: number;
}

export const DEFAULT_MAX_HTML_BYTES = 1_000_000;
const MAX_HEADINGS = 600;
const MAX_DESCRIPTION = 300;

let converter: TurndownService | undefined;

export function extractPage(input: ExtractInput, opts: ExtractPageOptions = {}): ExtractedPage {
  switch (contentKind(input)) {
    case "markdown":
      return extractMarkdown(input);
    case "text":
      return extractPlainText(input);
    case "html":
      return extractHtml(input, opts.maxHtmlBytes ?? DEFAULT_MAX_HTML_BYTES);
  }
}

function contentKind(input: ExtractInput): "html" | "markdown" | "text" {
  const type = (input.contentType.split(";")[0] ?? "").trim().toLowerCase();
  if (type === "text/markdown" || type === "text/x-markdown") return "markdown";
  const path = safePathname(input.url);
  const mdPath = /\.(md|markdown|mdx)$/i.test(path);
  if (mdPath && (type === "" || type === "text/plain" || type === "application/octet-stream")) return "markdown";
  if (type === "text/plain") return "text";
  return "html";
}

/**
 * One window per thread, reused: a new JSDOM window costs ~12 ms of CPU, far more than parsing a
 * small page into a document of this window (~1 ms). DOMParser documents have no browsing
 * context: scripts never run and nothing is loaded, as with a fresh JSDOM without runScripts.
 */
let parserWindow: JSDOM["window"] | undefined;

function parseHtml(html: string): Document {
  // A silent virtual console keeps jsdom's CSS/HTML parse complaints out of our logs.
  parserWindow ??= createParserWindow();
  return new parserWindow.DOMParser().parseFromString(html, "text/html");
}

function createParserWindow(): JSDOM["window"] {
  const window = new JSDOM("", { virtualConsole: new VirtualConsole() }).window;
  // Readability's only selector call is querySelectorAll("tag,tag,…"). jsdom's selector engine
  // adds focus/click listeners to the window for every document it is used on, and never removes
  // them: with a shared window each page would stay alive. A tree walk gives the same elements in
  // the same (document) order; anything else still goes to jsdom.
  for (const proto of [window.Element.prototype, window.Document.prototype] as { querySelectorAll: unknown }[]) {
    const original = proto.querySelectorAll as (this: Element | Document, s: string) => NodeListOf<Element>;
    proto.querySelectorAll = function querySelectorAll(
      this: Element | Document,
      selectors: string,
    ): ArrayLike<Element> {
      const tags = String(selectors)
        .split(",")
        .map((t) => t.trim());
      return tags.every((t) => /^[a-z][a-z0-9]*$/i.test(t)) ? byTag(this, ...tags) : original.call(this, selectors);
    };
  }
  return window;
}

function extractHtml(input: ExtractInput, maxHtmlBytes: number): ExtractedPage {
  const { head, rest } = cutHtml(input.body, Math.min(maxHtmlBytes, anchorCut(input.body, MAX_PARSED_ANCHORS)));
  const pageUrl = new URL(input.url).href;
  const doc = parseHtml(head);
  let manualDoc: Document | undefined;
  try {
    // One walk of the whole tree finds everything we read before readability changes it.
    const found = groupByTag(
      byTag(
        doc,
        ...STRIPPED,
        "meta",
        "link",
        "title",
        "a",
        "area",
        "frame",
        "iframe",
        "noframes",
        "main",
        "article",
        "base",
      ),
    );
    // Removed first: they are never content, and readability would walk them on every pass.
    for (const tag of STRIPPED) for (const el of found(tag)) el.remove();
    // The parsed document's own URL is the shared window's (about:blank): give it the page's, so
    // our links and readability's relative-URI fixing resolve as in a document loaded from pageUrl.
    setDocumentUrl(doc, pageUrl, found("base"));
    const meta = readMeta(doc, found);
    // A frameset's frames are its content, so their pages come first; <noframes> is raw text to
    // the parser, so its links are scanned from that text.
    const frames = [...found("frame"), ...found("iframe")];
    const frameSrcs = frames.flatMap((f) => f.getAttribute("src") ?? []);
    const noframes = found("noframes")
      .map((el) => el.textContent ?? "")
      .join("\n");
    const links = collectLinks(doc, [...frameSrcs, ...hrefsOf([...found("a"), ...found("area")])], noframes + rest);
    const pageHeadings = collectHeadings(found("main")[0] ?? found("article")[0] ?? doc.body);
    const regionText = textLengthOf(mainRegion(doc));

    const article = parseArticle(doc);
    let content = article?.content ?? mainRegion(doc);
    // A single-page manual is many sections of equal weight; readability keeps the best-scoring
    // one (measured: 90 KB of markdown from a 1.1 MB Asciidoctor book of 190 sections). Then the
    // whole text is the content, without the page's chrome and its own table of contents.
    let articleHeadings = article ? keepArticleHeadings(pageHeadings, article.content) : pageHeadings;
    if (article && isWholeManual(pageHeadings, textLengthOf(article.content), regionText)) {
      manualDoc = parseHtml(head);
      content = manualRegion(manualDoc);
      articleHeadings = pageHeadings;
    }
    const textLength = textLengthOf(content);
    const markdown = content && textLength > 0 ? markdownOf(content) : "";
    const title = pickTitle(article?.title, meta, pageHeadings, article?.siteName);
    return {
      title,
      description: clip(pickDescription(meta, article, content)),
      headings: articleHeadings,
      ...(meta.lang ? { lang: meta.lang } : article?.lang ? { lang: article.lang } : {}),
      markdown,
      textLength,
      links,
      ...(meta.canonical ? { canonical: meta.canonical } : {}),
      ...(found("frame").length > 0 ? { frameset: true } : {}),
      ...(meta.alternates ? { alternates: meta.alternates } : {}),
      ...(meta.siteName ? { siteName: meta.siteName } : {}),
    };
  } finally {
    // jsdom's window keeps every attached element with an id or name of ANY document of the window
    // in its named-properties map (window-properties.js) until the element is detached: without
    // this, each page stays alive (measured +8 MB heap per manual page). Removing the root detaches
    // what is still in the tree; what readability moved out was detached when it moved.
    doc.documentElement?.remove();
    manualDoc?.documentElement?.remove();
  }
}

const MANUAL_MIN_SECTIONS = 20;

function isWholeManual(headings: Heading[], articleText: number, regionText: number): boolean {
  const anchored = headings.filter((h) => h.id && h.level >= 2).length;
  return anchored >= MANUAL_MIN_SECTIONS && articleText < regionText * 0.5;
}

function textLengthOf(el: Element | null): number {
  return (el?.textContent ?? "").replace(/\s+/g, " ").trim().length;
}

// A manual's own table of contents (Asciidoctor's #toc, DocBook's div.toc, Texinfo's div.contents)
// repeats its headings as links: navigation, not text.
const TOC_NAME = /^(?:toc\d*|table-of-contents|contents)$/i;

/** The main region of a freshly parsed copy, without navigation, sidebars, footers and tables of contents. */
function manualRegion(doc: Document): Element | null {
  for (const tag of STRIPPED) for (const el of byTag(doc, tag)) el.remove();
  const region = mainRegion(doc);
  if (!region) return null;
  for (const el of byTag(region, "nav", "aside", "footer", "div", "ul", "ol")) {
    const names = [el.getAttribute("id") ?? "", ...(el.getAttribute("class") ?? "").split(/\s+/)];
    if (NAV_TAGS.has(el.tagName) || el.getAttribute("role") === "navigation" || names.some((n) => TOC_NAME.test(n)))
      el.remove();
  }
  return region;
}

/**
 * Shadows documentURI/URL/baseURI on this document object with what a document loaded from
 * pageUrl would report: the base is the first connected <base href>, resolved against the page
 * (HTML's "frozen base URL"), else the page. Readability reads exactly these two properties, and
 * keeps "#x" links as fragments only when they are equal; nothing we use reads jsdom's internal URL.
 */
function setDocumentUrl(doc: Document, pageUrl: string, bases: Element[]): void {
  const baseHref = bases.find((b) => b.isConnected && b.hasAttribute("href"))?.getAttribute("href");
  let baseUrl = pageUrl;
  if (baseHref !== undefined && baseHref !== null) {
    try {
      baseUrl = new URL(baseHref, pageUrl).href;
    } catch {
      // An unparsable <base href> is ignored, as browsers and jsdom do.
    }
  }
  for (const [key, value] of [
    ["documentURI", pageUrl],
    ["URL", pageUrl],
    ["baseURI", baseUrl],
  ] as const) {
    Object.defineProperty(doc, key, { value, configurable: true });
  }
}

interface PageMeta {
  title: string;
  ogTitle: string;
  siteName: string;
  description: string;
  lang: string;
  canonical?: string;
  alternates?: { hreflang: string; href: string }[];
}

function readMeta(doc: Document, found: Found): PageMeta {
  const metas = new Map<string, string>();
  for (const m of found("meta")) {
    const key = (
      m.getAttribute("name") ??
      m.getAttribute("property") ??
      m.getAttribute("http-equiv") ??
      ""
    ).toLowerCase();
    if (key && !metas.has(key)) metas.set(key, clean(m.getAttribute("content")));
  }
  const metaContent = (...keys: string[]): string => keys.map((k) => metas.get(k) ?? "").find(Boolean) ?? "";
  const canonicalLink = found("link").find(
    (l) => /(^|\s)canonical(\s|$)/i.test(l.getAttribute("rel") ?? "") && l.hasAttribute("href"),
  );
  const canonicalHref = canonicalLink?.getAttribute("href");
  const canonical = canonicalHref ? resolveHttp(canonicalHref, doc.baseURI) : undefined;
  const alternates = found("link").flatMap((l) => {
    const hreflang = l.getAttribute("hreflang");
    const href = l.getAttribute("href");
    if (!hreflang || !href || !/(^|\s)alternate(\s|$)/i.test(l.getAttribute("rel") ?? "")) return [];
    const abs = resolveHttp(href, doc.baseURI);
    return abs ? [{ hreflang: clean(hreflang), href: abs }] : [];
  });
  const lang = clean(doc.documentElement.getAttribute("lang")) || metaContent("content-language").split(",")[0];
  return {
    title: clean(found("title")[0]?.textContent),
    ogTitle: metaContent("og:title"),
    siteName: metaContent("og:site_name", "application-name"),
    description: metaContent("description", "og:description", "twitter:description"),
    lang: (lang ?? "").trim(),
    ...(canonical ? { canonical } : {}),
    ...(alternates.length > 0 ? { alternates } : {}),
  };
}

/** The href of each connected element: links inside the <noscript>/<svg> removed above don't count. */
function hrefsOf(anchors: Element[]): string[] {
  return anchors.flatMap((a) => (a.isConnected ? (a.getAttribute("href") ?? []) : []));
}

/**
 * Every link of the page (<a>/<area> href, frame src), nav included (the crawl needs them),
 * resolved against <base>/url. `rest` is text the DOM did not parse as elements (the unparsed part
 * of a huge page, <noframes>): its links are found by a plain scan.
 */
function collectLinks(doc: Document, hrefs: string[], rest: string): string[] {
  // A linear scan (a RegExp here was quadratic on unclosed "<a " tags), capped like the DOM's links.
  if (hrefs.length < MAX_LINKS_PER_PAGE) hrefs.push(...scanHrefs(rest, MAX_LINKS_PER_PAGE - hrefs.length).hrefs);
  const out = new Set<string>();
  for (const href of hrefs) {
    const abs = resolveHttp(href, doc.baseURI);
    if (abs) out.add(abs);
    if (out.size >= MAX_LINKS_PER_PAGE) break;
  }
  return Array.from(out);
}

/** h1–h3 outside navigation, sidebars and footers, in document order. */
function collectHeadings(region: Element | null): Heading[] {
  if (!region) return [];
  const out: Heading[] = [];
  for (const h of headingsIn(region, ["h1", "h2", "h3"])) {
    if (inNavigation(h, region)) continue;
    const text = clean(h.textContent).replace(/[¶#]$/, "").trim();
    const id = fragmentOf(h);
    if (text) out.push({ level: Number(h.tagName.slice(1)), text, ...(id ? { id } : {}) });
    if (out.length >= MAX_HEADINGS) break;
  }
  return out;
}

/**
 * Where a link lands on this heading. Generators mark headings three ways: an id on the heading
 * (Asciidoctor, Sphinx, MkDocs), a named anchor inside it (hand-written manuals:
 * `<h2><a name="2.1">…</a></h2>`), or an empty named anchor just before it (Texinfo, DocBook).
 */
function fragmentOf(h: Element): string | undefined {
  const own = h.getAttribute("id");
  if (own) return own;
  for (const a of byTag(h, "a")) {
    const name = a.getAttribute("id") ?? a.getAttribute("name");
    if (name) return name;
  }
  const before = h.previousElementSibling;
  if (before?.tagName === "A" && !clean(before.textContent)) {
    return before.getAttribute("id") ?? before.getAttribute("name") ?? undefined;
  }
  return undefined;
}

function mainRegion(doc: Document): Element | null {
  return byTag(doc, "main")[0] ?? byTag(doc, "article")[0] ?? doc.body;
}

/**
 * Readability turns h1 into h2 and drops the heading that repeats the title, so levels come from
 * the page; the article only says which headings are content (a sidebar's "Contents" is not).
 */
function keepArticleHeadings(pageHeadings: Heading[], content: Element): Heading[] {
  const all = headingsIn(content, ["h1", "h2", "h3", "h4", "h5", "h6"]);
  const inArticle = new Set(all.map((h) => clean(h.textContent).replace(/[¶#]$/, "").trim()));
  const firstH1 = pageHeadings.find((h) => h.level === 1);
  return pageHeadings.filter((h) => h === firstH1 || inArticle.has(h.text));
}

interface Article {
  title: string;
  siteName: string;
  excerpt: string;
  lang: string;
  content: Element;
}

function parseArticle(doc: Document): Article | null {
  // The serializer hands back the element itself: turndown then walks it directly instead of
  // re-parsing an HTML string. keepClasses keeps "language-x" for fenced code blocks.
  const parsed = new Readability<Element>(doc, { serializer: (node) => node as Element, keepClasses: true }).parse();
  const content = parsed?.content;
  if (!parsed || !content || clean(content.textContent).length === 0) return null;
  return {
    title: clean(parsed.title),
    siteName: clean(parsed.siteName),
    excerpt: clean(parsed.excerpt),
    lang: clean(parsed.lang),
    content,
  };
}

function markdownOf(el: Element): string {
  converter ??= createMarkdownConverter();
  // A leading or trailing rule is page chrome that readability left behind (texinfo's <hr>).
  return converter
    .turndown(el as HTMLElement)
    .trim()
    .replace(/^(?:---\s*)+/, "")
    .replace(/(?:\s*---)+$/, "");
}

/**
 * Meta description, else og/twitter, else readability's excerpt, else the first real paragraph.
 * Generators like texinfo repeat the <title> as the description: that says nothing, so it is skipped.
 */
function pickDescription(meta: PageMeta, article: Article | null, content: Element | null): string {
  const titles = new Set([meta.title, meta.ogTitle, article?.title].filter(Boolean).map((t) => t?.toLowerCase()));
  const informative = (s: string | undefined): s is string => !!s && !titles.has(s.toLowerCase());
  for (const candidate of [meta.description, article?.excerpt]) if (informative(candidate)) return candidate;
  for (const p of (content ? byTag(content, "p") : []).slice(0, 20)) {
    const text = clean(p.textContent);
    if (text.length >= 40 && informative(text)) return text;
  }
  return "";
}

function pickTitle(
  readabilityTitle: string | undefined,
  meta: PageMeta,
  headings: Heading[],
  siteName?: string,
): string {
  const h1 = headings.find((h) => h.level === 1)?.text ?? "";
  const raw = readabilityTitle || meta.title || meta.ogTitle || h1;
  return stripSiteSuffix(raw, siteName || meta.siteName, h1);
}

const SEPARATOR = /\s+(?:[|·•»–—]|-|::)\s+/g;

/**
 * "Install | Acme Docs" → "Install". The last part goes when it is the site's name, when the rest
 * is the page's h1, or when the separator is a bar-like one and the last part is the shorter.
 * A plain " - " alone is not enough: "Git - Branching" style titles keep both halves.
 */
export function stripSiteSuffix(title: string, siteName = "", h1 = ""): string {
  const matches = Array.from(title.matchAll(SEPARATOR));
  const last = matches.at(-1);
  if (!last || last.index === undefined || last.index === 0) return title;
  const head = title.slice(0, last.index).trim();
  const tail = title.slice(last.index + last[0].length).trim();
  if (!head || !tail) return title;
  const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
  if (siteName && same(tail, siteName)) return head;
  if (h1 && same(head, h1)) return head;
  if (siteName && same(head, siteName) && !h1) return tail;
  const barLike = !/^\s+-\s+$/.test(last[0]);
  return barLike && tail.length < head.length ? head : title;
}

/** Splits a page too big for readability at the last tag start before `max` characters. */
/**
 * The DOM (and readability on it) gets at most this many anchors. Readability's cost grows much
 * faster than the link count on link-dense pages (measured: 3,600 links in 100 KB took 4.4 s and
 * a 1 MB page of 30,000 links ran a thread out of heap), and such pages — generated indexes, site
 * maps, link bombs — are lists whose first thousand links show what they are. The links after the
 * cut are still found, by the linear scan of the rest.
 */
const MAX_PARSED_ANCHORS = 1000;

/** Where the (max+1)th `<a` tag starts (either case), or the page's length when it has no more than max. */
function anchorCut(html: string, max: number): number {
  let count = 0;
  for (let at = html.indexOf("<", 0); at >= 0; at = html.indexOf("<", at + 1)) {
    const a = html.charCodeAt(at + 1);
    if (a !== 97 && a !== 65) continue; // a, A
    const next = html.charCodeAt(at + 2);
    // "<a " / "<a>" / "<a\n": an anchor, not "<abbr" or "<article".
    if (next !== 32 && next !== 62 && next !== 9 && next !== 10 && next !== 13) continue;
    if (++count > max) return at;
  }
  return html.length;
}

function cutHtml(html: string, max: number): { head: string; rest: string } {
  if (html.length <= max) return { head: html, rest: "" };
  const lt = html.lastIndexOf("<", max);
  const at = lt > max / 2 ? lt : max;
  return { head: html.slice(0, at), rest: html.slice(at) };
}

/**
 * A tree walk, never querySelector/closest: jsdom's selector engine (dom-selector) keeps
 * the last few documents reachable, so a thread doing big pages held ~4 of them and spent its time
 * in GC (measured: RSS 1.7 GB vs 0.4 GB over the vim manual). It is also several times slower.
 */
type Found = (tag: string) => Element[];

const STRIPPED = ["script", "style", "svg", "noscript", "template"];

function groupByTag(elements: Element[]): Found {
  const groups = new Map<string, Element[]>();
  for (const el of elements) {
    const tag = el.tagName.toLowerCase();
    const group = groups.get(tag);
    if (group) group.push(el);
    else groups.set(tag, [el]);
  }
  return (tag) => groups.get(tag) ?? [];
}

function byTag(root: Document | Element, ...tags: string[]): Element[] {
  const wanted = new Set(tags.map((t) => t.toUpperCase()));
  const out: Element[] = [];
  const start = "documentElement" in root ? root.documentElement : root;
  // A plain walk: Array.from(getElementsByTagName(…)) is quadratic in jsdom on big pages (live collection).
  const stack: Element[] = start ? [start] : [];
  while (stack.length > 0) {
    const el = stack.pop() as Element;
    if (el !== root && wanted.has(el.tagName.toUpperCase())) out.push(el);
    for (let c = el.lastElementChild; c; c = c.previousElementSibling) stack.push(c);
  }
  return out;
}

/** The given heading tags under root, in document order. */
function headingsIn(root: Element, tags: string[]): Element[] {
  return byTag(root, ...tags);
}

const NAV_TAGS = new Set(["NAV", "ASIDE", "FOOTER"]);

function inNavigation(el: Element, stop: Element): boolean {
  for (let n = el.parentElement; n && n !== stop.parentElement; n = n.parentElement) {
    if (NAV_TAGS.has(n.tagName) || n.getAttribute("role") === "navigation") return true;
  }
  return false;
}

function clean(s: string | null | undefined): string {
  return (s ?? "").replace(/\s+/g, " ").trim();
}

function clip(s: string): string {
  return s.length > MAX_DESCRIPTION ? `${s.slice(0, MAX_DESCRIPTION - 1).trimEnd()}…` : s;
}

function safePathname(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return "";
  }
}
