/*
 * crawlSite with the real extraction (jsdom + readability + turndown) over the fixture sites:
 * titles, descriptions, canonical links and markdown come from the pages themselves.
 */
import { crawlSite, type CrawlOptions } from "../../src/pipeline/crawl";
import { extractPage } from "../../src/pipeline/extractPage";
import { resolveSite } from "../../src/pipeline/site";
import type { Extractor } from "../../src/pipeline/types";
import { type SiteServer, startSiteServer, testFetchSettings } from "../support/siteServer";

const extractor: Extractor = { extract: async (input) => extractPage(input), close: async () => undefined };

function options(over: Partial<CrawlOptions> = {}): CrawlOptions {
  return { limits: { maxPages: 100, maxDepth: 10, include: [], exclude: [] }, fetch: testFetchSettings({ retries: 1, maxBytes: 256 * 1024 }), extractor, ...over };
}

const servers: SiteServer[] = [];
async function serve(name: string): Promise<SiteServer> {
  const s = await startSiteServer(name);
  servers.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await extractor.close();
});

describe("crawl + real extraction", () => {
  it("crawl-only: every page with its title, description and markdown; the printable copy folded into its canonical", async () => {
    const server = await serve("crawl-only");
    const res = await crawlSite(resolveSite(server.url), options());
    expect(res.pages).toHaveLength(10);
    const install = res.pages.find((p) => p.url === `${server.origin}/guide/install.html`);
    expect(install?.title).toMatch(/^Installation/);
    expect(install?.description).toBe("Install Tidepool with pip, choose optional extras and check that the installation works.");
    expect(install?.markdown).toContain("pip install tidepool");
    expect(install?.headings.map((h) => h.text)).toEqual(expect.arrayContaining(["Requirements", "Installing with pip"]));
    expect(install?.thin).toBeUndefined();
    expect(res.records.find((r) => r.url.endsWith("/install-print.html"))?.skipReason).toMatch(/rel=canonical/);
    expect(res.pages.every((p) => p.textLength >= 200)).toBe(true);
  });

  it("broken: markdown and text pages are kept, the JavaScript shell is flagged thin", async () => {
    const server = await serve("broken");
    const res = await crawlSite(resolveSite(server.url), options());
    const byPath = (p: string) => res.pages.find((x) => x.url === `${server.origin}${p}`);
    expect(byPath("/notes.md")?.markdown).toContain("Recurring bookings");
    expect(byPath("/limits.txt")?.markdown).toContain("600 requests per minute");
    expect(byPath("/app.html")?.thin).toBe(true);
    expect(byPath("/guide.html")?.thin).toBeUndefined();
  });

  it("prefix and sitemap-index: the same pages as with the test extractor", async () => {
    const prefix = await serve("prefix");
    const docs = await crawlSite(resolveSite(`${prefix.origin}/docs/`), options());
    expect(docs.pages.map((p) => new URL(p.url).pathname).sort()).toEqual(["/docs/", "/docs/api/reference.html", "/docs/intro.html", "/docs/usage.html"]);
    const harbor = await serve("sitemap-index");
    const res = await crawlSite(resolveSite(harbor.url), options());
    expect(res.pages).toHaveLength(8);
    expect(res.pages[0]?.description).toMatch(/^Harbor is a command-line tool/);
  });
});
