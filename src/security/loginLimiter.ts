/*
 * Brute-force lockout for POST /auth/login, per client, in Redis so every API replica counts the
 * same attempts. Each attempt is counted *before* the password is checked (an atomic INCR), so a
 * burst of parallel guesses can't all slip past a check-then-count race: at most `maxFailures`
 * guesses are verified per window. A correct password clears the count. Once over, the client
 * is locked out for `lockSeconds`, whether or not its next guess is right.
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
  /** Counts one attempt. 0: go ahead and check the password; else the seconds locked out. */
  attempt(client: string): Promise<number>;
  /** The password was right: forget the client's attempts. */
  succeeded(client: string): Promise<void>;
}

export function createLoginLimiter(opts: LoginLimiterOptions): LoginLimiter {
  const maxFailures = opts.maxFailures ?? 5;
  const windowSeconds = opts.windowSeconds ?? 15 * 60;
  const lockSeconds = opts.lockSeconds ?? 15 * 60;
  const countKey = (c: string): string => `${opts.prefix}:auth:login-attempts:${c}`;
  const lockKey = (c: string): string => `${opts.prefix}:auth:login-lock:${c}`;
  return {
    async attempt(client) {
      const locked = await opts.redis.ttl(lockKey(client));
      if (locked > 0) return locked;
      // INCR + EXPIRE NX in one MULTI: the window starts at the first attempt and isn't extended.
      const res = await opts.redis.multi().incr(countKey(client)).expire(countKey(client), windowSeconds, "NX").exec();
      const count = Number(res?.[0]?.[1] ?? 0);
      if (count <= maxFailures) return 0;
      // The count is kept (not deleted) and expires with the lock: a guess racing in between this
      // and the lock's SET still sees a count over the limit, instead of a fresh count of 1.
      await opts.redis
        .multi()
        .set(lockKey(client), "1", "EX", lockSeconds)
        .expire(countKey(client), lockSeconds)
        .exec();
      return lockSeconds;
    },
    async succeeded(client) {
      await opts.redis.del(countKey(client));
    },
  };
}
