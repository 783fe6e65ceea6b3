/**
 * A queued job crawls with the same limits as `ltx generate`: JOB_MAX_BYTES stops its crawl.
 * Real pipeline (fetch, extract, generate) against a loopback site of 30 pages of ~4 KB each.
 */
import type { ServerResponse } from "node:http";
import { loadConfig } from "../../src/config/env";
import { createExtractor } from "../../src/pipeline/extract/extract";
import { runPipeline } from "../../src/pipeline";
import { resolveSite } from "../../src/pipeline/site";
import { createProvider } from "../../src/pipeline/generate";
import { enqueueGenerate } from "../../src/queues/enqueue";
import { pipelineSettings } from "../../src/workers/pipelineSettings";
import { startRedis, type RedisServer } from "../support/redisServer";
import { startSiteServer, type SiteServer } from "../support/siteServer";
import { createHarness, waitFor, type Harness } from "../support/workerHarness";

const PAGES = 30;
let redis: RedisServer;
let h: Harness;
let site: SiteServer;
const extractor = createExtractor({ threads: 1, timeoutMs: 20_000 });

function page(n: number): string {
  const links = Array.from({ length: PAGES }, (_, i) => `<a href="/p${i}.html">Page ${i}</a>`).join(" ");
  const prose = `<p>Page ${n} explains one part of the product in plain words, with an example. `.repeat(40);
  return `<!doctype html><html lang="en"><head><title>Page ${n}</title></head><body><nav>${links}</nav><main><h1>Page ${n}</h1>${prose}</p></main></body></html>`;
}

beforeAll(async () => {
  redis = await startRedis();
  h = await createHarness(redis.url);
  const routes = Object.fromEntries(
    Array.from({ length: PAGES }, (_, i) => [
      i === 0 ? "/" : `/p${i}.html`,
      (_req: unknown, res: ServerResponse) => {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        res.end(page(i));
      },
    ]),
  );
  site = await startSiteServer(routes);
});

afterAll(async () => {
  await h.close();
  await site.close();
  await extractor.close();
  await redis.stop();
});

test("a queued job stops fetching at JOB_MAX_BYTES, as the CLI does", async () => {
  const config = loadConfig({ ALLOW_PRIVATE_NETWORKS: "1", JOB_MAX_BYTES: String(5 * 4096), MAX_PAGES: "100" });
  await h.startWorker(
    (url, opts) => runPipeline(resolveSite(url), opts),
    {},
    {
      extractor,
      settings: (o) => pipelineSettings(config, o),
      createProvider,
    },
  );
  const { job } = await enqueueGenerate(h.queues, { url: site.url, trigger: "api" });
  const result = await waitFor(
    async () => {
      const state = await job.getState();
      if (state === "failed")
        throw new Error(`job failed: ${(await h.queues.generate.getJob(job.id ?? ""))?.failedReason}`);
      return state === "completed" ? (await h.queues.generate.getJob(job.id ?? ""))?.returnvalue : undefined;
    },
    30_000,
    "the job to complete",
  );
  expect(result.warnings.join("\n")).toMatch(/over the job's limit of 20480 bytes/);
  const pagesFetched = site.requests.filter((r) => r === "/" || /^\/p\d+\.html$/.test(r)).length;
  expect(pagesFetched).toBeLessThan(15);
  expect(result.pagesIncluded).toBeGreaterThan(0);
});
