/*
 * Link notes: there should be one on (nearly) every link, each the page's own words.
 */
import { isNavigationText } from "./navigationText";
import type { Detector, LinkRef } from "./types";
import { linkWarning, normalText, quote } from "./types";

/** The share of links a maintainer's file has notes on; below it, missing-notes fires. */
export const NOTES_GOAL = 0.9;

export function notesShare(links: LinkRef[]): number {
  if (links.length === 0) return 1;
  return links.filter((l) => (l.notes ?? "").trim() !== "").length / links.length;
}

/** missing-notes: fewer than NOTES_GOAL of the links have a note. */
export const missingNotes: Detector = ({ links }) => {
  const share = notesShare(links);
  if (share >= NOTES_GOAL) return null;
  const bare = links.filter((l) => !(l.notes ?? "").trim());
  const pct = Math.round(share * 100);
  return linkWarning(
    "missing-notes",
    bare,
    `notes on ${pct}% of links (${links.length - bare.length} of ${links.length}); a maintainer's file has them on ${NOTES_GOAL * 100}% or more`,
  );
};

/** navigation-note: a note that is the site's chrome (see navigationText.ts for the shapes). */
export const navigationNote: Detector = ({ links }) => {
  const hits = links.filter((l) => l.notes && isNavigationText(l.notes));
  const first = hits[0];
  return linkWarning(
    "navigation-note",
    hits,
    `${hits.length} notes are navigation, not the page's content (first: ${quote(first?.notes ?? "")})`,
  );
};

/**
 * repeated-note: the same note on two or more links (template text the site repeats on every
 * page: a footer, a shared meta description), or a note that only repeats the link's own name.
 */
export const repeatedNote: Detector = ({ links }) => {
  const byNote = new Map<string, LinkRef[]>();
  for (const l of links) {
    const key = normalText(l.notes ?? "");
    if (key) byNote.set(key, [...(byNote.get(key) ?? []), l]);
  }
  const shared = [...byNote.values()].filter((g) => g.length >= 2).sort((a, b) => b.length - a.length);
  const echo = links.filter((l) => l.notes && normalText(l.notes) === normalText(l.title) && !inGroups(l, shared));
  const hits = [...shared.flat(), ...echo].sort((a, b) => a.line - b.line);
  const top = shared[0];
  const parts = [
    top ? `${quote(top[0]?.notes ?? "")} is the note of ${top.length} links` : "",
    shared.length > 1 ? `${shared.length - 1} more notes are shared` : "",
    echo.length > 0 ? `${echo.length} notes only repeat the link's name` : "",
  ].filter(Boolean);
  return linkWarning("repeated-note", hits, `${parts.join("; ")}: a note should say what that one page holds`);
};

function inGroups(l: LinkRef, groups: LinkRef[][]): boolean {
  return groups.some((g) => g.includes(l));
}
