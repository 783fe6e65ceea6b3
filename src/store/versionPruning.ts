/**
 * Trims every site's version history to `keep` (newest kept), a batch of sites at a time, and
 * deletes the trimmed versions' files. The store trims on each save; this applies a lowered
 * MAX_VERSIONS_PER_SITE to sites that haven't run since. It lives beside the key layout it walks.
 */
import type { Redis } from "ioredis";
import type { FileStore } from "./files/fileStore";
import { storeKeys } from "./keys";
import { TRIM_SCRIPT } from "./resultScripts";
import { decodeVersionEntry } from "./results";
import { versionFileIo } from "./versionFiles";

const SITE_BATCH = 500;

export async function pruneVersions(
  redis: Redis,
  opts: { prefix: string; keep: number; files: FileStore },
): Promise<{ sites: number; removed: number; keep: number }> {
  const keys = storeKeys(opts.prefix);
  const io = versionFileIo(opts.files, opts.prefix);
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
      if (Number(lens[i]?.[1] ?? 0) <= opts.keep) continue;
      const gone = (await redis.callBuffer("EVAL", TRIM_SCRIPT, 1, keys.versions(site), String(opts.keep))) as Buffer[];
      removed += gone.length;
      // Metadata no longer names them; a failure here leaves orphans for the sweep.
      const files = await Promise.all(gone.map(async (gz) => (await decodeVersionEntry(gz)).files));
      await io.remove(site, files);
    }
    if (batch.length < SITE_BATCH) break;
  }
  return { sites, removed, keep: opts.keep };
}
