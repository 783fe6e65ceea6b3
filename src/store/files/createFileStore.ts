/**
 * The one place a FileStore is chosen (FILE_STORE). Roots call it with their config slice and
 * register close() with the shutdown registry.
 */
import { ConfigError } from "../../lib/errors";
import type { FileStore, FileStoreKind } from "./fileStore";
import { createFsFileStore } from "./fsFileStore";
import { createS3FileStore, type S3Settings } from "./s3FileStore";

export interface FileStoreSettings {
  store: FileStoreKind;
  dir: string;
  s3?: S3Settings | undefined;
}

export function createFileStore(settings: FileStoreSettings): FileStore {
  if (settings.store === "fs") return createFsFileStore({ dir: settings.dir });
  if (!settings.s3) throw new ConfigError("invalid configuration: FILE_STORE=s3 needs S3_BUCKET");
  return createS3FileStore(settings.s3);
}
