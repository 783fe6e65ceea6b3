/*
 * Which pages a page budget (maxPages) is spent on when discovery finds more: the site's own links
 * by distance from the start page and in their order, then URLs only the sitemap names, and source
 * views and generated listings last. Fixture: a Sphinx-shaped site whose sitemap lists its pages
 * alphabetically, so `_modules/` source views come first there.
 */
import { crawlSite, type CrawlOptions } from "../../src/pipeline/crawl/crawl";
import { createExtractor } from "../../src/pipeline/extract/extract";
import { resolveSite } from "../../src/pipeline/site";
import { type SiteServer, startSiteServer, testFetchSettings } from "../support/siteServer";

const extractor = createExtractor({ threads: 2, timeoutMs: 20_000 });
let server: SiteServer;
beforeAll(async () => {
  server = await startSiteServer("sphinx-budget");
});
afterAll(async () => {
  await server.close();
  await extractor.close();
});

function options(maxPages: number): CrawlOptions {
  return {
    limits: { maxPages, maxDepth: 10, include: [], exclude: [] },
    fetch: testFetchSettings({ retries: 0 }),
    extractor,
  };
}

const pathsOf = (urls: string[]): string[] => urls.map((u) => u.replace(server.origin, ""));
const pagePaths = (log: string[]): string[] => log.filter((p) => p !== "/robots.txt" && !p.startsWith("/sitemap"));

describe("page selection under a budget", () => {
  it("spends the budget on the pages nearest the start page, in the order its links appear", async () => {
    const before = server.requests.length;
    const res = await crawlSite(resolveSite(server.url), options(5));
    expect(pathsOf(res.pages.map((p) => p.url))).toEqual([
      "/",
      "/intro.html",
      "/tutorial/index.html",
      "/orm/index.html",
      "/tutorial/connect.html",
    ]);
    // Source views, indexes and the search page were never requested: nothing of the budget went to them.
    const asked = pagePaths(server.requests.slice(before));
    for (const listing of ["/_modules/", "/_sources/", "/genindex.html", "/py-modindex.html", "/search.html"])
      expect(asked.filter((p) => p.startsWith(listing))).toEqual([]);
  });

  it("takes a page only the sitemap names before source views and generated listings", async () => {
    const res = await crawlSite(resolveSite(server.url), options(7));
    // Kept pages are listed in discovery order; which seven were fetched is what the budget decides.
    expect(pathsOf(res.pages.map((p) => p.url)).sort()).toEqual([
      "/",
      // the one listing that fits: the start page links to it before any other listing
      "/genindex.html",
      "/intro.html",
      "/orm/index.html",
      "/orphan.html",
      "/tutorial/connect.html",
      "/tutorial/index.html",
    ]);
  });

  it("still fetches everything, listings included, when the budget allows", async () => {
    const res = await crawlSite(resolveSite(server.url), options(100));
    expect(pathsOf(res.pages.map((p) => p.url))).toEqual(
      expect.arrayContaining(["/orphan.html", "/_modules/quarry/engine.html", "/genindex.html", "/search.html"]),
    );
  });
});
