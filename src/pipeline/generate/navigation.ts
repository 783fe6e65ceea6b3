/*
 * Sections for flat sites, read from their navigation. A manual generated into one directory
 * (DocBook, texinfo, many Sphinx builds) has no path segments to group by, but its pages link like
 * a table of contents: the start page lists the parts, each part's page lists its chapters. Those
 * "hub" pages name the sections; every other page goes under the hub it is reached from.
 *
 * Navigation chrome blurs this: "Prev"/"Next"/"Up" links, a sidebar on every page. Links that
 * most pages carry are ignored; for prev/next, the rules below prefer the earlier page (a "Prev"
 * link points back into the previous part, whose own table of contents came first).
 */
import type { Page } from "../types";

/** The sections navigation gives, or undefined when it gives fewer than two. */
export interface Navigation {
  /** Top-level hubs (page indexes) in the start page's order: one section each. */
  hubs: number[];
  /** Each page's hub, or -1 for the overview: the start page and pages only it leads to. */
  sectionOf: number[];
}

/** A page linking to at least this many other pages of the site is a hub (a table of contents). */
export const HUB_MIN_CHILDREN = 3;
// On bigger sites a link that more than half the pages carry is chrome (a sidebar, "Home").
const CHROME_SHARE = 0.5;
const CHROME_MIN_PAGES = 20;
// More sections than this is no outline a reader can take in; fewer pages than this in the
// median section means the "hubs" were not tables of contents.
const MAX_HUBS = 24;
const MIN_MEDIAN_SECTION = 3;

/**
 * Reads the sections from the pages' links (Page.links), the start page first. `canBeHub` leaves
 * out pages that list others without being a part of the site's outline (an index, a changelog).
 */
export function readNavigation(
  pages: Page[],
  canBeHub: (index: number) => boolean = () => true,
): Navigation | undefined {
  if (pages.length < 4 || pages.filter((p) => p.links !== undefined).length < pages.length / 2) return undefined;
  const children = childLists(pages);
  const childSets = children.map((c) => new Set(c));
  const isHub = (i: number): boolean => (children[i]?.length ?? 0) >= HUB_MIN_CHILDREN && canBeHub(i);
  const links = (i: number, j: number): boolean => childSets[i]?.has(j) ?? false;

  // The start page's links in its order; each hub there opens a section, unless it sits inside
  // the current one: linked from it, and what follows it on the start page is not its own (a
  // preface that mentions Part I is followed by Part I's chapters; Part II's Chapter 11 is not).
  const order = indexesOf(pages, pages[0]?.links ?? []).filter((p) => p !== 0);
  const sectionOf = pages.map(() => Number.NaN);
  sectionOf[0] = -1;
  const hubs: number[] = [];
  let current = -1;
  order.forEach((p, k) => {
    if (!Number.isNaN(sectionOf[p] ?? 0)) return;
    const next = order[k + 1];
    const opens = current < 0 || !links(current, p) || (next !== undefined && links(p, next) && !links(current, next));
    if (isHub(p) && opens) {
      hubs.push(p);
      current = p;
      sectionOf[p] = p;
    } else {
      sectionOf[p] = current >= 0 && links(current, p) ? current : (hubs.find((h) => links(h, p)) ?? -1);
    }
  });
  if (hubs.length < 2) return undefined;

  // Any other page: under the first top-level hub that lists it, else under its parent's section,
  // the parent being the page that links to it with the longest list of links (a table of
  // contents rather than a sentence that mentions it), the first in crawl order on a tie. An
  // index (canBeHub false) lists everything and is a parent only when nothing else links.
  const parents = pages.map(() => -1);
  const weight = (j: number): number => (canBeHub(j) ? pages.length : 0) + (children[j]?.length ?? 0);
  children.forEach((list, j) => {
    for (const i of list) {
      const prev = parents[i] ?? -1;
      if (prev < 0 || weight(j) > weight(prev)) parents[i] = j;
    }
  });
  const resolve = (i: number, seen: Set<number>): number => {
    const known = sectionOf[i] ?? -1;
    if (!Number.isNaN(known)) return known;
    const listed = hubs.find((h) => links(h, i));
    if (listed !== undefined) return listed;
    const parent = parents[i] ?? -1;
    if (parent < 0 || seen.has(parent)) return -1;
    seen.add(i);
    return resolve(parent, seen);
  };
  for (let i = 0; i < pages.length; i++) sectionOf[i] = resolve(i, new Set());
  return isOutline(hubs, sectionOf) ? { hubs, sectionOf } : undefined;
}

/**
 * An outline has a few sections of several pages each. Pages that cross-reference each other
 * freely (Vim's help files) or a texinfo manual whose chapters only link "Next"/"Prev" make every
 * page a "hub" of one: that is no structure to show, and the caller falls back to one list.
 */
function isOutline(hubs: number[], sectionOf: number[]): boolean {
  if (hubs.length < 2 || hubs.length > MAX_HUBS) return false;
  const sizes = hubs.map((h) => sectionOf.filter((s) => s === h).length).sort((a, b) => a - b);
  return (sizes[Math.floor(sizes.length / 2)] ?? 0) >= MIN_MEDIAN_SECTION;
}

/** Each page's links to other included pages, in page order, without chrome and the start page. */
function childLists(pages: Page[]): number[][] {
  const out = pages.map((p, i) => indexesOf(pages, p.links ?? []).filter((j) => j !== i && j !== 0));
  if (pages.length < CHROME_MIN_PAGES) return out;
  const inDegree = new Map<number, number>();
  for (const list of out) for (const j of list) inDegree.set(j, (inDegree.get(j) ?? 0) + 1);
  return out.map((list) => list.filter((j) => (inDegree.get(j) ?? 0) <= pages.length * CHROME_SHARE));
}

const indexCache = new WeakMap<Page[], Map<string, number>>();

function indexesOf(pages: Page[], urls: string[]): number[] {
  let byUrl = indexCache.get(pages);
  if (!byUrl) {
    byUrl = new Map(pages.map((p, i) => [p.url, i]));
    indexCache.set(pages, byUrl);
  }
  const out: number[] = [];
  const seen = new Set<number>();
  for (const u of urls) {
    const i = byUrl.get(u.replace(/#.*$/, ""));
    if (i !== undefined && !seen.has(i)) {
      seen.add(i);
      out.push(i);
    }
  }
  return out;
}

/** "Part II. The SQL Language" → "The SQL Language"; "Chapter 4. Install" → "Install". */
export function hubSectionName(title: string): string {
  const t = title
    .replace(/^\s*(part|chapter|appendix|book|volume|section)\s+[\dIVXLC]+[.:]?\s+/i, "")
    .replace(/^\s*(?:[Aa]ppendix\s+)?[A-Z]\.\s+/, "")
    .replace(/^\s*(\d+(\.\d+)*[.:)]?|[IVXLC]+[.:)])\s+(?=\S)/, "")
    .trim();
  return t || title.trim();
}
