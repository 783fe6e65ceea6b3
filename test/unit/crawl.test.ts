/*
 * crawlSite against the fixture sites on 127.0.0.1, with the production extractor (worker
 * threads). Tests that need to make extraction fail, stall or be counted use a tiny regex
 * extractor (title, canonical, links, text length) instead.
 */
import { AbortedError, BlockedAddressError, FetchError, InputError, LtxError } from "../../src/lib/errors";
import { crawlSite, type CrawlOptions } from "../../src/pipeline/crawl/crawl";
import { createExtractor } from "../../src/pipeline/extract/extract";
import { scanLinks } from "../../src/pipeline/crawl/links";
import { resolveSite } from "../../src/pipeline/site";
import type { ExtractedPage, ExtractInput, Extractor, Progress } from "../../src/pipeline/types";
import { type SiteServer, handlers, selfSignedCert, startSiteServer, testFetchSettings } from "../support/siteServer";

interface TestExtractor extends Extractor {
  calls: string[];
}

function regexExtractor(
  opts: { delayMs?: (url: string) => number; fail?: (url: string) => boolean; timeout?: (url: string) => boolean } = {},
): TestExtractor {
  const calls: string[] = [];
  return {
    calls,
    async extract(input: ExtractInput, signal?: AbortSignal): Promise<ExtractedPage> {
      calls.push(input.url);
      const delay = opts.delayMs?.(input.url) ?? 0;
      if (delay > 0) {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, delay);
          signal?.addEventListener("abort", () => (clearTimeout(t), reject(new Error("extract aborted"))), {
            once: true,
          });
        });
      }
      if (opts.fail?.(input.url)) throw new Error("cannot parse this page");
      // What the real pool throws when a page is over its budget (its timing is tested in extract.test.ts).
      if (opts.timeout?.(input.url)) throw new LtxError("TIMEOUT", "extraction took longer than 0.2s");
      const html = input.contentType === "text/html";
      const title = html
        ? (/<title>([^<|]*)/i.exec(input.body)?.[1]?.trim() ?? "")
        : (/^#\s+(.+)$/m.exec(input.body)?.[1] ?? "");
      const text = html
        ? input.body
            .replace(/<script[\s\S]*?<\/script>/gi, "")
            .replace(/<[^>]+>/g, " ")
            .replace(/\s+/g, " ")
            .trim()
        : input.body;
      const canonical = html ? /<link rel="canonical" href="([^"]+)"/i.exec(input.body)?.[1] : undefined;
      return {
        title,
        description: "",
        headings: [],
        markdown: text,
        textLength: text.length,
        links: html ? scanLinks(input.body, input.url) : [],
        ...(canonical ? { canonical } : {}),
      };
    },
    close: async () => undefined,
  };
}

const realExtractor = createExtractor({ threads: 2, timeoutMs: 20_000 });
afterAll(() => realExtractor.close());

function options(over: Partial<CrawlOptions> = {}, limits: Partial<CrawlOptions["limits"]> = {}): CrawlOptions {
  return {
    limits: { maxPages: 100, maxDepth: 10, include: [], exclude: [], ...limits },
    fetch: testFetchSettings({ retries: 1 }),
    extractor: realExtractor,
    ...over,
  };
}

