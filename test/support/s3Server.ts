/**
 * An S3-protocol stand-in (s3rver) on 127.0.0.1:0 with one bucket, for the s3 FileStore's tests.
 * No real S3 server runs here: this checks our use of the protocol, not a vendor's behaviour.
 */
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
// eslint-disable-next-line @typescript-eslint/no-require-imports -- s3rver ships no types
const S3rver = require("s3rver") as new (opts: Record<string, unknown>) => {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
};

export interface S3StandIn {
  endpoint: string;
  bucket: string;
  close(): Promise<void>;
}

export async function startS3StandIn(bucket = "ltx-test"): Promise<S3StandIn> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "ltx-s3rver-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const addr = await server.run();
  // The SDK's default chain finds these; s3rver accepts its well-known pair.
  process.env.AWS_ACCESS_KEY_ID ??= "S3RVER";
  process.env.AWS_SECRET_ACCESS_KEY ??= "S3RVER";
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${addr.port}`,
    bucket,
    close() {
      closing ??= server.close().finally(() => fs.rmSync(directory, { recursive: true, force: true }));
      return closing;
    },
  };
}
