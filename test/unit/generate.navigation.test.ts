/*
 * Flat manuals (one directory of pages, like PostgreSQL's DocBook HTML): the extractive provider
 * sections them by their hub pages, picks a summary that is not a copyright line and notes that
 * are not table-of-contents entries; the crawl does not call table-of-contents pages JS shells.
 */
import type { ServerResponse } from "node:http";
import { crawlSite } from "../../src/pipeline/crawl/crawl";
import { createExtractor } from "../../src/pipeline/extract/extract";
import { buildExtractiveDoc, createExtractiveProvider } from "../../src/pipeline/generate/extractive";
import { hubSectionName } from "../../src/pipeline/generate/navigation";
import { runPipeline } from "../../src/pipeline/index";
import { resolveSite } from "../../src/pipeline/site";
import type { LlmsDoc, Page } from "../../src/pipeline/types";
import { bigSite, makePage, makeSite } from "../support/pages";
import { type SiteServer, startSiteServer, testFetchSettings } from "../support/siteServer";

const ORIGIN = "http://127.0.0.1:8080";
const u = (name: string): string => `${ORIGIN}/${name}.html`;

const PARTS: [string, string, string[]][] = [
  ["I", "Tutorial", ["Getting Started", "Advanced Features"]],
  ["II", "The SQL Language", ["SQL Syntax", "Data Definition", "Queries"]],
  ["III", "Server Administration", ["Installation", "Server Configuration", "Monitoring"]],
];

interface Node {
  name: string;
  title: string;
  markdown: string;
  description: string;
  /** Table-of-contents links (besides prev/up/home/next). */
  toc: string[];
  up: string;
}

/**
 * A DocBook-like manual: the start page lists parts and chapters, a part lists its chapters and
 * sections, a chapter its sections, and every page has Prev / Up / Home / Next links.
 */
function manual(): Page[] {
  const nodes: Node[] = [];
  const add = (n: Node): void => void nodes.push(n);
  add({
    name: "preface",
    title: "Preface",
    up: "index",
    toc: ["intro-whatis", "notation", "tutorial", "sql", "admin"],
    description: "",
    markdown: "This book is the official documentation of Example DB. It is written by the developers.",
  });
  add({
    name: "intro-whatis",
    title: "1. What Is Example DB?",
    up: "preface",
    toc: [],
    description: "",
    markdown: "Example DB is an object-relational database system with a long history of careful engineering.",
  });
  add({
    name: "notation",
    title: "2. Conventions",
    up: "preface",
    toc: [],
    description: "",
    markdown: "The following conventions are used in the synopsis of a command in this book.",
  });
  let chapterNo = 0;
  for (const [roman, partName, chapters] of PARTS) {
    const part = partName === "Tutorial" ? "tutorial" : partName === "The SQL Language" ? "sql" : "admin";
    const partToc: string[] = [];
    add({
      name: part,
      title: `Part ${roman}. ${partName}`,
      up: "index",
      toc: partToc,
      description: "",
      markdown: `This part describes ${partName.toLowerCase()} in Example DB for new users.`,
    });
    for (const chapter of chapters) {
      chapterNo++;
      const ch = `ch${chapterNo}`;
      const sections = [1, 2, 3].map((k) => `${ch}-s${k}`);
      const tocMd = sections
        .map((s, k) => `[${chapterNo}.${k + 1}. ${chapter}: Topic Number ${k + 1} And More Words](${u(s)})`)
        .join("\n\n");
      // Chapter 4 also has an introduction after its table of contents, as PostgreSQL's do.
      const intro = chapterNo === 4 ? `\n\nThis chapter covers how one creates the structures that hold data.` : "";
      add({
        name: ch,
        title: `Chapter ${chapterNo}. ${chapter}`,
        up: part,
        toc: sections,
        description: "Table of Contents",
        markdown: `**Table of Contents**\n\n${tocMd}${intro}`,
      });
      partToc.push(ch, ...sections);
      sections.forEach((s, k) =>
        add({
          name: s,
          title: `${chapterNo}.${k + 1}. ${chapter} topic ${k + 1}`,
          up: ch,
          toc: [],
          description: "",
          markdown: `Topic ${k + 1} of ${chapter.toLowerCase()} is explained here in plain words for readers.`,
        }),
      );
    }
  }
  add({ name: "bookindex", title: "Index", up: "index", toc: [], description: "", markdown: "A B C D E" });

  const order = nodes.map((n) => n.name);
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const nav = (i: number): string[] => [
    order[i - 1] ?? "index",
    byName.get(order[i] ?? "")?.up ?? "index",
    "index",
    order[i + 1] ?? "index",
  ];
  const home = makePage(`${ORIGIN}/index.html`, {
    title: "Example DB 15.2 Documentation",
    description: "Copyright © 1996–2026 The Example DB Group",
    markdown: "### The Example DB Group\n\nCopyright © 1996–2026 The Example DB Group\n\n[Legal Notice](x)",
    links: [
      "preface",
      "legalnotice",
      "intro-whatis",
      "notation",
      ...nodes.filter((n) => /^(tutorial|sql|admin|ch\d+)$/.test(n.name)).map((n) => n.name),
      "bookindex",
    ].map(u),
  });
  const legal = makePage(u("legalnotice"), {
    title: "Legal Notice",
    description: "",
    markdown: "Example DB is Copyright © 1996–2026 by the Example DB Group.",
    links: [u("index")],
  });
  // Breadth first, as the crawl finds them: what the start page links, then the rest.
  const first = new Set(home.links);
  const pages = nodes.map((n, i) =>
    makePage(u(n.name), {
      title: n.title,
      description: n.description,
      markdown: n.markdown,
      headings: [],
      links: [...nav(i), ...n.toc].map(u),
    }),
  );
  const depth1 = pages.filter((p) => first.has(p.url));
  const depth2 = pages.filter((p) => !first.has(p.url));
  return [home, legal, ...depth1, ...depth2];
}

