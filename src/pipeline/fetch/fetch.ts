/*
 * fetchPage: one URL → FetchedPage, following redirects (each hop meets the address policy again,
 * in httpRequest.ts) and retrying transient failures a bounded number of times.
 *
 * Errors: InvalidUrlError (not http/https), BlockedAddressError (the policy refused; no
 * connection made), AbortedError, FetchError (network, timeout, redirect loop/limit). A non-2xx
 * answer is NOT an error here: it comes back with its status, after retries for 5xx, and the
 * caller decides what it means.
 */
import http from "node:http";
import https from "node:https";
import { TextDecoder } from "node:util";
import { coerceError } from "../../lib/coerceError";
import { AbortedError, BlockedAddressError, FetchError, InvalidUrlError } from "../../lib/errors";
import { sleep } from "../../lib/time";
import type { ByteBudget } from "./byteBudget";
import { type FetchAgents, type RawResponse, isTransient, requestOnce } from "./httpRequest";
import type { FetchedPage, FetchSettings } from "../types";

export { HostLimiter } from "./hostLimiter";
export type { FetchAgents } from "./httpRequest";

export interface FetchOptions {
  signal?: AbortSignal;
  /** Validators from a previous fetch: a 304 answer comes back as notModified. */
  conditional?: { etag?: string; lastModified?: string };
  accept?: string;
  /** Overrides settings.maxBytes (robots.txt and sitemaps have their own caps). */
  maxBytes?: number;
  /** Called with each redirect target before it is requested; throw to refuse the hop. */
  checkRedirect?: (url: string) => void;
  /** Whether the body is worth reading for this Content-Type at this (final) URL; when not, we hang up after headers. */
  wantBody?: (contentType: string, url: string) => boolean;
  /** Keep-alive agents shared by one crawl (see createAgents); default: a new socket per request. */
  agents?: FetchAgents;
  /** Streams the final response's body to this instead of buffering it (see RequestOptions). */
  onChunk?: (chunk: Buffer) => boolean;
  /** The job's byte budget, shared by all its requests (byteBudget.ts). */
  budget?: ByteBudget;
}

/** What fetchRaw returns: FetchedPage's fields with the body still as bytes. */
export interface FetchedRaw extends Omit<FetchedPage, "body"> {
  buffer: Buffer;
  /** The raw Content-Type header, with its parameters (charset). */
  contentTypeHeader: string;
}

const DEFAULT_ACCEPT = "text/html,application/xhtml+xml,text/markdown;q=0.9,text/plain;q=0.8,*/*;q=0.5";
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Keep-alive agents for one crawl. destroy() closes their idle sockets (tests check for leaks). */
export function createAgents(maxSockets: number): FetchAgents & { destroy(): void } {
  const opts = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, timeout: 30_000 };
  const agents = { http: new http.Agent(opts), https: new https.Agent(opts) };
  return { ...agents, destroy: () => (agents.http.destroy(), agents.https.destroy()) };
}

/** Throws InvalidUrlError unless url is an absolute http(s) URL. */
function checkScheme(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new InvalidUrlError(url, "not a URL", { cause: e });
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new InvalidUrlError(url, `only http and https URLs can be fetched, not ${u.protocol.replace(/:$/, "")}`);
  return u;
}

