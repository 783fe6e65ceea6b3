import zlib from "node:zlib";
import { loadRobots, parseRobots } from "../../src/pipeline/fetch/robots";
import { resolveSite } from "../../src/pipeline/site";
import { parseSitemap, readSitemaps, sitemapSources } from "../../src/pipeline/fetch/sitemap";
import { SitemapScanner } from "../../src/pipeline/fetch/sitemapScanner";
import { handlers, startSiteServer, testFetchSettings } from "../support/siteServer";

const UA = testFetchSettings().userAgent;
const allowAll = (origin: string) => parseRobots(`${origin}/robots.txt`, "", UA);

describe("parseSitemap", () => {
  it("reads urlsets, indexes, CDATA, entities and namespace prefixes", () => {
    const xml = `<?xml version="1.0"?>
      <sm:urlset xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9">
        <sm:url><sm:loc> https://e.example/a?x=1&amp;y=2 </sm:loc></sm:url>
        <sm:url><sm:loc><![CDATA[https://e.example/b]]></sm:loc></sm:url>
        <sm:url><sm:lastmod>2024-01-01</sm:lastmod></sm:url>
      </sm:urlset>`;
    expect(parseSitemap(xml)).toEqual({ sitemaps: [], urls: ["https://e.example/a?x=1&y=2", "https://e.example/b"] });
    expect(parseSitemap("<sitemapindex><sitemap><loc>https://e.example/s1.xml</loc></sitemap></sitemapindex>")).toEqual(
      { sitemaps: ["https://e.example/s1.xml"], urls: [] },
    );
  });
});

describe("SitemapScanner", () => {
  const entries = (n: number) =>
    Array.from({ length: n }, (_, i) => `<url><loc>https://e.example/p${i}?a=1&amp;b=2</loc></url>`).join("\n");

  it("reads the same URLs whatever the chunk boundaries", () => {
    const xml = `<urlset>${entries(50)}<url><loc><![CDATA[https://e.example/c]]></loc></url><!-- <url><loc>x</loc></url> --></urlset>`;
    const whole = parseSitemap(xml).urls;
    expect(whole).toHaveLength(51);
    expect(whole[0]).toBe("https://e.example/p0?a=1&b=2");
    for (const size of [1, 2, 7, 64]) {
      const got: string[] = [];
      const scanner = new SitemapScanner((_kind, v) => got.push(v));
      for (let i = 0; i < xml.length; i += size) scanner.feed(xml.slice(i, i + size));
      expect(got).toEqual(whole);
    }
  });

  it("takes an entry's own <loc> only, not an image's", () => {
    const xml =
      "<urlset><url><loc>https://e.example/a</loc><image:image><image:loc>https://e.example/i.png</image:loc></image:image></url></urlset>";
    expect(parseSitemap(xml).urls).toEqual(["https://e.example/a"]);
  });

  it("drops over-long values and tags and goes on", () => {
    const xml = `<urlset><url><loc>https://e.example/${"x".repeat(5000)}</loc></url><url x="${"y".repeat(5000)}"><loc>https://e.example/b</loc></url><url><loc>https://e.example/c</loc></url></urlset>`;
    expect(parseSitemap(xml).urls).toEqual(["https://e.example/b", "https://e.example/c"]);
  });

  it("scans 1 MB of unclosed <url> tags in linear time", () => {
    // The old RegExp rescanned the rest of the file for each one: 50 s for 1 MB.
    const xml = `<urlset>${"<url><loc>https://e.example/a".repeat(35_000)}`;
    expect(xml.length).toBeGreaterThan(1_000_000);
    const start = Date.now();
    expect(parseSitemap(xml).urls).toEqual([]);
    expect(Date.now() - start).toBeLessThan(500);
  });
});

describe("sitemapSources", () => {
  it("uses robots.txt's same-origin Sitemap lines, else the conventional places", () => {
    const site = resolveSite("https://e.example/docs/");
    const robots = parseRobots(
      "https://e.example/robots.txt",
      "Sitemap: https://e.example/s.xml\nSitemap: https://cdn.other.example/s.xml\n",
      UA,
    );
    expect(sitemapSources(site, robots)).toEqual(["https://e.example/s.xml"]);
    expect(sitemapSources(site, allowAll("https://e.example"))).toEqual([
      "https://e.example/sitemap.xml",
      "https://e.example/docs/sitemap.xml",
    ]);
  });
});

