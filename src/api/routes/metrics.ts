/** GET /metrics: the API process's Prometheus registry (queue gauges are read at scrape time). */
import { Router } from "express";
import type { Metrics } from "../../metrics/registry";
import { metricsAuthorized } from "../../metrics/metricsToken";
import { UnauthorizedError } from "../middleware/auth";

export function metricsRouter(metrics: Pick<Metrics, "render">, opts: { token?: string } = {}): Router {
  const router = Router();
  router.get("/metrics", async (req, res) => {
    if (!metricsAuthorized(req.headers.authorization, opts.token)) {
      res.setHeader("WWW-Authenticate", 'Bearer realm="ltx metrics"');
      throw new UnauthorizedError("/metrics needs Authorization: Bearer <METRICS_TOKEN>");
    }
    const { contentType, body } = await metrics.render();
    res.setHeader("Cache-Control", "no-store");
    res.type(contentType).send(body);
  });
  return router;
}
