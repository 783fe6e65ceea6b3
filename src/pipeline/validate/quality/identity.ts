/*
 * The file's identity: its H1 and its summary, judged as a site's maintainer would write them.
 */
import { isNavigationText } from "./navigationText";
import type { Detector, QualityInput } from "./types";
import { normalText, quote } from "./types";

// Words a page is called by its place in a site, not by what it is about: the start page of
// javadoc ("Overview"), Texinfo ("Top"), Doxygen ("Main Page"), hand-written sites ("Home").
const GENERIC_PAGE_WORDS = new Set([
  "overview",
  "top",
  "home",
  "home page",
  "homepage",
  "main page",
  "start page",
  "index",
  "welcome",
  "contents",
  "table of contents",
  "documentation",
  "docs",
  "introduction",
  "readme",
  "untitled",
  "none",
  "null",
  "undefined",
]);

/** generic-title: a host:port or URL, a generic page word, a version number, "documentation". */
export const genericTitle: Detector = ({ doc, site }) => {
  const title = doc.title.trim();
  const why = titleProblems(title, site);
  if (why.length === 0) return null;
  return {
    code: "generic-title",
    message: `title ${quote(title)} ${why.join(", ")}: use the project's own name`,
    count: 1,
    lines: [1],
  };
};

/** Why a title is no project name (empty when it is one); the generator picks names with none. */
export function titleProblems(title: string, site: URL | undefined): string[] {
  const why: string[] = [];
  const bare = title.replace(/\s*\([^()]*(\([^()]*\)[^()]*)*\)\s*/g, " ").trim(); // "Overview (X API)" → "Overview"
  const lower = normalText(title);
  const isHost =
    /^https?:\/\//i.test(title) ||
    /^[\w.-]+:\d+(\/.*)?$/.test(title) ||
    /^\[?[\d.:a-f]+\]?$/i.test(title) ||
    /^[a-z0-9-]+(\.[a-z0-9-]+){2,}$/.test(title) ||
    (site !== undefined && (lower === site.host.toLowerCase() || lower === site.hostname.toLowerCase()));
  if (isHost) why.push("is a host name");
  else if (GENERIC_PAGE_WORDS.has(normalText(bare)) || GENERIC_PAGE_WORDS.has(lower))
    why.push("is a generic page word");
  else if (/^welcome to\b/i.test(title) || /\b(home ?page|main page)$/i.test(bare))
    why.push("names a page, not the project");
  if (/\b(v|version\s*)?\d+\.\d+(\.\d+)*\b|\bversion\s+\d+|\bv\d+\b/i.test(title)) why.push("carries a version number");
  if (/\b(documentation|docs)\b/i.test(title) && !why.includes("is a generic page word"))
    why.push('says "documentation"');
  return why;
}

const PLACEHOLDER = /^(none|null|undefined|n\/a|nan|todo|tbd|description|untitled|no description)$/i;
// Badge rows of a README turned into text: "github crates-io docs-rs", "build passing coverage 98%".
const BADGE_WORDS =
  /^(github|gitlab|crates-?io|crates\.io|docs-?rs|docs\.rs|npm|pypi|build|passing|failing|coverage|codecov|licen[cs]e|mit|apache|downloads|version|ci|travis|appveyor|discord|gitter|chat|status|badge|release|docs|\d+%?)$/i;
const NOTICE =
  /copyright|©|\(c\)\s*\d{4}|permission is granted|licen[cs]ed under|all rights reserved|free documentation license|invariant sections|this (program|library|manual) is free software/i;

/** unusable-summary: missing, a placeholder, badges, a legal notice, navigation, or text used elsewhere. */
export const unusableSummary: Detector = (input) => {
  const why = summaryProblem(input);
  if (!why) return null;
  return { code: "unusable-summary", message: why, count: 1, lines: [input.doc.summaryLine ?? 1] };
};

function summaryProblem({ doc, links }: QualityInput): string | null {
  const summary = (doc.summary ?? "").trim();
  if (!summary) return "the file has no `> summary` line: say in one sentence what the site documents";
  const q = quote(summary);
  const own = summaryTextProblem(summary);
  if (own) return own;
  if (normalText(summary) === normalText(doc.title)) return "summary only repeats the title";
  const same = links.filter((l) => l.notes && normalText(l.notes) === normalText(summary)).length;
  if (same >= 2) return `summary ${q} is also the note of ${same} links: text the site repeats, not a summary`;
  return null;
}

/** What is wrong with a summary's text alone (placeholder, badges, notice, navigation), or null. */
export function summaryTextProblem(summary: string): string | null {
  const q = quote(summary);
  if (PLACEHOLDER.test(summary)) return `summary ${q} is a placeholder`;
  const words = summary.split(/\s+/);
  if (words.length <= 8 && words.filter((w) => BADGE_WORDS.test(w)).length >= Math.max(2, words.length / 2))
    return `summary ${q} is a row of badges`;
  if (NOTICE.test(summary)) return `summary ${q} is a copyright or licence notice`;
  if (isNavigationText(summary)) return `summary ${q} is navigation`;
  if (words.length < 3) return `summary ${q} is too short to say what the site documents`;
  return null;
}
