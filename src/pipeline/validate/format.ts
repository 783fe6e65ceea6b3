/*
 * Parser and validator of the llms.txt format (llmstxt.org):
 *
 *   # Title                      required, exactly one, first
 *   > summary                    optional blockquote, right after the H1
 *   prose                        optional paragraphs/lists, no headings
 *   ## Section                   H2 sections whose bodies are only link items:
 *   - [name](url)                  or
 *   - [name](url): notes
 *
 * A failed check is data, not an exception: the issues go back to the model as feedback, so every
 * message names the line and says what to change. Codes are stable; tests and callers branch on them.
 */
import type { LlmsDoc, LlmsLink, LlmsSection, Site, ValidationIssue } from "../types";

export interface ValidateContext {
  site: Site;
  /** URLs of the pages fetched with a 2xx answer and kept: the only allowed link targets. */
  pageUrls: Set<string>;
}

export interface ParsedLink extends LlmsLink {
  line: number;
}

export interface ParsedSection extends LlmsSection {
  line: number;
  links: ParsedLink[];
}

/** A parsed doc whose sections and links keep the line they were read from. */
export interface ParsedDoc extends LlmsDoc {
  sections: ParsedSection[];
  /** Line of the `> summary`, when there is one. */
  summaryLine?: number;
}

