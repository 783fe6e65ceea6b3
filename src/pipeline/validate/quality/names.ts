/*
 * Names: link names without the site's shared title parts, section names a reader would use.
 */
import { OPTIONAL_SECTION } from "../../render";
import type { Detector, LinkRef } from "./types";
import { LINES_KEPT, quote } from "./types";

// Page titles join the page's own name and the site's with a separator: "Install — Proj 3.4
// documentation", "Proj: Encoder", "StringUtils (Apache Commons Lang 2.6 API)", "Intro | Site".
const SUFFIX_AT = /\s+(?:[—–|·»:-]|::)\s+|\s+(?=\([^()]+\)$)/g;
const PREFIX_END = /^(.+?)(?:\s+(?:[—–|·»-]|::)\s+|:\s+)/;

/** The candidate shared parts of one name: every separator-started suffix and the first prefix. */
function affixes(name: string): string[] {
  const out: string[] = [];
  for (const m of name.matchAll(SUFFIX_AT)) if (m.index > 0) out.push(`…${name.slice(m.index)}`);
  const p = PREFIX_END.exec(name);
  if (p && p[0].length < name.length) out.push(`${p[0]}…`);
  return out;
}

/**
 * shared-affix: a separator-joined prefix or suffix on at least 3 link names and a quarter of
 * them: the site's title part, which the file should drop from every name (not from some).
 */
export const sharedAffix: Detector = ({ links }) => {
  const counts = new Map<string, LinkRef[]>();
  for (const l of links) for (const a of new Set(affixes(l.title))) counts.set(a, [...(counts.get(a) ?? []), l]);
  const need = Math.max(3, Math.ceil(links.length / 4));
  const found = [...counts.entries()]
    .filter(([a, ls]) => ls.length >= need && /\p{L}/u.test(a))
    .sort((a, b) => b[1].length - a[1].length || b[0].length - a[0].length);
  const top = found[0];
  if (!top) return null;
  const [affix, hits] = top;
  return {
    code: "shared-affix",
    message: `${hits.length} of ${links.length} link names carry ${quote(affix)}: drop the site's shared part from every name`,
    count: hits.length,
    lines: hits.slice(0, LINES_KEPT).map((h) => h.line),
  };
};

/**
 * slug-section: a section named after a path segment instead of a heading: "C3ref", "Org",
 * "De", "_modules", "getting-started". A one-word name that matches a path segment of its own
 * links counts as a slug unless the site itself writes that word, in that case, in a link name
 * or the title ("Tutorial" beside "Tutorial - User Guide" is a heading; "Orm" beside "ORM …" is not).
 */
export const slugSection: Detector = ({ doc }) => {
  const words = new Set(
    [doc.title, ...doc.sections.flatMap((s) => s.links.map((l) => l.title))].flatMap((t) => t.split(/[^\p{L}\p{N}]+/u)),
  );
  const hits = doc.sections.filter(
    (s) => s.name.toLowerCase() !== OPTIONAL_SECTION.toLowerCase() && isSlug(s.name, s.links, words),
  );
  if (hits.length === 0) return null;
  return {
    code: "slug-section",
    message: `sections named after URL path segments: ${hits.map((s) => quote(s.name)).join(", ")}; name them by the headings or index pages that introduce them`,
    count: hits.length,
    lines: hits.slice(0, LINES_KEPT).map((s) => s.line),
  };
};

function isSlug(name: string, links: { url: string }[], siteWords: Set<string>): boolean {
  if (/[_/\\]|\.x?html?$|^[a-z0-9]+(-[a-z0-9]+)+$/.test(name)) return true;
  if (/\s/.test(name)) return false;
  const key = fold(name);
  const segments = new Set(links.flatMap((l) => pathSegments(l.url)).map(fold));
  return segments.has(key) && !siteWords.has(name);
}

/** The directories of a URL's path: a section is named after a folder, not after one file. */
function pathSegments(url: string): string[] {
  try {
    return new URL(url).pathname
      .split("/")
      .slice(1, -1)
      .map((s) => decodeURIComponent(s));
  } catch {
    return [];
  }
}

function fold(s: string): string {
  return s.toLowerCase().replace(/[-_\s]/g, "");
}
