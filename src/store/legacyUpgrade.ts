/**
 * The one-time move of files an older ltx kept in Redis (the latest hash's txt, full and content
 * fields, and llms.txt inside each version entry) into the FileStore. Every root runs it at
 * start-up, before it reads or writes results:
 *
 * - safe with several processes at once: one holds a Redis lock (SET NX PX) and upgrades, the
 *   others wait for it to finish (or for the lock to lapse, if it died, and then take over);
 * - idempotent: a site is upgraded by one script that first checks it is still in the old layout
 *   at the version it was read at, so a second run (or a lapsed lock's two holders) changes
 *   nothing; files a lost race wrote are removed, or left as orphans for the sweep.
 *
 * ETags, Last-Modified and the bytes of every file stay what they were. The sweep-files maintenance
 * task runs it again, for sites an older process still running saved after the start-up upgrade.
 */
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { gunzip as gunzipCb } from "node:zlib";
import type { Redis } from "ioredis";
import { coerceError } from "../lib/coerceError";
import type { Logger } from "../lib/logger";
import { sleep } from "../lib/time";
import type { PageRecord } from "../pipeline/types";
import { newSaveId } from "./files/fileKeys";
import type { FileStore } from "./files/fileStore";
import { storeKeys } from "./keys";
import { UPGRADE_SCRIPT } from "./resultScripts";
import { encodeVersionEntry, type StoredMeta, type StoredVersion, type VersionEntry } from "./results";
import { type VersionFiles, versionFileIo } from "./versionFiles";

const gunzip = promisify(gunzipCb);
const SITE_BATCH = 500;
const LOCK_MS = 30_000;
const POLL_MS = 200;
const SITE_TRIES = 3;

// Deletes the lock only while it is still ours (it may have lapsed and been taken over).
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const EXTEND_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

export interface UpgradeOptions {
  prefix: string;
  files: FileStore;
  logger?: Logger;
  lockMs?: number;
}

export async function upgradeLegacyFiles(
  redis: Redis,
  opts: UpgradeOptions,
): Promise<{ sites: number; upgraded: number } | null> {
  const lockKey = `${opts.prefix}:files:upgrade-lock`;
  const lockMs = opts.lockMs ?? LOCK_MS;
  const token = randomBytes(8).toString("hex");
  for (;;) {
    if ((await redis.set(lockKey, token, "PX", lockMs, "NX")) === "OK") break;
    // Someone else is upgrading: wait until they are done (the lock goes) or died (it lapses).
    while ((await redis.exists(lockKey)) === 1) await sleep(POLL_MS);
  }
  const keepAlive = setInterval(() => {
    redis.eval(EXTEND_SCRIPT, 1, lockKey, token, String(lockMs)).catch(() => undefined);
  }, lockMs / 3);
  try {
    const report = await upgradeAll(redis, opts);
    if (report.upgraded > 0) opts.logger?.info(report, "moved files kept in Redis to the file store");
    return report;
  } finally {
    clearInterval(keepAlive);
    await redis.eval(RELEASE_SCRIPT, 1, lockKey, token).catch(() => undefined);
  }
}

async function upgradeAll(redis: Redis, opts: UpgradeOptions): Promise<{ sites: number; upgraded: number }> {
  const keys = storeKeys(opts.prefix);
  let sites = 0;
  let upgraded = 0;
  for (let offset = 0; ; offset += SITE_BATCH) {
    const batch = await redis.zrange(keys.sites, String(offset), String(offset + SITE_BATCH - 1));
    if (batch.length === 0) break;
    sites += batch.length;
    const pipe = redis.pipeline();
    for (const site of batch) pipe.hexists(keys.latest(site), "txt");
    const old = ((await pipe.exec()) ?? []).map(([, v]) => Number(v) === 1);
    for (let i = 0; i < batch.length; i++) {
      if (!old[i]) continue;
      const site = batch[i] as string;
      try {
        if (await upgradeSite(redis, opts, site)) upgraded++;
      } catch (e) {
        // The site keeps its old layout and the next start-up tries again; the others go on.
        opts.logger?.error({ err: coerceError(e), siteKey: site }, "moving a site's files out of Redis failed");
      }
    }
    if (batch.length < SITE_BATCH) break;
  }
  return { sites, upgraded };
}

type LegacyVersion = Omit<StoredVersion, "version">;

async function upgradeSite(redis: Redis, opts: UpgradeOptions, siteKey: string): Promise<boolean> {
  const keys = storeKeys(opts.prefix);
  const io = versionFileIo(opts.files, opts.prefix);
  for (let attempt = 0; attempt < SITE_TRIES; attempt++) {
    const latest = await redis.hgetallBuffer(keys.latest(siteKey));
    if (!latest.txt || !latest.meta || !latest.version) return false;
    const version = latest.version.toString("utf8");
    const { pages, ...meta } = JSON.parse(latest.meta.toString("utf8")) as StoredMeta & { pages: PageRecord[] };
    const atMs = Date.parse(meta.generatedAt) || Date.now();
    const written: VersionFiles[] = [];
    const current = await io.write(siteKey, newSaveId(atMs), {
      "llms.txt": latest.txt.toString("utf8"),
      ...(latest.full ? { "llms-full.txt": latest.full.toString("utf8") } : {}),
      "pages.json": JSON.stringify(pages ?? []),
      ...(latest.content ? { "content.json": (await gunzip(latest.content)).toString("utf8") } : {}),
    });
    written.push(current);
    const entries: Array<string | Buffer> = [];
    for (const [field, gz] of Object.entries(await redis.hgetallBuffer(keys.versions(siteKey)))) {
      const parsed = JSON.parse((await gunzip(gz)).toString("utf8")) as LegacyVersion | VersionEntry;
      // Already upgraded (an old process saved on top of an upgraded site): kept as it is.
      if ("files" in parsed) {
        entries.push(field, gz);
        continue;
      }
      const { llmsTxt, ...summary } = parsed;
      // The latest version's entry shares the latest files; older ones kept only their llms.txt.
      const files =
        field === version
          ? current
          : await io.write(siteKey, newSaveId(Date.parse(summary.generatedAt) || atMs), { "llms.txt": llmsTxt });
      if (files !== current) written.push(files);
      entries.push(field, await encodeVersionEntry({ ...summary, files } satisfies VersionEntry));
    }
    const ok = await redis.eval(
      UPGRADE_SCRIPT,
      2,
      keys.latest(siteKey),
      keys.versions(siteKey),
      version,
      String(entries.length / 2),
      ...entries,
      "meta",
      JSON.stringify(meta),
      "files",
      JSON.stringify(current),
    );
    if (Number(ok) === 1) return true;
    // Moved on under us (another process, or a save): these files are nobody's; read it again.
    await io.remove(siteKey, written).catch(() => undefined);
  }
  return false;
}
