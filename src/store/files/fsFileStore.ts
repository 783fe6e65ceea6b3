/**
 * The fs backend: one file per key under a directory (FILES_DIR). A put writes a temp file next
 * to the target, fsyncs it, renames it over the target and fsyncs the directory, so after a crash
 * a key holds either its old bytes or all the new ones. A crash mid-put leaves a "*.tmp-*" file;
 * list() reports it, so the orphan sweep removes it like any other unreferenced file.
 */
import { randomBytes } from "node:crypto";
import { createReadStream, open as openCb } from "node:fs";
import { mkdir, open, readdir, rename, rmdir, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { assertKey, type FileInfo, type FileStore } from "./fileStore";

const openFd = promisify(openCb);

export function createFsFileStore(opts: { dir: string }): FileStore {
  const root = path.resolve(opts.dir);
  const pathOf = (key: string): string => {
    assertKey(key);
    return path.join(root, ...key.split("/"));
  };

  async function fsyncDir(dir: string): Promise<void> {
    const h = await open(dir, "r");
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  }

  /** Removes now-empty directories up to the root, so deleted sites leave nothing behind. */
  async function pruneDirs(from: string): Promise<void> {
    for (let dir = from; dir.startsWith(root + path.sep); dir = path.dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or gone): stop climbing
      }
    }
  }

  async function* walk(dir: string): AsyncGenerator<string> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    for (const ent of entries) {
      const full = path.join(dir, ent.name);
      if (ent.isDirectory()) yield* walk(full);
      else if (ent.isFile()) yield full;
    }
  }

  return {
    kind: "fs",

    async put(key, body) {
      const target = pathOf(key);
      const dir = path.dirname(target);
      await mkdir(dir, { recursive: true });
      const tmp = `${target}.tmp-${randomBytes(4).toString("hex")}`;
      try {
        const h = await open(tmp, "wx");
        try {
          await h.writeFile(body);
          await h.sync();
        } finally {
          await h.close();
        }
        await rename(tmp, target);
      } catch (e) {
        await unlink(tmp).catch(() => undefined);
        throw e;
      }
      // The rename itself must survive a power cut, or metadata could point at a file that isn't there.
      await fsyncDir(dir);
    },

    async get(key) {
      // Open first: a missing file is null here, not an error event on a stream already handed out.
      // A plain fd (not a FileHandle): the stream reads with fs.read, as fs.createReadStream does,
      // and owns the fd, closing it when it ends or is destroyed.
      let fd: number;
      try {
        fd = await openFd(pathOf(key), "r");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw e;
      }
      return createReadStream("", { fd, autoClose: true });
    },

    async head(key) {
      try {
        const s = await stat(pathOf(key));
        return { key, bytes: s.size, modifiedAt: s.mtimeMs };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw e;
      }
    },

    async delete(keys) {
      const dirs = new Set<string>();
      for (const key of keys) {
        const p = pathOf(key);
        try {
          await unlink(p);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        }
        dirs.add(path.dirname(p));
      }
      for (const d of dirs) await pruneDirs(d);
    },

    async *list(prefix) {
      // Walk only the deepest directory the prefix names, then filter on the full key.
      const slash = prefix.lastIndexOf("/");
      const base = slash < 0 ? root : path.join(root, ...prefix.slice(0, slash).split("/").filter(Boolean));
      for await (const full of walk(base)) {
        const key = path.relative(root, full).split(path.sep).join("/");
        if (!key.startsWith(prefix)) continue;
        const info: FileInfo | null = await stat(full).then(
          (s) => ({ key, bytes: s.size, modifiedAt: s.mtimeMs }),
          () => null,
        );
        if (info) yield info;
      }
    },

    async close() {},
  };
}
