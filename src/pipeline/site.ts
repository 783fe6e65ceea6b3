/*
 * What a site is and which URLs belong to it. Pure functions with no I/O: the API and the job code
 * also call resolveSite/normalizeUrl to de-duplicate requests, so they must stay cheap.
 *
 * Normalisation rules (one URL → one string, so the crawl fetches each page once):
 * - the fragment goes; the scheme and host are lower-cased and IDN hosts become punycode (WHATWG URL);
 *   the default port goes; IPv4 written as 2130706433 / 0x7f.1 / 127.1 becomes dotted (WHATWG URL);
 * - tracking parameters go (utm_*, gclid, fbclid, mc_cid, ref, …) and the rest are sorted by name,
 *   so `?b=1&a=2` and `?a=2&b=1` are one page; an empty query goes;
 * - the path is kept as written, except that an empty path is "/". We do NOT add or strip a trailing
 *   slash, nor collapse `index.html`: `/docs` and `/docs/` are different resources to many servers
 *   (one usually redirects to the other, and the crawl records pages under their final URL), and a
 *   site that only serves `/docs/index.html` would 404 on a rewritten `/docs/`. Aliases that survive
 *   this (`/` and `/index.html`) are caught later by the crawl's content-hash de-duplication.
 */
import { InvalidUrlError } from "../lib/errors";
import type { Site } from "./types";

const TRACKING_PARAMS = new Set([
  "gclid",
  "gclsrc",
  "dclid",
  "gbraid",
  "wbraid",
  "fbclid",
  "msclkid",
  "yclid",
  "twclid",
  "igshid",
  "mc_cid",
  "mc_eid",
  "_ga",
  "_gl",
  "_hsenc",
  "_hsmi",
  "mkt_tok",
  "ref",
  "ref_src",
  "ref_url",
  "source",
  "spm",
]);

function isTrackingParam(name: string): boolean {
  const n = name.toLowerCase();
  return n.startsWith("utm_") || TRACKING_PARAMS.has(n);
}

function parseHttpUrl(input: string, base?: string): URL {
  let url: URL;
  try {
    url = base === undefined ? new URL(input) : new URL(input, base);
  } catch (e) {
    throw new InvalidUrlError(input, "not a URL", { cause: e });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InvalidUrlError(input, `only http and https URLs can be crawled, not ${url.protocol.replace(/:$/, "")}`);
  }
  if (url.hostname === "") throw new InvalidUrlError(input, "no host");
  return url;
}

/** The canonical string form of an http(s) URL (see the rules above). Throws InvalidUrlError. */
export function normalizeUrl(url: string, base?: string): string {
  const u = parseHttpUrl(url.trim(), base);
  u.hash = "";
  if (u.search !== "" || u.href.includes("?")) {
    const kept = [...u.searchParams].filter(([name]) => !isTrackingParam(name));
    // Stable sort by name only: repeated names (?tag=b&tag=a) keep their order, which may matter.
    kept.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    u.search = kept.length === 0 ? "" : new URLSearchParams(kept).toString();
  }
  if (u.pathname === "") u.pathname = "/";
  return u.toString();
}

/** normalizeUrl for untrusted links found in pages: undefined instead of a throw. */
export function tryNormalizeUrl(url: string, base?: string): string | undefined {
  try {
    return normalizeUrl(url, base);
  } catch {
    return undefined;
  }
}

/** The directory a start path keeps the crawl under: "/docs/intro.html" → "/docs/", "/docs" → "/docs/". */
function prefixOf(pathname: string): string {
  if (pathname.endsWith("/")) return pathname;
  const last = pathname.slice(pathname.lastIndexOf("/") + 1);
  // A last segment with a dot names a file (intro.html, README.md): its directory is the prefix.
  if (last.includes(".")) return pathname.slice(0, pathname.lastIndexOf("/") + 1);
  return `${pathname}/`;
}

/**
 * Turns a user's start URL into a Site. Throws InvalidUrlError for non-URLs, other schemes and
 * URLs with credentials (they would end up in logs, keys and stored files).
 */
export function resolveSite(input: string): Site {
  const raw = input.trim();
  const u = parseHttpUrl(raw);
  if (u.username !== "" || u.password !== "") throw new InvalidUrlError(raw, "credentials in URLs are not supported");
  const startUrl = normalizeUrl(raw);
  const prefix = prefixOf(new URL(startUrl).pathname);
  const origin = u.origin;
  const key = `${u.host}${prefix === "/" ? "" : prefix.replace(/\/$/, "")}`;
  return { origin, prefix, startUrl, key };
}

/** True when url is on the site's origin and under its prefix ("/docs" itself counts as "/docs/"). */
export function inScope(site: Site, url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.origin !== site.origin) return false;
  return u.pathname.startsWith(site.prefix) || `${u.pathname}/` === site.prefix;
}

/** A Site like `site` but for another start URL's origin and prefix, keeping the storage key. */
export function moveSite(site: Site, startUrl: string): Site {
  const moved = resolveSite(startUrl);
  return { ...moved, key: site.key };
}

// Pattern matching lives in urlPatterns.ts; these names stay importable from here.
export { checkPatterns, matchesPatterns } from "./urlPatterns";
