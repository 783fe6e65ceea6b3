import { BlockedAddressError, FetchError } from "../../src/lib/errors";
import { loadRobots, MAX_CRAWL_DELAY_MS, parseRobots } from "../../src/pipeline/fetch/robots";
import { MAX_ROBOTS_RULES } from "../../src/pipeline/fetch/robotsTxt";
import { handlers, startSiteServer, testFetchSettings } from "../support/siteServer";

const UA = testFetchSettings().userAgent;

describe("parseRobots", () => {
  const txt = [
    "User-agent: *",
    "Disallow: /private/",
    "Allow: /private/press/",
    "Crawl-delay: 2.5",
    "",
    "User-agent: ltx",
    "Disallow: /no-ltx/",
    "Crawl-delay: 1",
    "",
    "Sitemap: https://example.com/sitemap.xml",
  ].join("\n");
  const rules = parseRobots("https://example.com/robots.txt", txt, UA);

  it("applies the group of our product token, not *", () => {
    expect(rules.allowed("https://example.com/no-ltx/a.html")).toBe(false);
    expect(rules.allowed("https://example.com/private/a.html")).toBe(true); // only * disallows it
    expect(rules.crawlDelayMs).toBe(1000);
  });

  it("falls back to * for other agents", () => {
    const other = parseRobots("https://example.com/robots.txt", txt, "SomethingElse/1.0");
    expect(other.allowed("https://example.com/private/a.html")).toBe(false);
    expect(other.allowed("https://example.com/private/press/a.html")).toBe(true);
    expect(other.crawlDelayMs).toBe(2500);
  });

  it("lists sitemaps and says nothing about other origins", () => {
    expect(rules.sitemaps).toEqual(["https://example.com/sitemap.xml"]);
    expect(rules.allowed("https://other.example/")).toBe(false);
  });

  it("caps a huge Crawl-delay", () => {
    const slow = parseRobots("https://example.com/robots.txt", "User-agent: *\nCrawl-delay: 3600\n", UA);
    expect(slow.crawlDelayMs).toBe(MAX_CRAWL_DELAY_MS);
    expect(slow.crawlDelayCapped).toBe(true);
  });
});

describe("parseRobots matching", () => {
  const robots = (body: string) => parseRobots("https://example.com/robots.txt", body, UA);
  const allowed = (body: string, path: string) => robots(body).allowed(`https://example.com${path}`);

  it.each([
    ["Disallow: /*.pdf$", "/a/b.pdf", false],
    ["Disallow: /*.pdf$", "/a/b.pdf?x=1", true],
    ["Disallow: /a*b*c", "/aXXbYYcZZ", false],
    ["Disallow: /a*b*c", "/aXXcYYb", true],
    ["Disallow: /a$", "/a", false],
    ["Disallow: /a$", "/ab", true],
    ["Disallow: /\u00e9t\u00e9", "/%C3%A9t%C3%A9/x", false],
    ["Disallow: /x%2fy", "/x%2Fy", false],
    ["Disallow: /p\nAllow: /p/open", "/p/open/1", true],
    ["Disallow: /p/open\nAllow: /p", "/p/open/1", false],
    ["Allow: /same\nDisallow: /same", "/same", true], // a tie goes to allow
    ["Disallow:", "/anything", true],
  ])("%s on %s → allowed %s", (rules, path, expected) => {
    const body = `User-agent: *\n${rules.replace(/\\n/g, "\n").replace(/\\u00e9/g, "\u00e9")}`;
    expect(allowed(body, path)).toBe(expected);
  });

  it("matches a 500 KiB file of long wildcard rules in linear time", () => {
    // ~330 rules of 1,500 characters, each a chain of wildcards: robots-parser took ~2 s per URL.
    const rule = `Disallow: /${"a*".repeat(750)}b\n`;
    const body = `User-agent: *\n${rule.repeat(Math.floor((500 * 1024) / rule.length))}`;
    const parsed = robots(body);
    const start = process.hrtime.bigint();
    let result = false;
    for (let i = 0; i < 200; i++) result = parsed.allowed(`https://example.com/${"a".repeat(1500)}?i=${i}`);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    expect(result).toBe(true);
    expect(ms / 200).toBeLessThan(50); // ~9 ms here, on a loaded 2-core machine
  });

  it("keeps at most MAX_ROBOTS_RULES rules and drops rules no fetched URL can match", () => {
    const many = robots(`User-agent: *\n${"Disallow: /x\n".repeat(MAX_ROBOTS_RULES)}Disallow: /late\n`);
    expect(many.droppedRules).toBe(1);
    expect(many.allowed("https://example.com/late")).toBe(true);
    const long = robots(`User-agent: *\nDisallow: /${"y".repeat(3000)}\nDisallow: /z\n`);
    expect(long.allowed(`https://example.com/${"y".repeat(100)}`)).toBe(true);
    expect(long.allowed("https://example.com/z")).toBe(false);
  });
});

