/**
 * The generated files and their metadata.
 *
 *   GET /api/results?url=…               metadata of a site's latest result (JSON)
 *   GET /sites/<site>/llms.txt           the files themselves, text/plain, with ETag and
 *   GET /sites/<site>/llms-full.txt      Last-Modified; 304 on a matching conditional request
 *
 * <site> is the site key (resolveSite): host, ":port" when not the default, then the path prefix
 * if any — /sites/example.com/docs/llms.txt, /sites/127.0.0.1:8080/llms.txt.
 */
import { type NextFunction, type Request, type Response, Router } from "express";
import { NotFoundError } from "../../lib/errors";
import { resolveSite } from "../../pipeline/site";
import type { ResultStore, SiteFileName, StoredFile } from "../../store/results";
import { siteFileLinks } from "../jobView";
import { resultsQuerySchema, type SchemaLimits } from "../schemas";

export interface ResultsRouteDeps {
  store: Pick<ResultStore, "getFile" | "getMeta">;
  limits: SchemaLimits;
}

// The raw (still percent-encoded) path, so the key matches resolveSite's, which is encoded too.
const FILE_PATH = /^\/sites\/(.+)\/(llms\.txt|llms-full\.txt)$/;

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
export function siteFilesRouter(deps: Pick<ResultsRouteDeps, "store">): Router {
  const router = Router();
  router.get(/^\/sites\//, async (req: Request, res: Response, next: NextFunction) => {
    const m = FILE_PATH.exec(req.path);
    if (!m) return next();
    const siteKey = m[1] as string;
    const name = m[2] as SiteFileName;
    const file = await deps.store.getFile(siteKey, name);
    if (!file) throw new NotFoundError(`no ${name} for ${siteKey}`);
    res.set({
      "Content-Type": "text/plain; charset=utf-8",
      ETag: file.etag,
      "Last-Modified": file.lastModified,
      // Clients may keep a copy but must ask again: a 304 is cheap and a new version shows at once.
      "Cache-Control": "no-cache",
      // Anyone may fetch llms.txt from a browser tool or another site; it is public text.
      "Access-Control-Allow-Origin": "*",
      "Cross-Origin-Resource-Policy": "cross-origin",
    });
    if (notModified(req, file)) {
      res.status(304).end();
      return undefined;
    }
    res.status(200).send(file.body);
    return undefined;
  });
  return router;
}

/** RFC 9110 §13.2.2: If-None-Match wins; If-Modified-Since only counts without it. */
export function notModified(req: Request, file: StoredFile): boolean {
  const inm = req.get("if-none-match");
  if (inm !== undefined) {
    if (inm.trim() === "*") return true;
    // Weak comparison: W/"x" and "x" match (a proxy may weaken our strong tag).
    const strip = (t: string): string => t.trim().replace(/^W\//, "");
    return inm.split(",").some((t) => strip(t) === strip(file.etag));
  }
  const ims = req.get("if-modified-since");
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  const modified = Date.parse(file.lastModified);
  return Number.isFinite(since) && Number.isFinite(modified) && Math.floor(modified / 1000) <= Math.floor(since / 1000);
}
