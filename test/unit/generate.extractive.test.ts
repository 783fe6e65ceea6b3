import { buildExtractiveDoc, createExtractiveProvider } from "../../src/pipeline/generate/extractive";
import { renderLlmsTxt } from "../../src/pipeline/render";
import type { LlmsDoc, Page, Site } from "../../src/pipeline/types";
import { validateLlmsTxt } from "../../src/pipeline/validate/format";
import { bigSite, makePage, makeSite } from "../support/pages";

function build(site: Site, pages: Page[]): { doc: LlmsDoc; text: string } {
  const doc = buildExtractiveDoc(site, pages);
  const text = renderLlmsTxt(doc);
  expect(validateLlmsTxt(text, { site, pageUrls: new Set(pages.map((p) => p.url)) })).toEqual([]);
  return { doc, text };
}

const linkUrls = (doc: LlmsDoc): string[] => doc.sections.flatMap((s) => s.links.map((l) => l.url));
const section = (doc: LlmsDoc, name: string) => doc.sections.find((s) => s.name === name);

describe("extractive provider", () => {
  const site = makeSite("https://acme.dev/");
  const u = (path: string): string => `https://acme.dev${path}`;
  const pages = [
    makePage(u("/"), {
      title: "Home | Acme",
      description: "Acme is a toolkit for fast widgets. It runs everywhere and costs nothing.",
    }),
    makePage(u("/getting-started/"), {
      title: "Getting started | Acme",
      description: "Install Acme and build your first widget in five minutes. Then read the guides.",
    }),
    makePage(u("/getting-started/install"), {
      title: "Install | Acme",
      description: `Install Acme with one command on Linux, macOS and Windows ${"and more ".repeat(30)}`,
    }),
    makePage(u("/api/"), { title: "API reference | Acme" }),
    makePage(u("/api/widgets/create/options"), { title: "createWidget options | Acme" }),
    makePage(u("/about"), { title: "About | Acme", description: "Who makes Acme." }),
    makePage(u("/changelog"), { title: "Changelog | Acme" }),
    makePage(u("/privacy"), { title: "Privacy policy | Acme" }),
    makePage(u("/blog/2024/hello"), { title: "Hello world | Acme" }),
  ];

  it("takes the title and summary from the start page", () => {
    const { doc, text } = build(site, pages);
    expect(doc.title).toBe("Acme");
    expect(doc.summary).toBe("Acme is a toolkit for fast widgets. It runs everywhere and costs nothing.");
    expect(text.startsWith("# Acme\n\n> Acme is a toolkit")).toBe(true);
  });

  it("makes sections from path segments with readable names, root pages first", () => {
    const { doc } = build(site, pages);
    expect(doc.sections.map((s) => s.name)).toEqual(["Pages", "Getting started", "API", "Optional"]);
    // The start page as "Home" with no note of its own is left out: the title and summary are it.
    expect(section(doc, "Pages")?.links.map((l) => l.title)).toEqual(["About"]);
    expect(section(doc, "Getting started")?.links.map((l) => l.url)).toEqual([
      u("/getting-started/"),
      u("/getting-started/install"),
    ]);
  });

  it("writes one link per page, titles without the site name, notes of one short sentence", () => {
    const { doc } = build(site, pages);
    expect(linkUrls(doc).sort()).toEqual(
      pages
        .slice(1)
        .map((p) => p.url)
        .sort(),
    );
    const start = section(doc, "Getting started")?.links[0];
    expect(start).toEqual({
      title: "Getting started",
      url: u("/getting-started/"),
      notes: "Install Acme and build your first widget in five minutes.",
    });
    const install = section(doc, "Getting started")?.links[1];
    expect(install?.notes?.length).toBeLessThanOrEqual(160);
    expect(install?.notes?.endsWith("…")).toBe(true);
    // The home page's description is already the summary: it has no link of its own.
    expect(linkUrls(doc)).not.toContain(u("/"));
  });

  it("puts changelog, legal, blog and deep reference pages under Optional, last", () => {
    const { doc } = build(site, pages);
    expect(doc.sections[doc.sections.length - 1]?.name).toBe("Optional");
    expect(section(doc, "Optional")?.links.map((l) => l.url)).toEqual([
      u("/changelog"),
      u("/privacy"),
      u("/api/widgets/create/options"),
      u("/blog/2024/hello"),
    ]);
    expect(section(doc, "Optional")?.links.map((l) => l.title)).toEqual([
      "Changelog",
      "Privacy policy",
      "createWidget options",
      "Hello world",
    ]);
  });

  it("puts a manual's copyright page under Optional and names a '<no title>' page by its file", () => {
    const ps = [
      makePage(u("/index.html"), { title: "Widgets manual", description: "Widgets make forms." }),
      makePage(u("/intro.html"), { title: "Introduction", description: "What widgets are." }),
      makePage(u("/usage.html"), { title: "Usage", description: "How to use widgets." }),
      makePage(u("/Copyright.html"), { title: "Copyright", description: "Permission is granted to copy this manual." }),
      makePage(u("/classical.html"), { title: "<no title>", description: "Classical mappings, kept for old code." }),
    ];
    const { doc } = build(site, ps);
    expect(section(doc, "Optional")?.links.map((l) => l.url)).toContain(u("/Copyright.html"));
    const titles = doc.sections.flatMap((s) => s.links.map((l) => l.title));
    expect(titles).not.toContain("<no title>");
    expect(titles).toContain("Classical");
  });

  it("cleans 'Welcome to' titles and replaces a description every page repeats with the page's first sentence", () => {
    const same = "The official site of Widgets Inc.";
    const ps = [
      makePage(u("/"), { title: "Welcome to Widgets Inc", description: same }),
      makePage(u("/a"), { title: "Alpha", description: same }),
      makePage(u("/b"), { title: "Beta", description: same }),
    ];
    const { doc } = build(site, ps);
    expect(doc.title).toBe("Widgets Inc");
    expect(doc.sections.flatMap((s) => s.links).map((l) => l.notes)).toEqual([
      "Alpha explains one part of the product in plain words.",
      "Beta explains one part of the product in plain words.",
    ]);
  });

  it("groups by what follows a path prefix and a shared version segment", () => {
    const prefixed = makeSite("https://example.com/docs/");
    const p = (path: string): string => `https://example.com/docs${path}`;
    const ps = [
      makePage(p("/en/latest/"), { title: "Overview — Foo Docs" }),
      makePage(p("/en/latest/user-guide/intro"), { title: "Intro — Foo Docs" }),
      makePage(p("/en/latest/cli_reference/run.html"), { title: "run — Foo Docs" }),
    ];
    const { doc } = build(prefixed, ps);
    expect(doc.title).toBe("Foo");
    expect(doc.sections.map((s) => s.name)).toEqual(["User guide", "CLI reference"]);
  });

  it("reads a flat manual well: shared title parts cut, notes from the text, indexes under Optional", () => {
    const m = makeSite("http://127.0.0.1:8080/");
    const p = (path: string): string => `http://127.0.0.1:8080${path}`;
    const chapter = (n: number, name: string, first: string) =>
      makePage(p(`/${name.replace(/ /g, "-")}.html`), {
        title: `${n} ${name} (zsh)`,
        description: `${n} ${name} (zsh)`,
        headings: [],
        markdown: `# ${n} ${name}\n\n\`\`\`\nzsh% echo code is not a note\n\`\`\`\n\n${first} More text follows here.`,
      });
    const ps = [
      makePage(p("/"), {
        title: "The Z Shell Manual (zsh)",
        description: "The Z Shell Manual (zsh)",
        markdown:
          "### Version 5.9\n\n**By Paul Falstad**\n\nThis is a texinfo version of the documentation for the Z Shell.",
      }),
      ...Array.from({ length: 60 }, (_, i) =>
        chapter(i + 1, `Topic ${i + 1}`, `Topic ${i + 1} explains one part of the shell in plain words.`),
      ),
      makePage(p("/Concept-Index.html"), { title: "Concept Index (zsh)", description: "", markdown: "A B C D E F G" }),
      makePage(p("/zsh_toc.html"), { title: "Table of Contents (zsh)", description: "", markdown: "- [1 Intro](x)" }),
      makePage(p("/esm.html"), {
        title: "ECMAScript modules (zsh)",
        description: "Import attributes are no longer experimental.",
        markdown:
          "| Version | Changes |\n| --- | --- |\n| v20 | Import attributes are no longer experimental. |\n\nECMAScript modules are the official standard format to package JavaScript code.",
      }),
      makePage(p("/cli.html"), { title: "line API (zsh)", headings: [{ level: 2, text: "Command-line API" }] }),
    ];
    const { doc } = build(m, ps);
    expect(doc.title).toBe("zsh");
    expect(doc.summary).toBe("This is a texinfo version of the documentation for the Z Shell.");
    const docs = doc.sections[0]!;
    // Up to 100 pages with nothing to rank them by: all of them stay in the one primary section.
    expect(docs.links).toHaveLength(63);
    expect(docs.links[0]).toEqual({ title: "The Z Shell Manual", url: p("/") });
    expect(docs.links[1]).toEqual({
      title: "1 Topic 1",
      url: p("/Topic-1.html"),
      notes: "Topic 1 explains one part of the shell in plain words.",
    });
    expect(docs.links.find((l) => l.url === p("/esm.html"))?.notes).toBe(
      "ECMAScript modules are the official standard format to package JavaScript code.",
    );
    expect(docs.links.find((l) => l.url === p("/cli.html"))?.title).toBe("Command-line API");
    expect(section(doc, "Optional")?.links).toEqual([
      { title: "Concept Index", url: p("/Concept-Index.html") },
      { title: "Table of Contents", url: p("/zsh_toc.html") },
    ]);
  });

  it("names the site after a prefix every title shares", () => {
    const v = makeSite("http://127.0.0.1:8080/");
    const ps = ["help", "motion", "usr_01", "usr_02"].map((n) =>
      makePage(`http://127.0.0.1:8080/${n === "help" ? "" : `${n}.html`}`, { title: `Vim documentation: ${n}` }),
    );
    const { doc } = build(v, ps);
    expect(doc.title).toBe("Vim");
    expect(doc.sections[0]?.links.map((l) => l.title)).toEqual(["help", "motion", "usr_01", "usr_02"]);
  });

  it("keeps a 1,000-page site readable: capped primary sections, the long tail under Optional", () => {
    const { site: big, pages: many } = bigSite(1000);
    const started = Date.now();
    const { doc, text } = build(big, many);
    expect(Date.now() - started).toBeLessThan(2000);
    const urls = linkUrls(doc);
    expect(urls).toHaveLength(999); // every page but the start page (the file's own title and summary)
    expect(new Set(urls).size).toBe(999);
    const primary = doc.sections.filter((s) => s.name !== "Optional");
    expect(primary.map((s) => s.name)).toEqual(["Getting started", "Guides", "Concepts", "API", "CLI", "Integrations"]);
    for (const s of primary) expect(s.links.length).toBeLessThanOrEqual(25);
    expect(primary.reduce((n, s) => n + s.links.length, 0)).toBeLessThanOrEqual(150);
    // The tail is grouped: all of a section's leftover pages sit together.
    const optional = section(doc, "Optional")?.links ?? [];
    const prefixes = optional.map((l) => new URL(l.url).pathname.split("/")[1]);
    const runs = prefixes.filter((p, i) => p !== prefixes[i - 1]);
    expect(new Set(runs).size).toBe(runs.length);
    expect(text.length).toBeLessThan(200_000);
  });

  it("needs no LLM and reports no usage", async () => {
    const out = await createExtractiveProvider().generate({ site, pages });
    expect(out.model).toBeNull();
    expect(out.usage).toEqual({ promptTokens: 0, completionTokens: 0, totalTokens: 0, requests: 0 });
  });
});
