/**
 * The one place ioredis clients are made. Roots call createRedis once per role (API, worker,
 * scheduler) and hand the client to BullMQ and the store; nobody else opens connections.
 */
import { Redis } from "ioredis";
import { ConfigError } from "../lib/errors";

export type { Redis };

export interface CreateRedisOptions {
  /**
   * A client for a BullMQ Worker (or QueueEvents). BullMQ's workers issue blocking commands
   * (BZPOPMIN, XREAD BLOCK) and must keep retrying while Redis restarts; ioredis' default
   * maxRetriesPerRequest (20) would reject those commands after a short outage and the worker
   * would stop fetching jobs for good. `null` means "retry forever", which BullMQ requires.
   * Clients used only for Queue.add and the store keep a finite value, so an API request fails
   * fast (503) instead of hanging while Redis is down.
   */
  forWorker?: boolean;
  /** CLIENT SETNAME, visible in CLIENT LIST: "ltx-api", "ltx-worker", … */
  name?: string;
}

/** Retries per command for non-worker clients: enough to ride out a reconnect, not to hang. */
const API_MAX_RETRIES = 2;

export function createRedis(url: string, opts: CreateRedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: opts.forWorker ? null : API_MAX_RETRIES,
    // Reconnect forever with a gentle ramp; a process never gives up on Redis by itself.
    retryStrategy: (times) => Math.min(times * 200, 5000),
    ...(opts.name ? { connectionName: opts.name } : {}),
  });
}

/**
 * Validates REDIS_PREFIX for use as BullMQ's `prefix` and the store's key prefix. A prefix such
 * as "{ltx}" is a Redis Cluster hash tag: every key then hashes to one slot, which BullMQ's Lua
 * scripts and the store's atomic writes (several keys per script) need on a Cluster.
 */
export function keyPrefix(prefix: string): string {
  if (prefix.length === 0 || /[\s:]$/.test(prefix) || /\s/.test(prefix)) {
    throw new ConfigError(
      `invalid configuration: REDIS_PREFIX ${JSON.stringify(prefix)} must be non-empty, without spaces, and not end with ":"`,
    );
  }
  const open = prefix.indexOf("{");
  if (open !== -1 && prefix.indexOf("}", open) <= open + 1) {
    throw new ConfigError(
      `invalid configuration: REDIS_PREFIX ${JSON.stringify(prefix)} has an empty or unclosed {hash tag}`,
    );
  }
  return prefix;
}

/** What queue, worker and store constructors take: a client plus the key prefix. */
export interface RedisContext {
  redis: Redis;
  prefix: string;
}

/** quit() politely; fall back to disconnect() when Redis is gone, so close() never hangs. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === "end") return;
  try {
    await Promise.race([
      redis.quit(),
      new Promise((_, reject) => setTimeout(() => reject(new Error("quit timed out")), 2000).unref()),
    ]);
  } catch {
    redis.disconnect();
  }
}
