/*
 * `checkLlmsTxt`: the whole judgement of one llms.txt, the core of `ltx check` and of the quality
 * report stored with every generated version.
 *
 *   errors    what makes the file wrong: our format rules, plus what the spec's reference parser
 *             would reject or misread (referenceParser.ts). Errors block storing a generated file.
 *   warnings  one per defect class a maintainer would fix by hand (quality/), with a count.
 *   score     100 for a file with neither; each warning class takes off up to its weight, link
 *             classes in proportion to the share of links they touch; any error makes it 0.
 */
import { OPTIONAL_SECTION } from "../render";
import type { QualityReport, ValidationIssue } from "../types";
import { validateFormat, validateLlmsTxt, type ParsedDoc, type ValidateContext } from "./format";
import { genericTitle, unusableSummary } from "./quality/identity";
import { generatedListing, duplicateLink } from "./quality/listings";
import { mixedLanguage } from "./quality/language";
import { sharedAffix, slugSection } from "./quality/names";
import { missingNotes, navigationNote, notesShare, NOTES_GOAL, repeatedNote } from "./quality/notes";
import type { Detector, LinkRef, QualityWarning, WarningCode } from "./quality/types";
import { classifyBadItem, referenceParserIssues } from "./referenceParser";

export { WARNING_CODES, type QualityWarning, type WarningCode } from "./quality/types";

export interface CheckOptions {
  /** The site's origin or any URL on it; lets generic-title recognise the bare host name. */
  site?: string;
}

export interface CheckStats {
  links: number;
  /** Links outside the Optional section. */
  primaryLinks: number;
  sections: number;
  /** Sections other than Optional. */
  primarySections: number;
  notes: number;
}

export interface CheckReport {
  /** True when there are no errors (warnings don't make a file invalid). */
  valid: boolean;
  errors: ValidationIssue[];
  warnings: QualityWarning[];
  /** 0–100. */
  score: number;
  /** Share (0–1) of links with a note. */
  notesShare: number;
  stats: CheckStats;
}

const DETECTORS: Detector[] = [
  genericTitle,
  unusableSummary,
  missingNotes,
  navigationNote,
  repeatedNote,
  sharedAffix,
  slugSection,
  mixedLanguage,
  generatedListing,
  duplicateLink,
];

// Points a class can take off the score. Identity and notes weigh most: they are what a reader
// of the file sees first and what the issue's goal (notes ≥ 90%) measures.
const WEIGHTS: Record<WarningCode, number> = {
  "generic-title": 12,
  "unusable-summary": 12,
  "missing-notes": 20,
  "navigation-note": 10,
  "repeated-note": 8,
  "shared-affix": 8,
  "slug-section": 8,
  "mixed-language": 10,
  "generated-listing": 8,
  "duplicate-link": 4,
};
const DOC_LEVEL = new Set<WarningCode>(["generic-title", "unusable-summary", "shared-affix", "slug-section"]);

export function checkLlmsTxt(text: string, opts: CheckOptions = {}): CheckReport {
  const { doc, issues } = validateFormat(text);
  const errors = withReferenceParser(text, issues);
  const empty: CheckStats = { links: 0, primaryLinks: 0, sections: 0, primarySections: 0, notes: 0 };
  if (!doc) return { valid: false, errors, warnings: [], score: 0, notesShare: 0, stats: empty };

  const links = linkRefs(doc);
  const site = siteUrl(opts.site);
  const input = site ? { doc, links, site } : { doc, links };
  const warnings = DETECTORS.map((d) => d(input)).filter((w): w is QualityWarning => w !== null);
  const share = notesShare(links);
  return {
    valid: errors.length === 0,
    errors,
    warnings,
    score: errors.length > 0 ? 0 : score(warnings, links.length, share),
    notesShare: share,
    stats: stats(doc, links),
  };
}

/**
 * The errors that keep a generated file from being stored: the validator's (links must be the
 * fetched pages of the site) and the reference parser's misreadings, as `ltx check` reports them.
 */
export function validateGenerated(text: string, ctx: ValidateContext): ValidationIssue[] {
  return withReferenceParser(text, validateLlmsTxt(text, ctx));
}

/** A generated file's quality report, as kept with its version. */
export function qualityOf(text: string, site: string): QualityReport {
  const r = checkLlmsTxt(text, { site });
  const { links, primaryLinks, sections, primarySections } = r.stats;
  return {
    score: r.score,
    notesShare: r.notesShare,
    links,
    primaryLinks,
    sections,
    primarySections,
    warnings: r.warnings,
  };
}

/** Our format issues, `bad-list-item` lines given the reference parser's reading, and its own issues. */
function withReferenceParser(text: string, issues: ValidationIssue[]): ValidationIssue[] {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const out = issues.map((issue) => {
    if (issue.code !== "bad-list-item" || issue.line === undefined) return issue;
    const code = classifyBadItem(lines[issue.line - 1] ?? "");
    if (code === "paren-in-url")
      return {
        ...issue,
        code,
        message: `${issue.message}; a ")" inside the URL ends it early: percent-encode it as %29`,
      };
    return code ? { ...issue, code } : issue;
  });
  const flagged = new Set(out.map((i) => i.line));
  for (const issue of referenceParserIssues(text)) if (!flagged.has(issue.line)) out.push(issue);
  return out.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

function linkRefs(doc: ParsedDoc): LinkRef[] {
  return doc.sections.flatMap((s) => s.links.map((l) => ({ ...l, section: s.name, optional: isOptional(s.name) })));
}

function isOptional(name: string): boolean {
  return name.trim().toLowerCase() === OPTIONAL_SECTION.toLowerCase();
}

function siteUrl(site: string | undefined): URL | undefined {
  if (!site) return undefined;
  try {
    return new URL(site);
  } catch {
    return undefined;
  }
}

function score(warnings: QualityWarning[], linkCount: number, share: number): number {
  let lost = 0;
  for (const w of warnings) {
    const weight = WEIGHTS[w.code];
    if (w.code === "missing-notes") lost += weight * Math.min(1, (NOTES_GOAL - share) / NOTES_GOAL + 0.1);
    else if (DOC_LEVEL.has(w.code) || linkCount === 0) lost += weight;
    // A few bad links cost a quarter of the weight; a fifth of the links or more, all of it.
    else lost += weight * Math.min(1, 0.25 + (3.75 * w.count) / linkCount);
  }
  return Math.max(0, Math.round(100 - lost));
}

function stats(doc: ParsedDoc, links: LinkRef[]): CheckStats {
  return {
    links: links.length,
    primaryLinks: links.filter((l) => !l.optional).length,
    sections: doc.sections.length,
    primarySections: doc.sections.filter((s) => !isOptional(s.name)).length,
    notes: links.filter((l) => (l.notes ?? "").trim() !== "").length,
  };
}
