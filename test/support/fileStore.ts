/**
 * A FileStore for tests: the fs backend in a fresh directory under the OS temp dir, one per call,
 * so tests never touch ./data/files and never see each other's files.
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createFsFileStore } from "../../src/store/files/fsFileStore";
import type { FileStore } from "../../src/store/files/fileStore";

export function testFilesDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), "ltx-files-"));
}

export function testFileStore(dir = testFilesDir()): FileStore & { dir: string } {
  return Object.assign(createFsFileStore({ dir }), { dir });
}
