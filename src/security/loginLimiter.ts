/*
 * Brute-force lockout for POST /auth/login, per client, in Redis so every API replica counts the
 * same failures. After `maxFailures` wrong passwords within `windowSeconds` the client is locked
 * out for `lockSeconds`, whether or not its next guess is right (a correct guess during the
 * lockout must not be distinguishable from a wrong one).
 */
import type { Redis } from "ioredis";

export interface LoginLimiterOptions {
  redis: Redis;
  prefix: string;
  maxFailures?: number;
  windowSeconds?: number;
  lockSeconds?: number;
}

export interface LoginLimiter {
  /** Seconds until the client may try again, or 0 when it may try now. */
  lockedFor(client: string): Promise<number>;
  /** Counts a failure; returns the lock time in seconds when this failure locked the client. */
  recordFailure(client: string): Promise<number>;
  /** A correct password clears the client's failures. */
  reset(client: string): Promise<void>;
}

export function createLoginLimiter(opts: LoginLimiterOptions): LoginLimiter {
  const maxFailures = opts.maxFailures ?? 5;
  const windowSeconds = opts.windowSeconds ?? 15 * 60;
  const lockSeconds = opts.lockSeconds ?? 15 * 60;
  const failKey = (c: string): string => `${opts.prefix}:auth:login-fail:${c}`;
  const lockKey = (c: string): string => `${opts.prefix}:auth:login-lock:${c}`;
  return {
    async lockedFor(client) {
      const ttl = await opts.redis.ttl(lockKey(client));
      return ttl > 0 ? ttl : 0;
    },
    async recordFailure(client) {
      // INCR + EXPIRE NX in one MULTI: the window starts at the first failure and isn't extended.
      const res = await opts.redis.multi().incr(failKey(client)).expire(failKey(client), windowSeconds, "NX").exec();
      const count = Number(res?.[0]?.[1] ?? 0);
      if (count < maxFailures) return 0;
      await opts.redis.multi().set(lockKey(client), "1", "EX", lockSeconds).del(failKey(client)).exec();
      return lockSeconds;
    },
    async reset(client) {
      await opts.redis.del(failKey(client));
    },
  };
}
