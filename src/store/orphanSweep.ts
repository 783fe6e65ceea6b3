/**
 * Removes files no metadata points at: what a crash between "files written" and "metadata
 * switched" leaves (a save, an upgrade), half-written temp files, and the files of a deleted site
 * or a pruned version whose delete failed. Files younger than graceMs are kept: a save in progress
 * has written its files and is about to run its script.
 */
import type { Redis } from "ioredis";
import type { FileStore } from "./files/fileStore";
import { fileKeys } from "./files/fileKeys";
import { storeKeys } from "./keys";
import { decodeVersionEntry } from "./results";
import type { VersionFiles } from "./versionFiles";

/** A save writes its files and switches the metadata within seconds; an hour is far beyond that. */
export const ORPHAN_GRACE_MS = 60 * 60_000;
const DELETE_BATCH = 200;

export async function sweepOrphanFiles(
  redis: Redis,
  opts: { prefix: string; files: FileStore; graceMs?: number; now?: number },
): Promise<{ scanned: number; removed: number }> {
  const fkeys = fileKeys(opts.prefix);
  const rkeys = storeKeys(opts.prefix);
  const cutoff = (opts.now ?? Date.now()) - (opts.graceMs ?? ORPHAN_GRACE_MS);
  let scanned = 0;
  let removed = 0;
  let doomed: string[] = [];
  const flush = async (): Promise<void> => {
    if (doomed.length === 0) return;
    await opts.files.delete(doomed);
    removed += doomed.length;
    doomed = [];
  };
  // Listings come grouped by site (directory order, or S3's lexical order): one lookup per site.
  let current: { siteKey: string; saves: Set<string> } | undefined;
  for await (const f of opts.files.list(fkeys.root)) {
    scanned++;
    if (f.modifiedAt > cutoff) continue;
    const where = fkeys.parse(f.key);
    if (where && current?.siteKey !== where.siteKey)
      current = { siteKey: where.siteKey, saves: await referencedSaves(where.siteKey) };
    if (where && current?.saves.has(where.saveId) && !f.key.includes(".tmp-")) continue;
    doomed.push(f.key);
    if (doomed.length >= DELETE_BATCH) await flush();
  }
  await flush();
  return { scanned, removed };

  async function referencedSaves(siteKey: string): Promise<Set<string>> {
    const [latest, versions] = await Promise.all([
      redis.hget(rkeys.latest(siteKey), "files"),
      redis.hgetallBuffer(rkeys.versions(siteKey)),
    ]);
    const saves = new Set<string>();
    if (latest) saves.add((JSON.parse(latest) as VersionFiles).saveId);
    for (const gz of Object.values(versions)) {
      const id = (await decodeVersionEntry(gz)).files?.saveId; // absent on an entry not yet upgraded
      if (id !== undefined) saves.add(id);
    }
    return saves;
  }
}
