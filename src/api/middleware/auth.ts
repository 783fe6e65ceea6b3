/*
 * checkAuth: with ENABLE_AUTH=1 a request needs a session cookie (from POST /auth/login) or an
 * API token (`Authorization: Bearer ltx_…`). Without either it gets 401 JSON before any route
 * runs. Who the caller is lands in res.locals.auth for routes that care (GET /auth/me).
 */
import type { Request, Response } from "express";
import { LtxError } from "../../lib/errors";
import type { AuthServices } from "../../security/authServices";

export const SESSION_COOKIE = "ltx_session";

/**
 * Over HTTPS (our own TLS, or a TLS-ending proxy trusted by TRUST_PROXY) the cookie is named
 * `__Host-ltx_session`: browsers then accept it only with Secure, Path=/ and no Domain, so a
 * sibling subdomain or a plain-HTTP response can't plant or overwrite it. Over plain HTTP (a
 * loopback or LAN install) a Secure cookie would be dropped, so the plain name is used there.
 * A request reads only the name of its own scheme.
 */
export function sessionCookieName(req: Request): string {
  return req.secure ? `__Host-${SESSION_COOKIE}` : SESSION_COOKIE;
}

export type AuthInfo =
  | { via: "none" }
  | { via: "session"; createdAt: string; expiresAt: string }
  | { via: "token"; tokenId: string; tokenName: string };

export class UnauthorizedError extends LtxError {
  constructor(message = "authentication required: log in (POST /auth/login) or send Authorization: Bearer <token>") {
    super("UNAUTHORIZED", message, { retryable: false });
  }
}

/** The value of one cookie from the Cookie header (no cookie-parser needed for one name). */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function bearerToken(req: Request): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}

/** Who is calling, or undefined when the credentials are missing, wrong, expired or revoked. */
export async function authenticate(auth: AuthServices, req: Request): Promise<AuthInfo | undefined> {
  const token = bearerToken(req);
  if (token !== undefined) {
    // A bad token is refused even when a good cookie is also sent: the client meant the token.
    const info = await auth.tokens.verify(token);
    return info ? { via: "token", tokenId: info.id, tokenName: info.name } : undefined;
  }
  const session = await auth.sessions.verify(readCookie(req, sessionCookieName(req)));
  return session ? { via: "session", createdAt: session.createdAt, expiresAt: session.expiresAt } : undefined;
}

export function authInfo(res: Response): AuthInfo | undefined {
  return res.locals.auth as AuthInfo | undefined;
}

/** Throws UnauthorizedError unless auth is off or the request carries valid credentials. */
export async function checkAuth(auth: AuthServices, req: Request, res: Response): Promise<void> {
  if (!auth.enabled) {
    res.locals.auth = { via: "none" } satisfies AuthInfo;
    return;
  }
  const who = await authenticate(auth, req);
  if (!who) {
    res.setHeader("WWW-Authenticate", 'Bearer realm="ltx"');
    throw new UnauthorizedError();
  }
  res.locals.auth = who;
}
