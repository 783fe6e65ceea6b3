/*
 * Small text helpers shared by the providers: the site's name, page titles without the site-name
 * suffix, one-sentence notes. Pages give us "Install | Acme Docs"; an index reads better as
 * "Install" under "# Acme Docs".
 */
import type { Page, Site } from "../types";
import { isNavigationText } from "../validate/quality/navigationText";

// " | ", " - ", " — ", " · ", " :: " … between title parts. The spaces around are required, so
// "Server-side rendering" stays one part.
const SEPARATOR = /\s+(?:[|\-–—·•»:]|::)\s+/;
const HOME_LIKE =
  /^(home|home ?page|index|welcome|start|start page|main page|front page|startseite|accueil|inicio|untitled)$/i;

/** Site name from the start page title, preferring the part other pages' titles share. */
export function siteNameFrom(start: Page | undefined, pages: Page[], site: Site): string {
  // "Vim documentation: help" on the start page and "Vim documentation: …" everywhere else.
  const shared = commonTitlePrefix(pages.map((p) => p.title));
  if (shared && start?.title.startsWith(shared)) return shared.replace(/[\s:|·•»–—-]+$/, "");
  const raw = (start?.title ?? "").replace(/^\s*welcome to\s+(the\s+)?/i, "").trim();
  const parts = raw
    .split(SEPARATOR)
    .map((p) => p.replace(/^\s*welcome to\s+(the\s+)?/i, "").trim())
    .filter((p) => p && !HOME_LIKE.test(p));
  if (parts.length === 0) return site.key;
  if (parts.length === 1) return parts[0] ?? site.key;
  // "Getting started — Acme": the part repeated in other pages' titles is the site's name.
  const others = pages.filter((p) => p !== start).map((p) => p.title.split(SEPARATOR).map(norm));
  let best = parts[0] ?? site.key;
  let bestCount = 1;
  for (const part of parts) {
    const count = others.filter((t) => t.includes(norm(part))).length;
    if (count > bestCount) [best, bestCount] = [part, count];
  }
  return best;
}

/** "Install | Acme" → "Install" when the site is "Acme"; the title unchanged otherwise. */
export function cleanTitle(title: string, siteName: string): string {
  const t = title.replace(/\s+/g, " ").trim();
  // Sphinx titles a document without a heading "<no title>": a placeholder, not a name.
  if (/^<?no title>?$/i.test(t)) return "";
  if (!siteName) return t;
  const parts = t.split(SEPARATOR);
  if (parts.length < 2) return t;
  const keep = parts.filter((p) => norm(p) !== norm(siteName));
  if (keep.length === 0 || keep.length === parts.length) return t;
  // Keep the original separators between the remaining parts by cutting the site part off an end.
  if (norm(parts[parts.length - 1] ?? "") === norm(siteName))
    return t
      .slice(0, t.lastIndexOf(parts[parts.length - 1] ?? ""))
      .replace(/\s+(?:[|\-–—·•»:]|::)\s*$/, "")
      .trim();
  if (norm(parts[0] ?? "") === norm(siteName))
    return t
      .slice((parts[0] ?? "").length)
      .replace(/^\s*(?:[|\-–—·•»:]|::)\s+/, "")
      .trim();
  return keep.join(" - ");
}

/**
 * A prefix most titles start with, ending in a separator ("Vim documentation: motion"): returned
 * so it can be cut, and so it can name the site. "" when there is none.
 */
export function commonTitlePrefix(titles: string[]): string {
  const clean = titles.map((t) => t.replace(/\s+/g, " ").trim()).filter(Boolean);
  if (clean.length < 3) return "";
  const counts = new Map<string, number>();
  for (const t of clean) {
    for (const m of t.matchAll(/[:|·•»–—-]\s/g)) {
      if (m.index !== undefined && m.index > 0)
        counts.set(t.slice(0, m.index + m[0].length), (counts.get(t.slice(0, m.index + m[0].length)) ?? 0) + 1);
    }
  }
  let best = "";
  for (const [prefix, n] of counts) if (n >= clean.length * 0.8 && prefix.length > best.length) best = prefix;
  return best;
}

