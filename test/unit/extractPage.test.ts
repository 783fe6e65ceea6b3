import { extractPage, stripSiteSuffix } from "../../src/pipeline/extract/extractPage";

const URL_ = "http://127.0.0.1:8080/docs/guide/install.html";

const ARTICLE_PAGE = `<!doctype html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <title>Installing Acme | Acme Docs</title>
  <meta name="description" content="How to install Acme on Linux, macOS and Windows.">
  <meta property="og:description" content="Open Graph text that loses to the meta description.">
  <meta property="og:site_name" content="Acme Docs">
  <link rel="canonical" href="/docs/guide/install">
  <base href="http://127.0.0.1:8080/docs/">
  <style>body { color: red }</style>
  <script>window.tracking = "should never run or appear";</script>
</head>
<body>
  <header><nav class="site-nav">
    <a href="index.html">Home</a> <a href="guide/config.html">Configuration</a>
    <a href="javascript:void(0)">Menu</a> <a href="mailto:team@acme.test">Mail us</a>
    <a href="https://other.test/blog#top">Blog</a>
  </nav></header>
  <aside><h3>On this page</h3><ul><li><a href="#linux">Linux</a></li></ul></aside>
  <main>
    <article>
      <h1>Installing Acme</h1>
      <p>Acme is a small tool that turns websites into tidy text files. This page explains how to
      install it on every supported platform, how to check the installation, and what to do when
      something goes wrong. Read it once before your first run; it takes five minutes.</p>
      <h2 id="linux">Linux</h2>
      <p>Most Linux distributions ship a recent package. Use your package manager first, and fall
      back to the release tarball only when the packaged version is too old for your needs.</p>
      <pre><code class="language-bash">sudo apt-get install acme
acme --version</code></pre>
      <h2>Supported versions</h2>
      <table>
        <thead><tr><th>Platform</th><th>Minimum</th></tr></thead>
        <tbody><tr><td>Debian</td><td>12</td></tr><tr><td>macOS</td><td>13 | Ventura</td></tr></tbody>
      </table>
      <h3>Checking the install</h3>
      <p>Run <code>acme doctor</code> to see which parts are missing. It prints one line per check
      and exits non-zero when something needs your attention, so it also works in scripts.</p>
      <svg width="10" height="10"><text>svg text is not content</text></svg>
    </article>
  </main>
  <footer><p>© Acme. <a href="/legal/privacy">Privacy</a></p></footer>
</body>
</html>`;

function html(body: string, url = URL_) {
  return extractPage({ url, body, contentType: "text/html; charset=utf-8" });
}

describe("extractPage on HTML", () => {
  const page = html(ARTICLE_PAGE);

  it("takes the title without the site-name suffix", () => {
    expect(page.title).toBe("Installing Acme");
  });

  it("prefers the meta description over og:description", () => {
    expect(page.description).toBe("How to install Acme on Linux, macOS and Windows.");
  });

  it("reads the language and the canonical URL, resolved against <base>", () => {
    expect(page.lang).toBe("en-GB");
    expect(page.canonical).toBe("http://127.0.0.1:8080/docs/guide/install");
  });

  it("lists the main content's h1–h3, not the sidebar's", () => {
    expect(page.headings).toEqual([
      { level: 1, text: "Installing Acme" },
      { level: 2, text: "Linux", id: "linux" },
      { level: 2, text: "Supported versions" },
      { level: 3, text: "Checking the install" },
    ]);
  });

  it("turns the article into markdown with a fenced, tagged code block and a pipe table", () => {
    expect(page.markdown).toContain("## Linux");
    expect(page.markdown).toContain("```bash\nsudo apt-get install acme\nacme --version\n```");
    expect(page.markdown).toContain("| Platform | Minimum |\n| --- | --- |\n| Debian | 12 |");
    expect(page.markdown).toContain("13 \\| Ventura");
    expect(page.markdown).toContain("`acme doctor`");
  });

  it("leaves navigation, footer, scripts, styles and svg out of the markdown", () => {
    for (const junk of ["Configuration", "Privacy", "tracking", "color: red", "svg text", "On this page"]) {
      expect(page.markdown).not.toContain(junk);
    }
    expect(page.textLength).toBeGreaterThan(500);
    expect(page.textLength).toBeLessThan(page.markdown.length);
  });

  it("collects absolute http(s) links from the whole page, resolved against <base>, without javascript: or mailto:", () => {
    expect(page.links).toEqual(
      expect.arrayContaining([
        "http://127.0.0.1:8080/docs/index.html",
        "http://127.0.0.1:8080/docs/guide/config.html",
        "https://other.test/blog#top",
        "http://127.0.0.1:8080/legal/privacy",
      ]),
    );
    expect(page.links.some((l) => l.startsWith("javascript:") || l.startsWith("mailto:"))).toBe(false);
    expect(new Set(page.links).size).toBe(page.links.length);
  });

  it("falls back to og:description, then to the first paragraph", () => {
    const og = html(ARTICLE_PAGE.replace(/<meta name="description"[^>]*>/, ""));
    expect(og.description).toBe("Open Graph text that loses to the meta description.");
    const none = html(
      ARTICLE_PAGE.replace(/<meta name="description"[^>]*>/, "").replace(/<meta property="og:description"[^>]*>/, ""),
    );
    expect(none.description).toMatch(/^Acme is a small tool that turns websites into tidy text files\./);
  });

  it("ignores a meta description that only repeats the title (texinfo does that)", () => {
    const repeated = html(
      ARTICLE_PAGE.replace("How to install Acme on Linux, macOS and Windows.", "Installing Acme | Acme Docs"),
    );
    expect(repeated.description).toBe("Open Graph text that loses to the meta description.");
  });

  it("gives a JavaScript shell page textLength ≈ 0 and no markdown", () => {
    const shell = html(`<!doctype html><html><head><title>App</title>
      <script src="/static/app.js"></script></head>
      <body><noscript>You need to enable JavaScript to run this app.</noscript><div id="root"></div>
      <script>document.getElementById("root").innerHTML = "<p>rendered</p>";</script></body></html>`);
    expect(shell.title).toBe("App");
    expect(shell.textLength).toBeLessThan(5);
    expect(shell.markdown).toBe("");
  });

  it("falls back to the first h1 for the title and to the body for thin pages", () => {
    const thin = html(`<html><body><h1>Release notes</h1><p>Nothing yet.</p></body></html>`);
    expect(thin.title).toBe("Release notes");
    expect(thin.markdown).toContain("Nothing yet.");
    expect(thin.textLength).toBeGreaterThan(10);
    expect(thin.lang).toBeUndefined();
    expect(thin.canonical).toBeUndefined();
  });

  it("caps what jsdom and readability get on a huge page but still finds links past the cap", () => {
    const para = `<p>${"Reference text for a very long single page manual. ".repeat(20)}</p>\n`;
    const body = `<html><head><title>Big</title></head><body><main><h1>Big</h1>${para.repeat(200)}
      <p><a href="/late/page.html">late link</a> <a href='other.html?a=1&amp;b=2'>entity</a></p></main></body></html>`;
    const page = extractPage(
      { url: "http://127.0.0.1/docs/big.html", body, contentType: "text/html" },
      { maxHtmlBytes: 50_000 },
    );
    expect(page.markdown.length).toBeLessThan(55_000);
    expect(page.markdown.length).toBeGreaterThan(30_000);
    expect(page.links).toEqual(["http://127.0.0.1/late/page.html", "http://127.0.0.1/docs/other.html?a=1&b=2"]);
  });
  it("a link-dense page (a generated index, a link bomb) gets at most 1,000 anchors parsed; every link is still found", () => {
    const anchors = Array.from({ length: 5000 }, (_, i) => `<A HREF="/l${i}.html">Entry ${i}</A>`).join(" ");
    const body = `<html><head><title>Index</title></head><body><main><h1>Index</h1><p>${anchors}</p></main></body></html>`;
    const page = extractPage({ url: "http://127.0.0.1/docs/index.html", body, contentType: "text/html" });
    expect(page.links).toHaveLength(5000);
    expect(page.links[4999]).toBe("http://127.0.0.1/l4999.html");
    // The markdown is the parsed part: the first thousand entries, not the rest.
    expect(page.markdown).toContain("Entry 999");
    expect(page.markdown).not.toContain("Entry 1000]");
    expect(page.title).toBe("Index");
  });
});

