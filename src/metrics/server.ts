/*
 * A worker process has no Express app; when METRICS_PORT is set it serves its registry on a bare
 * node:http server (GET /metrics, anything else 404).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Metrics } from "./registry";
import { coerceError } from "../lib/coerceError";
import { metricsAuthorized } from "./metricsToken";

export interface MetricsServer {
  port: number;
  /** Idempotent. */
  close(): Promise<void>;
}

export async function startMetricsServer(
  metrics: Metrics,
  port: number,
  host = "0.0.0.0",
  opts: { token?: string } = {},
): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    if (!metricsAuthorized(req.headers.authorization, opts.token)) {
      const body = { error: { code: "UNAUTHORIZED", message: "/metrics needs Authorization: Bearer <METRICS_TOKEN>" } };
      res
        .writeHead(401, { "content-type": "application/json", "www-authenticate": 'Bearer realm="ltx metrics"' })
        .end(JSON.stringify(body));
      return;
    }
    metrics.render().then(
      ({ contentType, body }) => res.writeHead(200, { "content-type": contentType }).end(body),
      (e: unknown) =>
        res.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${coerceError(e).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
