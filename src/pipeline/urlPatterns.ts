/*
 * include/exclude URL patterns: user input, matched on the main thread against URLs a site
 * controls, once per discovered link. Nothing here may take more than linear time in the URL, so:
 *
 * - globs (`/blog/*`, `*.pdf$`) never become a RegExp: a glob is split on `*` and its pieces are
 *   found left to right with indexOf, each piece once, never revisited. Placing each piece at
 *   its leftmost occurrence is optimal for `*`-only globs, so there is nothing to backtrack.
 *   (As a RegExp, `/a*a*a*a*b` against a 50-character link blocked the event loop for a minute.)
 * - `/regex/flags` patterns are compiled by re2js, a port of RE2: its automata match in time linear
 *   in the input, and it refuses what would need backtracking (backreferences, lookarounds).
 *   Refusing regexes outright would break existing schedules; running them on a thread with a
 *   timeout would make every link check a message round trip. Linear alone is not cheap, though:
 *   a case-insensitive regex with a large program costs ~50 ms per 2 KB URL, so each regex's
 *   program size is capped, all regexes of one list are compiled into one alternation (one
 *   automaton, one lazy-DFA cache of at most 8 MB per list), and URLs longer than MAX_URL_LENGTH
 *   never match.
 *
 * checkPatterns is the one validator: the API's schemas, the CLI and crawlSite call it, so a bad
 * pattern is an InputError (a 400 at the API) before anything is queued or fetched.
 */
import { RE2JS } from "re2js";
import { InputError } from "../lib/errors";

export const PATTERN_LIMITS = {
  /** Patterns per list (include or exclude). */
  maxPatterns: 50,
  /** Characters per pattern. */
  maxLength: 500,
  /** RE2 program size of one regex pattern; `/docs\/(api|guide)\//i` is ~40. */
  maxRegexProgram: 300,
  /** RE2 program size of all regex patterns of one list together. */
  maxRegexProgramTotal: 1000,
} as const;

/** Longer URLs match no pattern (the sitemaps protocol caps URLs below 2,048 characters too). */
export const MAX_URL_LENGTH = 2048;

interface Glob {
  kind: "glob";
  /** Matched against the whole URL (the pattern has "://") rather than path + query. */
  whole: boolean;
  /** The pattern split on "*": pieces[0] is anchored at the start. */
  pieces: string[];
  /** A trailing "$": the last piece is anchored at the end. */
  anchoredEnd: boolean;
}

interface Regex {
  kind: "regex";
  /** RE2 source with the JS flags inlined: `(?i:docs)`. */
  source: string;
}

// `/docs/` reads as a path glob, not the regex "docs": a regex needs flags or a metacharacter.
const REGEX_FORM = /^\/(.+)\/([a-z]*)$/s;
const REGEX_META = /[\\^$*+?()[\]{}|]/;
// JS flags with an RE2 meaning; g and y say nothing to a yes/no test, and u is RE2's default.
const INLINE_FLAGS: Record<string, string> = { i: "i", m: "m", s: "s", g: "", y: "", u: "" };

function parsePattern(pattern: string): Glob | Regex {
  const re = REGEX_FORM.exec(pattern);
  if (re?.[1] !== undefined && (re[2] !== "" || REGEX_META.test(re[1]))) {
    let inline = "";
    for (const f of re[2] ?? "") {
      const mapped = INLINE_FLAGS[f];
      if (mapped === undefined) throw new Error(`unsupported regex flag "${f}" (i, m, s, g, y and u are)`);
      if (!inline.includes(mapped)) inline += mapped;
    }
    return { kind: "regex", source: inline === "" ? `(?:${re[1]})` : `(?${inline}:${re[1]})` };
  }
  const whole = pattern.includes("://");
  const p = whole || pattern.startsWith("/") || pattern.startsWith("*") ? pattern : `/${pattern}`;
  const anchoredEnd = p.endsWith("$");
  return { kind: "glob", whole, pieces: (anchoredEnd ? p.slice(0, -1) : p).split("*"), anchoredEnd };
}

/** True when `s` matches the glob: each piece found once, left to right, at its first occurrence. */
function globMatches(g: Glob, s: string): boolean {
  const { pieces, anchoredEnd } = g;
  const first = pieces[0] ?? "";
  if (!s.startsWith(first)) return false;
  if (pieces.length === 1) return !anchoredEnd || s.length === first.length;
  let pos = first.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i] ?? "";
    const at = s.indexOf(piece, pos);
    if (at < 0) return false;
    pos = at + piece.length;
  }
  const last = pieces[pieces.length - 1] ?? "";
  // The last piece is followed by an implicit "*" unless the glob ends in "$".
  if (!anchoredEnd) return s.indexOf(last, pos) >= 0;
  return s.length - last.length >= pos && s.endsWith(last);
}

