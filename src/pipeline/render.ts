/*
 * LlmsDoc → llms.txt text. Deterministic (same doc, same bytes), so a re-run that finds nothing
 * changed stores an identical file. Text from pages or the model is flattened to one line and
 * escaped here, so a stray newline, "#" or "]" in a title can't break the format the validator checks.
 */
import type { LlmsDoc, LlmsLink, LlmsSection } from "./types";

export const OPTIONAL_SECTION = "Optional";

export function renderLlmsTxt(doc: LlmsDoc): string {
  const out: string[] = [`# ${oneLine(doc.title) || "Untitled"}`, ""];
  const summary = oneLine(doc.summary ?? "");
  if (summary) out.push(`> ${summary}`, "");
  const sections = orderSections(doc.sections).filter((s) => s.links.some((l) => l.url.trim() !== ""));
  const details = renderDetails(doc.details ?? "") || outline(sections);
  if (details) out.push(details, "");
  for (const section of sections) {
    const links = section.links.filter((l) => l.url.trim() !== "");
    out.push(`## ${sectionName(section)}`, "");
    for (const link of links) out.push(renderLink(link));
    out.push("");
  }
  return `${out.join("\n").trimEnd()}\n`;
}

/**
 * A body paragraph when the doc has none. The spec's reference parser (llms_txt) needs text between
 * the summary and the first section: without it, it reads the summary as body text, and a title
 * alone makes it fail. Naming the sections is the one thing true of every file, and useful.
 */
function outline(sections: LlmsSection[]): string {
  const names = sections.map((s) => sectionName(s));
  if (names.length === 0) return "";
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
  return `The pages are grouped under ${names.length === 1 ? "one heading" : `${names.length} headings`}: ${list}.`;
}

function sectionName(section: LlmsSection): string {
  return oneLine(section.name).replace(/^#+\s*/, "") || "Pages";
}

/** Sections keep their order, except that "Optional" goes last (the part readers may skip). */
export function orderSections(sections: LlmsSection[]): LlmsSection[] {
  const isOptional = (s: LlmsSection): boolean => s.name.trim().toLowerCase() === OPTIONAL_SECTION.toLowerCase();
  return [...sections.filter((s) => !isOptional(s)), ...sections.filter(isOptional)];
}

function renderLink(link: LlmsLink): string {
  const title = escapeName(oneLine(link.title) || link.url);
  const notes = oneLine(link.notes ?? "");
  return `- [${title}](${encodeUrl(link.url.trim())})${notes ? `: ${notes}` : ""}`;
}

/** Prose keeps its paragraphs, but a line can't start a heading or a blockquote. */
function renderDetails(text: string): string {
  return text
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((l) => l.trimEnd().replace(/^(\s*)(#|>)/, "$1\\$2"))
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

export function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

// Brackets become parentheses: the reference parser ends a name at the first "]", escaped or not,
// and then can't read the line. A backslash is escaped for our own parser.
function escapeName(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\[/g, "(").replace(/\]/g, ")");
}

// Spaces and parentheses would end the `(url)` early; percent-encoding them keeps the same URL.
function encodeUrl(url: string): string {
  return url.replace(/[\s()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
}
