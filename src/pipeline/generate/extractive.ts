/*
 * The extractive provider: an llms.txt built from the pages alone, no LLM. It is the default
 * without an API key and the fallback when the LLM fails, so it must read well on its own:
 *
 * - title: the site's name (start page title without "Home", "Welcome to", the page part);
 * - summary: the start page's description (else its first sentence);
 * - sections: the first path segment under the prefix ("/guide/…" → "Guide"), root pages first;
 * - one link per page, its description (one sentence, ≤ 160 chars) as the note;
 * - "## Optional": changelogs, news, legal, deep reference, near-empty pages, and on big sites
 *   the long tail of each section, so the primary sections stay a readable first stop.
 */
import { OPTIONAL_SECTION } from "../render";
import type { GenerateInput, GenerateOutput, LlmsDoc, LlmsLink, LlmsSection, Page, Provider, Site } from "../types";
import { isGeneratedListing } from "../validate/quality/listings";
import { isNavigationText } from "../validate/quality/navigationText";
import { stripSharedAffixes } from "./linkNames";
import { singlePageChapters } from "./chapters";
import { hubSectionName, readNavigation } from "./navigation";
import { isProjectName, isUsableSummary, siteNameOf } from "./siteIdentity";
import { groupSections, placePages, sectionName, type PagePlace, type SectionGroup } from "./structure";
import {
  cleanTitle,
  clipWords,
  firstProseSentence,
  firstSentence,
  fullTitle,
  isBoilerplate,
  isHomeLike,
  norm,
  plainText,
  proseAfter,
} from "./text";

export interface ExtractiveOptions {
  /** Links per primary section at most; the rest go to Optional. */
  sectionCap?: number;
  /** A site with a single primary section (a flat manual) keeps all of it up to this many pages. */
  singleSectionAll?: number;
  /** Links in all primary sections together, at most (the per-section cap shrinks to fit). */
  primaryCap?: number;
  /** Primary sections at most; later ones (in crawl order) go to Optional whole. */
  maxSections?: number;
}

// 25 links is about one screen per section; 150 in all keeps a 1,000-page site's index to a read.
// A flat manual of up to 100 pages (Node's API docs, a book's chapters) has nothing to rank its
// pages by, so it keeps them all rather than cut the alphabet at an arbitrary letter.
const DEFAULTS = { sectionCap: 25, singleSectionAll: 100, primaryCap: 150, maxSections: 12 };
const FLAT_CAP = 40;
const NOTE_CHARS = 160;
const SUMMARY_CHARS = 300;
const SUMMARY_LOOKAHEAD = 5;
const DETAILS_CHARS = 400;
// A site is flat when its root holds this share of its primary pages.
const FLAT_SHARE = 2 / 3;

export function createExtractiveProvider(opts: ExtractiveOptions = {}): Provider {
  return {
    name: "extractive",
    model: null,
    generate(input: GenerateInput): Promise<GenerateOutput> {
      const doc = buildExtractiveDoc(input.site, input.pages, opts);
      return Promise.resolve({
        doc,
        model: null,
        usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0, requests: 0 },
      });
    },
  };
}

