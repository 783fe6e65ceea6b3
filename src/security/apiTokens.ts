/*
 * API tokens for machine clients (`Authorization: Bearer ltx_…`). The secret is shown once, when
 * made; Redis keeps only its sha256, so listing tokens or reading Redis never reveals one.
 * Tokens are long random strings, not passwords, so a fast hash is enough (no scrypt needed).
 */
import crypto from "node:crypto";
import type { Redis } from "ioredis";
import { scanKeys } from "../lib/redisScan";
import { sha256 } from "./sessions";

export interface TokenInfo {
  id: string;
  name: string;
  /** The first characters of the secret ("ltx_AbCd"), so an operator can tell tokens apart. */
  hint: string;
  createdAt: string;
}

export interface TokenStore {
  /** Makes a token; `token` is the secret, returned only here. */
  create(name: string): Promise<TokenInfo & { token: string }>;
  list(): Promise<TokenInfo[]>;
  /** False when no token had this id. */
  revoke(id: string): Promise<boolean>;
  /** The token's info, or undefined when the secret is unknown or revoked. */
  verify(token: string | undefined): Promise<TokenInfo | undefined>;
}

export const TOKEN_PREFIX = "ltx_";

const tokenHashKey = (prefix: string, hash: string): string => `${prefix}:auth:token:${hash}`;
const tokenIndexKey = (prefix: string): string => `${prefix}:auth:tokens`; // hash: id → JSON TokenInfo & { hash }

/** Removes secret hashes whose token is no longer in the index (a revoke interrupted midway). */
export async function sweepRevokedTokenHashes(redis: Redis, prefix: string): Promise<number> {
  let removed = 0;
  for await (const keys of scanKeys(redis, tokenHashKey(prefix, "*"))) {
    for (const key of keys) {
      const id = await redis.get(key);
      if (id === null || !(await redis.hexists(tokenIndexKey(prefix), id))) removed += await redis.del(key);
    }
  }
  return removed;
}

export function createTokenStore(opts: { redis: Redis; prefix: string; now?: () => number }): TokenStore {
  const now = opts.now ?? Date.now;
  const byHash = (hash: string): string => tokenHashKey(opts.prefix, hash);
  const index = tokenIndexKey(opts.prefix);

  type Stored = TokenInfo & { hash: string };
  const info = (s: Stored): TokenInfo => ({ id: s.id, name: s.name, hint: s.hint, createdAt: s.createdAt });

  return {
    async create(name) {
      const id = crypto.randomBytes(9).toString("base64url");
      const token = `${TOKEN_PREFIX}${crypto.randomBytes(32).toString("base64url")}`;
      const stored: Stored = {
        id,
        name,
        hint: token.slice(0, TOKEN_PREFIX.length + 4),
        createdAt: new Date(now()).toISOString(),
        hash: sha256(token),
      };
      await opts.redis.multi().set(byHash(stored.hash), id).hset(index, id, JSON.stringify(stored)).exec();
      return { ...info(stored), token };
    },
    async list() {
      const all = await opts.redis.hvals(index);
      return all.map((raw) => info(JSON.parse(raw) as Stored)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    },
    async revoke(id) {
      const raw = await opts.redis.hget(index, id);
      if (!raw) return false;
      const stored = JSON.parse(raw) as Stored;
      await opts.redis.multi().del(byHash(stored.hash)).hdel(index, id).exec();
      return true;
    },
    async verify(token) {
      if (!token || !token.startsWith(TOKEN_PREFIX) || token.length > 200) return undefined;
      // The lookup is by hash, so timing reveals nothing about stored secrets.
      const id = await opts.redis.get(byHash(sha256(token)));
      if (!id) return undefined;
      const raw = await opts.redis.hget(index, id);
      return raw ? info(JSON.parse(raw) as Stored) : undefined;
    },
  };
}
