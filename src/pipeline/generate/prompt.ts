/*
 * The messages sent to the model. Batch 1 (the most prominent pages, plus an outline of the whole
 * site) asks for the title, summary and sections; later batches place their pages into the sections
 * already made. The validator's issues from the previous try go into every batch, so the model fixes
 * them instead of repeating them.
 */
import type { ValidationIssue } from "../types";
import { estimateTokens } from "./digest";

export interface PromptInput {
  siteUrl: string;
  /** The site's name as the page titles suggest it (titles in digests have it cut off). */
  siteName?: string;
  /** Digest lines of this batch's pages. */
  digests: string[];
  batchIndex: number;
  batchCount: number;
  totalPages: number;
  /** "/guide/ (120 pages)" lines describing the whole site; sent with batch 1 only. */
  outline?: string[];
  /** Section names from earlier batches: later batches place pages into these. */
  sections?: string[];
  feedback?: ValidationIssue[];
}

export interface ChatMessage {
  role: "system" | "user";
  content: string;
}

// The marker tests (and the fake server) use to find the feedback block.
export const FEEDBACK_HEADER = "Your previous answer failed these checks. Fix every one of them:";
export const SECTIONS_HEADER = "Sections so far:";
const MAX_FEEDBACK = 30;

export const SYSTEM_PROMPT = `You write llms.txt files (see llmstxt.org): a short markdown index that helps language models and people find the useful pages of a website.
You receive compact digests of the site's pages, one JSON object per line: id (the page's id), path, title, desc (description), headings, text (first words).
Answer with one JSON object and nothing else, in this shape:
{"title": "name of the site or project", "summary": "one or two sentences saying what the site or project is and who it is for", "sections": [{"name": "Short section name", "links": [{"page": "the page's id from its digest, like p3", "title": "short link title", "note": "one sentence saying what the reader finds on the page"}]}]}
Rules:
- Name pages only by the ids in the digests ("p3"). Never invent an id or write a URL.
- List every page of the request exactly once.
- Order sections and links so that what a newcomer needs first comes first (overview, getting started, guides, main concepts, then reference).
- Use 2 to 10 sections with short plain names. No empty sections. Do not name a section after the site.
- Put secondary pages in a section named exactly "Optional": changelogs, release notes, news and blog posts, archives, legal, privacy and license pages, and deep API reference leaves.
- Titles and notes are plain text on one line, no markdown. Notes are at most 160 characters and add something the title does not say.`;

export function buildMessages(input: PromptInput): ChatMessage[] {
  const lines: string[] = [
    `Site: ${input.siteUrl}${input.siteName ? ` (its pages' titles name it ${JSON.stringify(input.siteName)})` : ""}`,
  ];
  if (input.batchIndex === 0) {
    lines.push(
      `This request holds ${input.digests.length} of the site's ${input.totalPages} pages${input.batchCount > 1 ? `; ${input.batchCount - 1} more request(s) will place the rest into your sections` : ""}.`,
    );
    if (input.outline && input.outline.length > 0)
      lines.push("", "Outline of the whole site (path: pages):", ...input.outline);
    lines.push("", "Write the title, the summary and the sections for these pages.");
  } else {
    lines.push(
      `This is request ${input.batchIndex + 1} of ${input.batchCount}: ${input.digests.length} more of the site's ${input.totalPages} pages.`,
      `${SECTIONS_HEADER} ${(input.sections ?? []).map((s) => JSON.stringify(s)).join(", ")}.`,
      'Place each page below into one of these sections (or "Optional"); add a new section only if none fits. Answer {"sections": [...]} with these pages only; title and summary are not needed.',
    );
  }
  lines.push("", "Page digests:", ...input.digests);
  const feedback = feedbackBlock(input.feedback);
  if (feedback) lines.push("", feedback);
  return [
    { role: "system", content: SYSTEM_PROMPT },
    { role: "user", content: lines.join("\n") },
  ];
}

function feedbackBlock(issues: ValidationIssue[] | undefined): string {
  if (!issues || issues.length === 0) return "";
  const shown = issues.slice(0, MAX_FEEDBACK).map((i) => `- [${i.code}] ${i.message}`);
  if (issues.length > MAX_FEEDBACK) shown.push(`- … and ${issues.length - MAX_FEEDBACK} more of the same kinds`);
  return [FEEDBACK_HEADER, ...shown].join("\n");
}

/** Tokens a request costs before its digests: used to size the batches. */
export function overheadTokens(input: Omit<PromptInput, "digests">): number {
  const msgs = buildMessages({ ...input, digests: [] });
  // +16 per message for the chat format's own tokens.
  return msgs.reduce((n, m) => n + estimateTokens(m.content) + 16, 0);
}