describe("readSitemaps", () => {
  it("follows a sitemap index into a plain and a gzipped sitemap", async () => {
    const server = await startSiteServer("sitemap-index");
    try {
      const site = resolveSite(server.url);
      const res = await readSitemaps(site, allowAll(server.origin), testFetchSettings());
      expect(res.files).toEqual([
        `${server.origin}/sitemap.xml`,
        `${server.origin}/sitemaps/docs.xml`,
        `${server.origin}/sitemaps/reference.xml.gz`,
      ]);
      expect(res.urls).toEqual(
        expect.arrayContaining([
          `${server.origin}/docs/getting-started.html`,
          `${server.origin}/reference/cli.html`,
          `${server.origin}/reference/api.html`,
        ]),
      );
      expect(res.urls).toHaveLength(9); // the off-site entry is returned as written: the caller's accept() filters
      expect(res.warnings).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it("applies accept(), robots.txt and the count limits", async () => {
    const server = await startSiteServer("sitemap-index");
    try {
      const site = resolveSite(server.url);
      const robots = parseRobots(`${server.origin}/robots.txt`, "User-agent: *\nDisallow: /sitemaps/reference", UA);
      const res = await readSitemaps(site, robots, testFetchSettings(), {
        accept: (u) => u.startsWith(server.origin),
        limits: { maxUrls: 3 },
      });
      expect(server.requests).not.toContain("/sitemaps/reference.xml.gz");
      expect(res.urls).toHaveLength(3);
      expect(res.warnings).toEqual(["sitemaps: kept the first 3 URLs"]);
      const few = await readSitemaps(site, allowAll(server.origin), testFetchSettings(), { limits: { maxFiles: 1 } });
      expect(few.files).toEqual([`${server.origin}/sitemap.xml`]);
      expect(few.warnings[0]).toMatch(/stopped after 1 files/);
    } finally {
      await server.close();
    }
  });

  it("reads gzip sent as Content-Encoding, survives a broken sitemap, and bounds index depth", async () => {
    const urlset = (o: string) => `<urlset><url><loc>${o}/a.html</loc></url></urlset>`;
    const index = (o: string, next: string) => `<sitemapindex><sitemap><loc>${o}${next}</loc></sitemap></sitemapindex>`;
    let origin = "";
    const server = await startSiteServer({
      routes: {
        "/robots.txt": (_req, res) => {
          res.writeHead(200, { "content-type": "text/plain" });
          res.end(`Sitemap: ${origin}/enc.xml\nSitemap: ${origin}/bad.xml.gz\nSitemap: ${origin}/i1.xml\n`);
        },
        "/enc.xml": (req, res, ctx) => handlers.gzipped(urlset(ctx.origin), "application/xml")(req, res, ctx),
        "/bad.xml.gz": (_req, res) => {
          res.writeHead(200, { "content-type": "application/gzip" });
          res.end(Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from("not really gzip")]));
        },
        "/i1.xml": (req, res, ctx) => handlers.html(index(ctx.origin, "/i2.xml"))(req, res, ctx),
        "/i2.xml": (req, res, ctx) => handlers.html(index(ctx.origin, "/i3.xml"))(req, res, ctx),
        "/i3.xml": (req, res, ctx) => handlers.html(urlset(ctx.origin).replace("a.html", "deep.html"))(req, res, ctx),
        "/big.xml": (_req, res) => {
          res.writeHead(200, { "content-type": "application/gzip" });
          res.end(zlib.gzipSync(Buffer.alloc(4 * 1024 * 1024, " ")));
        },
      },
    });
    origin = server.origin;
    try {
      const robots = await loadRobots(server.origin, testFetchSettings());
      const res = await readSitemaps(resolveSite(server.url), robots, testFetchSettings(), { limits: { maxDepth: 1 } });
      expect(res.urls).toEqual([`${server.origin}/a.html`]);
      expect(res.warnings.some((w) => w.includes("bad.xml.gz"))).toBe(true);
      expect(res.warnings.some((w) => w.includes("i3.xml") && w.includes("deeper"))).toBe(true);
      expect(server.requests).not.toContain("/i3.xml");
      // A gzip bomb: 4 MB of spaces in a few KB, against a 1 MB cap.
      const bomb = parseRobots(`${server.origin}/robots.txt`, `Sitemap: ${server.origin}/big.xml`, UA);
      const capped = await readSitemaps(resolveSite(server.url), bomb, testFetchSettings(), {
        limits: { maxBytes: 1024 * 1024 },
      });
      expect(capped.urls).toEqual([]);
      expect(capped.warnings.join()).toMatch(/big\.xml/);
    } finally {
      await server.close();
    }
  });
});
