/**
 * Many small fixture sites on loopback for the chaos and load runs: `http://127.0.0.1:<port>/s/<n>/`
 * is site n (an index page linking to a few pages). The knobs make them misbehave like real sites:
 * a share of page requests answer 500, a share are slow. robots.txt and sitemaps answer 404 and are
 * never flaky: a 5xx robots.txt means "disallow everything" (RFC 9309), which would turn a flaky
 * answer into a permanent failure and hide what the run is meant to show.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface FlakySitesOptions {
  /** Servers to spread the sites over (different ports = different hosts for per-host limits). */
  servers: number;
  /** Pages per site besides the index. */
  pagesPerSite: number;
  /** Share of page requests answered with 500. */
  errorRate: number;
  /** Share of page requests delayed by slowMs. */
  slowRate: number;
  slowMs: number;
  random: () => number;
}

export interface FlakySites {
  /** The start URL of site n. */
  siteUrl(n: number): string;
  requests(): { total: number; errors: number; slow: number };
  close(): Promise<void>;
}

const TOPICS = [
  "Installation",
  "Configuration",
  "Command line",
  "HTTP API",
  "Scheduling",
  "Troubleshooting",
  "Upgrading",
  "Security",
];

function pageHtml(site: number, page: number, pagesPerSite: number): string {
  const title =
    page === 0 ? `Project ${site} documentation` : `${TOPICS[(site + page) % TOPICS.length]} — Project ${site}`;
  const links =
    page === 0
      ? Array.from(
          { length: pagesPerSite },
          (_, i) => `<li><a href="p${i + 1}.html">${TOPICS[(site + i + 1) % TOPICS.length]}</a></li>`,
        ).join("")
      : `<li><a href="./">Home</a></li>`;
  const para = (k: number): string =>
    `<p>Project ${site} section ${page}.${k}: this page explains how the ${TOPICS[(site + page) % TOPICS.length]?.toLowerCase()} part works, ` +
    `which options it takes, what the defaults are and how to check that it did what you wanted. Read it before you change the settings in production.</p>`;
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>` +
    `<meta name="description" content="Documentation of project ${site}, page ${page}."></head>` +
    `<body><nav><ul>${links}</ul></nav><main><article><h1>${title}</h1>${para(1)}${para(2)}<h2>Details</h2>${para(3)}</article></main></body></html>`
  );
}

export async function startFlakySites(opts: FlakySitesOptions): Promise<FlakySites> {
  const counts = { total: 0, errors: 0, slow: 0 };
  const servers: http.Server[] = [];
  const ports: number[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    counts.total++;
    const m = /^\/s\/(\d+)\/(?:p(\d+)\.html)?$/.exec((req.url ?? "").split("?")[0] ?? "");
    if (!m) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const site = Number(m[1]);
    const page = m[2] === undefined ? 0 : Number(m[2]);
    if (page > opts.pagesPerSite) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const answer = (): void => {
      if (res.destroyed) return;
      if (opts.random() < opts.errorRate) {
        counts.errors++;
        res.writeHead(500, { "content-type": "text/plain" }).end("flaky");
        return;
      }
      res
        .writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" })
        .end(pageHtml(site, page, opts.pagesPerSite));
    };
    if (opts.random() < opts.slowRate) {
      counts.slow++;
      setTimeout(answer, opts.slowMs);
    } else answer();
  };
  for (let i = 0; i < opts.servers; i++) {
    const server = http.createServer(handler);
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    servers.push(server);
    ports.push((server.address() as AddressInfo).port);
  }
  return {
    siteUrl: (n) => `http://127.0.0.1:${ports[n % ports.length]}/s/${n}/`,
    requests: () => ({ ...counts }),
    async close() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      );
    },
  };
}

/** A small seeded PRNG (mulberry32), so a run's faults can be replayed with CHAOS_SEED. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