export function buildExtractiveDoc(site: Site, pages: Page[], opts: ExtractiveOptions = {}): LlmsDoc {
  const o = { ...DEFAULTS, ...opts };
  const start = pages[0];
  const siteName = siteNameOf(start, pages, site);
  const places = placePages(site, pages);
  const summary = summaryOf(start, places, sharedDescriptions(pages));
  // Each page's link name, made once: links, navigation sections and chapters all use it.
  const titles = pageTitles(pages, siteName);
  const describe = linkMaker(pages, titles, summary);

  const byPath = foldSingletons(groupSections(places, rootSectionName(site, siteName, pages)));
  // A flat site (one directory of pages) has no paths to section by: its navigation may have.
  const groups = (isFlat(byPath) && navigationGroups(places, titles)) || byPath;
  // A root section holding only the home page reads better as an overview than as "Docs".
  if (
    groups === byPath &&
    groups.length > 1 &&
    groups[0]?.key === "" &&
    groups[0].places.every((p) => p.index === 0 || p.secondary) &&
    !groups.some((g) => norm(g.name) === "overview")
  ) {
    groups[0].name = "Overview";
  }
  const primary = groups.filter((g) => !g.secondary).slice(0, o.maxSections);
  const flat = primary.length === 1 ? (primary[0]?.places.filter((p) => !p.secondary).length ?? 0) : 0;
  const cap =
    flat > 0
      ? flat <= o.singleSectionAll
        ? flat
        : FLAT_CAP
      : Math.max(5, Math.min(o.sectionCap, Math.floor(o.primaryCap / Math.max(1, primary.length))));

  const sections: LlmsSection[] = [];
  const optional: LlmsLink[] = [];
  for (const group of groups) {
    const isPrimary = primary.includes(group);
    const head: PagePlace[] = [];
    const tail: PagePlace[] = [];
    for (const place of group.places) {
      const keep = isPrimary && head.length < cap && (place.index === 0 || (!place.secondary && !place.page.thin));
      (keep ? head : tail).push(place);
    }
    // The start page as "Home" with nothing to say is the file's own title and summary again.
    const links = head
      .map((p) => describe(p))
      .filter((l, k) => !(head[k]?.index === 0 && l.title === "Home" && !l.notes && summary));
    if (links.length > 0) sections.push({ name: group.name, links });
    // The tail stays grouped by keeping the sections' order; a section name in front of each
    // title would be one more shared prefix on every name.
    // A generated listing with nothing of its own to say (a class-use/ page, a tree) is left out.
    optional.push(...tail.map((p) => describe(p)).filter((l, k) => l.notes || !isListingPlace(tail[k])));
  }
  addChapters(sections, optional, pages, titles, o.maxSections);
  if (optional.length > 0) sections.push({ name: OPTIONAL_SECTION, links: optional });

  const doc: LlmsDoc = { title: siteName, sections };
  if (summary) doc.summary = summary;
  // The body paragraph: what the start page goes on to say (the renderer names the sections when
  // it says nothing more).
  const details = start ? proseAfter(start.markdown, summary, DETAILS_CHARS) : "";
  if (details && !isNavigationText(details)) doc.details = details;
  return doc;
}

/**
 * A single-page manual's parts as sections after the site's own pages (see chapters.ts); parts
 * past the section limit go to Optional.
 */
function addChapters(
  sections: LlmsSection[],
  optional: LlmsLink[],
  pages: Page[],
  titles: string[],
  maxSections: number,
): void {
  const chapters = singlePageChapters(pages, (i) => titles[i] ?? "");
  if (!chapters) return;
  const room = Math.max(1, maxSections - sections.length);
  sections.push(...chapters.sections.slice(0, room));
  optional.push(...chapters.sections.slice(room).flatMap((s) => s.links));
}

/**
 * The start page's description, else its first prose sentence; a start page that is only a table
 * of contents and a copyright line gives neither, and the first pages in crawl order (a preface,
 * an introduction) say what the site is.
 */
function summaryOf(start: Page | undefined, places: PagePlace[], shared: Set<string>): string {
  if (!start) return "";
  const usable = (t: string): string => (t && isUsableSummary(t) && !shared.has(norm(t)) ? t : "");
  const desc = usable(usefulDescription(start));
  if (desc && !isExcerptOf(desc, start.markdown)) return clipWords(desc, SUMMARY_CHARS);
  // An excerpt that is no sentence ("The PostgreSQL Global Development Group") is a banner.
  const own =
    usable(firstProseSentence(start.markdown, SUMMARY_CHARS)) ||
    (desc && desc.split(/\s+/).length >= 6 ? usable(firstSentence(desc, SUMMARY_CHARS)) : "");
  if (own) return own;
  for (const place of places.slice(1, 1 + SUMMARY_LOOKAHEAD)) {
    const sentence = place.secondary ? "" : usable(firstProseSentence(place.page.markdown, SUMMARY_CHARS));
    if (sentence) return sentence;
  }
  return "";
}