const H1 = /^#\s+(.*\S)\s*$/;
const H2 = /^##\s+(.*\S)\s*$/;
const HEADING = /^(#{1,6})(\s|$)/;
// `[name](url)` with `\[`/`\]` escapes allowed in the name; the URL has no spaces or parentheses
// (render percent-encodes those), which keeps this one regex unambiguous.
const LINK_ITEM = /^-\s+\[((?:[^[\]\\]|\\.)+)\]\(([^()\s]+)\)(?::\s*(.*))?$/;

/** Parses llms.txt text into a doc, reporting format problems (not link targets) as issues. */
export function parseLlmsTxt(text: string): { doc: ParsedDoc | null; issues: ValidationIssue[] } {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const issues: ValidationIssue[] = [];
  let i = 0;
  while (i < lines.length && (lines[i] ?? "").trim() === "") i++;

  const first = lines[i] ?? "";
  const h1 = H1.exec(first);
  if (!h1 || first.startsWith("##")) {
    const later = lines.findIndex((l) => H1.test(l) && !l.startsWith("##"));
    issues.push(
      later >= 0
        ? {
            line: i + 1,
            code: "h1-not-first",
            message: `the H1 title (line ${later + 1}) must be the first line of the file`,
          }
        : { line: i + 1, code: "missing-h1", message: "the file must start with an H1 title: `# Site name`" },
    );
    return { doc: null, issues };
  }
  const title = (h1[1] ?? "").trim();
  i++;

  const summaryLines: string[] = [];
  i = skipBlank(lines, i);
  const summaryAt = i + 1;
  while (i < lines.length && (lines[i] ?? "").startsWith(">")) {
    summaryLines.push((lines[i] ?? "").replace(/^>\s?/, "").trim());
    i++;
  }

  const details: string[] = [];
  for (; i < lines.length && !H2.test(lines[i] ?? ""); i++) {
    const line = lines[i] ?? "";
    if (HEADING.test(line)) issues.push(headingIssue(line, i + 1, "before the first section"));
    else if (line.startsWith(">"))
      issues.push({
        line: i + 1,
        code: "misplaced-blockquote",
        message: "the blockquote summary must come right after the H1 title",
      });
    details.push(line);
  }

  const sections: ParsedSection[] = [];
  for (; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const h2 = H2.exec(line);
    if (h2 && !line.startsWith("###")) {
      sections.push({ name: (h2[1] ?? "").trim(), links: [], line: i + 1 });
      continue;
    }
    const section = sections[sections.length - 1];
    if (line.trim() === "" || !section) continue;
    if (HEADING.test(line)) {
      issues.push(headingIssue(line, i + 1, `in section "${section.name}"`));
      continue;
    }
    const m = LINK_ITEM.exec(line.trimEnd());
    if (!m) {
      issues.push({
        line: i + 1,
        code: "bad-list-item",
        message: `section "${section.name}" may hold only list items "- [name](url)" or "- [name](url): notes", got: ${clip(line)}`,
      });
      continue;
    }
    const link: ParsedLink = { title: unescapeName(m[1] ?? "").trim(), url: m[2] ?? "", line: i + 1 };
    const notes = m[3]?.trim();
    if (notes) link.notes = notes;
    section.links.push(link);
  }

  const summary = summaryLines.join(" ").trim();
  const prose = details.join("\n").trim();
  const doc: ParsedDoc = { title, sections };
  if (summary) [doc.summary, doc.summaryLine] = [summary, summaryAt];
  if (prose) doc.details = prose;
  return { doc, issues };
}

/**
 * The problems any reader of the file would see, whatever site it is for: format, then each
 * section and link on its own (named, absolute, http). `ltx check` starts from these.
 */
export function validateFormat(text: string): { doc: ParsedDoc | null; issues: ValidationIssue[] } {
  const { doc, issues } = parseLlmsTxt(text);
  if (!doc) return { doc, issues };
  if (!doc.title) issues.push({ line: 1, code: "empty-title", message: "the H1 title is empty" });
  if (doc.sections.length === 0)
    issues.push({ code: "no-sections", message: "the file has no `## Section` with links" });

  const seenSections = new Map<string, number>();
  for (const section of doc.sections) {
    const key = section.name.toLowerCase();
    const prev = seenSections.get(key);
    if (prev !== undefined)
      issues.push({
        line: section.line,
        code: "duplicate-section",
        message: `section "${section.name}" already appears on line ${prev}: merge them`,
      });
    else seenSections.set(key, section.line);
    if (section.links.length === 0)
      issues.push({
        line: section.line,
        code: "empty-section",
        message: `section "${section.name}" has no links: remove it or add links`,
      });
    for (const link of section.links) {
      const issue = checkLinkShape(link);
      if (issue) issues.push(issue);
    }
  }
  return { doc, issues: issues.sort(byLine) };
}

/** Every problem in an llms.txt: format, then links (absolute, on the site, fetched, unique). */
export function validateLlmsTxt(text: string, ctx: ValidateContext): ValidationIssue[] {
  const { doc, issues } = validateFormat(text);
  if (!doc) return issues;
  const seenLinks = new Map<string, number>();
  for (const section of doc.sections)
    for (const link of section.links) {
      // A link whose shape is wrong was reported by validateFormat; its target can't be judged.
      if (checkLinkShape(link)) continue;
      const issue = checkLinkTarget(link, ctx, seenLinks);
      if (issue) issues.push(issue);
    }
  return issues.sort(byLine);
}

function byLine(a: ValidationIssue, b: ValidationIssue): number {
  return (a.line ?? 0) - (b.line ?? 0);
}

function checkLinkShape(link: ParsedLink): ValidationIssue | null {
  const at = { line: link.line };
  if (!link.title) return { ...at, code: "empty-link-title", message: `link ${link.url} has an empty name` };
  let url: URL;
  try {
    url = new URL(link.url);
  } catch {
    return {
      ...at,
      code: "link-not-absolute",
      message: `link "${link.url}" is not an absolute URL: use one of the page URLs given`,
    };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return { ...at, code: "link-not-http", message: `link ${link.url} is not http(s)` };
  return null;
}

function checkLinkTarget(link: ParsedLink, ctx: ValidateContext, seen: Map<string, number>): ValidationIssue | null {
  const at = { line: link.line };
  if (!isOnSite(new URL(link.url), ctx.site))
    return {
      ...at,
      code: "link-off-site",
      message: `link ${link.url} is not on the site ${ctx.site.origin}${ctx.site.prefix}: only link the site's own pages`,
    };
  const target = ctx.pageUrls.has(link.url) ? link.url : link.url.replace(/%28/gi, "(").replace(/%29/gi, ")");
  // A fragment is a place in a fetched page (a single-page manual's chapter): the page is what was fetched.
  const page = target.includes("#") ? target.slice(0, target.indexOf("#")) : target;
  if (!ctx.pageUrls.has(target) && !ctx.pageUrls.has(page))
    return {
      ...at,
      code: "link-not-fetched",
      message: `link ${link.url} is not one of the fetched pages: use only the page URLs given, exactly as written`,
    };
  const prev = seen.get(target);
  if (prev !== undefined)
    return {
      ...at,
      code: "duplicate-link",
      message: `link ${link.url} already appears on line ${prev}: list each page once`,
    };
  seen.set(target, link.line);
  return null;
}

/** Same origin, and under the prefix ("/docs" counts as under "/docs/"). */
export function isOnSite(url: URL, site: Site): boolean {
  if (url.origin !== site.origin) return false;
  return url.pathname.startsWith(site.prefix) || `${url.pathname}/` === site.prefix;
}

function headingIssue(line: string, lineNo: number, where: string): ValidationIssue {
  const level = (HEADING.exec(line)?.[1] ?? "#").length;
  if (level === 1)
    return { line: lineNo, code: "extra-h1", message: `only one H1 is allowed, found another ${where}: ${clip(line)}` };
  return {
    line: lineNo,
    code: "unexpected-heading",
    message: `no H${level} headings ${where}: use "## Section" followed by link items (${clip(line)})`,
  };
}

function skipBlank(lines: string[], i: number): number {
  while (i < lines.length && (lines[i] ?? "").trim() === "") i++;
  return i;
}

function unescapeName(s: string): string {
  return s.replace(/\\(.)/g, "$1");
}

function clip(s: string): string {
  const t = s.trim();
  return JSON.stringify(t.length > 80 ? `${t.slice(0, 80)}…` : t);
}