describe("loadRobots", () => {
  it("reads the fixture's rules, delay and sitemap", async () => {
    const server = await startSiteServer("robots");
    try {
      const rules = await loadRobots(server.origin, testFetchSettings());
      expect(rules.status).toBe(200);
      expect(rules.allowed(`${server.origin}/guide.html`)).toBe(true);
      expect(rules.allowed(`${server.origin}/private/admin.html`)).toBe(false);
      expect(rules.allowed(`${server.origin}/drafts/unreleased.html`)).toBe(false);
      expect(rules.crawlDelayMs).toBe(1000);
      expect(rules.sitemaps).toEqual([`${server.origin}/sitemap.xml`]);
      expect(server.requests).toEqual(["/robots.txt"]);
    } finally {
      await server.close();
    }
  });

  it("allows everything when robots.txt is missing (404) or forbidden (403)", async () => {
    const server = await startSiteServer({ routes: { "/robots.txt": handlers.status(403) } });
    const missing = await startSiteServer("crawl-only");
    try {
      for (const s of [server, missing]) {
        const rules = await loadRobots(s.origin, testFetchSettings());
        expect(rules.unreachable).toBe(false);
        expect(rules.allowed(`${s.origin}/anything`)).toBe(true);
      }
    } finally {
      await server.close();
      await missing.close();
    }
  });

  it("disallows everything when robots.txt answers 5xx after retries (RFC 9309)", async () => {
    const server = await startSiteServer({ routes: { "/robots.txt": handlers.status(503) } });
    try {
      const rules = await loadRobots(server.origin, testFetchSettings({ retries: 1 }));
      expect(rules.unreachable).toBe(true);
      expect(rules.allowed(`${server.origin}/`)).toBe(false);
      expect(server.requests).toEqual(["/robots.txt", "/robots.txt"]);
    } finally {
      await server.close();
    }
  });

  it("follows a redirect and keeps the rules for the origin asked about", async () => {
    const server = await startSiteServer({
      routes: {
        "/robots.txt": handlers.redirect("/real-robots.txt"),
        "/real-robots.txt": (_req, res) => {
          res.writeHead(200, { "content-type": "text/plain" });
          res.end("User-agent: *\nDisallow: /secret/\n");
        },
      },
    });
    try {
      const rules = await loadRobots(server.origin, testFetchSettings());
      expect(rules.allowed(`${server.origin}/secret/x`)).toBe(false);
      expect(rules.allowed(`${server.origin}/open`)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it("more redirects than it follows, or a loop, makes robots.txt unavailable: everything allowed", async () => {
    const server = await startSiteServer({
      routes: {
        "/robots.txt": handlers.redirect("/r1"),
        "/r1": handlers.redirect("/r2"),
        "/r2": handlers.redirect("/r3"),
        "/r3": handlers.redirect("/r4"),
        "/r4": handlers.redirect("/r5"),
        "/r5": handlers.redirect("/r6"),
        "/r6": handlers.redirect("/r7"),
      },
    });
    try {
      const rules = await loadRobots(server.origin, testFetchSettings());
      expect(rules).toMatchObject({ unreachable: false, status: null });
      expect(rules.allowed(`${server.origin}/any/page`)).toBe(true);
      expect(server.requests.length).toBeLessThanOrEqual(6);
    } finally {
      await server.close();
    }
    const loop = await startSiteServer({
      routes: { "/robots.txt": handlers.redirect("/again"), "/again": handlers.redirect("/robots.txt") },
    });
    try {
      expect((await loadRobots(loop.origin, testFetchSettings())).allowed(`${loop.origin}/x`)).toBe(true);
    } finally {
      await loop.close();
    }
  });

  it("propagates an unreachable host and a refused address", async () => {
    await expect(loadRobots("http://127.0.0.1:9", testFetchSettings({ retries: 0 }))).rejects.toThrow(FetchError);
    const server = await startSiteServer("robots");
    try {
      const policy = (): void => {
        throw new BlockedAddressError("no");
      };
      await expect(loadRobots(server.origin, testFetchSettings({ addressPolicy: policy }))).rejects.toThrow(
        BlockedAddressError,
      );
      expect(server.requests).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
