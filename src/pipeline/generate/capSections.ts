/*
 * Keeps an LLM-written index readable on big sites. A model asked to place 1,000 pages puts them
 * all in its sections; a reader (or an agent with a short context) needs the first screen of
 * each. Past `primaryCap` links in all, each section keeps its first links (the model orders them
 * by importance) and the rest move to "## Optional", grouped by their section's name.
 */
import { OPTIONAL_SECTION } from "../render";
import type { LlmsDoc, LlmsLink } from "../types";

export interface CapOptions {
  /** Links in all primary sections before anything is moved. */
  primaryCap?: number;
  /** Links per section at most once the doc is over primaryCap. */
  sectionCap?: number;
}

export function capPrimarySections(doc: LlmsDoc, opts: CapOptions = {}): { doc: LlmsDoc; moved: number } {
  const primaryCap = opts.primaryCap ?? 150;
  const isOptional = (name: string): boolean => name.trim().toLowerCase() === OPTIONAL_SECTION.toLowerCase();
  const primary = doc.sections.filter((s) => !isOptional(s.name));
  const total = primary.reduce((n, s) => n + s.links.length, 0);
  if (total <= primaryCap) return { doc, moved: 0 };

  const cap = Math.max(5, Math.min(opts.sectionCap ?? 25, Math.floor(primaryCap / Math.max(1, primary.length))));
  const tail: LlmsLink[] = [];
  const sections = primary.map((s) => {
    const prefix = `${s.name}: `;
    tail.push(
      ...s.links
        .slice(cap)
        .map((l) => (l.title.toLowerCase().startsWith(s.name.toLowerCase()) ? l : { ...l, title: prefix + l.title })),
    );
    return { ...s, links: s.links.slice(0, cap) };
  });
  const optional = doc.sections.filter((s) => isOptional(s.name)).flatMap((s) => s.links);
  return {
    doc: { ...doc, sections: [...sections, { name: OPTIONAL_SECTION, links: [...tail, ...optional] }] },
    moved: tail.length,
  };
}
