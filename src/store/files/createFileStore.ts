/**
 * The one place a FileStore is chosen (FILE_STORE). Roots call it with their config slice and
 * register close() with the shutdown registry.
 */
import { ConfigError } from "../../lib/errors";
import type { FileStore, FileStoreKind } from "./fileStore";
import { createFsFileStore } from "./fsFileStore";
import type * as S3Backend from "./s3FileStore";
import type { S3Settings } from "./s3FileStore";

export interface FileStoreSettings {
  store: FileStoreKind;
  dir: string;
  s3?: S3Settings | undefined;
}

export function createFileStore(settings: FileStoreSettings): FileStore {
  if (settings.store === "fs") return createFsFileStore({ dir: settings.dir });
  if (!settings.s3) throw new ConfigError("invalid configuration: FILE_STORE=s3 needs S3_BUCKET");
  // Loaded only when chosen: the AWS SDK costs every process ~150 ms and ~20 MB at start-up.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createS3FileStore } = require("./s3FileStore") as typeof S3Backend;
  return createS3FileStore(settings.s3);
}
