/**
 * Extraction for pages that are already text: markdown (text/markdown, *.md) and text/plain.
 * No DOM: a few line-based passes, linear in the size of the body.
 */
import type { ExtractedPage, ExtractInput, Heading } from "../types";

const MAX_HEADINGS = 200;
const MAX_DESCRIPTION = 300;

export function extractMarkdown(input: ExtractInput): ExtractedPage {
  const { meta, body } = splitFrontMatter(input.body);
  const lines = body.split(/\r?\n/);
  const headings = markdownHeadings(lines);
  const firstH1 = headings.find((h) => h.level === 1)?.text;
  const title = meta.title ?? firstH1 ?? firstLine(lines) ?? "";
  return {
    title,
    description: meta.description ?? firstParagraph(lines, title),
    headings,
    markdown: body.trim(),
    textLength: readableLength(body),
    links: markdownLinks(body, input.url),
  };
}

export function extractPlainText(input: ExtractInput): ExtractedPage {
  const lines = input.body.split(/\r?\n/);
  const title = firstLine(lines) ?? "";
  return {
    title,
    description: firstParagraph(lines, title),
    headings: [],
    markdown: input.body.trim(),
    textLength: input.body.replace(/\s+/g, " ").trim().length,
    links: unique(Array.from(input.body.matchAll(/\bhttps?:\/\/[^\s<>"')\]]+/g), (m) => m[0])),
  };
}

/** YAML front matter ("---" … "---" at the very top): only flat `title:` / `description:` are read. */
function splitFrontMatter(text: string): { meta: { title?: string; description?: string }; body: string } {
  const m = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/.exec(text);
  if (!m) return { meta: {}, body: text };
  const meta: { title?: string; description?: string } = {};
  for (const line of (m[1] ?? "").split(/\r?\n/)) {
    const kv = /^(title|description):\s*(.+)$/.exec(line.trim());
    if (kv?.[1] && kv[2]) meta[kv[1] as "title" | "description"] = kv[2].replace(/^(["'])(.*)\1$/, "$2").trim();
  }
  return { meta, body: text.slice(m[0].length) };
}

/** ATX headings up to level 3, skipping fenced code blocks (a `# comment` in shell code is no heading). */
function markdownHeadings(lines: string[]): Heading[] {
  const headings: Heading[] = [];
  let fence: string | null = null;
  for (const line of lines) {
    const f = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (f?.[1]) {
      if (fence === null) fence = f[1][0] ?? null;
      else if (f[1][0] === fence) fence = null;
      continue;
    }
    if (fence !== null) continue;
    const h = /^\s{0,3}(#{1,3})\s+(.+?)\s*#*\s*$/.exec(line);
    if (h?.[1] && h[2]) headings.push({ level: h[1].length, text: stripInline(h[2]) });
    if (headings.length >= MAX_HEADINGS) break;
  }
  return headings;
}

function markdownLinks(body: string, base: string): string[] {
  const raw = [
    ...Array.from(body.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+["'(][^)]*)?\)/g), (m) => m[1]),
    ...Array.from(body.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm), (m) => m[1]),
  ];
  const out: string[] = [];
  for (const href of raw) {
    if (!href) continue;
    const abs = resolveHttp(href, base);
    if (abs) out.push(abs);
  }
  return unique(out);
}

/** An absolute http(s) URL, or undefined for javascript:, mailto:, tel:, data: and garbage. */
export function resolveHttp(href: string, base: string): string | undefined {
  try {
    const u = new URL(href.trim(), base);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : undefined;
  } catch {
    return undefined;
  }
}

function firstLine(lines: string[]): string | undefined {
  for (const line of lines) {
    const t = stripInline(line.replace(/^\s*#+\s*/, ""));
    if (t) return t.slice(0, 200);
  }
  return undefined;
}

/** The first paragraph of prose that is not the title, a heading, a list, a quote marker or code. */
function firstParagraph(lines: string[], title: string): string {
  const para: string[] = [];
  let inFence = false;
  for (const line of lines) {
    if (/^\s{0,3}(`{3,}|~{3,})/.test(line)) {
      inFence = !inFence;
      continue;
    }
    const t = line.trim();
    const skip = inFence || /^(#|[-*+]\s|\d+\.\s|\||<|!\[|=+$|-+$)/.test(t) || stripInline(t) === title;
    if (!t || skip) {
      if (para.length > 0) break;
      continue;
    }
    para.push(t);
  }
  const text = stripInline(para.join(" "));
  return text.length > MAX_DESCRIPTION ? `${text.slice(0, MAX_DESCRIPTION - 1).trimEnd()}…` : text;
}

/** Inline markdown → text: links keep their label, emphasis and code marks go. */
function stripInline(s: string): string {
  return s
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/[*_`]+/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

/** Characters of text once markdown syntax (link targets, heading marks, fences, emphasis) is removed. */
function readableLength(md: string): number {
  const text = md
    .replace(/^\s{0,3}(`{3,}|~{3,}).*$/gm, "")
    .replace(/^\s{0,3}#{1,6}\s+/gm, "")
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/[*_`>|]+/g, "")
    .replace(/\s+/g, " ");
  return text.trim().length;
}

function unique(xs: string[]): string[] {
  return Array.from(new Set(xs));
}
