/*
 * Login sessions, kept in Redis so logout and expiry are real: deleting the key ends the session
 * for every API replica at once. The cookie carries a random 32-byte id plus an HMAC of it under
 * SESSION_SECRET, so a forged or mangled cookie is refused without a Redis round trip; Redis
 * stores only a sha256 of the id, so a dump of Redis holds no usable session.
 */
import crypto from "node:crypto";
import type { Redis } from "ioredis";
import { scanKeys } from "../lib/redisScan";

export interface SessionStoreOptions {
  redis: Redis;
  /** REDIS_PREFIX; keys are `${prefix}:auth:session:<sha256>`. */
  prefix: string;
  secret: string;
  durationSeconds: number;
  now?: () => number;
}

export interface Session {
  createdAt: string;
  expiresAt: string;
  /** Where the login came from (client address), for GET /auth/me. */
  client?: string;
}

export interface SessionStore {
  /** Makes a session; `cookie` is the value for the session cookie. */
  create(meta?: { client?: string }): Promise<{ cookie: string; session: Session }>;
  /** The session for a cookie value, or undefined when it is forged, expired or logged out. */
  verify(cookie: string | undefined): Promise<Session | undefined>;
  destroy(cookie: string | undefined): Promise<void>;
}

export function sha256(text: string): string {
  return crypto.createHash("sha256").update(text).digest("hex");
}

const sessionKey = (prefix: string, hash: string): string => `${prefix}:auth:session:${hash}`;

/**
 * Removes sessions that lost their TTL (a crash between SET and EXPIRE in an older write path, a
 * restore from a dump) and are past expiry. Redis expires the rest by itself.
 */
export async function sweepExpiredSessions(redis: Redis, prefix: string, now = Date.now()): Promise<number> {
  let removed = 0;
  for await (const keys of scanKeys(redis, sessionKey(prefix, "*"))) {
    for (const key of keys) {
      if ((await redis.pttl(key)) !== -1) continue; // Redis expires it
      const raw = await redis.get(key);
      const expiresAt = raw ? Date.parse((JSON.parse(raw) as { expiresAt?: string }).expiresAt ?? "") : NaN;
      if (!(expiresAt > now)) removed += await redis.del(key);
    }
  }
  return removed;
}

export function createSessionStore(opts: SessionStoreOptions): SessionStore {
  const now = opts.now ?? Date.now;
  const key = (id: string): string => sessionKey(opts.prefix, sha256(id));
  const sign = (id: string): string => crypto.createHmac("sha256", opts.secret).update(id).digest("base64url");

  /** The id inside a cookie whose signature checks out, else undefined. */
  function unsign(cookie: string | undefined): string | undefined {
    if (!cookie || cookie.length > 200) return undefined;
    const dot = cookie.indexOf(".");
    if (dot <= 0) return undefined;
    const id = cookie.slice(0, dot);
    const mac = Buffer.from(cookie.slice(dot + 1));
    const expected = Buffer.from(sign(id));
    return mac.length === expected.length && crypto.timingSafeEqual(mac, expected) ? id : undefined;
  }

  return {
    async create(meta = {}) {
      const id = crypto.randomBytes(32).toString("base64url");
      const created = now();
      const session: Session = {
        createdAt: new Date(created).toISOString(),
        expiresAt: new Date(created + opts.durationSeconds * 1000).toISOString(),
        ...(meta.client ? { client: meta.client } : {}),
      };
      await opts.redis.set(key(id), JSON.stringify(session), "EX", opts.durationSeconds);
      return { cookie: `${id}.${sign(id)}`, session };
    },
    async verify(cookie) {
      const id = unsign(cookie);
      if (!id) return undefined;
      const raw = await opts.redis.get(key(id));
      if (!raw) return undefined;
      const session = JSON.parse(raw) as Session;
      // Redis expires the key; this check covers a clock that runs ahead of Redis' (tests, skew).
      return Date.parse(session.expiresAt) > now() ? session : undefined;
    },
    async destroy(cookie) {
      const id = unsign(cookie);
      if (id) await opts.redis.del(key(id));
    },
  };
}
