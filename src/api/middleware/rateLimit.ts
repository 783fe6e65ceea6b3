/*
 * RATE_LIMIT_PER_MINUTE on write requests (POST, PUT, PATCH, DELETE), per client: a token's id
 * when the caller used one (many machines may share an address), else the client address.
 */
import type { Request, Response } from "express";
import type { RateLimiter } from "../../security/rateLimiter";
import { clientOf, TooManyRequestsError } from "../routes/auth";
import { authInfo } from "./auth";

/** The methods that change something: rate-limited, and refused when they come from another site. */
export const WRITES = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Counts a write request against its client; throws TooManyRequestsError over the limit. */
export async function checkRateLimit(limiter: RateLimiter, req: Request, res: Response): Promise<void> {
  if (!WRITES.has(req.method)) return;
  const who = authInfo(res);
  const client = who?.via === "token" ? `token:${who.tokenId}` : `ip:${clientOf(req)}`;
  const wait = await limiter.hit(client);
  if (wait > 0) {
    res.setHeader("Retry-After", String(wait));
    throw new TooManyRequestsError(`rate limit exceeded (RATE_LIMIT_PER_MINUTE): try again in ${wait} s`, wait);
  }
}
