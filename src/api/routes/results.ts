/**
 * The generated files and their metadata.
 *
 *   GET /api/results?url=…               metadata of a site's latest result (JSON)
 *   GET /sites/<site>/llms.txt           the files themselves, text/plain, with ETag and
 *   GET /sites/<site>/llms-full.txt      Last-Modified; 304 on a matching conditional request
 *
 * <site> is the site key (resolveSite): host, ":port" when not the default, then the path prefix
 * if any — /sites/example.com/docs/llms.txt, /sites/127.0.0.1:8080/llms.txt.
 *
 * Files stream from the FileStore: the stored gzip bytes as they are to a client that accepts
 * gzip, decompressed on the fly otherwise, a byte range (206) of the decompressed file on
 * request. The API never holds a whole file. With FILES_PUBLIC_BASE_URL it redirects instead.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { type NextFunction, type Request, type Response, Router } from "express";
import { coerceError } from "../../lib/coerceError";
import { NotFoundError } from "../../lib/errors";
import type { Logger } from "../../lib/logger";
import { resolveSite } from "../../pipeline/site";
import { fileKeys } from "../../store/files/fileKeys";
import type { FileRef, ResultStore, SiteFileName } from "../../store/results";
import { acceptsGzip, byteSlice, notModified, requestedRange } from "../fileResponse";
import { siteFileLinks } from "../jobView";
import { resultsQuerySchema, type SchemaLimits } from "../schemas";

export interface ResultsRouteDeps {
  store: Pick<ResultStore, "getFile" | "getMeta" | "openFile">;
  limits: SchemaLimits;
}

export interface SiteFilesDeps {
  store: Pick<ResultStore, "getFile" | "openFile">;
  /** FILES_PUBLIC_BASE_URL with its prefix (the Redis prefix the keys start with). */
  publicFiles?: { baseUrl: string; prefix: string } | undefined;
  logger?: Logger;
}

// The raw (still percent-encoded) path, so the key matches resolveSite's, which is encoded too.
const FILE_PATH = /^\/sites\/(.+)\/(llms\.txt|llms-full\.txt)$/;

/** A save may prune the version a reader just looked up; it looks up the newer one this often. */
const OPEN_TRIES = 3;

/** GET /api/results: behind auth, like the rest of /api. */
export function resultsApiRouter(deps: ResultsRouteDeps): Router {
  const router = Router();
  const query = resultsQuerySchema(deps.limits);
  router.get("/api/results", async (req: Request, res: Response) => {
    const { url } = query.parse(req.query);
    const siteKey = resolveSite(url).key;
    const meta = await deps.store.getMeta(siteKey);
    if (!meta) throw new NotFoundError(`no result for ${siteKey} yet`);
    res.json({ ...meta, links: siteFileLinks(siteKey) });
  });
  return router;
}

/** GET /sites/…: public unless PUBLIC_FILES=0 (then the app mounts it behind auth). */
export function siteFilesRouter(deps: SiteFilesDeps): Router {
  const router = Router();
  router.get(/^\/sites\//, async (req: Request, res: Response, next: NextFunction) => {
    const m = FILE_PATH.exec(req.path);
    if (!m) return next();
    const siteKey = m[1] as string;
    const name = m[2] as SiteFileName;
    let ref = await deps.store.getFile(siteKey, name);
    if (!ref) throw new NotFoundError(`no ${name} for ${siteKey}`);
    if (notModified(req, ref)) {
      res.set(fileHeaders(ref)).status(304).end();
      return undefined;
    }
    if (deps.publicFiles) {
      const key = fileKeys(deps.publicFiles.prefix).file(siteKey, ref.files.saveId, name);
      res.set(fileHeaders(ref)).redirect(302, `${deps.publicFiles.baseUrl}/${key}`);
      return undefined;
    }
    let stored: Readable | null = null;
    for (let i = 0; i < OPEN_TRIES && ref; i++) {
      stored = req.method === "HEAD" ? null : await deps.store.openFile(ref);
      if (stored || req.method === "HEAD") break;
      ref = await deps.store.getFile(siteKey, name);
    }
    if (!ref || (!stored && req.method !== "HEAD")) throw new NotFoundError(`no ${name} for ${siteKey}`);
    // Only now: an error before this point answers as JSON, without this file's headers.
    res.set(fileHeaders(ref));
    await send(req, res, ref, stored, deps.logger);
    return undefined;
  });
  return router;
}

function fileHeaders(ref: FileRef): Record<string, string> {
  return {
    "Content-Type": "text/plain; charset=utf-8",
    ETag: ref.etag,
    "Last-Modified": ref.lastModified,
    // Clients may keep a copy but must ask again: a 304 is cheap and a new version shows at once.
    "Cache-Control": "no-cache",
    // Anyone may fetch llms.txt from a browser tool or another site; it is public text.
    "Access-Control-Allow-Origin": "*",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "Accept-Ranges": "bytes",
    Vary: "Accept-Encoding",
  };
}

async function send(
  req: Request,
  res: Response,
  ref: FileRef,
  stored: Readable | null,
  logger?: Logger,
): Promise<void> {
  const range = requestedRange(req, ref.bytes, ref.etag);
  if (range.kind === "unsatisfiable") {
    stored?.destroy();
    res.status(416).set("Content-Range", `bytes */${ref.bytes}`).end();
    return;
  }
  const gzip = range.kind === "none" && acceptsGzip(req);
  if (range.kind === "range")
    res.status(206).set({
      "Content-Range": `bytes ${range.start}-${range.end}/${ref.bytes}`,
      "Content-Length": String(range.end - range.start + 1),
    });
  else if (gzip) res.status(200).set({ "Content-Encoding": "gzip", "Content-Length": String(ref.gzipBytes) });
  else res.status(200).set("Content-Length", String(ref.bytes));
  if (!stored) {
    res.end(); // HEAD: the headers a GET would send, no body
    return;
  }
  try {
    if (gzip) await pipeline(stored, res);
    else if (range.kind === "none") await pipeline(stored, createGunzip(), res);
    else {
      // Not one pipeline: the slice stops reading once past the range, which a pipeline would
      // report as a premature close of the streams before it.
      const plain = stored.pipe(createGunzip());
      stored.once("error", (e) => plain.destroy(e));
      try {
        await pipeline(Readable.from(byteSlice(plain, range.start, range.end)), res);
      } finally {
        stored.destroy();
        plain.destroy();
      }
    }
  } catch (e) {
    // Headers are gone: all we can do is cut the connection so the client sees a short body.
    const err = coerceError(e);
    if ((err as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE")
      logger?.warn({ err, siteKey: ref.siteKey, file: ref.name }, "streaming a file failed");
    res.destroy(err);
  }
}