describe("extractPage on markdown and plain text", () => {
  it("reads markdown: title from the first #, headings outside code, links resolved, body as markdown", () => {
    const body = `# Quick start

Get a working setup in two minutes, then read the [guide](guide.md) or the [API](https://api.test/ref).

## Install

\`\`\`sh
# this is a shell comment, not a heading
npm install acme
\`\`\`

### Verify
See [the FAQ][faq].

[faq]: /faq.md
`;
    const page = extractPage({ url: "http://127.0.0.1/docs/readme.md", body, contentType: "text/plain" });
    expect(page.title).toBe("Quick start");
    expect(page.description).toBe("Get a working setup in two minutes, then read the guide or the API.");
    expect(page.headings).toEqual([
      { level: 1, text: "Quick start" },
      { level: 2, text: "Install" },
      { level: 3, text: "Verify" },
    ]);
    expect(page.links).toEqual(["http://127.0.0.1/docs/guide.md", "https://api.test/ref", "http://127.0.0.1/faq.md"]);
    expect(page.markdown).toBe(body.trim());
    expect(page.textLength).toBeGreaterThan(80);
  });

  it("uses front matter title and description when a markdown page has them", () => {
    const body = `---\ntitle: "Changelog"\ndescription: Every release, newest first.\n---\n\n## 2.0\n\n- Faster.\n`;
    const page = extractPage({ url: "http://127.0.0.1/CHANGELOG", body, contentType: "text/markdown" });
    expect(page.title).toBe("Changelog");
    expect(page.description).toBe("Every release, newest first.");
    expect(page.markdown.startsWith("## 2.0")).toBe(true);
  });

  it("reads plain text: title from the first line, text as markdown", () => {
    const body = "ACME README\n\nAcme turns websites into text files.\nSee https://acme.test/docs for more.\n";
    const page = extractPage({ url: "http://127.0.0.1/README.txt", body, contentType: "text/plain; charset=utf-8" });
    expect(page.title).toBe("ACME README");
    expect(page.description).toBe("Acme turns websites into text files. See https://acme.test/docs for more.");
    expect(page.markdown).toBe(body.trim());
    expect(page.links).toEqual(["https://acme.test/docs"]);
    expect(page.headings).toEqual([]);
  });
});

describe("stripSiteSuffix", () => {
  it.each([
    ["Installing Acme | Acme Docs", "", "", "Installing Acme"],
    ["Getting started — Acme", "Acme", "", "Getting started"],
    ["Git - Branching", "", "", "Git - Branching"],
    ["Branching - Git", "Git", "", "Branching"],
    ["Overview - Acme Platform Docs", "", "Overview", "Overview"],
    ["Acme", "Acme", "", "Acme"],
  ])("%s (site %j, h1 %j) → %s", (title, site, h1, expected) => {
    expect(stripSiteSuffix(title, site, h1)).toBe(expected);
  });
});
