/*
 * Password hashing for AUTH_PASSWORD_HASH: scrypt from node:crypto, so there is no native
 * dependency. Stored as "scrypt$N$r$p$salt$hash" (salt and hash base64url) so the cost can be
 * raised later without breaking hashes made earlier.
 */
import crypto from "node:crypto";

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

// OWASP's scrypt floor (N=2^17, r=8, p=1) costs ~128 MiB per login; 2^15 keeps one login near
// 32 MiB and ~50 ms on a small VM, and the login limiter bounds how often anyone can ask.
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const MAX_N = 2 ** 20; // a hash from config must not be able to make a login allocate gigabytes

function scrypt(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must cover 128·N·r·p or node refuses; leave headroom.
    const maxmem = 256 * params.N * params.r * params.p;
    crypto.scrypt(password.normalize("NFC"), salt, KEY_BYTES, { ...params, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = crypto.randomBytes(SALT_BYTES);
  const key = await scrypt(password, salt, params);
  return ["scrypt", params.N, params.r, params.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

interface ParsedHash extends ScryptParams {
  salt: Buffer;
  key: Buffer;
}

/** Parses a stored hash; undefined when it is not one of ours (so config can say so at start). */
export function parsePasswordHash(stored: string): ParsedHash | undefined {
  const parts = stored.trim().split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return undefined;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const isPow2 = Number.isInteger(N) && N > 1 && (N & (N - 1)) === 0;
  if (!isPow2 || N > MAX_N || !Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16)
    return undefined;
  const salt = Buffer.from(parts[4] ?? "", "base64url");
  const key = Buffer.from(parts[5] ?? "", "base64url");
  if (salt.length < 8 || key.length !== KEY_BYTES) return undefined;
  return { N, r, p, salt, key };
}

/** True when `password` matches `stored`. The comparison is constant-time; a malformed hash is false. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parsePasswordHash(stored);
  if (!parsed) return false;
  const key = await scrypt(password, parsed.salt, parsed);
  return crypto.timingSafeEqual(key, parsed.key);
}
