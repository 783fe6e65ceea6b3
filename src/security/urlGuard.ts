/*
 * The API's early SSRF check: refuse a job whose URL can't pass the guard before anything is
 * enqueued, so the client gets a 400 BLOCKED_ADDRESS at once instead of a job that fails later.
 * It is a courtesy, not the guard: DNS can answer differently when the worker connects, so the
 * real check is the connect-time AddressPolicy in pipeline/fetch/fetch.ts.
 */
import dns from "node:dns";
import net from "node:net";
import type { AddressPolicy } from "../pipeline/types";
import { coerceError } from "../lib/coerceError";
import { InvalidUrlError } from "../lib/errors";
import { checkUrlScheme } from "./addressPolicy";
import { stripAddress } from "./ipAddress";

/** Resolves a hostname to every address it has (tests pass a stub that answers loopback only). */
export type LookupAll = (hostname: string) => Promise<string[]>;

export const systemLookupAll: LookupAll = async (hostname) => {
  // Looked up through the module object at call time, so a test's stub of dns.lookup applies.
  const rows = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return rows.map((r) => r.address);
};

export interface UrlGuardOptions {
  /** Unset: the guard is off (ALLOW_PRIVATE_NETWORKS=1); only the scheme is checked. */
  policy: AddressPolicy | undefined;
  lookup?: LookupAll;
}

export type UrlGuard = (url: string) => Promise<void>;

/**
 * Throws BlockedAddressError for a non-http(s) scheme or a host that is (or resolves to) a refused
 * address, InvalidUrlError for a URL that doesn't parse or a host that doesn't exist. Other DNS
 * failures (timeouts) pass: the worker will retry and its fetch applies the guard anyway.
 */
export function createUrlGuard(opts: UrlGuardOptions): UrlGuard {
  const lookup = opts.lookup ?? systemLookupAll;
  return async (raw) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch (e) {
      throw new InvalidUrlError(raw, "not an absolute URL", { cause: coerceError(e) });
    }
    checkUrlScheme(url);
    const policy = opts.policy;
    if (!policy) return;
    const host = stripAddress(url.hostname);
    if (host === "") throw new InvalidUrlError(raw, "no host");
    if (net.isIP(host) !== 0) return policy(host, url.hostname);
    let addresses: string[];
    try {
      addresses = await lookup(host);
    } catch (e) {
      const err = coerceError(e) as NodeJS.ErrnoException;
      if (err.code === "ENOTFOUND" || err.code === "ENODATA")
        throw new InvalidUrlError(raw, `host ${host} does not resolve`, { cause: err });
      return;
    }
    for (const address of addresses) policy(address, host);
  };
}
