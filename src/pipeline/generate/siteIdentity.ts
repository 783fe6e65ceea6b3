/*
 * The site's identity: its name (the llms.txt H1) and its one-sentence summary. Generators put
 * the project's name in different places, and wrap it in words that name a page, not a project:
 *   - javadoc:  "Overview (Commons Lang 2.6 API)" on the start page, "(… API)" on every page;
 *   - Texinfo:  "Top (Lexical Analysis With Flex, for Flex 2.6.4)";
 *   - Sphinx / MkDocs: "Intro — Proj 3.4 documentation", og:site_name on some themes;
 *   - hand-written sites: "Proj Documentation", "Proj Home Page", "Proj version 2.6.12-1".
 * Each candidate is cleaned of those words and of version numbers, and the first one the checker
 * (validate/quality/identity.ts) would accept as a project name wins.
 */
import type { Page, Site } from "../types";
import { summaryTextProblem, titleProblems } from "../validate/quality/identity";
import { sharedTitleParts } from "./linkNames";
import { commonPackage } from "./structure";
import { norm, siteNameFrom } from "./text";

// A page's place in a site, never its project: the start page of javadoc (Overview), Texinfo
// (Top), Doxygen (Main Page), hand-written sites (Home, Index, Readme).
const PAGE_WORD =
  "overview|top|home|home ?page|homepage|main page|start page|front page|index|welcome|contents|table of contents|readme|introduction";
const WRAPPED = new RegExp(`^(?:${PAGE_WORD})\\s*\\((.+)\\)$`, "i");
const LEADING_WORD = new RegExp(`^(?:welcome to(?: the)?|${PAGE_WORD})\\s*[:|·•»–—-]\\s+`, "i");
const TRAILING_WORD = new RegExp(`\\s*(?:[:|·•»–—-]\\s*)?\\b(?:${PAGE_WORD}|documentation|docs|online docs)$`, "i");
// "version 2.6.12-1+deb12u4", "v3", "1.4", "12.1": versions change with every release.
const VERSION = /\s*\b(?:version\s+|v(?=\d))?\d+(?:\.\d+)+[\w.+~-]*|\s*\bversion\s+\d[\w.+~-]*|\s+v\d+\b/gi;
// "Lexical Analysis With Flex, for Flex 2.6.4": the clause that only carries the version.
const FOR_VERSION = /,\s*(?:for|version)\b[^,]*\d[^,]*$/i;

/** A name a maintainer would put in the H1, or "" when no candidate cleans up into one. */
export function cleanSiteName(raw: string): string {
  let t = raw.replace(/\s+/g, " ").trim();
  for (let i = 0; i < 4; i++) {
    const before = t;
    t = t.replace(WRAPPED, "$1").replace(FOR_VERSION, "").replace(LEADING_WORD, "");
    t = t.replace(VERSION, "").replace(TRAILING_WORD, "");
    t = t.replace(/\(\s*\)/g, "").replace(/^[\s:|·•»–—,(-]+|[\s:|·•»–—,(-]+$/g, "");
    t = t.replace(/^\((.*)\)$/, "$1").trim();
    t = dedupeHalves(t);
    if (t === before) break;
  }
  return t;
}

// "Cairo: A Vector Graphics Library: Cairo: A Vector Graphics Library" (gtk-doc joins the book
// title to a page title that is the book title again).
function dedupeHalves(t: string): string {
  const m = /^(.+?)\s*[:|·•»–—-]\s*(.+)$/.exec(t);
  if (!m) return t;
  for (let i = t.indexOf(":"); i > 0; i = t.indexOf(":", i + 1)) {
    const a = t.slice(0, i).trim();
    const b = t.slice(i + 1).trim();
    if (a && norm(a) === norm(b)) return a;
  }
  return t;
}

export function isProjectName(name: string, site?: Site): boolean {
  if (!name || name.length > 80) return false;
  let origin: URL | undefined;
  try {
    origin = site ? new URL(site.origin) : undefined;
  } catch {
    origin = undefined;
  }
  return titleProblems(name, origin).length === 0;
}

/**
 * The site's name, from the best source that gives one: og:site_name, the part every page title
 * shares, the start page's title, its first heading; the host only when nothing else does.
 */
export function siteNameOf(start: Page | undefined, pages: Page[], site: Site): string {
  const shared = sharedTitleParts(pages.map((p) => p.title));
  const h1 = start?.headings.find((h) => h.level === 1)?.text ?? "";
  const candidates = [
    start?.siteName ?? "",
    ...shared,
    siteNameFrom(start, pages, site),
    start?.title ?? "",
    h1,
    packageName(pages),
  ];
  for (const c of candidates) {
    const name = cleanSiteName(c);
    if (isProjectName(name, site)) return name;
  }
  // Nothing clean: a readable name still beats the host (the checker will say so).
  return candidates.map(cleanSiteName).find(Boolean) || site.key;
}

/**
 * API docs that name nothing but their packages (javadoc's "Overview"): the project is the last
 * part of the packages' common prefix, "org.h2.*" → "H2", once reverse-domain words are gone.
 */
function packageName(pages: Page[]): string {
  const parts = commonPackage(pages)
    .split(".")
    .filter((p) => p && !/^(org|com|net|io|dev|edu|gov|de|fr|uk|eu|info)$/i.test(p));
  const last = parts[parts.length - 1] ?? "";
  return last ? last.charAt(0).toUpperCase() + last.slice(1) : "";
}

/** True when the text can be the file's summary: real prose, not a notice, placeholder or menu. */
export function isUsableSummary(text: string): boolean {
  const t = text.trim();
  if (!t || summaryTextProblem(t) !== null) return false;
  // "Getting Started", "package index", "ca-base <dir>": a heading or a token, not a sentence.
  const words = t.split(/\s+/).filter((w) => /\p{L}{2,}/u.test(w));
  return words.length >= 6 && !/[<>{}]/.test(t.slice(0, 40));
}
