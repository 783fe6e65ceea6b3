/**
 * Trims every site's version history to `keep` (newest kept), a batch of sites at a time. The
 * store trims on each save; this applies a lowered MAX_VERSIONS_PER_SITE to sites that haven't
 * run since. It lives beside the key layout it walks (keys.ts).
 */
import type { Redis } from "ioredis";
import { storeKeys } from "./keys";

const SITE_BATCH = 500;

export async function pruneVersions(
  redis: Redis,
  prefix: string,
  keep: number,
): Promise<{ sites: number; removed: number; keep: number }> {
  const keys = storeKeys(prefix);
  let sites = 0;
  let removed = 0;
  for (let offset = 0; ; offset += SITE_BATCH) {
    const batch = await redis.zrange(keys.sites, String(offset), String(offset + SITE_BATCH - 1));
    if (batch.length === 0) break;
    sites += batch.length;
    const pipe = redis.pipeline();
    for (const site of batch) pipe.hlen(keys.versions(site));
    const lens = (await pipe.exec()) ?? [];
    for (let i = 0; i < batch.length; i++) {
      const site = batch[i] as string;
      if (Number(lens[i]?.[1] ?? 0) <= keep) continue;
      const fields = (await redis.hkeys(keys.versions(site)))
        .filter((f) => /^\d+$/.test(f))
        .sort((a, b) => Number(b) - Number(a));
      const old = fields.slice(keep);
      if (old.length > 0) removed += await redis.hdel(keys.versions(site), ...old);
    }
    if (batch.length < SITE_BATCH) break;
  }
  return { sites, removed, keep };
}
