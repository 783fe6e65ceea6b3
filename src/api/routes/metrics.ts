/** GET /metrics: the API process's Prometheus registry (queue gauges are read at scrape time). */
import { Router } from "express";
import type { Metrics } from "../../metrics/registry";

export function metricsRouter(metrics: Pick<Metrics, "render">): Router {
  const router = Router();
  router.get("/metrics", async (_req, res) => {
    const { contentType, body } = await metrics.render();
    res.setHeader("Cache-Control", "no-store");
    res.type(contentType).send(body);
  });
  return router;
}
