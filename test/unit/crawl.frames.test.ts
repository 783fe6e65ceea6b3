/*
 * A hand-written site of the frames era: the start page is a <frameset> (a button bar as an image
 * map, the content in the other frame, a <noframes> link to a contents page), and each chapter has
 * a frame wrapper page. Frames are not JavaScript: their pages are followed like links.
 */
import { crawlSite } from "../../src/pipeline/crawl/crawl";
import { createExtractor } from "../../src/pipeline/extract/extract";
import { checkContent } from "../../src/pipeline/generate";
import { resolveSite } from "../../src/pipeline/site";
import { type SiteServer, startSiteServer, testFetchSettings } from "../support/siteServer";

const extractor = createExtractor({ threads: 2, timeoutMs: 20_000 });
let server: SiteServer;
beforeAll(async () => {
  server = await startSiteServer("frames");
});
afterAll(async () => {
  await server.close();
  await extractor.close();
});

describe("a frameset site", () => {
  it("follows frame, image-map and noframes links, lists the content pages, not the frame wrappers", async () => {
    const res = await crawlSite(resolveSite(server.url), {
      limits: { maxPages: 50, maxDepth: 10, include: [], exclude: [] },
      fetch: testFetchSettings({ retries: 0 }),
      extractor,
    });
    const kept = res.pages.map((p) => p.url.replace(server.origin, ""));
    expect(kept).toEqual(
      expect.arrayContaining(["/", "/intro.html", "/drawing.html", "/editing.html", "/contents.html"]),
    );
    expect(kept.filter((p) => p.startsWith("/frm_"))).toEqual([]);
    const wrapper = res.records.find((r) => r.url.endsWith("/frm_drawing.html"));
    expect(wrapper?.skipReason).toMatch(/frameset/);
    // The frameset start page is the home page, not "almost no readable text".
    expect(res.pages[0]).toMatchObject({ url: server.url, title: "Sketch User Manual" });
    expect(res.pages[0]?.thin).toBeUndefined();
    expect(() => checkContent(res.pages)).not.toThrow();
  });
});
