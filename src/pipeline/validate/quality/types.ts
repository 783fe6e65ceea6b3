/*
 * The quality lint's vocabulary. A warning is one defect class found in a file, with how many
 * links (or other parts) it touches and the first few lines, so a report stays small enough to
 * keep with every stored version.
 */
import type { ParsedDoc, ParsedLink } from "../format";

export { WARNING_CODES, type QualityWarning, type WarningCode } from "../../types";
import type { QualityWarning, WarningCode } from "../../types";

export const LINES_KEPT = 5;

/** A link with where it sits: the section it is in and whether that is the Optional section. */
export interface LinkRef extends ParsedLink {
  section: string;
  optional: boolean;
}

/** What every detector reads: the parsed doc, its links in file order, and the site if known. */
export interface QualityInput {
  doc: ParsedDoc;
  links: LinkRef[];
  /** The site's origin ("https://docs.example.com"), when the caller knows it. */
  site?: URL;
}

export type Detector = (input: QualityInput) => QualityWarning | null;

/** A warning for the given links, or null when there are none. */
export function linkWarning(code: WarningCode, hits: { line: number }[], message: string): QualityWarning | null {
  if (hits.length === 0) return null;
  return { code, message, count: hits.length, lines: hits.slice(0, LINES_KEPT).map((h) => h.line) };
}

/** Lowercase, single-spaced, without trailing punctuation: how two texts are compared. */
export function normalText(s: string): string {
  return s
    .toLowerCase()
    .replace(/\s+/g, " ")
    .replace(/[\s.:;,!?…]+$/, "")
    .trim();
}

export function quote(s: string, max = 60): string {
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);
}
