/*
 * The site's shape, read from its URLs: which section each page belongs to (the first path segment
 * under the prefix) and which pages are secondary (changelogs, news, legal, deep reference), the
 * ones llms.txt puts under "## Optional". Pages arrive in crawl order (start page first, breadth
 * first), which is close to navigation order, so "first seen" stands for "more prominent".
 */
import type { Page, Site } from "../types";
import { isGeneratedListing } from "../validate/quality/listings";

export interface PagePlace {
  page: Page;
  /** Crawl order. */
  index: number;
  /** Path segments under the prefix, after any segments every page shares ("en/latest"). */
  segments: string[];
  /** Section key: the first segment, or "" for pages at the root. */
  key: string;
  /** The section's name when the site gives one (a javadoc package), else derived from the key. */
  label?: string;
  secondary: boolean;
}

export interface SectionGroup {
  key: string;
  name: string;
  places: PagePlace[];
  secondary: boolean;
}

const SECONDARY_SEGMENT =
  /^(change-?logs?|changes|release-?notes|releases?|news|blog|blogs|posts?|archives?|legal|privacy(-policy)?|terms(-of-(service|use))?|tos|licen[cs]e|licen[cs]ing|copyright|copying|cookies?(-policy)?|imprint|impressum|contributors|code-of-conduct|tags?|categor(y|ies)|authors?|page|sitemap|search|404|login|log-?in|sign-?in|sign-?up|register|whats-?new|deprecated|history)$/i;
const SECONDARY_TITLE =
  /^(change ?log|changes in|release notes|release history|what'?s new|news|blog|privacy|terms (of|and)|license|licence|copyright|copying|cookie|imprint|impressum|legal|code of conduct|contributors|tag:|category:|archives?)\b/i;
// Generated indexes and tables of contents: useful to browse, not a page to read first.
const INDEX_TITLE =
  /^(table of contents|contents|about this (document|manual)|search( results)?|([\w-]+ )*index)(\s*\(.*\))?$/i;
const REFERENCE_SEGMENT =
  /^(api|apis|reference|ref|api-reference|apidocs|javadoc|typedoc|modules|classes|interfaces|functions|namespaces)$/i;
const INDEX_FILE = /^(index|default|readme)(\.[a-z0-9]+)?$/i;
const ACRONYMS = new Set([
  "api",
  "apis",
  "cli",
  "faq",
  "faqs",
  "sdk",
  "sdks",
  "ui",
  "ux",
  "http",
  "https",
  "json",
  "css",
  "html",
  "js",
  "ts",
  "sql",
  "url",
  "rest",
  "id",
  "io",
  "os",
  "gpu",
  "cpu",
  "aws",
  "gcp",
  "ai",
  "llm",
  "ml",
]);

/** Places every page; the start page is always a root page. */
export function placePages(site: Site, pages: Page[]): PagePlace[] {
  const paths = pages.map((p) => relativeSegments(site, p.url));
  const shared = sharedLeadingSegments(paths);
  const dirs = new Set(paths.filter((s) => s.length >= 2 + shared).map((s) => s[shared]));
  const packages = packageDirectories(pages);
  return pages.map((page, index) => {
    const all = paths[index] ?? [];
    const segments = all.slice(Math.min(shared, all.length));
    const first = segments[0] ?? "";
    const pkg = index === 0 ? undefined : packageOf(page.url, packages);
    // A package's depth is its name's, not a sign of deep reference: only its file counts.
    const secondary = index !== 0 && isSecondary(pkg ? segments.slice(-1) : segments, page);
    if (pkg) return { page, index, segments, key: `package:${pkg.dir}`, label: pkg.name, secondary };
    // "/guide/" or "/guide" next to "/guide/install": the section's own index page.
    const isDir = segments.length >= 2 || (segments.length === 1 && (page.url.endsWith("/") || dirs.has(first)));
    const key = index === 0 || !isDir ? "" : first.toLowerCase();
    return { page, index, segments, key, secondary };
  });
}

// javadoc writes one directory per package (org/acme/util/) with a package-summary.html that
// names it; the classes sit in it, their uses in its class-use/. API reference reads by package,
// so on such sites each package is a section, named as the package is ("org.acme.util").
const PACKAGE_INDEX = /\/package-summary\.html?$/i;
const PACKAGE_SIDE_DIR = /^(class-use|doc-files)$/i;

interface PackageDir {
  dir: string;
  name: string;
}

function packageDirectories(pages: Page[]): Map<string, PackageDir> {
  const out = new Map<string, PackageDir>();
  for (const p of pages) {
    const path = pathOf(p.url);
    if (!PACKAGE_INDEX.test(path)) continue;
    const dir = path.slice(0, path.lastIndexOf("/") + 1);
    const fromPath = dir.split("/").filter(Boolean).join(".");
    // The title is the package's name, maybe with the site's suffix: "org.acme.util (Acme API)".
    const named = /^[\w$]+(\.[\w$]+)+/.exec(p.title.trim())?.[0];
    out.set(dir, { dir, name: named && fromPath.endsWith(named) ? named : fromPath });
  }
  return out.size >= 2 ? out : new Map<string, PackageDir>();
}

function packageOf(url: string, packages: Map<string, PackageDir>): PackageDir | undefined {
  if (packages.size === 0) return undefined;
  const parts = pathOf(url).split("/");
  parts.pop();
  if (parts.length > 0 && PACKAGE_SIDE_DIR.test(parts[parts.length - 1] ?? "")) parts.pop();
  return packages.get(`${parts.join("/")}/`);
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return "";
  }
}

