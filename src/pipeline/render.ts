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
  const details = renderDetails(doc.details ?? "");
  if (details) out.push(details, "");
  for (const section of orderSections(doc.sections)) {
    const links = section.links.filter((l) => l.url.trim() !== "");
    if (links.length === 0) continue;
    out.push(`## ${oneLine(section.name).replace(/^#+\s*/, "") || "Pages"}`, "");
    for (const link of links) out.push(renderLink(link));
    out.push("");
  }
  return `${out.join("\n").trimEnd()}\n`;
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

function escapeName(s: string): string {
  return s.replace(/[\\[\]]/g, (c) => `\\${c}`);
}

// Spaces and parentheses would end the `(url)` early; percent-encoding them keeps the same URL.
function encodeUrl(url: string): string {
  return url.replace(/[\s()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
}
