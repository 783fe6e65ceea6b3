/*
 * Per-client limit on write requests (RATE_LIMIT_PER_MINUTE), counted in Redis so the limit holds
 * across API replicas. A fixed one-minute window: one INCR per request, keys expire by themselves.
 */
import type { Redis } from "ioredis";

export interface RateLimiter {
  /** Counts one request; returns 0 when allowed, else the seconds until the window resets. */
  hit(client: string): Promise<number>;
}

export function createRateLimiter(opts: { redis: Redis; prefix: string; perMinute: number; now?: () => number }): RateLimiter {
  const now = opts.now ?? Date.now;
  return {
    async hit(client) {
      const t = now();
      const window = Math.floor(t / 60_000);
      const key = `${opts.prefix}:ratelimit:${client}:${window}`;
      const res = await opts.redis.multi().incr(key).expire(key, 61).exec();
      const count = Number(res?.[0]?.[1] ?? 0);
      if (count <= opts.perMinute) return 0;
      return Math.max(1, Math.ceil(((window + 1) * 60_000 - t) / 1000));
    },
  };
}