function compileRe2(source: string): RE2JS {
  return RE2JS.compile(source);
}

/** Why `pattern` can't be used (too long, bad or too costly regex), or undefined when it can. */
export function patternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return "empty pattern";
  if (pattern.length > PATTERN_LIMITS.maxLength)
    return `longer than ${PATTERN_LIMITS.maxLength} characters (${pattern.length})`;
  let parsed: Glob | Regex;
  try {
    parsed = parsePattern(pattern);
    if (parsed.kind === "glob") return undefined;
    const size = compileRe2(parsed.source).programSize();
    if (size > PATTERN_LIMITS.maxRegexProgram)
      return `regex too complex (program size ${size}, at most ${PATTERN_LIMITS.maxRegexProgram}): use fewer or smaller repetitions`;
  } catch (e) {
    // re2js explains its refusals ("invalid or unsupported Perl syntax: `(?=`").
    return `${e instanceof Error ? e.message : String(e)} (regexes use RE2 syntax: no backreferences or lookarounds)`;
  }
  return undefined;
}

/**
 * Throws InputError unless every pattern of one list (include or exclude) is usable and the list
 * is within PATTERN_LIMITS. `what` names the list in the message.
 */
export function checkPatterns(patterns: readonly string[], what = "pattern"): void {
  if (patterns.length > PATTERN_LIMITS.maxPatterns)
    throw new InputError(`at most ${PATTERN_LIMITS.maxPatterns} ${what}s, got ${patterns.length}`);
  for (const p of patterns) {
    const problem = patternProblem(p);
    if (problem !== undefined) throw new InputError(`invalid ${what} ${JSON.stringify(p.slice(0, 100))}: ${problem}`);
  }
  const regexes = patterns.map(parsePattern).filter((p): p is Regex => p.kind === "regex");
  if (regexes.length > 1) {
    const size = compileRe2(regexes.map((r) => r.source).join("|")).programSize();
    if (size > PATTERN_LIMITS.maxRegexProgramTotal)
      throw new InputError(
        `the ${what} regexes are too complex together (program size ${size}, at most ${PATTERN_LIMITS.maxRegexProgramTotal})`,
      );
  }
}

/** One compiled list: any glob or the combined regex matches. */
class PatternList {
  private readonly globs: Glob[];
  private readonly regex: RE2JS | undefined;
  readonly empty: boolean;

  constructor(patterns: readonly string[]) {
    const parsed = patterns.map(parsePattern);
    this.globs = parsed.filter((p): p is Glob => p.kind === "glob");
    const sources = parsed.filter((p): p is Regex => p.kind === "regex").map((r) => r.source);
    this.regex = sources.length > 0 ? compileRe2(sources.join("|")) : undefined;
    this.empty = patterns.length === 0;
  }

  matches(u: URL, href: string): boolean {
    const pathQuery = `${u.pathname}${u.search}`;
    for (const g of this.globs) if (globMatches(g, g.whole ? href : pathQuery)) return true;
    return this.regex?.test(href) ?? false;
  }
}

/** include/exclude compiled once (per crawl): `matches(url)` is the crawl's pattern test. */
export class UrlPatterns {
  private readonly include: PatternList;
  private readonly exclude: PatternList;

  /** Throws InputError for a pattern checkPatterns refuses. */
  constructor(include: readonly string[], exclude: readonly string[]) {
    checkPatterns(include, "include pattern");
    checkPatterns(exclude, "exclude pattern");
    this.include = new PatternList(include);
    this.exclude = new PatternList(exclude);
  }

  /** True when url matches one of include (or include is empty) and none of exclude. */
  matches(url: string): boolean {
    if (url.length > MAX_URL_LENGTH) return false;
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return false;
    }
    const href = u.toString();
    if (href.length > MAX_URL_LENGTH) return false;
    if (!this.include.empty && !this.include.matches(u, href)) return false;
    return !this.exclude.matches(u, href);
  }
}

// Small: each entry may hold two lazy-DFA caches (up to 8 MB each) on adversarial input.
const CACHE_SIZE = 16;
const cache = new Map<string, UrlPatterns>();

/** True when url matches one of include (or include is empty) and none of exclude. */
export function matchesPatterns(url: string, include: readonly string[], exclude: readonly string[]): boolean {
  const key = JSON.stringify([include, exclude]);
  let compiled = cache.get(key);
  if (!compiled) {
    compiled = new UrlPatterns(include, exclude);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(key, compiled);
  }
  return compiled.matches(url);
}
