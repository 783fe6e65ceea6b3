/*
 * Real documentation, cut small: a few pages of each generator's output (test/fixtures/sites/
 * shape-<kind>/, copied from Debian's doc packages), served on 127.0.0.1 and run through the
 * whole pipeline with the extractive provider. Each file must pass `ltx check` with no warnings
 * and read as its maintainer would write it: the project's name, a real summary, notes on the
 * links, sections from the site's own structure.
 */
import { createExtractor } from "../../src/pipeline/extract/extract";
import { createExtractiveProvider } from "../../src/pipeline/generate/extractive";
import { runPipeline } from "../../src/pipeline/index";
import { resolveSite } from "../../src/pipeline/site";
import { parseLlmsTxt } from "../../src/pipeline/validate/format";
import { checkLlmsTxt, type CheckReport } from "../../src/pipeline/validate/check";
import { type SiteServer, startSiteServer, testFetchSettings } from "../support/siteServer";

jest.setTimeout(60_000);

const extractor = createExtractor({ threads: 2, timeoutMs: 20_000 });
afterAll(() => extractor.close());

interface Generated {
  server: SiteServer;
  text: string;
  report: CheckReport;
  sections: { name: string; links: { title: string; url: string; notes?: string }[] }[];
}

async function generate(fixture: string, startPath: string): Promise<Generated> {
  const server = await startSiteServer({ site: fixture });
  try {
    const res = await runPipeline(resolveSite(`${server.origin}/${startPath}`), {
      limits: { maxPages: 200, maxDepth: 10, include: [], exclude: [] },
      fetch: testFetchSettings(),
      extractor,
      provider: createExtractiveProvider(),
      llmAttempts: 1,
      fullMaxBytes: 1_000_000,
    });
    const report = checkLlmsTxt(res.llmsTxt, { site: server.origin });
    if (process.env["SHAPES_DEBUG"]) process.stderr.write(`${res.llmsTxt}\n`);
    const parsed = parseLlmsTxt(res.llmsTxt);
    return { server, text: res.llmsTxt, report, sections: parsed.doc?.sections ?? [] };
  } finally {
    await server.close();
  }
}

const codes = (g: Generated): string[] => g.report.warnings.map((w) => `${w.code}: ${w.message}`);
const primary = (g: Generated) => g.sections.filter((s) => s.name !== "Optional");
const optionalUrls = (g: Generated): string[] =>
  g.sections.filter((s) => s.name === "Optional").flatMap((s) => s.links.map((l) => l.url));

describe("javadoc (package per directory, class-use/ and trees)", () => {
  let g: Generated;
  beforeAll(async () => {
    g = await generate("shape-javadoc", "index.html");
  });

  it("passes ltx check without warnings", () => {
    expect(codes(g)).toEqual([]);
    expect(g.report.notesShare).toBeGreaterThanOrEqual(0.9);
  });

  it("is named after the project, not the Overview page, and drops the shared title suffix", () => {
    expect(g.text.split("\n")[0]).toBe("# Lang");
    const names = g.sections.flatMap((s) => s.links.map((l) => l.title));
    expect(names.some((n) => n.includes("(Lang 2.6)"))).toBe(false);
  });

  it("groups classes by package, named as the package, and keeps generated listings in Optional", () => {
    expect(primary(g).map((s) => s.name)).toEqual(
      expect.arrayContaining(["org.apache.commons.lang", "org.apache.commons.lang.math"]),
    );
    const lang = g.sections.find((s) => s.name === "org.apache.commons.lang");
    expect(lang?.links.map((l) => l.title)).toEqual(expect.arrayContaining(["LocaleUtils", "SerializationUtils"]));
    // Trees stay in Optional; class-use/ and package-use pages, which only echo the package, go.
    const optional = optionalUrls(g);
    for (const listing of ["package-tree.html", "overview-tree.html"])
      expect(optional.some((u) => u.endsWith(listing))).toBe(true);
    const primaryUrls = primary(g).flatMap((s) => s.links.map((l) => l.url));
    expect(primaryUrls.filter((u) => /class-use|-tree|-use\.html|help-doc/.test(u))).toEqual([]);
    expect(g.text).not.toContain("class-use/CharRange.html");
  });
});

describe("GNU Texinfo (a page per node, Next/Previous/Up headers)", () => {
  let g: Generated;
  beforeAll(async () => {
    g = await generate("shape-texinfo", "index.html");
  });

  it("passes ltx check without warnings", () => {
    expect(codes(g)).toEqual([]);
    expect(g.report.notesShare).toBeGreaterThanOrEqual(0.9);
  });

  it("takes the manual's name from 'Top (…, for X version)' and the introduction's sentence as summary", () => {
    expect(g.text.split("\n")[0]).toBe("# Lexical Analysis With Flex");
    expect(g.text).toContain("> This manual describes flex, a tool for generating programs");
  });

  it("never uses a node header as a note", () => {
    const notes = g.sections.flatMap((s) => s.links.map((l) => l.notes ?? ""));
    expect(notes.filter((n) => /\b(Next|Previous|Up):/.test(n))).toEqual([]);
  });
});

describe("a single-page manual (a readme, a contents page, one long manual page)", () => {
  let g: Generated;
  beforeAll(async () => {
    g = await generate("shape-single-page", "readme.html");
  });

  it("passes ltx check without warnings", () => {
    expect(codes(g)).toEqual([]);
    expect(g.report.notesShare).toBeGreaterThanOrEqual(0.9);
  });

  it("makes the manual's parts the sections and its chapters links into the page, with notes from their text", () => {
    const names = primary(g).map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(["Introduction", "Basic Concepts", "The Language"]));
    const concepts = g.sections.find((s) => s.name === "Basic Concepts");
    expect(concepts?.links[0]).toMatchObject({
      title: "Values and Types",
      url: `${g.server.origin}/manual.html#2.1`,
      notes: expect.stringMatching(/^Lua is a dynamically typed language/),
    });
    expect(concepts?.links.map((l) => l.title)).toEqual(expect.arrayContaining(["Garbage Collection", "Coroutines"]));
    // Every chapter link is a place in the one fetched page, listed once.
    const chapterUrls = g.sections.flatMap((s) => s.links.map((l) => l.url)).filter((u) => u.includes("#"));
    expect(chapterUrls.length).toBeGreaterThanOrEqual(12);
    expect(new Set(chapterUrls).size).toBe(chapterUrls.length);
    expect(chapterUrls.every((u) => u.startsWith(`${g.server.origin}/manual.html#`))).toBe(true);
  });
});
