import { buildExtractiveDoc, createExtractiveProvider } from "../../src/pipeline/generate/extractive";
import { renderLlmsTxt } from "../../src/pipeline/render";
import type { LlmsDoc, Page, Site } from "../../src/pipeline/types";
import { validateLlmsTxt } from "../../src/pipeline/validate";
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
    makePage(u("/"), { title: "Home | Acme", description: "Acme is a toolkit for fast widgets. It runs everywhere and costs nothing." }),
    makePage(u("/getting-started/"), { title: "Getting started | Acme", description: "Install Acme and build your first widget in five minutes. Then read the guides." }),
    makePage(u("/getting-started/install"), { title: "Install | Acme", description: `Install Acme with one command on Linux, macOS and Windows ${"and more ".repeat(30)}` }),
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
    expect(section(doc, "Pages")?.links.map((l) => l.title)).toEqual(["Home", "About"]);
    expect(section(doc, "Getting started")?.links.map((l) => l.url)).toEqual([u("/getting-started/"), u("/getting-started/install")]);
  });

  it("writes one link per page, titles without the site name, notes of one short sentence", () => {
    const { doc } = build(site, pages);
    expect(linkUrls(doc).sort()).toEqual(pages.map((p) => p.url).sort());
    const start = section(doc, "Getting started")?.links[0];
    expect(start).toEqual({ title: "Getting started", url: u("/getting-started/"), notes: "Install Acme and build your first widget in five minutes." });
    const install = section(doc, "Getting started")?.links[1];
    expect(install?.notes?.length).toBeLessThanOrEqual(160);
    expect(install?.notes?.endsWith("…")).toBe(true);
    // The home page's description is already the summary.
    expect(section(doc, "Pages")?.links[0]?.notes).toBeUndefined();
  });

  it("puts changelog, legal, blog and deep reference pages under Optional, last", () => {
    const { doc } = build(site, pages);
    expect(doc.sections[doc.sections.length - 1]?.name).toBe("Optional");
    expect(section(doc, "Optional")?.links.map((l) => l.url)).toEqual([u("/changelog"), u("/privacy"), u("/api/widgets/create/options"), u("/blog/2024/hello")]);
    expect(section(doc, "Optional")?.links.map((l) => l.title)).toEqual(["Changelog", "Privacy policy", "API: createWidget options", "Blog: Hello world"]);
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
    expect(doc.sections.flatMap((s) => s.links).map((l) => l.notes)).toEqual([undefined, "Alpha explains one part of the product in plain words.", "Beta explains one part of the product in plain words."]);
  });

  it("groups by what follows a path prefix and a shared version segment", () => {
    const prefixed = makeSite("https://example.com/docs/");
    const p = (path: string): string => `https://example.com/docs${path}`;
    const ps = [makePage(p("/en/latest/"), { title: "Overview — Foo Docs" }), makePage(p("/en/latest/user-guide/intro"), { title: "Intro — Foo Docs" }), makePage(p("/en/latest/cli_reference/run.html"), { title: "run — Foo Docs" })];
    const { doc } = build(prefixed, ps);
    expect(doc.title).toBe("Foo Docs");
    expect(doc.sections.map((s) => s.name)).toEqual(["Overview", "User guide", "CLI reference"]);
  });

  it("keeps a 1,000-page site readable: capped primary sections, the long tail under Optional", () => {
    const { site: big, pages: many } = bigSite(1000);
    const started = Date.now();
    const { doc, text } = build(big, many);
    expect(Date.now() - started).toBeLessThan(2000);
    const urls = linkUrls(doc);
    expect(urls).toHaveLength(1000);
    expect(new Set(urls).size).toBe(1000);
    const primary = doc.sections.filter((s) => s.name !== "Optional");
    expect(primary.map((s) => s.name)).toEqual(["Overview", "Getting started", "Guides", "Concepts", "API", "CLI", "Integrations"]);
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