const paths = (urls: string[], origin: string): string[] => urls.map((u) => u.replace(origin, ""));
const servers: SiteServer[] = [];
async function serve(source: Parameters<typeof startSiteServer>[0]): Promise<SiteServer> {
  const s = await startSiteServer(source);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe("breadth-first crawl (no sitemap)", () => {
  it("finds every in-site page once, with normalised URLs and canonical de-duplication", async () => {
    const server = await serve("crawl-only");
    const res = await crawlSite(resolveSite(server.url), options());
    expect(
      paths(
        res.pages.map((p) => p.url),
        server.origin,
      ),
    ).toEqual([
      "/",
      "/guide/",
      "/api/",
      "/about.html",
      "/changelog.html",
      "/guide/install.html",
      "/guide/getting-started.html",
      "/guide/advanced/",
      "/guide/advanced/tuning.html",
      "/guide/advanced/internals.html",
    ]);
    expect(res.pages[0]?.depth).toBe(0);
    expect(res.pages.find((p) => p.url.endsWith("/internals.html"))?.depth).toBe(4);
    const print = res.records.find((r) => r.url.endsWith("/install-print.html"));
    expect(print?.skipReason).toBe(`duplicate of ${server.origin}/guide/install.html (rel=canonical)`);
    const install = res.pages.find((p) => p.url === `${server.origin}/guide/install.html`);
    expect(install?.title).toMatch(/^Installation/);
    expect(install?.description).toBe(
      "Install Tidepool with pip, choose optional extras and check that the installation works.",
    );
    expect(install?.markdown).toContain("pip install tidepool");
    expect(install?.headings.map((h) => h.text)).toEqual(
      expect.arrayContaining(["Requirements", "Installing with pip"]),
    );
    expect(res.pages.every((p) => p.textLength >= 200 && p.thin === undefined)).toBe(true);
    // No page fetched twice (fragments and utm_* collapsed), nothing off-site fetched.
    const pageRequests = server.requests.filter((p) => p !== "/robots.txt" && !p.endsWith("sitemap.xml"));
    expect(new Set(pageRequests).size).toBe(pageRequests.length);
    expect(pageRequests.some((p) => p.includes("utm_"))).toBe(false);
    expect(res.changed).toBe(true);
  });

  it("respects maxDepth, maxPages, include and exclude", async () => {
    const server = await serve("crawl-only");
    const site = resolveSite(server.url);
    const shallow = await crawlSite(site, options({}, { maxDepth: 1 }));
    // install.html is linked from the home page itself, so it is depth 1 too.
    expect(
      paths(
        shallow.pages.map((p) => p.url),
        server.origin,
      ),
    ).toEqual(["/", "/guide/", "/api/", "/about.html", "/changelog.html", "/guide/install.html"]);
    expect(server.requests).not.toContain("/guide/getting-started.html");

    const few = await crawlSite(site, options({}, { maxPages: 3 }));
    expect(few.pages).toHaveLength(3);
    expect(few.pages[0]?.url).toBe(site.startUrl);
    expect(few.warnings.join("\n")).toMatch(/stopped at 3 pages \(maxPages\)/);

    const guideOnly = await crawlSite(site, options({}, { include: ["/guide/*"], exclude: ["*/advanced/*"] }));
    expect(
      paths(
        guideOnly.pages.map((p) => p.url),
        server.origin,
      ),
    ).toEqual(["/", "/guide/", "/guide/install.html", "/guide/getting-started.html"]);
  });

  it("reports progress: discover first, then fetch and extract with growing counts", async () => {
    const server = await serve("crawl-only");
    const events: Progress[] = [];
    await crawlSite(resolveSite(server.url), options({ onProgress: (p) => events.push(p) }));
    expect(events[0]?.phase).toBe("discover");
    expect(events.some((e) => e.phase === "fetch")).toBe(true);
    const last = events[events.length - 1];
    expect(last?.pagesFetched).toBeGreaterThanOrEqual(10);
    expect(last?.pagesExtracted).toBe(11); // 10 kept + the printable duplicate, dropped after extraction
    for (let i = 1; i < events.length; i++)
      expect(events[i]!.pagesFetched).toBeGreaterThanOrEqual(events[i - 1]!.pagesFetched);
  });
});

describe("sitemaps", () => {
  it("seeds the crawl from a sitemap index with a gzipped sitemap", async () => {
    const server = await serve("sitemap-index");
    const res = await crawlSite(resolveSite(server.url), options());
    expect(
      paths(
        res.pages.map((p) => p.url),
        server.origin,
      ).sort(),
    ).toEqual(
      [
        "/",
        "/blog/",
        "/blog/harbor-2-0.html",
        "/docs/configuration.html",
        "/docs/deployment.html",
        "/docs/getting-started.html",
        "/reference/api.html",
        "/reference/cli.html",
      ].sort(),
    );
    expect(res.pages[0]?.url).toBe(`${server.origin}/`);
    expect(res.pages[0]?.description).toMatch(/^Harbor is a command-line tool/);
    expect(server.requests).toContain("/sitemaps/reference.xml.gz");
    expect(res.records.some((r) => r.url.includes("elsewhere.invalid"))).toBe(false);
  });

  it("keeps one copy of identical pages, and walks links whatever the sitemap lists", async () => {
    const urlset = (o: string, ps: string[]) =>
      `<urlset>${ps.map((p) => `<url><loc>${o}${p}</loc></url>`).join("")}</urlset>`;
    const dup = await serve({
      site: "crawl-only",
      routes: {
        "/sitemap.xml": (q, r, c) => handlers.html(urlset(c.origin, ["/", "/index.html", "/about.html"]))(q, r, c),
      },
    });
    const res = await crawlSite(resolveSite(dup.url), options());
    expect(
      paths(
        res.pages.map((p) => p.url),
        dup.origin,
      ),
    ).toEqual(expect.arrayContaining(["/", "/about.html", "/guide/"]));
    expect(res.pages).toHaveLength(10);
    expect(res.records.find((r) => r.url.endsWith("/index.html"))?.skipReason).toBe(`same content as ${dup.origin}/`);

    const lonely = await serve({
      site: "crawl-only",
      routes: { "/sitemap.xml": (q, r, c) => handlers.html(urlset(c.origin, ["/"]))(q, r, c) },
    });
    expect((await crawlSite(resolveSite(lonely.url), options())).pages).toHaveLength(10);
  });
});

describe("robots.txt", () => {
  it("never requests disallowed paths and spaces requests by Crawl-delay", async () => {
    const server = await serve("robots");
    const res = await crawlSite(resolveSite(server.url), options());
    expect(server.requests.filter((p) => p.startsWith("/private/") || p.startsWith("/drafts/"))).toEqual([]);
    expect(
      res.records
        .filter((r) => r.skipReason === "robots.txt disallows")
        .map((r) => r.url)
        .sort(),
    ).toEqual([`${server.origin}/drafts/unreleased.html`, `${server.origin}/private/admin.html`]);
    expect(
      paths(
        res.pages.map((p) => p.url),
        server.origin,
      ),
    ).toEqual(["/", "/guide.html", "/faq.html"]);
    // Crawl-delay: 1 → every request after robots.txt starts at least ~1 s after the previous one.
    const times = server.log.filter((e) => e.path !== "/robots.txt").map((e) => e.at);
    expect(times.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(950);
  }, 20_000);

  it("refuses a disallowed start URL without requesting it", async () => {
    const server = await serve("robots");
    const err = await crawlSite(resolveSite(`${server.origin}/private/admin.html`), options()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LtxError);
    expect(err).toMatchObject({ code: "ROBOTS_DISALLOWED", retryable: false });
    expect(server.requests).toEqual(["/robots.txt"]);
  });

  it("does not crawl when robots.txt answers 5xx, and says it may retry", async () => {
    const server = await serve({ site: "crawl-only", routes: { "/robots.txt": handlers.status(503) } });
    const err = await crawlSite(resolveSite(server.url), options()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "FETCH_FAILED", retryable: true });
    expect(server.requests.every((p) => p === "/robots.txt")).toBe(true);
  });
});

describe("a site under a path prefix", () => {
  it.each(["/docs/", "/docs/intro.html", "/docs"])("stays under /docs/ when started at %s", async (start) => {
    const server = await serve("prefix");
    const res = await crawlSite(resolveSite(`${server.origin}${start}`), options());
    const pagePaths = paths(
      res.pages.map((p) => p.url),
      server.origin,
    );
    expect(pagePaths.length).toBeGreaterThanOrEqual(4);
    expect(pagePaths.every((p) => p.startsWith("/docs/"))).toBe(true);
    expect(
      server.requests.filter((p) => !p.startsWith("/docs") && p !== "/robots.txt" && p !== "/sitemap.xml"),
    ).toEqual([]);
  });

  it("moves with a start URL that redirects elsewhere on the host", async () => {
    const server = await serve({ site: "prefix", routes: { "/documentation/": handlers.redirect("/docs/") } });
    const res = await crawlSite(resolveSite(`${server.origin}/documentation/`), options());
    expect(res.site).toMatchObject({ prefix: "/docs/", key: `127.0.0.1:${server.port}/documentation` });
    expect(res.pages[0]?.url).toBe(`${server.origin}/docs/`);
    expect(res.records[0]).toMatchObject({
      url: `${server.origin}/documentation/`,
      skipReason: `redirects to ${server.origin}/docs/`,
    });
  });
});

describe("http → https", () => {
  it("follows a start page that moves to https, with the new origin's robots.txt", async () => {
    const secure = await serve({ site: "robots", tls: selfSignedCert() });
    const plain = await serve({ routes: { "/": handlers.redirect(`${secure.origin}/`, 301) } });
    const res = await crawlSite(
      resolveSite(plain.url),
      options({ fetch: testFetchSettings({ acceptInvalidCerts: true }) }),
    );
    expect(res.site).toMatchObject({ origin: secure.origin, key: `127.0.0.1:${plain.port}` });
    expect(res.pages.map((p) => p.url)).toEqual([
      `${secure.origin}/`,
      `${secure.origin}/guide.html`,
      `${secure.origin}/faq.html`,
    ]);
    expect(secure.requests.filter((p) => p.startsWith("/private/"))).toEqual([]);
    expect(res.warnings.join("\n")).toMatch(/redirects to https:/);
  }, 20_000);
});

describe("a broken site", () => {
  it("skips every kind of bad page with a reason and keeps the good ones", async () => {
    const server = await serve("broken");
    const res = await crawlSite(
      resolveSite(server.url),
      options({ fetch: testFetchSettings({ retries: 1, maxBytes: 256 * 1024 }) }),
    );
    const reason = (p: string): string | undefined =>
      res.records.find((r) => r.url === `${server.origin}${p}`)?.skipReason;
    expect(reason("/missing.html")).toBe("HTTP 404");
    expect(reason("/server-error.html")).toBe("HTTP 500");
    expect(server.requests.filter((p) => p === "/server-error.html")).toHaveLength(2); // 1 retry
    expect(reason("/loop/a")).toMatch(/redirect loop/);
    expect(reason("/fernwood-api.pdf")).toBe("content-type application/pdf");
    expect(reason("/diagram.png")).toBe("content-type image/png");
    expect(reason("/old-guide.html")).toBe(`redirects to ${server.origin}/guide.html`);
    expect(reason("/offsite.html")).toMatch(/redirects off the site to http:\/\/localhost:/);
    expect(server.log.some((e) => e.headers.host?.startsWith("localhost"))).toBe(false);
    const kept = paths(
      res.pages.map((p) => p.url),
      server.origin,
    );
    expect(kept).toEqual(
      expect.arrayContaining([
        "/",
        "/guide.html",
        "/reference.html",
        "/notes.md",
        "/limits.txt",
        "/huge.html",
        "/app.html",
      ]),
    );
    expect(kept.filter((p) => p === "/guide.html")).toHaveLength(1);
    expect(res.pages.find((p) => p.url.endsWith("/huge.html"))?.bytes).toBeLessThanOrEqual(256 * 1024);
    expect(res.warnings.join("\n")).toMatch(/huge\.html is larger than/);
    expect(res.pages.find((p) => p.url.endsWith("/app.html"))?.thin).toBe(true);
    expect(res.pages.find((p) => p.url.endsWith("/notes.md"))?.markdown).toContain("Recurring bookings");
    expect(res.pages.find((p) => p.url.endsWith("/limits.txt"))?.markdown).toContain("600 requests per minute");
    expect(res.pages.find((p) => p.url.endsWith("/guide.html"))?.thin).toBeUndefined();
    expect(res.warnings.join("\n")).toMatch(/almost no readable text/);
  });

  it("skips pages whose extraction fails or times out, and still follows their links", async () => {
    const server = await serve("crawl-only");
    const extractor = regexExtractor({ fail: (u) => u.endsWith("/guide/"), timeout: (u) => u.endsWith("/about.html") });
    const res = await crawlSite(resolveSite(server.url), options({ extractor }));
    const reason = (p: string): string | undefined =>
      res.records.find((r) => r.url === `${server.origin}${p}`)?.skipReason;
    expect(reason("/guide/")).toBe("extraction failed: cannot parse this page");
    expect(reason("/about.html")).toBe("extraction took longer than 0.2s");
    expect(res.pages.some((p) => p.url.endsWith("/guide/install.html"))).toBe(true); // reached through /guide/
  });

  it("stops fetching past the job's byte budget", async () => {
    const server = await serve("crawl-only");
    const res = await crawlSite(
      resolveSite(server.url),
      options({ jobMaxBytes: 5000, fetch: testFetchSettings({ perHostConcurrency: 1 }) }),
    );
    // Pages already in flight when the budget runs out still land; nothing is started after.
    expect(res.pages.length).toBeLessThan(10);
    expect(server.requests.length).toBeLessThan(12);
    expect(res.warnings.join("\n")).toMatch(/over the job's limit of 5000 bytes/);
  });
});

describe("start page failures", () => {
  it("a 4xx start page is permanent", async () => {
    const server = await serve("crawl-only");
    const err = await crawlSite(resolveSite(`${server.origin}/nope/`), options()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchError);
    expect(err).toMatchObject({ code: "START_PAGE_FAILED", retryable: false, status: 404 });
  });

  it("a 5xx start page is retryable, after bounded retries", async () => {
    const server = await serve({ routes: { "/": handlers.status(502) } });
    const err = await crawlSite(resolveSite(server.url), options()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "FETCH_FAILED", retryable: true, status: 502 });
    expect(server.requests.filter((p) => p === "/")).toHaveLength(2);
  });

  it("a non-HTML start page is permanent", async () => {
    const server = await serve("broken");
    await expect(crawlSite(resolveSite(`${server.origin}/fernwood-api.pdf`), options())).rejects.toMatchObject({
      code: "START_PAGE_FAILED",
      retryable: false,
    });
  });

  it("an unreachable host says so", async () => {
    const err = await crawlSite(
      resolveSite("http://127.0.0.1:9/"),
      options({ fetch: testFetchSettings({ retries: 0 }) }),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: "FETCH_FAILED",
      retryable: true,
      message: "could not connect to 127.0.0.1:9: ECONNREFUSED",
    });
  });

  it("refuses an unusable include pattern before any request", async () => {
    const server = await serve("crawl-only");
    await expect(crawlSite(resolveSite(server.url), options({}, { include: ["/(/"] }))).rejects.toThrow(InputError);
    expect(server.requests).toEqual([]);
  });

  it("a refused address makes no request at all (robots.txt included)", async () => {
    const server = await serve("crawl-only");
    const policy = (address: string): void => {
      if (address.startsWith("127.")) throw new BlockedAddressError(`${address} is loopback`);
    };
    await expect(
      crawlSite(resolveSite(server.url), options({ fetch: testFetchSettings({ addressPolicy: policy }) })),
    ).rejects.toThrow(BlockedAddressError);
    expect(server.requests).toEqual([]);
  });

  it("checks resolved addresses at connect time through the crawl's keep-alive sockets", async () => {
    const server = await serve("crawl-only");
    const seen = new Set<string>();
    const res = await crawlSite(
      resolveSite(`http://localhost:${server.port}/`),
      options({ fetch: testFetchSettings({ addressPolicy: (a, h) => void seen.add(`${h} ${a}`) }) }),
    );
    expect(res.pages).toHaveLength(10);
    expect([...seen].every((x) => x === "localhost 127.0.0.1" || x === "localhost ::1")).toBe(true);
    const refusing = await serve("crawl-only");
    const policy = (_a: string, hostname: string): void => {
      if (hostname === "localhost") throw new BlockedAddressError("localhost is refused");
    };
    await expect(
      crawlSite(
        resolveSite(`http://localhost:${refusing.port}/`),
        options({ fetch: testFetchSettings({ addressPolicy: policy }) }),
      ),
    ).rejects.toThrow(BlockedAddressError);
    expect(refusing.requests).toEqual([]);
  });

  it("stops with AbortedError when the signal fires", async () => {
    const server = await serve("crawl-only");
    const ctl = new AbortController();
    const extractor = regexExtractor({ delayMs: () => 50 });
    setTimeout(() => ctl.abort(), 120);
    await expect(crawlSite(resolveSite(server.url), options({ extractor, signal: ctl.signal }))).rejects.toThrow(
      AbortedError,
    );
  });
});

