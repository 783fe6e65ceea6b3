/** SCAN over a key pattern in batches, so a sweep never blocks Redis the way KEYS would. */
import type { Redis } from "ioredis";

export async function* scanKeys(redis: Redis, match: string, count = 500): AsyncGenerator<string[]> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", match, "COUNT", String(count));
    cursor = next;
    if (keys.length > 0) yield keys;
  } while (cursor !== "0");
}
