/*
 * Two checks on where a request comes from, before any route runs:
 *
 * - Host allowlist (ALLOWED_HOSTS). A page on another site can make a browser talk to an API on
 *   127.0.0.1 by pointing its own name at that address (DNS rebinding); the browser then sends
 *   that name as Host. Answering only to known names closes it. With ALLOWED_HOSTS unset and the
 *   API bound to a loopback address, the known names are the loopback ones.
 * - Cross-site writes. A browser marks a request a page on another site makes with Origin and
 *   Sec-Fetch-Site; a write (POST, PUT, PATCH, DELETE) carrying either from another site is
 *   refused, unless that origin is in CORS_ORIGINS. Clients that are not browsers (curl, scripts)
 *   send neither and pass. This backs up the SameSite=Lax cookie for body-less writes and holds
 *   when auth is off, where no cookie stands in the way.
 */
import type { NextFunction, Request, Response } from "express";
import { LtxError } from "../../lib/errors";
import { classifyAddress } from "../../security/addressPolicy";
import { WRITES } from "./rateLimit";

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"];

export class ForbiddenOriginError extends LtxError {
  constructor(message: string) {
    super("FORBIDDEN", message, { retryable: false });
  }
}

/** The names the API answers to: the configured list, or the loopback names when bound to loopback. */
export function allowedHostNames(allowedHosts: string[], bindHost: string): string[] | undefined {
  if (allowedHosts.length > 0) return allowedHosts.map((h) => h.toLowerCase());
  return isLoopbackBind(bindHost) ? LOOPBACK_NAMES : undefined;
}

function isLoopbackBind(host: string): boolean {
  return host.toLowerCase() === "localhost" || classifyAddress(host).category === "loopback";
}

/** The host name of a (lowercased) Host header without its port ("[::1]:3000" → "[::1]"). */
function hostName(host: string): string {
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const colon = host.lastIndexOf(":");
  return colon >= 0 ? host.slice(0, colon) : host;
}

export function requestOriginCheck(opts: { allowedHosts: string[] | undefined; corsOrigins: string[] }) {
  const hosts = opts.allowedHosts ? new Set(opts.allowedHosts) : undefined;
  const trusted = new Set(opts.corsOrigins.map((o) => o.toLowerCase()));
  return (req: Request, _res: Response, next: NextFunction): void => {
    // req.host is the Host header, or X-Forwarded-Host from a proxy trusted by TRUST_PROXY.
    const host = (req.host ?? "").trim().toLowerCase();
    // An entry may name a port ("docs.example:8443") or only the name.
    if (hosts && !hosts.has(host) && !hosts.has(hostName(host)))
      throw new ForbiddenOriginError(
        `this API does not answer to the host ${JSON.stringify(req.host)} (ALLOWED_HOSTS)`,
      );
    if (!WRITES.has(req.method)) return next();
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== "null") {
      let originHost: string;
      try {
        originHost = new URL(origin).host.toLowerCase();
      } catch {
        throw new ForbiddenOriginError(`a write with an unreadable Origin ${JSON.stringify(origin)} is refused`);
      }
      if (originHost !== host && !trusted.has(origin.toLowerCase()))
        throw new ForbiddenOriginError(`a write from another site (${origin}) is refused: add it to CORS_ORIGINS`);
      return next();
    }
    const site = req.headers["sec-fetch-site"];
    if (origin === "null" || site === "cross-site" || site === "same-site")
      throw new ForbiddenOriginError("a write from another site is refused");
    next();
  };
}