describe("re-runs (change detection)", () => {
  it("sitemap mode: conditional requests, 304s reuse the previous extraction", async () => {
    const server = await serve("sitemap-index");
    const site = resolveSite(server.url);
    const first = await crawlSite(site, options());
    const extractor = regexExtractor();
    const previous = { pages: first.records, content: new Map(first.pages.map((p) => [p.url, p])) };
    const second = await crawlSite(site, options({ extractor, previous }));
    expect(second.changed).toBe(false);
    expect(second.reusedCount).toBe(first.pages.length);
    expect(extractor.calls).toEqual([]); // the start page's body hash matched; the rest answered 304
    expect(second.pages.map((p) => p.url)).toEqual(first.pages.map((p) => p.url));
    expect(server.log.filter((e) => e.headers["if-none-match"] !== undefined).length).toBe(first.pages.length - 1);
  });

  it("link mode: an equal hash reuses the page, its links are still walked, a new page means changed", async () => {
    const server = await serve("crawl-only");
    const site = resolveSite(server.url);
    const first = await crawlSite(site, options({}, { maxDepth: 2 }));
    const previous = { pages: first.records, content: new Map(first.pages.map((p) => [p.url, p])) };
    const extractor = regexExtractor();
    const same = await crawlSite(site, options({ extractor, previous }, { maxDepth: 2 }));
    expect(same).toMatchObject({ changed: false, reusedCount: first.pages.length });
    expect(extractor.calls).toEqual([]);
    const deeper = await crawlSite(site, options({ previous }, { maxDepth: 3 }));
    expect(deeper.changed).toBe(true);
    expect(deeper.reusedCount).toBe(first.pages.length);
  });
});