const section = (doc: LlmsDoc, name: string) => doc.sections.find((s) => s.name === name);
const sectionOf = (doc: LlmsDoc, url: string): string | undefined =>
  doc.sections.find((s) => s.links.some((l) => l.url === url))?.name;

describe("extractive llms.txt for a flat manual", () => {
  const site = makeSite(`${ORIGIN}/index.html`);
  const pages = manual();
  const doc = buildExtractiveDoc(site, pages);

  it("sections it by its hub pages, in the start page's order, named without 'Part II.'", () => {
    expect(doc.sections.map((s) => s.name)).toEqual([
      "Preface",
      "Tutorial",
      "The SQL Language",
      "Server Administration",
      "Optional",
    ]);
    expect(section(doc, "Overview")).toBeUndefined(); // it held only the start page, the file's own title
    expect(doc.sections.flatMap((s) => s.links).map((l) => l.url)).not.toContain(u("index"));
    expect(section(doc, "Preface")?.links.map((l) => l.url)).toEqual([u("preface"), u("intro-whatis"), u("notation")]);
    // Each part's page first, then its chapters, then their sections.
    expect(
      section(doc, "The SQL Language")
        ?.links.slice(0, 4)
        .map((l) => l.title),
    ).toEqual([
      "Part II. The SQL Language",
      "Chapter 3. SQL Syntax",
      "Chapter 4. Data Definition",
      "Chapter 5. Queries",
    ]);
    for (let ch = 1; ch <= 8; ch++) {
      const part = ch <= 2 ? "Tutorial" : ch <= 5 ? "The SQL Language" : "Server Administration";
      expect([ch, sectionOf(doc, u(`ch${ch}`))]).toEqual([ch, part]);
      // A section's "Next" link points into the next chapter or part; it still sits under its own.
      expect([ch, sectionOf(doc, u(`ch${ch}-s3`))]).toEqual([ch, part]);
    }
    // The book's index is a generated listing with no text of its own: left out, not listed bare.
    expect(section(doc, "Optional")?.links.map((l) => l.url)).toEqual([u("legalnotice")]);
  });

  it("never takes a copyright line as the summary: the first prose of the first pages instead", () => {
    expect(doc.summary).toBe("This book is the official documentation of Example DB.");
  });

  it("never takes a table-of-contents entry as a page's note", () => {
    const links = doc.sections.flatMap((s) => s.links);
    expect(links.filter((l) => /^\d+\.\d+\.|Topic Number/.test(l.notes ?? ""))).toEqual([]);
    expect(links.find((l) => l.url === u("ch3"))?.notes).toBeUndefined();
    expect(links.find((l) => l.url === u("ch4"))?.notes).toBe(
      "This chapter covers how one creates the structures that hold data.",
    );
    expect(links.find((l) => l.url === u("ch3-s1"))?.notes).toBe(
      "Topic 1 of sql syntax is explained here in plain words for readers.",
    );
  });

  it("keeps one list for pages that all link each other (cross-references, not an outline)", () => {
    const names = ["intro", "motion", "windows", "tabs", "options", "syntax", "usr_01", "usr_02", "usr_03", "quickfix"];
    const all = [`${ORIGIN}/index.html`, ...names.map(u)];
    const ps = all.map((url) =>
      makePage(url, {
        title: `Vim documentation: ${url === all[0] ? "help" : (url.split("/").pop() ?? "").replace(".html", "")}`,
        links: all.filter((x) => x !== url),
      }),
    );
    const out = buildExtractiveDoc(makeSite(`${ORIGIN}/index.html`), ps);
    expect(out.sections.map((s) => s.name)).toEqual(["Pages"]);
    expect(out.sections[0]?.links).toHaveLength(11);
  });

  it("keeps path sections on sites that have paths, whatever their pages link", () => {
    const { site: big, pages: many } = bigSite(200);
    const linked = many.map((p, i) => ({
      ...p,
      links: many.filter((_, j) => j !== i && (j % 7 === i % 7 || i === 0)).map((q) => q.url),
    }));
    const names = (d: LlmsDoc): string[] => d.sections.map((s) => s.name);
    expect(names(buildExtractiveDoc(big, linked))).toEqual(names(buildExtractiveDoc(big, many)));
    expect(names(buildExtractiveDoc(big, linked))).toContain("Getting started");
  });

  it("names sections after hub titles without their numbering", () => {
    expect(hubSectionName("Part II. The SQL Language")).toBe("The SQL Language");
    expect(hubSectionName("Chapter 4. SQL Syntax")).toBe("SQL Syntax");
    expect(hubSectionName("Appendix A. Error Codes")).toBe("Error Codes");
    expect(hubSectionName("12 Conditional Expressions")).toBe("Conditional Expressions");
    expect(hubSectionName("CLI reference")).toBe("CLI reference");
    expect(hubSectionName("Preface")).toBe("Preface");
  });
});