/**
 * The first sentence of the first prose paragraph: no headings, lists, tables or quotes. Code
 * fences are skipped, unless `inCode` allows a second look inside them: some manuals (Vim's) are
 * prose set in <pre>.
 */
export function firstProseSentence(markdown: string, maxChars: number, inCode = false): string {
  // Fences go first: a blank line inside one would otherwise start a "paragraph" of code.
  const outside = withoutFences(markdown);
  const found = proseIn(outside, maxChars);
  // Inside fences, the block that opens one (Vim's "*motion.txt* For Vim version 9.0") is skipped.
  return found || !inCode ? found : proseIn(markdown, maxChars);
}

/** The markdown without its fenced code blocks (a blank line inside one would start a "paragraph"). */
function withoutFences(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
}

function proseIn(markdown: string, maxChars: number): string {
  const first = proseBlocks(markdown).next();
  return first.done ? "" : firstSentence(first.value, maxChars);
}

/** The text of each prose paragraph, in order: no headings, lists, tables, code, link lists or chrome. */
function* proseBlocks(markdown: string): Generator<string> {
  for (const block of markdown.split(/\n\s*\n/)) {
    const b = block.trim();
    if (!b || /^(#|[-*+]\s|\d+[.)]\s|\||>|<|```|~~~)/.test(b)) continue;
    // A block of nothing but links is a table of contents entry ("[11.9. Index-Only Scans](…)").
    if (b.replace(/\[((?:[^\]\\]|\\.)*)\]\([^)]*\)/g, "").replace(/[\s,;:.|·•*_]+/g, "") === "") continue;
    // A Texinfo node header ("Next: Fonts, Previous: Intro, Up: Top [Contents][Index]") or a
    // breadcrumb opens many pages: chrome, never the page's first sentence.
    const text = plainText(b);
    if (isNavigationText(text)) continue;
    if (looksLikeProse(text) && !isHeadingLike(text) && !isBoilerplate(text)) yield text;
  }
}

/**
 * The page's prose after `skip` (the summary taken from it), in whole sentences up to maxChars:
 * what the page goes on to say about the site. "" when it says nothing more.
 */
