/*
 * robots.txt (RFC 9309), parsed and matched by robotsTxt.ts. What each answer means for the crawl:
 * - 2xx: the rules apply to our User-Agent's product token ("ltx"), else to "*".
 * - 4xx (404, 401, 403…): "unavailable" → everything is allowed (RFC 9309 §2.3.1.3).
 * - 5xx after fetchPage's retries, or no answer: "unreachable" → everything is disallowed
 *   (§2.3.1.4). `unreachable` is set so the crawl can fail with a retryable error that says so,
 *   rather than crawl a site whose owner may have rules we could not read.
 * The file is read up to 500 KiB (the RFC's minimum) and redirects are followed (fetchPage's limit).
 */
import { FetchError } from "../../lib/errors";
import { fetchPage, type FetchOptions } from "./fetch";
import { findRule, parseRobotsTxt } from "./robotsTxt";
import { MAX_URL_LENGTH } from "../urlPatterns";
import type { FetchSettings } from "../types";

const ROBOTS_MAX_BYTES = 500 * 1024;
/** Crawl-delay is capped: a site asking for an hour between pages would never finish a job. */
export const MAX_CRAWL_DELAY_MS = 10_000;

export interface RobotsRules {
  /** The robots.txt URL that was read. */
  url: string;
  /** HTTP status of robots.txt, or null when it could not be fetched at all. */
  status: number | null;
  /** True when robots.txt answered 5xx: per RFC 9309 nothing may be crawled. */
  unreachable: boolean;
  /** Why robots.txt was unreachable (the status or network error), for messages. */
  reason?: string;
  allowed(url: string): boolean;
  /** Crawl-delay for our agent in ms (capped at MAX_CRAWL_DELAY_MS), 0 when none. */
  crawlDelayMs: number;
  /** Crawl-delay was larger than the cap. */
  crawlDelayCapped: boolean;
  sitemaps: string[];
  /** Rules past MAX_ROBOTS_RULES, ignored (the crawl warns). */
  droppedRules?: number;
}

/** "http://h/" and "http://h:80/" are one origin for robots.txt: compare with the port spelled out. */
function originKey(u: URL): string {
  return `${u.protocol}//${u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`;
}

/** Rules from a robots.txt body (exported for tests and for callers that already have the text). */
export function parseRobots(robotsUrl: string, body: string, userAgent: string, status = 200): RobotsRules {
  const parsed = parseRobotsTxt(body);
  const group = parsed.groupFor(userAgent);
  const rules = group?.rules ?? [];
  const delaySeconds = group?.crawlDelay ?? 0;
  const delayMs = Number.isFinite(delaySeconds) && delaySeconds > 0 ? Math.round(delaySeconds * 1000) : 0;
  const origin = originKey(new URL(robotsUrl));
  return {
    url: robotsUrl,
    status,
    unreachable: false,
    allowed: (url) => {
      // Longer URLs are never fetched (see MAX_URL_LENGTH): no need to match them.
      if (url.length > MAX_URL_LENGTH) return false;
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        return false;
      }
      // A URL on another origin: these rules say nothing about it, so don't fetch it.
      if (originKey(u) !== origin) return false;
      const rule = findRule(rules, `${u.pathname}${u.search}`);
      return rule === undefined || rule.allow;
    },
    crawlDelayMs: Math.min(delayMs, MAX_CRAWL_DELAY_MS),
    crawlDelayCapped: delayMs > MAX_CRAWL_DELAY_MS,
    sitemaps: parsed.sitemaps,
    ...(parsed.droppedRules > 0 ? { droppedRules: parsed.droppedRules } : {}),
  };
}

function allowAll(url: string, status: number | null): RobotsRules {
  return {
    url,
    status,
    unreachable: false,
    allowed: () => true,
    crawlDelayMs: 0,
    crawlDelayCapped: false,
    sitemaps: [],
  };
}

function disallowAll(url: string, status: number | null, reason: string): RobotsRules {
  return {
    url,
    status,
    unreachable: true,
    reason,
    allowed: () => false,
    crawlDelayMs: 0,
    crawlDelayCapped: false,
    sitemaps: [],
  };
}

/**
 * Fetches and parses origin/robots.txt. Network failures (refused connection, DNS, timeout) are
 * thrown as FetchError and a refused address as BlockedAddressError.
 */
export async function loadRobots(
  origin: string,
  settings: FetchSettings,
  opts: Pick<FetchOptions, "signal" | "agents" | "budget"> = {},
): Promise<RobotsRules> {
  const url = new URL("/robots.txt", origin).toString();
  // Network failures and policy refusals propagate: if robots.txt can't be reached, neither can the site.
  let page: Awaited<ReturnType<typeof fetchPage>>;
  try {
    page = await fetchPage(url, settings, {
      ...opts,
      accept: "text/plain,*/*;q=0.5",
      maxBytes: Math.min(settings.maxBytes, ROBOTS_MAX_BYTES),
    });
  } catch (e) {
    // More redirects than fetchPage follows (5, the RFC's minimum), or a loop: RFC 9309 §2.3.1.2
    // lets a crawler take robots.txt as unavailable, like a 4xx. A site that redirects every
    // path forever then fails where its pages do, not at robots.txt.
    if (e instanceof FetchError && e.details?.redirects === true) return allowAll(url, null);
    throw e;
  }
  // After a redirect (http → https) the rules still speak for the origin we asked about (RFC 9309 §2.3.1.2).
  if (page.status >= 200 && page.status < 300) return parseRobots(url, page.body, settings.userAgent, page.status);
  if (page.status >= 400 && page.status < 500) return allowAll(url, page.status);
  if (page.status >= 500) return disallowAll(url, page.status, `robots.txt answered HTTP ${page.status}`);
  // 1xx/3xx left over (a redirect without Location): treat as unavailable, like a 4xx.
  return allowAll(url, page.status);
}