describe("crawling a flat manual", () => {
  let server: SiteServer;
  const extractor = createExtractor({ threads: 1, timeoutMs: 20_000 });
  const html = (title: string, body: string): string =>
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;
  const prose = (what: string): string =>
    `<p>${what} is explained on this page in plain words. It says what it is for, when to use it and how to start, with an example.</p><p>More about ${what}: the details a reader needs once the basics work, and the options that change how it behaves.</p>`;
  const navBar = '<div class="navheader"><a href="/index.html">Home</a></div>';
  const page = (title: string, body: string) => (_req: unknown, res: ServerResponse) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(html(title, `${navBar}${body}`));
  };
  const sections = ["disk-usage", "disk-full", "disk-quota", "disk-io"];

  beforeAll(async () => {
    server = await startSiteServer({
      "/index.html": page(
        "Example DB Documentation",
        `<h1>Example DB Documentation</h1>${prose("Example DB")}<ul><li><a href="/diskusage.html">Chapter 29. Monitoring Disk Usage</a></li><li><a href="/app.html">Dashboard</a></li><li><a href="/guide.html">Guide</a></li></ul>`,
      ),
      // A chapter page: a table of contents and almost no text of its own.
      "/diskusage.html": page(
        "Chapter 29. Monitoring Disk Usage",
        `<h1>Chapter 29. Monitoring Disk Usage</h1><dl>${sections.map((s, i) => `<dt><a href="/${s}.html">29.${i + 1}. ${s}</a></dt>`).join("")}</dl>`,
      ),
      ...Object.fromEntries(sections.map((s) => [`/${s}.html`, page(s, `<h1>${s}</h1>${prose(s)}`)])),
      "/guide.html": page("Guide", `<h1>Guide</h1>${prose("The guide")}`),
      // A JavaScript shell: nothing to read until a browser runs it.
      "/app.html": (_req, res) => {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        res.end(
          html(
            "Dashboard",
            '<div id="root"></div><noscript>Enable JavaScript.</noscript><script src="/app.js"></script>',
          ),
        );
      },
    });
  });
  afterAll(async () => {
    await server.close();
    await extractor.close();
  });

  it("flags the JavaScript shell as thin, not the table-of-contents page, and keeps each page's site links", async () => {
    const res = await crawlSite(resolveSite(`${server.origin}/index.html`), {
      limits: { maxPages: 50, maxDepth: 5, include: [], exclude: [] },
      fetch: testFetchSettings(),
      extractor,
    });
    const byPath = (p: string) => res.pages.find((x) => x.url === `${server.origin}${p}`);
    expect(byPath("/app.html")?.thin).toBe(true);
    expect(byPath("/diskusage.html")?.textLength).toBeLessThan(200);
    expect(byPath("/diskusage.html")?.thin).toBeUndefined();
    expect(byPath("/diskusage.html")?.links).toEqual([
      `${server.origin}/index.html`,
      ...sections.map((s) => `${server.origin}/${s}.html`),
    ]);
    const thinWarning = res.warnings.find((w) => w.includes("almost no readable text")) ?? "";
    expect(thinWarning).toContain("1 of");
    expect(thinWarning).toContain("/app.html");
    // The records (the result's page table) carry no links.
    expect(res.records.every((r) => !("links" in r))).toBe(true);
  });

  it("leaves the links out of the content runPipeline hands back to be stored", async () => {
    const res = await runPipeline(resolveSite(`${server.origin}/index.html`), {
      limits: { maxPages: 50, maxDepth: 5, include: [], exclude: [] },
      fetch: testFetchSettings(),
      extractor,
      provider: createExtractiveProvider(),
      llmAttempts: 1,
      fullMaxBytes: 1_000_000,
    });
    expect(res.content.length).toBeGreaterThan(5);
    expect(res.content.every((p) => p.links === undefined)).toBe(true);
    expect(res.llmsTxt).toContain(`${server.origin}/diskusage.html`);
  });
});
