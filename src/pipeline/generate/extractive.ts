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
import { groupSections, placePages, sectionName, type PagePlace, type SectionGroup } from "./structure";
import { cleanTitle, clipWords, firstSentence, isHomeLike, norm, plainText, siteNameFrom } from "./text";

export interface ExtractiveOptions {
  /** Links per primary section at most; the rest go to Optional. */
  sectionCap?: number;
  /** Links in all primary sections together, at most (the per-section cap shrinks to fit). */
  primaryCap?: number;
  /** Primary sections at most; later ones (in crawl order) go to Optional whole. */
  maxSections?: number;
}

// 25 links is about one screen per section; 150 in all keeps a 1,000-page site's index to a read.
const DEFAULTS = { sectionCap: 25, primaryCap: 150, maxSections: 12 };
const NOTE_CHARS = 160;
const SUMMARY_CHARS = 300;

export function createExtractiveProvider(opts: ExtractiveOptions = {}): Provider {
  return {
    name: "extractive",
    model: null,
    generate(input: GenerateInput): Promise<GenerateOutput> {
      const doc = buildExtractiveDoc(input.site, input.pages, opts);
      return Promise.resolve({ doc, model: null, usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0, requests: 0 } });
    },
  };
}

export function buildExtractiveDoc(site: Site, pages: Page[], opts: ExtractiveOptions = {}): LlmsDoc {
  const o = { ...DEFAULTS, ...opts };
  const start = pages[0];
  const siteName = siteNameFrom(start, pages, site);
  const summary = summaryOf(start);
  const describe = linkMaker(pages, siteName, summary);

  const groups = foldSingletons(groupSections(placePages(site, pages), rootSectionName(site, siteName, pages)));
  // A root section holding only the home page reads better as an overview than as "Docs".
  if (groups.length > 1 && groups[0]?.key === "" && groups[0].places.every((p) => p.index === 0 || p.secondary) && !groups.some((g) => norm(g.name) === "overview")) {
    groups[0].name = "Overview";
  }
  const primary = groups.filter((g) => !g.secondary).slice(0, o.maxSections);
  const cap = Math.max(5, Math.min(o.sectionCap, Math.floor(o.primaryCap / Math.max(1, primary.length))));

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
    if (head.length > 0) sections.push({ name: group.name, links: head.map((p) => describe(p)) });
    // In Optional the section's name goes in front of the title, so the tail stays grouped.
    const prefix = group.key === "" ? "" : group.name;
    optional.push(...tail.map((p) => describe(p, prefix)));
  }
  if (optional.length > 0) sections.push({ name: OPTIONAL_SECTION, links: optional });

  const doc: LlmsDoc = { title: siteName, sections };
  if (summary) doc.summary = summary;
  return doc;
}

function summaryOf(start: Page | undefined): string {
  if (!start) return "";
  if (start.description.trim()) return clipWords(start.description, SUMMARY_CHARS);
  const paragraph = start.markdown.split(/\n\s*\n/).map(plainText).find((p) => p.length >= 40) ?? "";
  return firstSentence(paragraph, SUMMARY_CHARS);
}

/** Builds the link for a page: a clean, unique title and a one-sentence note. */
function linkMaker(pages: Page[], siteName: string, summary: string): (place: PagePlace, prefix?: string) => LlmsLink {
  // A description on three or more pages is site boilerplate, not about the page.
  const descCount = countBy(pages.map((p) => norm(p.description)).filter(Boolean));
  const titles = pages.map((p, i) => titleOf(p, i, siteName));
  const titleCount = countBy(titles.map(norm));
  return (place, prefix = "") => {
    let title = titles[place.index] ?? place.page.url;
    const last = place.segments[place.segments.length - 1];
    if ((titleCount.get(norm(title)) ?? 0) > 1 && last) title = `${title} (${sectionName(last)})`;
    if (prefix && !norm(title).startsWith(norm(prefix))) title = `${prefix}: ${title}`;
    const link: LlmsLink = { title, url: place.page.url };
    const desc = norm(place.page.description);
    const note = firstSentence(place.page.description, NOTE_CHARS);
    const boilerplate = (descCount.get(desc) ?? 0) >= 3 || desc === norm(summary);
    if (note && !boilerplate && norm(note) !== norm(title)) link.notes = note;
    return link;
  };
}

function titleOf(page: Page, index: number, siteName: string): string {
  const cleaned = cleanTitle(page.title, siteName);
  if (index === 0 && (!cleaned || isHomeLike(cleaned) || norm(cleaned) === norm(siteName))) return "Home";
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

function countBy(values: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}
