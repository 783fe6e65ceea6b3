/**
 * The generate options — how much of a site to crawl and which provider writes its llms.txt —
 * declared once. The API's job body, a website's options, the job data, `ltx generate`'s flags
 * (through pipelineSettings) and the OpenAPI document all derive from this schema, so they share
 * one set of limits.
 */
import { z } from "zod";
import { PROVIDER_NAMES } from "../lib/providers";
import { checkPatterns } from "../pipeline/site";

// Generous but bounded: a crawl filter list is a handful of globs, not a data upload.
export const MAX_PATTERNS = 50;
export const MAX_PATTERN_LENGTH = 500;
export const MAX_DEPTH_LIMIT = 100;
export const MAX_MODEL_LENGTH = 200;

export const ProviderSchema = z.enum(PROVIDER_NAMES);

/** One include/exclude pattern: a glob on the URL path, or `/regex/`; it must compile. */
export const PatternSchema = z
  .string()
  .min(1)
  .max(MAX_PATTERN_LENGTH)
  .superRefine((p, ctx) => {
    try {
      checkPatterns([p]);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: e instanceof Error ? e.message : String(e) });
    }
  });

/** The fields, each optional; `maxPagesLimit` is MAX_PAGES_LIMIT where config is known. */
export function generateOptionsShape(maxPagesLimit?: number) {
  const maxPages = z.number().int().min(1);
  return {
    maxPages: (maxPagesLimit === undefined
      ? maxPages
      : maxPages.max(maxPagesLimit, `must be at most ${maxPagesLimit} (MAX_PAGES_LIMIT)`)
    ).optional(),
    maxDepth: z.number().int().min(0).max(MAX_DEPTH_LIMIT).optional(),
    include: z.array(PatternSchema).max(MAX_PATTERNS).optional(),
    exclude: z.array(PatternSchema).max(MAX_PATTERNS).optional(),
    provider: ProviderSchema.optional(),
    model: z.string().trim().min(1).max(MAX_MODEL_LENGTH).optional(),
  };
}

/** The options without the MAX_PAGES_LIMIT ceiling (job data: the worker applies the limit). */
export const GenerateOptions = z.object(generateOptionsShape());
export type GenerateOptions = z.infer<typeof GenerateOptions>;
export const GENERATE_OPTION_NAMES = Object.keys(GenerateOptions.shape) as (keyof GenerateOptions)[];

/** The options of `input`, parsed; null and undefined fields and empty lists are left out. */
export function pickGenerateOptions(input: Partial<Record<keyof GenerateOptions, unknown>>): GenerateOptions {
  const present = Object.fromEntries(GENERATE_OPTION_NAMES.map((n) => [n, input[n] ?? undefined]));
  return compactOptions(GenerateOptions.parse(present));
}

/** Only the options that are set (undefined and empty lists dropped), in a stable order. */
export function compactOptions(options: GenerateOptions): GenerateOptions {
  const out: Record<string, unknown> = {};
  for (const n of GENERATE_OPTION_NAMES) {
    const v = options[n];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    out[n] = v;
  }
  return out;
}
