import { renderLlmsTxt } from "../../src/pipeline/render";
import type { LlmsDoc } from "../../src/pipeline/types";
import { parseLlmsTxt, validateLlmsTxt } from "../../src/pipeline/validate/format";
import { makeSite } from "../support/pages";

const site = makeSite("https://docs.example.com/");
const pageUrls = new Set([
  "https://docs.example.com/",
  "https://docs.example.com/guide/install",
  "https://docs.example.com/guide/usage",
  "https://docs.example.com/changelog",
]);
const ctx = { site, pageUrls };

const GOOD = `# Acme

> Acme builds fast widgets.

Acme is open source. Read the guide first.

- It runs on Linux and macOS.

## Guide

- [Install](https://docs.example.com/guide/install): How to install Acme.
- [Usage](https://docs.example.com/guide/usage)

## Optional

- [Changelog](https://docs.example.com/changelog): Every release.
`;

function codes(text: string): string[] {
  return validateLlmsTxt(text, ctx).map((i) => i.code);
}

describe("parseLlmsTxt", () => {
  it("reads title, summary, prose, sections, links and notes", () => {
    const { doc, issues } = parseLlmsTxt(GOOD);
    expect(issues).toEqual([]);
    expect(doc?.title).toBe("Acme");
    expect(doc?.summary).toBe("Acme builds fast widgets.");
    expect(doc?.details).toBe("Acme is open source. Read the guide first.\n\n- It runs on Linux and macOS.");
    expect(doc?.sections.map((s) => s.name)).toEqual(["Guide", "Optional"]);
    expect(doc?.sections[0]?.links[0]).toMatchObject({
      title: "Install",
      url: "https://docs.example.com/guide/install",
      notes: "How to install Acme.",
    });
    expect(doc?.sections[0]?.links[1]?.notes).toBeUndefined();
  });

  it("returns no doc when the H1 is missing, and says where it is when it is late", () => {
    expect(parseLlmsTxt("## Guide\n\n- [A](https://docs.example.com/)\n")).toMatchObject({
      doc: null,
      issues: [{ code: "missing-h1", line: 1 }],
    });
    const late = parseLlmsTxt("Some text\n\n# Acme\n");
    expect(late.doc).toBeNull();
    expect(late.issues[0]).toMatchObject({ code: "h1-not-first", line: 1 });
    expect(late.issues[0]?.message).toContain("line 3");
  });
});

describe("validateLlmsTxt", () => {
  it("accepts a well-formed file whose links are all fetched pages", () => {
    expect(validateLlmsTxt(GOOD, ctx)).toEqual([]);
  });

  it("flags a second H1 and headings below H2 with their line numbers", () => {
    const text = GOOD.replace("## Optional", "### Optional").replace(
      "Acme is open source.",
      "# Again\nAcme is open source.",
    );
    const issues = validateLlmsTxt(text, ctx);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: "extra-h1", line: 5 }),
        expect.objectContaining({ code: "unexpected-heading", line: 15 }),
      ]),
    );
  });

  it("flags anything but link items inside a section", () => {
    const text = GOOD.replace(
      "- [Usage](https://docs.example.com/guide/usage)",
      "Usage is explained below.\n* [Usage](https://docs.example.com/guide/usage)",
    );
    const issues = validateLlmsTxt(text, ctx).filter((i) => i.code === "bad-list-item");
    expect(issues.map((i) => i.line)).toEqual([12, 13]);
    expect(issues[0]?.message).toContain("Usage is explained below.");
  });

  it("flags empty sections, duplicate sections and a file without sections", () => {
    expect(codes(`${GOOD}\n## Empty\n`)).toEqual(["empty-section"]);
    expect(codes(`${GOOD}\n## Guide\n\n- [Home](https://docs.example.com/)\n`)).toEqual(["duplicate-section"]);
    expect(codes("# Acme\n\n> Just a summary.\n")).toEqual(["no-sections"]);
  });

  it("flags a blockquote that is not right after the title", () => {
    expect(
      codes("# Acme\n\nProse first.\n\n> late summary\n\n## Docs\n\n- [Home](https://docs.example.com/)\n"),
    ).toEqual(["misplaced-blockquote"]);
  });

  it.each([
    ["relative", "/guide/install", "link-not-absolute"],
    ["another host", "https://evil.example.net/guide/install", "link-off-site"],
    ["another scheme", "mailto:team@example.com", "link-not-http"],
    ["http instead of https", "http://docs.example.com/guide/install", "link-off-site"],
    ["a page that was not fetched", "https://docs.example.com/guide/missing", "link-not-fetched"],
  ])("flags a link to %s", (_what, url, code) => {
    const text = GOOD.replace("https://docs.example.com/guide/usage", url);
    const issues = validateLlmsTxt(text, ctx);
    expect(issues).toEqual([expect.objectContaining({ code, line: 12 })]);
    expect(issues[0]?.message).toContain(url);
  });

  it("flags links outside the site's path prefix", () => {
    const prefixed = {
      site: makeSite("https://example.com/docs/"),
      pageUrls: new Set(["https://example.com/docs/", "https://example.com/blog/"]),
    };
    const text = "# Docs\n\n## Pages\n\n- [Docs](https://example.com/docs/)\n- [Blog](https://example.com/blog/)\n";
    expect(validateLlmsTxt(text, prefixed)).toEqual([expect.objectContaining({ code: "link-off-site", line: 6 })]);
  });

  it("flags a duplicate link and names the line of the first one", () => {
    const text = GOOD.replace("https://docs.example.com/changelog", "https://docs.example.com/guide/install");
    const issues = validateLlmsTxt(text, ctx);
    expect(issues).toEqual([expect.objectContaining({ code: "duplicate-link", line: 16 })]);
    expect(issues[0]?.message).toContain("line 11");
  });

  it("accepts what renderLlmsTxt makes of awkward titles, notes and URLs", () => {
    const url = "https://docs.example.com/guide/usage(v2)";
    const doc: LlmsDoc = {
      title: "Acme\n# Docs",
      summary: "Line one\nline two",
      details: "## Not a heading\n> not a quote",
      sections: [{ name: "## Guide", links: [{ title: "Use [it] \\ now\nplease", url, notes: "Note\nwith break" }] }],
    };
    const text = renderLlmsTxt(doc);
    expect(validateLlmsTxt(text, { site, pageUrls: new Set([url]) })).toEqual([]);
    const parsed = parseLlmsTxt(text).doc;
    expect(parsed?.title).toBe("Acme # Docs");
    expect(parsed?.sections[0]?.name).toBe("Guide");
    expect(parsed?.sections[0]?.links[0]).toMatchObject({ title: "Use (it) \\ now please", notes: "Note with break" });
  });
});
