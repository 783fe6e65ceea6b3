/*
 * A robots.txt parser and matcher (RFC 9309), written for input a site controls. robots-parser's
 * matcher keeps an array of candidate lengths per rule, O(rule × path) with an allocation per rule
 * and URL: a 500 KiB file of 1,500-character wildcard rules cost ~2 s per URL checked. Here:
 * - a rule is split on "*" once, at parse time, and matched like a glob in urlPatterns.ts: its
 *   pieces found left to right with indexOf, never revisited (leftmost placement is optimal for
 *   "*"-only patterns, so nothing backtracks);
 * - rules are sorted once, longest first (allow before disallow on a tie), so the first match is
 *   the RFC's winner and the scan stops there;
 * - at most MAX_ROBOTS_RULES rules are kept, and a rule whose literal characters outnumber
 *   MAX_URL_LENGTH is dropped: it can never match a URL the crawl fetches.
 * Group semantics follow robots-parser, which this replaces: groups for the same agent merge, an
 * agent's product token is matched case-insensitively without its version, "*" is the fallback.
 */
import { MAX_URL_LENGTH } from "../urlPatterns";

/** Rules kept from one file (all groups): a real robots.txt has tens, rarely a few thousand. */
export const MAX_ROBOTS_RULES = 10_000;

interface Rule {
  allow: boolean;
  /** Length of the pattern as written (after encoding): the RFC's "most specific" measure. */
  length: number;
  pieces: string[];
  anchoredEnd: boolean;
}

interface Group {
  rules: Rule[];
  crawlDelay?: number;
}

export interface ParsedRobots {
  /** Rules for the agent's product token, else for "*", else none. */
  groupFor(userAgent: string): { rules: Rule[]; crawlDelay?: number } | undefined;
  sitemaps: string[];
  /** Rules dropped over MAX_ROBOTS_RULES. */
  droppedRules: number;
}

/** "Googlebot/2.1" → "googlebot": the product token, lower-cased. */
function productToken(userAgent: string): string {
  const lower = userAgent.toLowerCase();
  const slash = lower.indexOf("/");
  return (slash >= 0 ? lower.slice(0, slash) : lower).trim();
}

/** %xx escapes upper-cased, so that rules and paths compare byte for byte. */
function upperEscapes(s: string): string {
  return s.replace(/%[0-9a-fA-F]{2}/g, (m) => m.toUpperCase());
}

/** A rule's path with non-ASCII characters percent-encoded (existing escapes kept). */
function encodeRule(pattern: string): string {
  try {
    return upperEscapes(encodeURI(pattern).replace(/%25/g, "%"));
  } catch {
    return pattern; // a lone surrogate: keep it as written
  }
}

function compileRule(raw: string, allow: boolean): Rule | undefined {
  const pattern = encodeRule(raw);
  const anchoredEnd = pattern.endsWith("$");
  const pieces = (anchoredEnd ? pattern.slice(0, -1) : pattern).split("*");
  const literal = pieces.reduce((n, p) => n + p.length, 0);
  if (literal > MAX_URL_LENGTH) return undefined;
  return { allow, length: pattern.length, pieces, anchoredEnd };
}

function ruleMatches(rule: Rule, path: string): boolean {
  const { pieces, anchoredEnd } = rule;
  const first = pieces[0] ?? "";
  if (!path.startsWith(first)) return false;
  if (pieces.length === 1) return !anchoredEnd || path.length === first.length;
  let pos = first.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i] ?? "";
    const at = path.indexOf(piece, pos);
    if (at < 0) return false;
    pos = at + piece.length;
  }
  const last = pieces[pieces.length - 1] ?? "";
  if (!anchoredEnd) return path.indexOf(last, pos) >= 0;
  return path.length - last.length >= pos && path.endsWith(last);
}

/** The winning rule for path (encoded path + query), or undefined when none matches. */
export function findRule(rules: readonly Rule[], path: string): Rule | undefined {
  const p = upperEscapes(path);
  for (const rule of rules) if (ruleMatches(rule, p)) return rule;
  return undefined;
}

export function parseRobotsTxt(body: string): ParsedRobots {
  const groups = new Map<string, Group>();
  const sitemaps: string[] = [];
  let agents: string[] = [];
  let lastWasAgent = false;
  let kept = 0;
  let droppedRules = 0;
  const groupOf = (agent: string): Group => {
    let g = groups.get(agent);
    if (!g) groups.set(agent, (g = { rules: [] }));
    return g;
  };
  for (const rawLine of body.split(/\r\n|\r|\n/)) {
    const hash = rawLine.indexOf("#");
    const line = hash >= 0 ? rawLine.slice(0, hash) : rawLine;
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === "user-agent") {
      // Consecutive user-agent lines open one group together.
      if (!lastWasAgent) agents = [];
      if (value !== "") {
        const agent = productToken(value);
        agents.push(agent);
        groupOf(agent);
      }
      lastWasAgent = true;
      continue;
    }
    lastWasAgent = false;
    if (key === "allow" || key === "disallow") {
      if (value === "" || agents.length === 0) continue; // "Disallow:" (empty) allows everything
      if (kept >= MAX_ROBOTS_RULES) {
        droppedRules++;
        continue;
      }
      const rule = compileRule(value, key === "allow");
      if (!rule) continue;
      kept++;
      for (const a of agents) groupOf(a).rules.push(rule);
    } else if (key === "crawl-delay") {
      const delay = Number(value);
      if (value !== "" && !Number.isNaN(delay)) for (const a of agents) groupOf(a).crawlDelay = delay;
    } else if (key === "sitemap" && value !== "") {
      sitemaps.push(value);
    }
  }
  // Longest first, allow first among equals: the first rule that matches is the RFC's choice.
  for (const g of groups.values()) g.rules.sort((a, b) => b.length - a.length || Number(b.allow) - Number(a.allow));
  return {
    groupFor: (userAgent) => groups.get(productToken(userAgent)) ?? groups.get("*"),
    sitemaps,
    droppedRules,
  };
}
