/**
 * SCAN over a key pattern in batches, so a sweep never blocks Redis the way KEYS would. Typed by
 * the one command it uses, so lib/ stays free of the Redis client (the pipeline imports lib/).
 */
export interface ScanClient {
  scan(cursor: string, match: "MATCH", pattern: string, count: "COUNT", n: string): Promise<[string, string[]]>;
}

export async function* scanKeys(redis: ScanClient, match: string, count = 500): AsyncGenerator<string[]> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", match, "COUNT", String(count));
    cursor = next;
    if (keys.length > 0) yield keys;
  } while (cursor !== "0");
}
