import { MAX_LINKS_PER_PAGE, scanHrefs } from "../../src/pipeline/extract/hrefScan";
import { scanLinks } from "../../src/pipeline/crawl/links";

describe("scanHrefs", () => {
  it("reads quoted, unquoted and entity-encoded hrefs, and the first <base>", () => {
    const html = `<base href="/root/"><A class=x HREF='a?x=1&amp;y=2'>1</A> <a title="a > b" href="b">2</a>
      <a href=c>3</a><abbr href="no">x</abbr><a name="n">no href</a><a href = " d ">4</a><base href="/ignored/">`;
    expect(scanHrefs(html)).toEqual({ hrefs: ["a?x=1&y=2", "b", "c", "d"], base: "/root/" });
  });

  it("resolves against <base> in scanLinks, wherever the links are", () => {
    const html = `<a href="x.html">x</a><base href="https://e.example/docs/"><a href="mailto:a@b">m</a>`;
    expect(scanLinks(html, "https://e.example/")).toEqual(["https://e.example/docs/x.html"]);
  });

  it("stops at an unclosed quote: the rest of the page is inside it", () => {
    expect(scanHrefs(`<a href="a">1</a><a title="never closed>2</a><a href=c>3</a>`).hrefs).toEqual(["a"]);
  });

  it("scans 150k unclosed <a tags in linear time", () => {
    // The RegExp it replaces (`<a\b[^>]*?\shref…`) took 19 s on this page, on the main thread.
    const html = `<html><body><a href="/first">f</a>${"<a x".repeat(150_000)}`;
    const start = Date.now();
    expect(scanHrefs(html).hrefs).toEqual(["/first"]);
    expect(Date.now() - start).toBeLessThan(500);
  });

  it("keeps at most MAX_LINKS_PER_PAGE links", () => {
    const html = Array.from({ length: MAX_LINKS_PER_PAGE + 50 }, (_, i) => `<a href="/p${i}">p</a>`).join("");
    expect(scanHrefs(html).hrefs).toHaveLength(MAX_LINKS_PER_PAGE);
  });
  it("reads <area href> and <frame>/<iframe src> as links, and the links inside <noframes>", () => {
    const html = `<frameset><frame src="nav.html"><iframe src='x.html' title=t></iframe><noframes><a href="c.html">c</a></noframes></frameset><map><area shape=rect href=m.html></map><framex src=no.html>`;
    expect(scanHrefs(html).hrefs).toEqual(["nav.html", "x.html", "c.html", "m.html"]);
  });
});
