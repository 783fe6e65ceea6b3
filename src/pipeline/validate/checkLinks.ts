/*
 * `ltx check --links`: fetch every page an llms.txt links to and report what a reader would hit:
 * a non-2xx answer, a redirect (the file should name the final URL), or a page off the site.
 *
 * Polite and guarded like the crawl: robots.txt is read once per origin and a disallowed URL is
 * not fetched; its Crawl-delay is kept; the FetchSettings' address policy (the caller's SSRF
 * guard) meets every connection and every redirect hop. Each page is fetched once, however many
 * links (fragments) point into it, and the body is not read.
 */
import { coerceError } from "../../lib/coerceError";
import { sleep } from "../../lib/time";
import { fetchRaw } from "../fetch/fetch";
import { loadRobots, type RobotsRules } from "../fetch/robots";
import type { FetchSettings, Site, ValidationIssue } from "../types";
import { isOnSite } from "./format";

export interface LinkTarget {
  url: string;
  line: number;
}

export interface LinkResult {
  url: string;
  line: number;
  /** HTTP status of the final answer; null when nothing was fetched. */
  status: number | null;
  /** Where a redirect ended, when the URL redirected. */
  redirectedTo?: string;
  offSite: boolean;
  /** Why the URL was not fetched or gave no answer (robots.txt, the address guard, a network error). */
  problem?: string;
}

export interface LinkReport {
  checked: number;
  results: LinkResult[];
  /** One error per bad link: link-status, link-redirect, link-off-site, link-unreachable. */
  errors: ValidationIssue[];
  /** Links robots.txt doesn't let us fetch: not errors, but not checked either. */
  skipped: number;
}

export interface CheckLinksOptions {
  settings: FetchSettings;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export async function checkLinks(
  links: LinkTarget[],
  site: Site | undefined,
  opts: CheckLinksOptions,
): Promise<LinkReport> {
  const pages = new Map<string, LinkTarget[]>();
  for (const l of links) {
    const page = withoutHash(l.url);
    if (page) pages.set(page, [...(pages.get(page) ?? []), l]);
  }
  const byOrigin = new Map<string, string[]>();
  for (const page of pages.keys()) {
    const origin = new URL(page).origin;
    byOrigin.set(origin, [...(byOrigin.get(origin) ?? []), page]);
  }
  const answers = new Map<string, Omit<LinkResult, "url" | "line" | "offSite">>();
  let done = 0;
  await Promise.all(
    [...byOrigin].map(async ([origin, urls]) => {
      const robots = await robotsFor(origin, opts);
      const concurrency = robots.crawlDelayMs > 0 ? 1 : Math.max(1, opts.settings.perHostConcurrency);
      const queue = [...urls];
      const worker = async (): Promise<void> => {
        for (let url = queue.shift(); url !== undefined; url = queue.shift()) {
          answers.set(url, await checkOne(url, robots, opts));
          opts.onProgress?.(++done, pages.size);
          if (robots.crawlDelayMs > 0 && queue.length > 0) await sleep(robots.crawlDelayMs, opts.signal);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, urls.length) }, worker));
    }),
  );
  return report(links, site, answers);
}

function report(
  links: LinkTarget[],
  site: Site | undefined,
  answers: Map<string, Omit<LinkResult, "url" | "line" | "offSite">>,
): LinkReport {
  const results: LinkResult[] = [];
  const errors: ValidationIssue[] = [];
  let skipped = 0;
  for (const l of links) {
    const page = withoutHash(l.url);
    const answer = (page && answers.get(page)) || { status: null, problem: "not an http(s) URL" };
    const offSite = site !== undefined && page !== null && !isOnSite(new URL(page), site);
    const r: LinkResult = { url: l.url, line: l.line, offSite, ...answer };
    results.push(r);
    const at = { line: l.line };
    if (offSite)
      errors.push({
        ...at,
        code: "link-off-site",
        message: `${l.url} is not on the site ${site?.origin}${site?.prefix}`,
      });
    if (r.problem?.startsWith("robots.txt")) skipped++;
    else if (r.status === null)
      errors.push({ ...at, code: "link-unreachable", message: `${l.url}: ${r.problem ?? "no answer"}` });
    else if (r.status < 200 || r.status >= 300)
      errors.push({ ...at, code: "link-status", message: `${l.url} answers HTTP ${r.status}` });
    else if (r.redirectedTo)
      errors.push({
        ...at,
        code: "link-redirect",
        message: `${l.url} redirects to ${r.redirectedTo}: link the final URL`,
      });
  }
  return { checked: answers.size, results, errors, skipped };
}

async function robotsFor(origin: string, opts: CheckLinksOptions): Promise<RobotsRules | AllowAll> {
  try {
    const rules = await loadRobots(origin, opts.settings, { signal: opts.signal });
    // robots.txt answering 5xx means "crawl nothing" for a crawler; a link check of a handful of
    // URLs follows the same rule, and says so per link.
    return rules;
  } catch (e) {
    // No answer for robots.txt: the pages will fail the same way, and say why, one by one.
    return { allowed: () => true, crawlDelayMs: 0, unreachable: false, reason: coerceError(e).message };
  }
}

type AllowAll = Pick<RobotsRules, "allowed" | "crawlDelayMs" | "unreachable" | "reason">;

async function checkOne(
  url: string,
  robots: AllowAll,
  opts: CheckLinksOptions,
): Promise<Omit<LinkResult, "url" | "line" | "offSite">> {
  if (robots.unreachable) return { status: null, problem: `robots.txt unreachable (${robots.reason ?? "5xx"})` };
  if (!robots.allowed(url)) return { status: null, problem: "robots.txt disallows it" };
  try {
    const got = await fetchRaw(url, opts.settings, { signal: opts.signal, wantBody: () => false });
    const redirected = got.finalUrl !== url;
    return { status: got.status, ...(redirected ? { redirectedTo: got.finalUrl } : {}) };
  } catch (e) {
    return { status: null, problem: coerceError(e).message };
  }
}

function withoutHash(raw: string): string | null {
  try {
    const u = new URL(raw);
    if (u.protocol !== "http:" && u.protocol !== "https:") return null;
    u.hash = "";
    return u.toString();
  } catch {
    return null;
  }
}
