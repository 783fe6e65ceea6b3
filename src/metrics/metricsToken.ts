/*
 * METRICS_TOKEN: when set, /metrics (the API's and a worker's) answers only requests carrying
 * `Authorization: Bearer <token>`. Off by default, since Prometheus usually scrapes from inside
 * the deployment; on once /metrics is reachable from outside (queue sizes and site counts are
 * not for everyone).
 */
import { createHash, timingSafeEqual } from "node:crypto";

const digest = (s: string): Buffer => createHash("sha256").update(s).digest();

/** True when no token is configured, or the header carries it. Constant time in the token. */
export function metricsAuthorized(authorization: string | undefined, token: string | undefined): boolean {
  if (token === undefined) return true;
  const m = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  if (!m?.[1]) return false;
  // Equal-length digests: timingSafeEqual throws on different lengths and would leak the length.
  return timingSafeEqual(digest(m[1]), digest(token));
}
