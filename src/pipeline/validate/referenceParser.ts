/*
 * What the spec's reference parser (AnswerDotAI/llms-txt, `llms_txt.parse_llms_file` and
 * `miniparse.parse_llms_txt`) rejects or reads differently from what the file's author meant,
 * for files our own parser accepts. Its rules, read from its source:
 *
 *   sections  re.split(r'^##\s*(.*?$)', txt, MULTILINE): every line starting "##" starts a section,
 *             so "###" and "##Name" are sections too, and a repeated name replaces the earlier one;
 *   preamble  re.search(r'^#\s*(?P<title>.+?$)\n+(?:^>\s*(?P<summary>.+?$)$)?\n+(?P<info>.*)',
 *             start.strip()): a title alone fails (no match → crash), a summary with nothing after
 *             it is read as `info` instead, and only the first line of a blockquote is the summary;
 *   links     re.search(r'-\s*\[(?P<title>[^\]]+)\]\((?P<url>[^\)]+)\)(?::\s*(?P<desc>.*))?') on
 *             every non-empty line: a line without it crashes the parse, a "]" ends the name (even
 *             escaped as "\]") and a ")" ends the URL.
 *
 * Issues our own parser already reports (headings, prose, duplicate sections) are not repeated
 * here; `bad-list-item` lines are given the reference parser's more specific reading instead.
 */
import type { ValidationIssue } from "../types";

const SECTION_START = /^##/;
const TITLE = /^#(?!#)/;

/** Issues of the reference parser's reading that our own parser does not report. */
export function referenceParserIssues(text: string): ValidationIssue[] {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const firstSection = lines.findIndex((l) => SECTION_START.test(l));
  const preambleEnd = firstSection < 0 ? lines.length : firstSection;
  const issues = preambleIssues(lines.slice(0, preambleEnd));
  for (let i = 0; i < lines.length; i++) {
    const issue = i < preambleEnd ? null : (bracketIssue(lines[i] ?? "", i + 1) ?? noSpaceIssue(lines[i] ?? "", i + 1));
    if (issue) issues.push(issue);
  }
  return issues;
}

function preambleIssues(pre: string[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const titleAt = pre.findIndex((l) => l.trim() !== "");
  if (titleAt < 0 || !TITLE.test(pre[titleAt] ?? "")) return issues; // no H1: the format check says so
  const body = pre.slice(titleAt + 1);
  const content = body.map((l, i) => ({ l, line: titleAt + 2 + i })).filter(({ l }) => l.trim() !== "");
  const first = content[0];
  if (!first)
    return [
      ...issues,
      {
        line: titleAt + 1,
        code: "title-alone",
        message:
          "the reference parser (llms_txt) fails on a title with nothing after it before the first section: add a `> summary` line",
      },
    ];
  if (!first.l.startsWith(">")) return issues;
  const end = content.findIndex(({ l }) => !l.startsWith(">"));
  const quote = end < 0 ? content : content.slice(0, end);
  const rest = content.slice(quote.length);
  if (quote.length > 1)
    issues.push({
      line: quote[1]?.line ?? first.line,
      code: "multiline-summary",
      message: "the reference parser reads only the first line of the blockquote as the summary: keep it on one line",
    });
  else if (rest.length === 0)
    issues.push({
      line: first.line,
      code: "summary-misread",
      message:
        "the reference parser reads a summary with nothing after it (before the first section) as body text, not as the summary: add a paragraph after it",
    });
  return issues;
}

function noSpaceIssue(line: string, lineNo: number): ValidationIssue | null {
  if (!/^##[^#\s]/.test(line)) return null;
  return {
    line: lineNo,
    code: "heading-without-space",
    message: `"${line.trim()}" starts a section for the reference parser but not for Markdown readers: write "## Name"`,
  };
}

// A "]" in a link's name, escaped or not, ends the name for the reference parser, which then finds
// no "(url)" and fails on the line; a ")" inside the URL ends the URL early.
function bracketIssue(line: string, lineNo: number): ValidationIssue | null {
  const item = /^\s*-\s*\[(.*)\]\((.*)$/.exec(line);
  if (!item) return null;
  const name = (item[1] ?? "").replace(/\]\(.*$/, "");
  if (/\]/.test(name) || /\\\[/.test(name))
    return {
      line: lineNo,
      code: "bracket-in-name",
      message: `the reference parser can't read a link name with "[" or "]" (escaped or not): remove them from ${clip(name)}`,
    };
  return null;
}

/**
 * The reference parser's reading of a line our parser calls `bad-list-item`: a ")" in the URL
 * (the URL ends there) or a line that isn't a link item at all (the parse fails).
 */
export function classifyBadItem(line: string): "paren-in-url" | "prose-in-section" | "heading-without-space" | null {
  if (/^##[^#\s]/.test(line)) return "heading-without-space";
  if (/^\s*[-*+]\s*\[[^\]]*\]\([^\s)]*\([^\s]*\)/.test(line)) return "paren-in-url";
  if (!/^\s*[-*+]\s/.test(line) && !/\[[^\]]+\]\([^)]+\)/.test(line)) return "prose-in-section";
  return null;
}

function clip(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);
}
