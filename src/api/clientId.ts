/**
 * Who a request is, for the fair share of the one-off queue (queues/clientShare.ts): its API
 * token's id, else its login session, else (auth off) its address as the rate limit counts it.
 */
import { createHash } from "node:crypto";
import type { Request, Response } from "express";
import { authInfo, readCookie, SESSION_COOKIE } from "./middleware/auth";
import { clientOf } from "./routes/auth";

export function fairShareClient(req: Request, res: Response): string {
  const who = authInfo(res);
  if (who?.via === "token") return `token:${who.tokenId}`;
  if (who?.via === "session") {
    // The cookie was verified by checkAuth; a digest of it names the session without storing it.
    const cookie = readCookie(req, SESSION_COOKIE) ?? "";
    return `session:${createHash("sha256").update(cookie).digest("hex").slice(0, 16)}`;
  }
  return `ip:${clientOf(req)}`;
}
