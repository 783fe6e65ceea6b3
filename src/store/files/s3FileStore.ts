/**
 * The s3 backend: any S3-compatible store (AWS S3, MinIO, Cloudflare R2, Ceph RGW) through the
 * official SDK. Credentials come from the SDK's standard chain (environment, profile, instance
 * role). An object appears whole or not at all, multipart uploads included (lib-storage splits
 * big bodies), so a put never exposes a partial file.
 *
 * Objects carry Content-Encoding: gzip and their type, so a bucket or CDN in front of it
 * (FILES_PUBLIC_BASE_URL) serves them as a browser expects.
 */
import type { Readable } from "node:stream";
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { assertKey, type FileStore } from "./fileStore";

export interface S3Settings {
  bucket: string;
  prefix: string;
  endpoint: string | undefined;
  region: string;
  forcePathStyle: boolean;
}

/** S3's limit per DeleteObjects request. */
const DELETE_BATCH = 1000;
/** Bodies above this go up in parts of this size (S3's minimum part is 5 MiB). */
const PART_BYTES = 8 * 1024 * 1024;

function isNotFound(e: unknown): boolean {
  return (
    e instanceof S3ServiceException &&
    (e.name === "NoSuchKey" || e.name === "NotFound" || e.$metadata.httpStatusCode === 404)
  );
}

function contentType(key: string): string {
  return key.includes(".json") ? "application/json" : "text/plain; charset=utf-8";
}

export function createS3FileStore(settings: S3Settings, client?: S3Client): FileStore {
  const s3 =
    client ??
    new S3Client({
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      // Only where S3 requires one: several S3-compatible stores reject the newer default checksums.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  const base = settings.prefix === "" || settings.prefix.endsWith("/") ? settings.prefix : `${settings.prefix}/`;
  const Bucket = settings.bucket;
  const objectKey = (key: string): string => {
    assertKey(key);
    return `${base}${key}`;
  };

  return {
    kind: "s3",

    async put(key, body) {
      const upload = new Upload({
        client: s3,
        params: {
          Bucket,
          Key: objectKey(key),
          Body: body,
          ContentType: contentType(key),
          ContentEncoding: "gzip",
        },
        partSize: PART_BYTES,
        queueSize: 4,
        leavePartsOnError: false, // an aborted multipart upload leaves nothing billable behind
      });
      await upload.done();
    },

    async get(key) {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket, Key: objectKey(key) }));
        return (out.Body as Readable | undefined) ?? null;
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
    },

    async head(key) {
      try {
        const out = await s3.send(new HeadObjectCommand({ Bucket, Key: objectKey(key) }));
        return { key, bytes: out.ContentLength ?? 0, modifiedAt: out.LastModified?.getTime() ?? 0 };
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
    },

    async delete(keys) {
      for (let i = 0; i < keys.length; i += DELETE_BATCH) {
        const batch = keys.slice(i, i + DELETE_BATCH).map((k) => ({ Key: objectKey(k) }));
        const out = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: batch, Quiet: true } }));
        const failed = (out.Errors ?? []).filter((err) => err.Code !== "NoSuchKey");
        if (failed.length > 0)
          throw new Error(`S3 refused to delete ${failed.length} objects: ${failed[0]?.Message ?? ""}`);
      }
    },

    async *list(prefix) {
      let ContinuationToken: string | undefined;
      do {
        const out = await s3.send(
          new ListObjectsV2Command({
            Bucket,
            Prefix: `${base}${prefix}`,
            ...(ContinuationToken ? { ContinuationToken } : {}),
          }),
        );
        for (const o of out.Contents ?? []) {
          if (o.Key === undefined) continue;
          yield { key: o.Key.slice(base.length), bytes: o.Size ?? 0, modifiedAt: o.LastModified?.getTime() ?? 0 };
        }
        ContinuationToken = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (ContinuationToken);
    },

    close() {
      s3.destroy();
      return Promise.resolve();
    },
  };
}
