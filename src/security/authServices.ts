/*
 * Everything the API needs to authenticate a request, built once by the API root from Config and
 * its Redis client, and handed to buildApp as `deps.auth`.
 */
import crypto from "node:crypto";
import type { Redis } from "ioredis";
import type { Config } from "../config/env";
import { ConfigError } from "../lib/errors";
import { createTokenStore, type TokenStore } from "./apiTokens";
import { createLoginLimiter, type LoginLimiter, type LoginLimiterOptions } from "./loginLimiter";
import { parsePasswordHash } from "./password";
import { createSessionStore, type SessionStore } from "./sessions";

export interface AuthServices {
  /** ENABLE_AUTH: off → every route is open and /auth/me says so. */
  enabled: boolean;
  /** PUBLIC_FILES: /sites/* is served without credentials. */
  publicFiles: boolean;
  passwordHash: string | undefined;
  sessions: SessionStore;
  tokens: TokenStore;
  loginLimiter: LoginLimiter;
  /** Under TLS the session cookie gets `Secure`. */
  secureCookies: boolean;
  sessionDurationSeconds: number;
}

export interface AuthServicesOptions {
  redis: Redis;
  prefix: string;
  auth: Config["auth"];
  secureCookies: boolean;
  /** Tests shorten the lockout; defaults: 5 failures in 15 min lock the client for 15 min. */
  loginLimits?: Omit<LoginLimiterOptions, "redis" | "prefix">;
  now?: () => number;
}

export function createAuthServices(opts: AuthServicesOptions): AuthServices {
  const { auth } = opts;
  if (auth.enabled && (!auth.passwordHash || !parsePasswordHash(auth.passwordHash))) {
    throw new ConfigError(
      "invalid configuration: AUTH_PASSWORD_HASH is not a hash made by `ltx hash-password` (scrypt$N$r$p$salt$hash)",
    );
  }
  // Without auth no session is ever checked; a random secret keeps the store well-defined.
  const secret = auth.sessionSecret ?? crypto.randomBytes(32).toString("base64url");
  return {
    enabled: auth.enabled,
    publicFiles: auth.publicFiles,
    passwordHash: auth.passwordHash,
    sessions: createSessionStore({
      redis: opts.redis,
      prefix: opts.prefix,
      secret,
      durationSeconds: auth.sessionDurationSeconds,
      ...(opts.now ? { now: opts.now } : {}),
    }),
    tokens: createTokenStore({ redis: opts.redis, prefix: opts.prefix, ...(opts.now ? { now: opts.now } : {}) }),
    loginLimiter: createLoginLimiter({ redis: opts.redis, prefix: opts.prefix, ...opts.loginLimits }),
    secureCookies: opts.secureCookies,
    sessionDurationSeconds: auth.sessionDurationSeconds,
  };
}