/** The common dotted prefix of the site's javadoc packages ("org.h2"), or "" without packages. */
export function commonPackage(pages: Page[]): string {
  const names = [...packageDirectories(pages).values()].map((p) => p.name.split("."));
  if (names.length === 0) return "";
  const first = names[0] ?? [];
  let n = 0;
  while (n < first.length && names.every((p) => p[n] === first[n])) n++;
  return first.slice(0, n).join(".");
}

/** Groups places into sections by key, in order of first appearance; root pages first. */
export function groupSections(places: PagePlace[], rootName: string): SectionGroup[] {
  const groups = new Map<string, SectionGroup>();
  groups.set("", { key: "", name: rootName, places: [], secondary: false });
  for (const place of places) {
    let group = groups.get(place.key);
    if (!group) {
      group = {
        key: place.key,
        name: place.label ?? sectionName(place.key),
        places: [],
        secondary: SECONDARY_SEGMENT.test(stripExt(place.key)),
      };
      groups.set(place.key, group);
    }
    group.places.push(place);
  }
  for (const g of groups.values()) g.places.sort(byProminence);
  return [...groups.values()].filter((g) => g.places.length > 0);
}

/** The section's own index first, then shallower pages, then crawl order. */
function byProminence(a: PagePlace, b: PagePlace): number {
  return a.segments.length - b.segments.length || a.index - b.index;
}

function isSecondary(segments: string[], page: Page): boolean {
  const title = page.title;
  if (segments.some((s) => SECONDARY_SEGMENT.test(stripExt(s)))) return true;
  // Source views and generated listings (javadoc class-use/ and trees, Sphinx _modules/ and
  // genindex, Doxygen *_source.html): the checker's own list of shapes decides.
  if (isGeneratedListing({ url: page.url, title })) return true;
  if (SECONDARY_TITLE.test(title.trim()) || INDEX_TITLE.test(title.trim())) return true;
  // Deep reference: four levels down, or a leaf two levels under an API/reference section.
  if (segments.length > 3) return true;
  return segments.length >= 3 && REFERENCE_SEGMENT.test(segments[0] ?? "");
}

/** Decoded path segments under the site prefix, without a trailing "index.html". */
export function relativeSegments(site: Site, url: string): string[] {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return [];
  }
  const rest = path.startsWith(site.prefix) ? path.slice(site.prefix.length) : path.replace(/^\/+/, "");
  const segments = rest.split("/").filter(Boolean).map(safeDecode);
  if (segments.length > 0 && INDEX_FILE.test(segments[segments.length - 1] ?? "")) segments.pop();
  return segments;
}

// "/en/latest/…" on every page says nothing about structure: group by what comes after it.
function sharedLeadingSegments(paths: string[][]): number {
  if (paths.length < 2) return 0;
  let n = 0;
  for (;;) {
    const seg = paths[0]?.[n];
    if (seg === undefined || !paths.every((p) => p[n] === seg)) return n;
    n++;
  }
}

/** "getting-started" → "Getting started", "api" → "API", "cli_reference.html" → "CLI reference". */
export function sectionName(key: string): string {
  const words = stripExt(key)
    .split(/[-_.\s+]+/)
    .filter(Boolean)
    .map((w) => (ACRONYMS.has(w.toLowerCase()) ? w.toUpperCase() : w.toLowerCase()));
  const text = words.join(" ");
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : "Pages";
}

function stripExt(s: string): string {
  return s.replace(/\.(html?|php|aspx?|md|txt|xhtml)$/i, "");
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
