/*
 * Single-page manuals: a hand-written reference manual, Asciidoctor's one-page books, the one-page
 * copy of a Texinfo manual. The site has few pages and one of them carries the whole text under
 * many headings that have ids. One link to that page says nothing about what is in it, so its
 * chapters become links with fragments (`manual.html#2.1`), its parts the sections, and each
 * note is the first sentence under its heading. The page was fetched once; the fragments are
 * places in it, never new requests.
 */
import type { Heading, LlmsLink, LlmsSection, Page } from "../types";
import { clipWords, firstProseSentence, norm } from "./text";

/** At most this many content pages (a set of one-page books, a readme and a manual): past it the site's own pages are its chapters. */
const FEW_PAGES = 10;
/** A manual page has at least this many headings with ids. */
const MIN_CHAPTERS = 12;
/** Parts become sections only when there are this many or fewer; past it, one section of chapters. */
const MAX_PARTS = 12;
const CHAPTERS_PER_SECTION = 25;
const NOTE_CHARS = 160;

export interface Chapters {
  /** The page whose headings became links. */
  pageIndex: number;
  sections: LlmsSection[];
}

/** The chapters of a single-page manual, or undefined when the site isn't one. */
export function singlePageChapters(pages: Page[], title: (index: number) => string): Chapters | undefined {
  const content = pages.filter((p) => !p.thin);
  if (content.length === 0 || content.length > FEW_PAGES) return undefined;
  // The start page when it is a manual (a set of one-page books entered at one of them), else the
  // page with the most chapters (a readme in front of the manual).
  let best = -1;
  let bestCount = 0;
  pages.forEach((p, i) => {
    const n = anchored(p).length;
    if (!p.thin && n > bestCount) [best, bestCount] = [i, n];
  });
  const start = pages[0];
  if (start && !start.thin && anchored(start).length >= MIN_CHAPTERS) [best, bestCount] = [0, anchored(start).length];
  const page = pages[best];
  if (!page || bestCount < MIN_CHAPTERS) return undefined;

  const headings = anchored(page);
  const levels = [...new Set(headings.map((h) => h.level))].sort((a, b) => a - b);
  // A single top heading is the document's own title ("Lua 5.2 Reference Manual"), not a part.
  let top = levels[0] ?? 1;
  if (headings.filter((h) => h.level === top).length === 1 && levels.length > 1) top = levels[1] ?? top;
  const parts = headings.filter((h) => h.level === top);
  const notes = notesByHeading(page.markdown);
  const link = (h: Heading): LlmsLink => {
    const l: LlmsLink = { title: chapterName(h.text), url: `${page.url.split("#")[0]}#${h.id ?? ""}` };
    const note = notes.get(norm(h.text));
    if (note && norm(note) !== norm(h.text)) l.notes = note;
    return l;
  };

  if (parts.length < 2 || parts.length > MAX_PARTS) {
    return {
      pageIndex: best,
      sections: [{ name: title(best), links: parts.slice(0, CHAPTERS_PER_SECTION * 2).map(link) }],
    };
  }
  const sections: LlmsSection[] = [];
  parts.forEach((part) => {
    const from = headings.indexOf(part);
    const next = headings.findIndex((h, k) => k > from && h.level <= top);
    const inside = headings.slice(from + 1, next < 0 ? undefined : next);
    const childLevel = Math.min(...inside.map((h) => h.level));
    const chapters = inside.filter((h) => h.level === childLevel).slice(0, CHAPTERS_PER_SECTION);
    sections.push({ name: chapterName(part.text), links: (chapters.length > 0 ? chapters : [part]).map(link) });
  });
  return { pageIndex: best, sections };
}

function anchored(page: Page): Heading[] {
  return page.headings.filter((h) => h.id && h.level <= 3);
}

/**
 * "2.1 – Values and Types" → "Values and Types", "Chapter 3. Usage" → "Usage": the number says
 * where it sits, which the file's order already shows. A heading that is only a number stays.
 */
export function chapterName(text: string): string {
  const cut = text
    .replace(/^(?:(?:chapter|part|appendix|section)\s+)?(?:\d+|[A-Z])(?:\.\d+)*\.?\s*(?:[–—:-]\s*)?(?=\p{L})/iu, "")
    .trim();
  return clipWords(cut || text, 120);
}

/**
 * The first prose sentence under each markdown heading, keyed by the heading's normalised text.
 * A chapter that opens with a table, a list or straight into its first subsection ("Buffers",
 * then "Basics") takes the first sentence of its subsections.
 */
function notesByHeading(markdown: string): Map<string, string> {
  const blocks: { level: number; key: string; sentence: string }[] = [];
  const parts = markdown.split(/^(#{1,6}\s.*)$/m);
  for (let i = 1; i < parts.length; i += 2) {
    const line = parts[i] ?? "";
    const heading = line.replace(/^#+\s*/, "").replace(/\\(.)/g, "$1");
    blocks.push({
      level: /^#+/.exec(line)?.[0].length ?? 1,
      key: norm(heading.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")),
      sentence: firstProseSentence(parts[i + 1] ?? "", NOTE_CHARS),
    });
  }
  const notes = new Map<string, string>();
  blocks.forEach((b, i) => {
    let sentence = b.sentence;
    for (let j = i + 1; !sentence && j < blocks.length && (blocks[j]?.level ?? 0) > b.level; j++)
      sentence = blocks[j]?.sentence ?? "";
    if (b.key && sentence && !notes.has(b.key)) notes.set(b.key, sentence);
  });
  return notes;
}