export function proseAfter(markdown: string, skip: string, maxChars: number): string {
  const seen = norm(skip).replace(/…$/, "");
  const out: string[] = [];
  let used = 0;
  let blocks = 0;
  for (const text of proseBlocks(withoutFences(markdown))) {
    if (++blocks > 3) break;
    for (const sentence of text.split(/(?<=[.!?])\s+(?=[A-Z0-9"'(])/)) {
      const s = sentence.trim();
      const key = norm(s);
      if (!key || (seen && (seen.includes(key) || key.includes(seen)))) continue;
      if (!/[.!?]$/.test(s) || used + s.length + 1 > maxChars) return out.join(" ");
      out.push(s);
      used += s.length + 1;
    }
  }
  return out.join(" ");
}

// "11.9. Index-Only Scans and Covering Indexes", "A.2. Errors", "Chapter 4. SQL Syntax": a
// numbered heading or table-of-contents line, not a sentence about the page.
const NUMBERED_HEADING = /^(?:(?:\d+|[A-Z])(?:\.\d+)+\.?|(?:part|chapter|appendix|section)\s+[\dA-Z]+\.)\s/i;

function isHeadingLike(text: string): boolean {
  return NUMBERED_HEADING.test(text) && !/[.!?]$/.test(text.trim());
}

/**
 * Copyright and legal lines, "Version 15.2", "Last updated 2024-01-01": true of every page of a
 * site, so never its summary or a page's note.
 */
export function isBoilerplate(text: string): boolean {
  const t = text.replace(/\s+/g, " ").trim();
  if (/copyright|©|\(c\)\s*\d{4}|all rights reserved|licensed under|^legal notice/i.test(t)) return true;
  if (/^(version|release|revision|last (updated|modified)|updated|generated|built)\b[^.]{0,60}\d/i.test(t)) return true;
  return t.split(" ").length <= 5 && /\bv?\d+\.\d+(\.\d+)*\b/.test(t);
}

// Index pages, letter bars ("A B C D …") and link lists are not prose: at least six words, mostly
// real words, and no markdown left over.
function looksLikeProse(text: string): boolean {
  if (text.length < 40 || text.includes("](")) return false;
  const words = text.split(" ");
  if (words.length < 6) return false;
  const wordy = words.filter((w) => /^[\p{L}][\p{L}'’-]*[\p{L}]?[.,;:!?)]?$/u.test(w) && w.length >= 2).length;
  return wordy / words.length >= 0.6;
}

/**
 * Some title heuristics cut at any "-" or "/" ("Command-line API" → "line API", "HTTP/2" → "2"):
 * when the page's first H1/H2 ends with its title, that heading is the whole name.
 */
export function fullTitle(page: Page, title = page.title.trim()): string {
  const first = page.headings.find((h) => h.level <= 2);
  const h1 = first?.text.replace(/\s+/g, " ").replace(/#$/, "").trim() ?? "";
  // Only a cut inside a word ("Command-|line API"), not a heading that adds words in front.
  const before = h1.charAt(h1.length - title.length - 1);
  const cut =
    title &&
    h1.length > title.length &&
    h1.length <= 120 &&
    h1.toLowerCase().endsWith(title.toLowerCase()) &&
    /[-/]/.test(before);
  return cut ? h1 : title;
}

export function isHomeLike(title: string): boolean {
  return HOME_LIKE.test(title.trim());
}

/** The first sentence, at most maxChars, cut at a word boundary with an ellipsis. */
export function firstSentence(text: string, maxChars = 160): string {
  const t = text.replace(/\s+/g, " ").trim();
  if (!t) return "";
  const m = /^(.+?[.!?])(?=\s+[A-Z0-9"'([]|$)/.exec(t);
  // A first sentence under 40 characters ("Stability: 1 - Experimental.") says little alone:
  // the next one joins it, within maxChars.
  let sentence = m?.[1] ?? t;
  if (sentence.length < 40 && sentence.length < t.length) {
    const two = /^(.+?[.!?]\s+.+?[.!?])(?=\s+[A-Z0-9"'([]|$)/.exec(t)?.[1];
    sentence = two ?? t;
  }
  // "… are available for many distributions, including:" introduces a list the note leaves out:
  // an ellipsis says the text goes on, where a colon points at nothing.
  return clipWords(sentence, maxChars).replace(/\s*:$/, "…");
}

/** Up to maxChars, cut at a word boundary with an ellipsis. */
export function clipWords(text: string, maxChars: number): string {
  const t = text.replace(/\s+/g, " ").trim();
  if (t.length <= maxChars) return t;
  const cut = t.slice(0, maxChars - 1);
  const space = cut.lastIndexOf(" ");
  return `${(space > maxChars * 0.6 ? cut.slice(0, space) : cut).replace(/[\s,;:.\-–—]+$/, "")}…`;
}

/** Readable words of a page's markdown: no code blocks, link targets, markup or headings. */
export function plainText(markdown: string): string {
  return (
    markdown
      .replace(/```[\s\S]*?```/g, " ")
      .replace(/!\[[^\]]*\]\([^)]*\)/g, " ")
      .replace(/\[((?:[^\]\\]|\\.)*)\]\([^)]*\)/g, "$1")
      .replace(/^#{1,6}\s.*$/gm, " ")
      .replace(/^\s*>\s?/gm, "")
      // Emphasis pairs (*a*, **a**, _a_) lose their markers; snake_case words keep their underscores.
      .replace(/(\*\*|__|\*|_)(?=\S)([^\n]*?\S)\1(?!\w)/g, "$2")
      .replace(/`+/g, "")
      // Turndown's escapes: "\[\[" → "[[", "ZLE\_REMOVE" → "ZLE_REMOVE".
      .replace(/\\([\\`*_{}[\]()#+\-.!~|<>])/g, "$1")
      .replace(/\s+/g, " ")
      .trim()
  );
}

/** The first n words of a page's readable text. */
export function firstWords(markdown: string, n: number): string {
  const words = plainText(markdown).split(" ").filter(Boolean);
  return words.slice(0, n).join(" ") + (words.length > n ? " …" : "");
}

export function norm(s: string): string {
  return s.replace(/\s+/g, " ").trim().toLowerCase();
}
