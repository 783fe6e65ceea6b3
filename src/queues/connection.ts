/**
 * The one place ioredis clients are made. Roots call createRedis once per role (API, worker,
 * scheduler) and hand the client to BullMQ and the store; nobody else opens connections.
 */
import { Redis } from "ioredis";
import { coerceError } from "../lib/coerceError";
import { ConfigError } from "../lib/errors";
import type { Logger } from "../lib/logger";

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
  /** Where connection errors of this client and of every client duplicated from it are logged. */
  logger?: Logger;
}

/** Retries per command for non-worker clients: enough to ride out a reconnect, not to hang. */
const API_MAX_RETRIES = 2;

export function createRedis(url: string, opts: CreateRedisOptions = {}): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: opts.forWorker ? null : API_MAX_RETRIES,
    // Reconnect forever with a gentle ramp; a process never gives up on Redis by itself.
    retryStrategy: (times) => Math.min(times * 200, 5000),
    ...(opts.name ? { connectionName: opts.name } : {}),
  });
  if (opts.logger) observeErrors(redis, opts.logger);
  return redis;
}

/**
 * An ioredis client without an 'error' listener prints "[ioredis] Unhandled error event" on every
 * failed reconnect, and BullMQ drops its own listener from the clients it duplicates (Worker's
 * blocking connection, QueueEvents) while it closes or re-creates them. So the listener goes on
 * the client and, through duplicate(), on every client made from it, whoever makes it. An outage
 * is logged once per client at warn (its first error) and again when the client is back; the
 * reconnect attempts between are debug, so a long outage doesn't flood the log.
 */
export function observeErrors(client: Redis, logger: Logger): Redis {
  let down = false;
  const name = client.options.connectionName;
  client.on("error", (e: unknown) => {
    const err = coerceError(e);
    if (down) logger.debug({ err, client: name }, "redis connection error");
    else logger.warn({ err, client: name }, "redis connection error");
    down = true;
  });
  client.on("ready", () => {
    if (down) logger.info({ client: name }, "redis connection back");
    down = false;
  });
  const duplicate = client.duplicate.bind(client);
  client.duplicate = (...args: Parameters<Redis["duplicate"]>) => observeErrors(duplicate(...args), logger);
  return client;
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
