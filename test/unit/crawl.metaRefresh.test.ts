/*
 * A multilingual tree whose root is only a meta refresh to one language (`/` → `/en/`, no title):
 * the refresh is a redirect, so the site is its target and the crawl's prefix follows it.
 */
import { crawlSite } from "../../src/pipeline/crawl/crawl";
import { metaRefreshTarget } from "../../src/pipeline/crawl/metaRefresh";
import { createExtractor } from "../../src/pipeline/extract/extract";
import { resolveSite } from "../../src/pipeline/site";
import { type SiteServer, handlers, startSiteServer, testFetchSettings } from "../support/siteServer";

const extractor = createExtractor({ threads: 2, timeoutMs: 20_000 });
let server: SiteServer;
afterAll(async () => {
  await server.close();
  await extractor.close();
});

const TEXT =
  "This manual explains how to install the system on a new machine, from booting the installer to the first login, with every choice explained.";
const page = (title: string, links: string[]): string =>
  `<html lang="en"><head><title>${title}</title></head><body><h1>${title}</h1><p>${TEXT}</p><p>${TEXT}</p>${links.map((l) => `<a href="${l}">${l}</a>`).join(" ")}</body></html>`;

describe("a start page that is a meta refresh", () => {
  it("moves the site to the refresh target, prefix included", async () => {
    server = await startSiteServer({
      "/": handlers.html(
        `<html><head><meta http-equiv="Refresh" content="0; URL=en/index.html"></head><body></body></html>`,
      ),
      "/en/index.html": handlers.html(page("Installation Guide", ["intro.html", "../de/index.html", "../index.html"])),
      "/en/intro.html": handlers.html(page("Introduction", ["index.html"])),
      "/de/index.html": handlers.html(page("Installationsanleitung", ["../en/index.html"])),
    });
    const res = await crawlSite(resolveSite(server.url), {
      limits: { maxPages: 50, maxDepth: 10, include: [], exclude: [] },
      fetch: testFetchSettings({ retries: 0 }),
      extractor,
    });
    expect(res.site).toMatchObject({ prefix: "/en/", startUrl: `${server.origin}/en/index.html` });
    expect(res.pages.map((p) => p.url.replace(server.origin, ""))).toEqual(["/en/index.html", "/en/intro.html"]);
    expect(res.records[0]).toMatchObject({
      url: server.url,
      skipCode: "redirect",
      skipTarget: `${server.origin}/en/index.html`,
    });
    expect(server.requests).not.toContain("/de/index.html");
  });

  it("reads the refresh forms generators write, and ignores late or empty ones", () => {
    const base = "http://127.0.0.1/";
    expect(metaRefreshTarget(`<meta http-equiv="refresh" content="0;url='en/'">`, base)).toBe("http://127.0.0.1/en/");
    expect(metaRefreshTarget(`<META HTTP-EQUIV=REFRESH CONTENT="1; URL=Top.html#x">`, base)).toBe(
      "http://127.0.0.1/Top.html#x",
    );
    expect(metaRefreshTarget(`<meta content="0, index.html" http-equiv="refresh">`, base)).toBe(
      "http://127.0.0.1/index.html",
    );
    expect(metaRefreshTarget(`<meta http-equiv="refresh" content="60; url=news.html">`, base)).toBeUndefined();
    expect(metaRefreshTarget(`<meta http-equiv="refresh" content="30">`, base)).toBeUndefined();
    expect(metaRefreshTarget(`<meta http-equiv="refresh" content="0; url=javascript:alert(1)">`, base)).toBeUndefined();
    expect(metaRefreshTarget(`<meta name="description" content="0; url=x.html">`, base)).toBeUndefined();
  });
});
