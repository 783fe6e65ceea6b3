/*
 * What we accept back from the model: JSON in the shape the prompt asks for. Anything else is an
 * OutputInvalidError, which generateLlmsTxt turns into feedback for the next try.
 * Near-misses we can fix without asking again are fixed here: a relative URL, a trailing slash
 * the page list doesn't have, `notes` spelled instead of `note`.
 */
import { z } from "zod";
import { OutputInvalidError } from "../../lib/errors";
import type { LlmsLink, LlmsSection, Site } from "../types";

/** What the prompt asks for: pages named by their digest's id ("p17"). */
const ModelLink = z.object({ page: z.string(), title: z.string(), note: z.string() });
const ModelAnswer = z.object({
  title: z.string(),
  summary: z.string(),
  sections: z.array(z.object({ name: z.string(), links: z.array(ModelLink) })),
});

/**
 * The answer's JSON Schema, sent as `response_format: json_schema` to servers that support
 * structured output (OpenAI, vLLM, Ollama): the model then can't answer in another shape.
 */
export const ANSWER_JSON_SCHEMA = z.toJSONSchema(ModelAnswer) as Record<string, unknown>;

// What we accept is looser than what we ask for: a `url` instead of a `page` (models that copy
// URLs), `notes` for `note`, missing titles and a `details` paragraph.
const LinkAnswer = ModelLink.partial().extend({
  page: z.string().nullish(),
  url: z.string().nullish(),
  title: z.string().nullish(),
  note: z.string().nullish(),
  notes: z.string().nullish(),
});

const Answer = z.object({
  title: z.string().nullish(),
  summary: z.string().nullish(),
  details: z.string().nullish(),
  sections: z.array(z.object({ name: z.string(), links: z.array(LinkAnswer) })),
});

export interface ParsedAnswer {
  title?: string;
  summary?: string;
  details?: string;
  sections: LlmsSection[];
}

/** Parses the model's message content; throws OutputInvalidError saying what was wrong. */
export function parseAnswer(content: string | null | undefined, resolveUrl: (url: string) => string): ParsedAnswer {
  if (!content || !content.trim()) throw new OutputInvalidError("the answer was empty: answer with one JSON object");
  let json: unknown;
  try {
    // Some compatible servers wrap JSON in a ```json fence even in JSON mode.
    json = JSON.parse(
      content
        .trim()
        .replace(/^```(?:json)?\s*/i, "")
        .replace(/\s*```$/, ""),
    );
  } catch (e) {
    throw new OutputInvalidError(
      `the answer was not valid JSON (${(e as Error).message}): answer with one JSON object only`,
      { cause: e },
    );
  }
  const parsed = Answer.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new OutputInvalidError(
      `the answer's JSON has the wrong shape (${where.join("; ")}): use {"title", "summary", "sections": [{"name", "links": [{"page", "title", "note"}]}]}`,
    );
  }
  const a = parsed.data;
  const out: ParsedAnswer = {
    sections: a.sections.map((s) => ({ name: s.name.trim(), links: s.links.map((l) => toLink(l, resolveUrl)) })),
  };
  if (a.title?.trim()) out.title = a.title.trim();
  if (a.summary?.trim()) out.summary = a.summary.trim();
  if (a.details?.trim()) out.details = a.details.trim();
  return out;
}

function toLink(l: z.infer<typeof LinkAnswer>, resolveUrl: (url: string) => string): LlmsLink {
  const ref = (l.page ?? l.url ?? "").trim();
  if (!ref) throw new OutputInvalidError('a link has neither "page" nor "url": name each page by its id ("p3")');
  const url = resolveUrl(ref);
  if (url === ref && /^p\d+$/.test(ref))
    throw new OutputInvalidError(
      `page "${ref}" is not one of the ids given: name pages only by the ids in the digests`,
    );
  const link: LlmsLink = { url, title: (l.title ?? "").trim() };
  const note = (l.note ?? l.notes ?? "").trim();
  if (note) link.notes = note;
  return link;
}

/**
 * Maps what the model named a page by to the fetched page's URL: a page id ("p17", its index in
 * `pages`), or a URL it almost certainly means. Anything else is returned as is, for the
 * validator to refuse with a message the next try can act on.
 */
export function urlResolver(
  site: Site,
  pageUrls: Set<string>,
  pagesInOrder: readonly string[] = [],
): (url: string) => string {
  return (raw) => {
    const id = /^p(\d+)$/.exec(raw);
    if (id) return pagesInOrder[Number(id[1])] ?? raw;
    if (pageUrls.has(raw)) return raw;
    let abs: string;
    try {
      abs = new URL(raw, site.startUrl).href;
    } catch {
      return raw;
    }
    for (const candidate of [abs, abs.endsWith("/") ? abs.slice(0, -1) : `${abs}/`, abs.replace(/#.*$/, "")]) {
      if (pageUrls.has(candidate)) return candidate;
    }
    return raw;
  };
}
