/*
 * What changed between two versions of a site's llms.txt, in the words a reader uses: sections and
 * links added, removed or renamed. Links are identified by URL (a new title on the same URL is a
 * rename); a section is renamed when a removed and an added section share most of their links.
 * Pure: no I/O.
 */
import type { LlmsDoc } from "./types";
import { parseLlmsTxt } from "./validate/format";

export interface LinkRef {
  url: string;
  title: string;
  section: string;
}

export interface ChangeSummary {
  title?: { from: string; to: string };
  summaryChanged: boolean;
  sections: { added: string[]; removed: string[]; renamed: { from: string; to: string }[] };
  links: {
    added: LinkRef[];
    removed: LinkRef[];
    renamed: { url: string; from: string; to: string }[];
    /** Same URL, now under another section (that was not merely renamed). */
    moved: { url: string; from: string; to: string }[];
  };
  /** One line for tables and logs: "1 section added, 3 links removed". */
  text: string;
}

/** Share of links two sections must have in common to count as one section renamed. */
const RENAME_OVERLAP = 0.5;

export function diffLlmsDocs(prev: LlmsDoc, next: LlmsDoc): ChangeSummary {
  const prevNames = new Set(prev.sections.map((s) => s.name));
  const nextNames = new Set(next.sections.map((s) => s.name));
  let removedSections = prev.sections.filter((s) => !nextNames.has(s.name));
  let addedSections = next.sections.filter((s) => !prevNames.has(s.name));

  const renamedSections: { from: string; to: string }[] = [];
  for (const old of removedSections) {
    const oldUrls = new Set(old.links.map((l) => l.url));
    let best: { name: string; score: number } | undefined;
    for (const cand of addedSections) {
      const candUrls = cand.links.map((l) => l.url);
      const common = candUrls.filter((u) => oldUrls.has(u)).length;
      const score = common / Math.max(oldUrls.size, candUrls.length, 1);
      if (common > 0 && score >= RENAME_OVERLAP && (!best || score > best.score)) best = { name: cand.name, score };
    }
    if (best) {
      renamedSections.push({ from: old.name, to: best.name });
      addedSections = addedSections.filter((s) => s.name !== best.name);
    }
  }
  removedSections = removedSections.filter((s) => !renamedSections.some((r) => r.from === s.name));
  const renameOf = new Map(renamedSections.map((r) => [r.from, r.to]));

  const prevLinks = linkMap(prev);
  const nextLinks = linkMap(next);
  const links: ChangeSummary["links"] = { added: [], removed: [], renamed: [], moved: [] };
  for (const [url, l] of nextLinks) if (!prevLinks.has(url)) links.added.push(l);
  for (const [url, l] of prevLinks) {
    const now = nextLinks.get(url);
    if (!now) {
      links.removed.push(l);
      continue;
    }
    if (now.title !== l.title) links.renamed.push({ url, from: l.title, to: now.title });
    if (now.section !== l.section && renameOf.get(l.section) !== now.section)
      links.moved.push({ url, from: l.section, to: now.section });
  }

  const summary: ChangeSummary = {
    summaryChanged: (prev.summary ?? "") !== (next.summary ?? "") || (prev.details ?? "") !== (next.details ?? ""),
    sections: {
      added: addedSections.map((s) => s.name),
      removed: removedSections.map((s) => s.name),
      renamed: renamedSections,
    },
    links,
    text: "",
  };
  if (prev.title !== next.title) summary.title = { from: prev.title, to: next.title };
  summary.text = describeChanges(summary);
  return summary;
}

/**
 * The change summary between two llms.txt texts; without a previous text (the first version, or
 * its predecessor was pruned) everything counts as added. A text that doesn't parse counts as empty.
 */
export function summarizeChanges(prevText: string | undefined, nextText: string): ChangeSummary {
  const next = parseLlmsTxt(nextText).doc ?? { title: "", sections: [] };
  if (prevText === undefined) return initialSummary(next);
  const prev = parseLlmsTxt(prevText).doc ?? { title: "", sections: [] };
  return diffLlmsDocs(prev, next);
}

/** A summary for the first version of a site: everything is added. */
export function initialSummary(doc: LlmsDoc): ChangeSummary {
  return diffLlmsDocs(
    { title: doc.title, sections: [] },
    { ...doc, summary: doc.summary ?? "", details: doc.details ?? "" },
  );
}

export function isEmptyChange(s: ChangeSummary): boolean {
  return (
    !s.title &&
    !s.summaryChanged &&
    s.sections.added.length + s.sections.removed.length + s.sections.renamed.length === 0 &&
    s.links.added.length + s.links.removed.length + s.links.renamed.length + s.links.moved.length === 0
  );
}

function linkMap(doc: LlmsDoc): Map<string, LinkRef> {
  const m = new Map<string, LinkRef>();
  for (const s of doc.sections)
    for (const l of s.links) if (!m.has(l.url)) m.set(l.url, { url: l.url, title: l.title, section: s.name });
  return m;
}

function describeChanges(s: ChangeSummary): string {
  const parts: string[] = [];
  const count = (n: number, what: string, verb: string): void => {
    if (n > 0) parts.push(`${n} ${what}${n === 1 ? "" : "s"} ${verb}`);
  };
  if (s.title) parts.push("title changed");
  if (s.summaryChanged) parts.push("summary changed");
  count(s.sections.added.length, "section", "added");
  count(s.sections.removed.length, "section", "removed");
  count(s.sections.renamed.length, "section", "renamed");
  count(s.links.added.length, "link", "added");
  count(s.links.removed.length, "link", "removed");
  count(s.links.renamed.length, "link", "renamed");
  count(s.links.moved.length, "link", "moved");
  return parts.length > 0 ? parts.join(", ") : "no change to the index (page content changed)";
}
