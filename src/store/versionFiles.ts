/**
 * A version's files in the FileStore: written gzip'd under a fresh save id, read back whole (for
 * the worker and the versions API) or as the stored gzip stream (for serving). Which files a
 * version has, and their stored sizes, is recorded in Redis as a VersionFiles value.
 */
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gunzip as gunzipCb, gzip as gzipCb } from "node:zlib";
import { coerceError } from "../lib/coerceError";
import { FileStoreError } from "../lib/errors";
import { fileKeys, type FileKeys, type VersionFileName, VERSION_FILES } from "./files/fileKeys";
import { type FileStore, readAll } from "./files/fileStore";

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

/** Where a version's files are, and the stored (gzip'd) size of each one it has. */
export interface VersionFiles {
  saveId: string;
  stored: Partial<Record<VersionFileName, number>>;
  /**
   * The served files' plain size and ETag, kept with their location so a reader can never pair
   * one save's bytes with another's validators (absent on entries of older versions).
   */
  plain?: Partial<Record<ServedFileName, { bytes: number; etag: string }>>;
}

type ServedFileName = "llms.txt" | "llms-full.txt";

/** The strong ETag of a served file's text. */
export function etagOf(body: string): string {
  return `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
}

export interface VersionFileIo {
  keys: FileKeys;
  /** Writes every given file (all or an error: what was written is removed again). */
  write(siteKey: string, saveId: string, files: Partial<Record<VersionFileName, string>>): Promise<VersionFiles>;
  /** One file as text; null when it is not there (deleted under a reader, or never written). */
  read(siteKey: string, files: VersionFiles, name: VersionFileName): Promise<string | null>;
  /** Deletes every file of these versions (missing ones are fine). */
  remove(siteKey: string, versions: readonly VersionFiles[]): Promise<void>;
}

export function versionFileIo(files: FileStore, prefix: string): VersionFileIo {
  const keys = fileKeys(prefix);
  return {
    keys,
    async write(siteKey, saveId, bodies) {
      const stored: VersionFiles["stored"] = {};
      const plain: NonNullable<VersionFiles["plain"]> = {};
      const written: string[] = [];
      // allSettled, not all: every put must have finished before the clean-up can see what it wrote.
      const outcomes = await Promise.allSettled(
        VERSION_FILES.map(async (name) => {
          const body = bodies[name];
          if (body === undefined) return;
          const gz = await gzip(body);
          const key = keys.file(siteKey, saveId, name);
          await files.put(key, gz);
          written.push(key);
          stored[name] = gz.length;
          if (name === "llms.txt" || name === "llms-full.txt")
            plain[name] = { bytes: Buffer.byteLength(body), etag: etagOf(body) };
        }),
      );
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
      if (failed) {
        const err = coerceError(failed.reason);
        // Nothing points at these keys yet; removing them now saves the orphan sweep the work.
        await files.delete(written).catch(() => undefined);
        throw new FileStoreError(`storing ${siteKey}'s files failed: ${err.message}`, { cause: err });
      }
      return { saveId, stored, plain };
    },
    async read(siteKey, v, name) {
      if (v.stored[name] === undefined) return null;
      try {
        const stream = await files.get(keys.file(siteKey, v.saveId, name));
        if (!stream) return null;
        return (await gunzip(await readAll(stream))).toString("utf8");
      } catch (e) {
        const err = coerceError(e);
        throw new FileStoreError(`reading ${siteKey}'s ${name} failed: ${err.message}`, { cause: err });
      }
    },
    async remove(siteKey, versions) {
      const all = versions.flatMap((v) => VERSION_FILES.map((name) => keys.file(siteKey, v.saveId, name)));
      if (all.length > 0) await files.delete(all);
    },
  };
}
