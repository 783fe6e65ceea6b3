/*
 * Per-client limit on write requests (RATE_LIMIT_PER_MINUTE), counted in Redis so the limit holds
 * across API replicas. A fixed one-minute window: one INCR per request, keys expire by themselves.
 */
import type { Redis } from "ioredis";

export interface RateLimiter {
  /** Counts one request; returns 0 when allowed, else the seconds until the window resets. */
  hit(client: string): Promise<number>;
}

export function createRateLimiter(opts: {
  redis: Redis;
  prefix: string;
  perMinute: number;
  now?: () => number;
}): RateLimiter {
  const now = opts.now ?? Date.now;
  return {
    async hit(client) {
      const t = now();
      const window = Math.floor(t / 60_000);
      const key = `${opts.prefix}:ratelimit:${client}:${window}`;
      // One INCR per request; the TTL is set by the window's first hit only. MULTI/INCR/EXPIRE/EXEC
      // on every write cost ~30% of the API's CPU per POST /api/jobs (bench:api). A crash between
      // the two commands leaves one counter without a TTL: a few bytes, never read again, since
      // the key names its window.
      const count = await opts.redis.incr(key);
      if (count === 1) await opts.redis.expire(key, 61);
      if (count <= opts.perMinute) return 0;
      return Math.max(1, Math.ceil(((window + 1) * 60_000 - t) / 1000));
    },
  };
}
