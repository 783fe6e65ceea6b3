/**
 * Start-up checks of the Redis every process uses. BullMQ keeps jobs, locks and de-dup keys in
 * Redis: with any eviction policy other than `noeviction`, Redis under memory pressure deletes
 * some of them and jobs vanish or run twice, silently. So a misconfigured Redis stops the
 * process (the root exits 1) instead of degrading. Persistence off is allowed (tests, caches)
 * but warned about: a Redis restart would then lose every queued job and stored file.
 */
import type { Redis } from "ioredis";
import { coerceError } from "../lib/coerceError";
import { LtxError } from "../lib/errors";
import type { Logger } from "../lib/logger";

export interface RedisCheckResult {
  version: string;
  maxmemoryPolicy: string;
  aof: boolean;
  /** undefined when CONFIG is disabled (managed Redis) and it can't be told. */
  rdb: boolean | undefined;
  warnings: string[];
}

export async function checkRedis(redis: Redis, logger?: Logger): Promise<RedisCheckResult> {
  let info: Record<string, string>;
  try {
    info = parseInfo(await redis.info());
  } catch (e) {
    const err = coerceError(e);
    throw new LtxError("UNAVAILABLE", `Redis is not reachable: ${err.message}`, { cause: err });
  }
  const policy = info.maxmemory_policy ?? "unknown";
  if (policy !== "noeviction") {
    throw new LtxError(
      "REDIS_MISCONFIGURED",
      `Redis maxmemory-policy is "${policy}", but ltx needs "noeviction": with eviction Redis may delete queued jobs, locks and stored files under memory pressure. ` +
        "Fix: `redis-cli CONFIG SET maxmemory-policy noeviction` (and `maxmemory-policy noeviction` in redis.conf).",
      { retryable: false, details: { maxmemoryPolicy: policy } },
    );
  }
  const aof = info.aof_enabled === "1";
  const rdb = await rdbEnabled(redis);
  const warnings: string[] = [];
  if (!aof && rdb === false) {
    warnings.push(
      "Redis persistence is off (no AOF, no RDB snapshots): a Redis restart loses every job and stored file. Set `appendonly yes` for production.",
    );
  }
  for (const w of warnings) logger?.warn({ redisVersion: info.redis_version }, w);
  return { version: info.redis_version ?? "unknown", maxmemoryPolicy: policy, aof, rdb, warnings };
}

async function rdbEnabled(redis: Redis): Promise<boolean | undefined> {
  try {
    const reply = await redis.call("CONFIG", "GET", "save");
    if (!Array.isArray(reply) || reply.length < 2) return undefined;
    return String(reply[1]).trim() !== "";
  } catch {
    return undefined; // CONFIG renamed or forbidden (managed Redis): can't tell, don't warn
  }
}

function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0 && !line.startsWith("#")) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}
