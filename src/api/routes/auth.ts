/*
 * /auth/login, /auth/logout, /auth/me. Login checks the password against AUTH_PASSWORD_HASH
 * (scrypt, constant-time), counts failures per client (loginLimiter) and, on success, starts a
 * Redis session carried by an HttpOnly, SameSite=Lax cookie (Secure and `__Host-` prefixed under HTTPS). SameSite=Lax
 * keeps the cookie off cross-site POSTs, which is what stands in for a CSRF token here.
 */
import { type CookieOptions, type Request, type Response, Router } from "express";
import { z } from "zod";
import { LtxError, NotFoundError } from "../../lib/errors";
import { clientBudgetKey } from "../../security/ipAddress";
import type { AuthServices } from "../../security/authServices";
import { verifyPassword } from "../../security/password";
import { authenticate, readCookie, sessionCookieName, UnauthorizedError } from "../middleware/auth";

const LoginBody = z.strictObject({ password: z.string().min(1, "is required").max(1024) });

export class TooManyRequestsError extends LtxError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super("TOO_MANY_REQUESTS", message, { retryable: false });
  }
}

/** The client a failure is counted against (an IPv6 client's /64). Behind a proxy, set TRUST_PROXY. */
export function clientOf(req: Request): string {
  const addr = req.ip ?? req.socket.remoteAddress;
  return addr ? clientBudgetKey(addr) : "unknown";
}

export function authRouter(auth: AuthServices): Router {
  const router = Router();
  // Secure under our own TLS, and behind a TLS-ending proxy trusted by TRUST_PROXY (req.secure
  // then reads X-Forwarded-Proto).
  const cookieOptions = (req: Request): CookieOptions => ({
    httpOnly: true,
    sameSite: "lax",
    secure: auth.secureCookies || req.secure,
    path: "/",
  });

  router.post("/auth/login", async (req: Request, res: Response) => {
    if (!auth.enabled || !auth.passwordHash)
      throw new NotFoundError("authentication is off (ENABLE_AUTH=0): there is nothing to log in to");
    const { password } = LoginBody.parse(req.body);
    const client = clientOf(req);
    const locked = await auth.loginLimiter.attempt(client);
    if (locked > 0) {
      res.setHeader("Retry-After", String(locked));
      throw new TooManyRequestsError(`too many failed logins from this client: try again in ${locked} s`, locked);
    }
    if (!(await verifyPassword(password, auth.passwordHash))) throw new UnauthorizedError("wrong password");
    await auth.loginLimiter.succeeded(client);
    // A login replaces whatever session the browser had (no session fixation).
    await auth.sessions.destroy(readCookie(req, sessionCookieName(req)));
    const { cookie, session } = await auth.sessions.create({ client });
    res.cookie(sessionCookieName(req), cookie, { ...cookieOptions(req), maxAge: auth.sessionDurationSeconds * 1000 });
    res.status(200).json({ authenticated: true, authEnabled: true, via: "session", expiresAt: session.expiresAt });
  });

  router.post("/auth/logout", async (req: Request, res: Response) => {
    await auth.sessions.destroy(readCookie(req, sessionCookieName(req)));
    res.clearCookie(sessionCookieName(req), cookieOptions(req));
    res.status(204).end();
  });

  router.get("/auth/me", async (req: Request, res: Response) => {
    if (!auth.enabled) {
      res.json({ authenticated: true, authEnabled: false, via: "none" });
      return;
    }
    const who = await authenticate(auth, req);
    if (!who) throw new UnauthorizedError("not logged in");
    res.json({ authenticated: true, authEnabled: true, ...who });
  });

  return router;
}