function header(res: RawResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Follows redirects from url; each hop is one requestOnce (which applies the address policy). */
async function followRedirects(
  url: string,
  settings: FetchSettings,
  opts: FetchOptions,
): Promise<{ res: RawResponse; finalUrl: string }> {
  const seen = new Set<string>();
  let current = checkScheme(url);
  current.hash = "";
  for (let hop = 0; ; hop++) {
    seen.add(current.toString());
    const headers: Record<string, string> = {
      "user-agent": settings.userAgent,
      accept: opts.accept ?? DEFAULT_ACCEPT,
      "accept-encoding": "gzip, deflate, br",
    };
    // Validators belong to the URL they came from: only the first hop carries them.
    if (hop === 0 && opts.conditional?.etag) headers["if-none-match"] = opts.conditional.etag;
    if (hop === 0 && opts.conditional?.lastModified) headers["if-modified-since"] = opts.conditional.lastModified;
    const res = await requestOnce(current.toString(), settings, {
      headers,
      maxBytes: opts.maxBytes ?? settings.maxBytes,
      signal: opts.signal,
      wantBody: opts.wantBody,
      agents: opts.agents,
      onChunk: opts.onChunk,
      budget: opts.budget,
    });
    const location = header(res, "location");
    if (!REDIRECT_STATUSES.has(res.status) || location === undefined) return { res, finalUrl: current.toString() };
    let next: URL;
    try {
      next = new URL(location, current);
    } catch (e) {
      throw new FetchError(
        url,
        `${current.toString()} redirects to an invalid URL ${JSON.stringify(location.slice(0, 200))}`,
        { cause: e, retryable: false },
      );
    }
    if (next.protocol !== "http:" && next.protocol !== "https:") {
      throw new BlockedAddressError(
        `${current.toString()} redirects to a ${next.protocol.replace(/:$/, "")} URL; only http(s) is fetched`,
      );
    }
    next.hash = "";
    if (seen.has(next.toString()))
      throw new FetchError(url, `redirect loop: ${current.toString()} → ${next.toString()}`, {
        retryable: false,
        details: { redirects: true },
      });
    if (hop + 1 > settings.maxRedirects)
      throw new FetchError(url, `more than ${settings.maxRedirects} redirects from ${url}`, {
        retryable: false,
        details: { redirects: true },
      });
    opts.checkRedirect?.(next.toString());
    current = next;
  }
}

/** Back-off before retry n (0-based): 200 ms doubling, capped at 2 s, with ±50 % jitter so parallel retries spread out. */
function backoffMs(n: number): number {
  return Math.min(2000, 200 * 2 ** n) * (0.5 + Math.random());
}

/** fetchPage without the text decoding: sitemaps need the bytes (they may be gzip files). */
export async function fetchRaw(url: string, settings: FetchSettings, opts: FetchOptions = {}): Promise<FetchedRaw> {
  for (let attempt = 0; ; attempt++) {
    if (opts.signal?.aborted) throw new AbortedError();
    const last = attempt >= settings.retries;
    let got: { res: RawResponse; finalUrl: string };
    try {
      got = await followRedirects(url, settings, opts);
    } catch (e) {
      const err = coerceError(e);
      if (last || !isTransient(err)) throw err;
      await sleep(backoffMs(attempt), opts.signal).catch(() => {
        throw new AbortedError();
      });
      continue;
    }
    const { res, finalUrl } = got;
    if (res.status >= 500 && !last) {
      await sleep(backoffMs(attempt), opts.signal).catch(() => {
        throw new AbortedError();
      });
      continue;
    }
    const contentTypeHeader = header(res, "content-type") ?? "";
    return {
      url,
      finalUrl,
      status: res.status,
      contentType: contentTypeHeader.split(";")[0]?.trim().toLowerCase() ?? "",
      contentTypeHeader,
      etag: header(res, "etag"),
      lastModified: header(res, "last-modified"),
      hash: res.hash,
      buffer: res.buffer,
      bytes: res.bytes,
      truncated: res.truncated,
      notModified: res.status === 304 && opts.conditional !== undefined ? true : undefined,
    };
  }
}

/** Fetches one URL and decodes its body to text (charset from the header, a BOM or <meta>; else UTF-8). */
export async function fetchPage(url: string, settings: FetchSettings, opts: FetchOptions = {}): Promise<FetchedPage> {
  const raw = await fetchRaw(url, settings, opts);
  const { buffer, contentTypeHeader, ...rest } = raw;
  void contentTypeHeader;
  return { ...rest, body: decodeText(buffer, raw.contentTypeHeader, raw.contentType) };
}

/** Bytes → string with the page's declared charset; unknown labels fall back to UTF-8. */
export function decodeText(buffer: Buffer, contentTypeHeader: string, mediaType: string): string {
  if (buffer.length === 0) return "";
  const label =
    charsetFromBom(buffer) ??
    /charset\s*=\s*["']?([\w.:-]+)/i.exec(contentTypeHeader)?.[1] ??
    (mediaType.includes("html") ? charsetFromMeta(buffer) : undefined) ??
    "utf-8";
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label);
  } catch {
    decoder = new TextDecoder("utf-8");
  }
  return decoder.decode(buffer);
}

function charsetFromBom(b: Buffer): string | undefined {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return "utf-8";
  if (b[0] === 0xff && b[1] === 0xfe) return "utf-16le";
  if (b[0] === 0xfe && b[1] === 0xff) return "utf-16be";
  return undefined;
}

/** The HTML spec's prescan looks at the first 1024 bytes for <meta charset> or http-equiv. */
function charsetFromMeta(b: Buffer): string | undefined {
  const head = b.subarray(0, 1024).toString("latin1");
  return /<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(head)?.[1];
}