/** Descriptions two or more pages carry: the site's template text, never a summary or a note. */
function sharedDescriptions(pages: Page[]): Set<string> {
  const counts = countBy(pages.map((p) => norm(p.description)).filter(Boolean));
  return new Set([...counts].filter(([, n]) => n > 1).map(([d]) => d));
}

/** The page's description, unless it only repeats the title (texinfo and many generators do) or is boilerplate. */
function usefulDescription(page: Page): string {
  const desc = page.description.trim();
  return desc && norm(desc) !== norm(page.title) && !isBoilerplate(desc) ? desc : "";
}

function isExcerptOf(desc: string, markdown: string): boolean {
  const head = plainText(desc).replace(/…$/, "").slice(0, 60).trim();
  return head.length >= 20 && plainText(markdown).includes(head);
}

// "Source Code: lib/fs.js", "Added in: v16.9.0": an excerpt of page metadata, not a description.
function isWeakDescription(desc: string): boolean {
  const words = desc.split(/\s+/).length;
  return words < 4 || (words <= 6 && /^[^:]{1,25}:\s/.test(desc));
}

/** Builds the link for a page: a clean, unique title and a one-sentence note. */
function linkMaker(pages: Page[], titles: string[], summary: string): (place: PagePlace) => LlmsLink {
  const titleCount = countBy(titles.map(norm));
  const notes = notesFor(pages, titles, summary);
  return (place) => {
    let title = titles[place.index] ?? place.page.url;
    // Two pages of one name ("NumberUtils" in two packages): the nearest folder that says more.
    if ((titleCount.get(norm(title)) ?? 0) > 1) {
      const base = norm(title);
      const segs = [...place.segments].reverse().map((s) => sectionName(s));
      const more = segs.find((s) => norm(s) !== base && s !== "Pages");
      if (more) title = `${title} (${more})`;
    }
    const link: LlmsLink = { title, url: place.page.url };
    const note = notes[place.index];
    if (note) link.notes = note;
    return link;
  };
}

/**
 * One sentence per page: its description, else the first sentence of its text. A note that two
 * or more pages share ("This document was generated on …") is boilerplate and dropped.
 */
function notesFor(pages: Page[], titles: string[], summary: string): string[] {
  // A description that other pages share is site boilerplate, not about the page.
  const descCount = countBy(pages.map((p) => norm(usefulDescription(p))).filter(Boolean));
  const notes = pages.map((page, i) => {
    // The start page's description is already the summary under the title.
    if (i === 0 && summary) return "";
    const desc = usefulDescription(page);
    const own = desc && (descCount.get(norm(desc)) ?? 0) < 2 ? desc : "";
    // An excerpt of the page (what extractors fall back to without a meta description) may be a
    // table cell or a banner; the first real paragraph says more.
    const preferText = !own || isWeakDescription(own) || isExcerptOf(own, page.markdown);
    const note = preferText
      ? firstProseSentence(page.markdown, NOTE_CHARS, i > 0) || firstSentence(own, NOTE_CHARS)
      : firstSentence(own, NOTE_CHARS);
    // A note repeating the title, or the summary (taken from this page), adds nothing; nor does
    // the site's chrome (a Texinfo node header, a breadcrumb) that the page's text opened with.
    const useless = norm(note) === norm(titles[i] ?? "") || norm(note) === norm(summary) || isNavigationText(note);
    return useless ? "" : note;
  });
  // Three or more pages opening with one sentence is template text: none keeps it. Two is a page
  // and its generated echo (javadoc's package-summary and package-use): the first one keeps it.
  // Generated listings (javadoc's class-use/ pages repeat the package's text) don't count: the
  // page they echo keeps its sentence, and they lose it.
  const listing = pages.map((p) => isGeneratedListing({ url: p.url, title: p.title }));
  const noteCount = countBy(
    notes
      .filter((_, i) => !listing[i])
      .map(norm)
      .filter(Boolean),
  );
  const given = new Set<string>();
  const ordered = notes
    .map((n, i) => ({ n, i }))
    .sort((a, b) => Number(listing[a.i]) - Number(listing[b.i]) || a.i - b.i);
  const out = notes.map(() => "");
  for (const { n, i } of ordered) {
    const key = norm(n);
    if (!key || (noteCount.get(key) ?? 0) > 2 || given.has(key)) continue;
    given.add(key);
    out[i] = n;
  }
  return out;
}

