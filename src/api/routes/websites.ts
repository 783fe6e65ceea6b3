/**
 * /api/websites: registered websites and their schedules. The logic lives in
 * websites/service.ts (shared with `ltx sites`); this file maps it to HTTP.
 *
 *   POST   /api/websites                 register one → 201 (409 when the URL is registered)
 *   POST   /api/websites/import          register many → per URL added / skipped / rejected
 *   GET    /api/websites?status=&cursor=&limit=   (each with `quality`: its llms.txt's warnings and score)
 *   GET    /api/websites/:id             PATCH (schedule, enabled, options), DELETE → 204
 *                                         (DELETE removes the site's files too; ?keepFiles=true keeps
 *                                         them, still served under /sites/…)
 *   POST   /api/websites/:id/refresh     regenerate now → 202 (200 with the job in flight)
 *   GET    /api/websites/:id/versions    versions with change summaries, newest first
 *   GET    /api/websites/:id/versions/:n one version with its llms.txt
 */
import type { Job } from "bullmq";
import { type Request, type Response, Router } from "express";
import { z } from "zod";
import { NotFoundError } from "../../lib/errors";
import type { QualityReport } from "../../pipeline/types";
import type { ResultStore } from "../../store/results";
import { getVersion, listVersions } from "../../websites/versions";
import type { WebsiteService } from "../../websites/service";
import { jobView } from "../jobView";
import { websiteView } from "../websiteView";

export interface WebsitesRouteDeps {
  service: WebsiteService;
  results: ResultStore;
}

const versionNumber = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const deleteQuery = z.object({ keepFiles: z.enum(["true", "false", "1", "0"]).optional() });

export function websitesRouter(deps: WebsitesRouteDeps): Router {
  const router = Router();
  const { service } = deps;

  router.post("/api/websites/import", async (req: Request, res: Response) => {
    res.json(await service.import(req.body));
  });

  router.post("/api/websites", async (req: Request, res: Response) => {
    const view = websiteView(await service.create(req.body));
    res.status(201).location(view.links.self).json(view);
  });

  // Each website carries its latest file's quality report (warnings and score), null before its first result.
  async function withQuality<T extends { siteKey: string }>(
    views: T[],
  ): Promise<Array<T & { quality: QualityReport | null }>> {
    const qualities = await deps.results.getQualities(views.map((v) => v.siteKey));
    return views.map((v) => ({ ...v, quality: qualities.get(v.siteKey) ?? null }));
  }

  router.get("/api/websites", async (req: Request, res: Response) => {
    const page = await service.list(req.query);
    res.json({ ...page, items: await withQuality(page.items.map(websiteView)) });
  });

  router.get("/api/websites/:id", async (req: Request<{ id: string }>, res: Response) => {
    const [view] = await withQuality([websiteView(await service.withNextRun(await service.get(req.params.id)))]);
    res.json(view);
  });

  router.patch("/api/websites/:id", async (req: Request<{ id: string }>, res: Response) => {
    res.json(websiteView(await service.update(req.params.id, req.body)));
  });

  router.delete("/api/websites/:id", async (req: Request<{ id: string }>, res: Response) => {
    const { keepFiles } = deleteQuery.parse(req.query);
    const { siteKey } = await service.get(req.params.id);
    await service.remove(req.params.id);
    // The files go with the website unless asked to stay (then /sites/… keeps serving them).
    if (keepFiles !== "true" && keepFiles !== "1") await deps.results.remove(siteKey);
    res.status(204).end();
  });

  router.post("/api/websites/:id/refresh", async (req: Request<{ id: string }>, res: Response) => {
    const { job, deduplicated } = await service.refresh(req.params.id);
    const view = jobView(job as Job, deduplicated ? await job.getState() : "waiting");
    res.status(deduplicated ? 200 : 202).json({ ...view, deduplicated });
  });

  router.get("/api/websites/:id/versions", async (req: Request<{ id: string }>, res: Response) => {
    const w = await service.get(req.params.id);
    res.json({ websiteId: w.id, siteKey: w.siteKey, items: await listVersions(deps.results, w.siteKey) });
  });

  router.get("/api/websites/:id/versions/:n", async (req: Request<{ id: string; n: string }>, res: Response) => {
    const w = await service.get(req.params.id);
    const n = versionNumber.safeParse(req.params.n);
    const v = n.success ? await getVersion(deps.results, w.siteKey, n.data) : null;
    if (!v) throw new NotFoundError(`website ${w.id} has no version ${JSON.stringify(req.params.n.slice(0, 20))}`);
    res.json({ websiteId: w.id, siteKey: w.siteKey, ...v });
  });

  return router;
}
