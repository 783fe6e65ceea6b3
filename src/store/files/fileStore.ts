/**
 * The FileStore: where generated files live (llms.txt, llms-full.txt, page records, page content),
 * outside Redis. A backend stores opaque bytes under a key; callers hand it gzip'd bytes and get
 * the same bytes back, so the API can send them as-is with Content-Encoding: gzip.
 *
 * Keys are "/"-separated, per site and save (fileKeys.ts). A put either completes (the key then
 * holds all the bytes) or leaves the key as it was; it never exposes a partial file under the key.
 */
import type { Readable } from "node:stream";

export interface FileInfo {
  key: string;
  /** Stored (gzip'd) size. */
  bytes: number;
  /** Last write, in ms since the epoch (orphan sweeps keep files younger than their grace). */
  modifiedAt: number;
}

export interface FileStore {
  readonly kind: FileStoreKind;
  /** Stores body under key, durably, replacing any earlier body. */
  put(key: string, body: Buffer): Promise<void>;
  /** The stored bytes as a stream; null when there is no such key. */
  get(key: string): Promise<Readable | null>;
  head(key: string): Promise<FileInfo | null>;
  /** Removes the keys; missing keys are not an error. */
  delete(keys: readonly string[]): Promise<void>;
  /** Every key that starts with prefix (a site's, or everything under a Redis prefix). */
  list(prefix: string): AsyncIterable<FileInfo>;
  close(): Promise<void>;
}

export const FILE_STORE_KINDS = ["fs", "s3"] as const;
export type FileStoreKind = (typeof FILE_STORE_KINDS)[number];

/** Keys are built by fileKeys.ts; this refuses anything that could leave the store's root. */
export function assertKey(key: string): void {
  if (!/^[A-Za-z0-9._~%{}\-/]+$/.test(key) || key.split("/").some((s) => s === "" || s === "." || s === ".."))
    throw new Error(`invalid file key ${JSON.stringify(key)}`);
}

/** Reads a whole stored file (small ones: page records, an old llms.txt). */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