/** Each page's title without the site name and the parts all titles share; "Home" for the start page. */
export function pageTitles(pages: Page[], siteName: string, site?: Site): string[] {
  const cleaned = stripSharedAffixes(pages.map((p) => cleanTitle(p.title, siteName)));
  return pages.map((p, i) => titleOf(p, i, cleaned[i] ?? "", siteName, site));
}

function titleOf(page: Page, index: number, stripped: string, siteName: string, site?: Site): string {
  const cleaned = fullTitle(page, stripped);
  // The start page's title may be only the site's name (already the H1) or a page word.
  const generic = !cleaned || isHomeLike(cleaned) || norm(cleaned) === norm(siteName) || !isProjectName(cleaned, site);
  if (index === 0 && generic) return "Home";
  if (cleaned) return clipWords(cleaned, 120);
  const segments = new URL(page.url).pathname.split("/").filter(Boolean);
  return sectionName(segments[segments.length - 1] ?? "") || page.url;
}

/** "Docs" for documentation sites, else "Pages"; "Overview" when a section is already so named. */
function rootSectionName(site: Site, siteName: string, pages: Page[]): string {
  const docsLike = /doc|manual|guide|handbook|reference|wiki/i.test(`${site.key} ${siteName}`);
  const name = docsLike ? "Docs" : "Pages";
  const taken = placeKeys(site, pages).some((k) => norm(sectionName(k)) === norm(name));
  return taken ? "Overview" : name;
}

function placeKeys(site: Site, pages: Page[]): string[] {
  return [...new Set(placePages(site, pages).map((p) => p.key))].filter(Boolean);
}

// Twenty one-link sections read worse than one list: on sites with many sections, a section of a
// single page joins the root section.
function foldSingletons(groups: SectionGroup[]): SectionGroup[] {
  const root = groups.find((g) => g.key === "");
  if (!root || groups.length <= 6) return groups;
  const kept: SectionGroup[] = [];
  for (const g of groups) {
    if (g !== root && !g.secondary && g.places.length === 1) root.places.push(...g.places);
    else kept.push(g);
  }
  return kept;
}

function isFlat(groups: SectionGroup[]): boolean {
  const primary = groups.filter((g) => !g.secondary).flatMap((g) => g.places.filter((p) => !p.secondary));
  const atRoot = primary.filter((p) => p.key === "").length;
  return primary.length >= 4 && atRoot >= primary.length * FLAT_SHARE;
}

/**
 * Sections from the site's hub pages (see navigation.ts): one per top-level hub, named after it,
 * the hub's page first; the start page and pages only it links to open the index as an overview.
 */
function navigationGroups(places: PagePlace[], titles: string[]): SectionGroup[] | undefined {
  const nav = readNavigation(
    places.map((p) => p.page),
    (i) => places[i]?.secondary === false,
  );
  if (!nav) return undefined;
  const names = nav.hubs.map((h) => hubSectionName(titles[h] ?? ""));
  const root: SectionGroup = {
    key: "",
    name: names.some((n) => norm(n) === "overview") ? "Getting started" : "Overview",
    places: [],
    secondary: false,
  };
  const byHub = new Map(
    nav.hubs.map((h, k): [number, SectionGroup] => [
      h,
      { key: `#${h}`, name: names[k] ?? "", places: [], secondary: false },
    ]),
  );
  for (const place of places) (byHub.get(nav.sectionOf[place.index] ?? -1) ?? root).places.push(place);
  for (const [hub, group] of byHub)
    group.places.sort((a, b) => Number(b.index === hub) - Number(a.index === hub) || a.index - b.index);
  return [root, ...byHub.values()].filter((g) => g.places.length > 0);
}

function isListingPlace(place: PagePlace | undefined): boolean {
  return place !== undefined && isGeneratedListing({ url: place.page.url, title: place.page.title });
}

function countBy(values: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}
