/*
 * One language per llms.txt: the start page's. Shapes: single-page manuals with language suffixes
 * (`user.en.html`, `user.de.html`), a second language nested in the first (`/japanese/`) with no
 * `lang` anywhere, and pages that say their language with `lang` and hreflang alternates.
 */
import { crawlSite, type CrawlResult } from "../../src/pipeline/crawl/crawl";
import { createExtractor } from "../../src/pipeline/extract/extract";
import { resolveSite } from "../../src/pipeline/site";
import { type SiteServer, handlers, startSiteServer, testFetchSettings } from "../support/siteServer";

const extractor = createExtractor({ threads: 2, timeoutMs: 20_000 });
const servers: SiteServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await extractor.close();
});

const TEXT =
  "This chapter explains the program in enough detail that a new user can install it, configure it and run it without reading anything else first.";

function page(title: string, links: string[], opts: { lang?: string; head?: string } = {}): string {
  const lang = opts.lang !== undefined ? ` lang="${opts.lang}"` : "";
  const as = links.map((l) => `<li><a href="${l}">${l}</a></li>`).join("");
  return `<!DOCTYPE html><html${lang}><head><title>${title}</title>${opts.head ?? ""}</head><body><h1>${title}</h1><p>${TEXT}</p><p>${TEXT}</p><ul>${as}</ul></body></html>`;
}

async function crawl(routes: Record<string, string>, start: string): Promise<{ res: CrawlResult; server: SiteServer }> {
  const server = await startSiteServer(
    Object.fromEntries(Object.entries(routes).map(([p, b]) => [p, handlers.html(b)])),
  );
  servers.push(server);
  const res = await crawlSite(resolveSite(`${server.origin}${start}`), {
    limits: { maxPages: 50, maxDepth: 10, include: [], exclude: [] },
    fetch: testFetchSettings({ retries: 0 }),
    extractor,
  });
  return { res, server };
}

const kept = (res: CrawlResult, server: SiteServer): string[] => res.pages.map((p) => p.url.replace(server.origin, ""));
const otherLanguage = (res: CrawlResult, server: SiteServer): string[] =>
  res.records.filter((r) => r.skipCode === "other-language").map((r) => r.url.replace(server.origin, ""));

describe("one language", () => {
  it("single-page manuals with language suffixes: keeps the start page's suffix, never fetches the others", async () => {
    const links = ["/user.de.html", "/faq.en.html", "/faq.ja.html", "/dev.fr.html"];
    const { res, server } = await crawl(
      {
        "/user.en.html": page("User's guide", links, { lang: "en" }),
        "/user.de.html": page("Benutzerhandbuch", links, { lang: "de" }),
        "/faq.en.html": page("FAQ", ["/user.en.html"], { lang: "en" }),
        "/faq.ja.html": page("FAQ", [], { lang: "ja" }),
        "/dev.fr.html": page("Guide du développeur", [], { lang: "fr" }),
      },
      "/user.en.html",
    );
    expect(kept(res, server)).toEqual(["/user.en.html", "/faq.en.html"]);
    expect(otherLanguage(res, server).sort()).toEqual(["/dev.fr.html", "/faq.ja.html", "/user.de.html"]);
    for (const p of ["/user.de.html", "/faq.ja.html", "/dev.fr.html"]) expect(server.requests).not.toContain(p);
  });

  it("a second language nested in the first, no lang attributes: the language-named trees are left out", async () => {
    const { res, server } = await crawl(
      {
        "/index.html": page("Sketch manual", [
          "/intro.html",
          "/japanese/intro.html",
          "/ja_JP.eucJP/intro.html",
          "/io/streams.html",
        ]),
        "/intro.html": page("Introduction", []),
        "/japanese/intro.html": page("概要", []),
        "/ja_JP.eucJP/intro.html": page("概要", []),
        "/io/streams.html": page("Streams", []),
      },
      "/index.html",
    );
    // `io/` is a directory of the manual, not Ido: a bare code counts only where the start URL has one.
    expect(kept(res, server)).toEqual(["/index.html", "/intro.html", "/io/streams.html"]);
    expect(otherLanguage(res, server).sort()).toEqual(["/ja_JP.eucJP/intro.html", "/japanese/intro.html"]);
  });

  it("pages that declare another language, and hreflang alternates, are skipped with a code", async () => {
    const head = `<link rel="alternate" hreflang="fr" href="/accueil.html"><link rel="alternate" hreflang="en" href="/">`;
    const { res, server } = await crawl(
      {
        "/": page("Home", ["/guide.html", "/handbuch.html", "/accueil.html"], { lang: "en-GB", head }),
        "/guide.html": page("Guide", [], { lang: "en" }),
        "/handbuch.html": page("Handbuch", [], { lang: "de" }),
        "/accueil.html": page("Accueil", [], { lang: "fr" }),
      },
      "/",
    );
    expect(kept(res, server)).toEqual(["/", "/guide.html"]);
    expect(otherLanguage(res, server).sort()).toEqual(["/accueil.html", "/handbuch.html"]);
    expect(server.requests).not.toContain("/accueil.html"); // known from the alternate, before any fetch
    expect(res.records.find((r) => r.url.endsWith("/handbuch.html"))).toMatchObject({ status: 200 });
  });
});
