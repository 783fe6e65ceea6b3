import { composeFullTxt } from "../../src/pipeline/compose";
import { renderLlmsTxt } from "../../src/pipeline/render";
import type { LlmsDoc } from "../../src/pipeline/types";
import { makePage, makeSite } from "../support/pages";
import { checkLlmsTxt } from "../../src/pipeline/validate/check";

const site = makeSite("https://docs.example.com/");
const u = (path: string): string => `https://docs.example.com${path}`;

const doc: LlmsDoc = {
  title: "Acme",
  summary: "Acme builds fast widgets.",
  sections: [
    { name: "Optional", links: [{ title: "Changelog", url: u("/changelog") }] },
    {
      name: "Guide",
      links: [
        { title: "Install", url: u("/guide/install"), notes: "How to install." },
        { title: "Usage", url: u("/guide/usage") },
      ],
    },
    { name: "Empty", links: [] },
  ],
};

describe("renderLlmsTxt", () => {
  it("writes the format with Optional last and without empty sections", () => {
    expect(renderLlmsTxt(doc)).toBe(
      [
        "# Acme",
        "",
        "> Acme builds fast widgets.",
        "",
        "The pages are grouped under 2 headings: Guide and Optional.",
        "",
        "## Guide",
        "",
        "- [Install](https://docs.example.com/guide/install): How to install.",
        "- [Usage](https://docs.example.com/guide/usage)",
        "",
        "## Optional",
        "",
        "- [Changelog](https://docs.example.com/changelog)",
        "",
      ].join("\n"),
    );
  });

  it("is deterministic", () => {
    expect(renderLlmsTxt(structuredClone(doc))).toBe(renderLlmsTxt(doc));
  });

  it("writes what the spec's reference parser reads as meant: body text after the summary, no brackets in names", () => {
    const bare: LlmsDoc = {
      title: "Acme",
      sections: [
        { name: "Guide", links: [{ title: "Array [] operator", url: "https://docs.example.com/a", notes: "A." }] },
      ],
    };
    for (const d of [bare, { ...bare, summary: "Acme builds fast widgets." }]) {
      const text = renderLlmsTxt(d);
      expect(checkLlmsTxt(text).errors).toEqual([]);
      expect(text).toContain("- [Array () operator](https://docs.example.com/a): A.");
    }
    expect(renderLlmsTxt({ ...bare, details: "Read the guide first." })).not.toContain("grouped under");
  });
});

describe("composeFullTxt", () => {
  const pages = [
    makePage(u("/"), { title: "Home", markdown: "Welcome home." }),
    makePage(u("/changelog"), { title: "Changelog", markdown: "## 1.0\n\nFirst release." }),
    makePage(u("/guide/usage"), { title: "Usage", markdown: "Use it — ünïcödé text." }),
    makePage(u("/guide/install"), { title: "Install", markdown: "Run the installer." }),
  ];

  it("puts every page under a title and Source header, in llms.txt link order, then the unlinked pages", () => {
    const { text, omitted, warnings } = composeFullTxt(doc, pages, { maxBytes: 1_000_000, site });
    expect(omitted).toEqual([]);
    expect(warnings).toEqual([]);
    expect(
      text.startsWith(
        "# Acme\n\n> Acme builds fast widgets.\n\nSource: https://docs.example.com/\n\n---\n\n# Install\n\nSource: https://docs.example.com/guide/install\n\nRun the installer.",
      ),
    ).toBe(true);
    const order = [...text.matchAll(/^Source: (.+)$/gm)].map((m) => m[1]);
    expect(order).toEqual([u("/"), u("/guide/install"), u("/guide/usage"), u("/changelog"), u("/")]);
  });

  it("leaves whole pages out to stay under the byte budget and names them", () => {
    // 3,000 characters but 6,000 bytes: a budget counted in characters would wrongly let it in.
    const big = makePage(u("/guide/usage"), { title: "Usage", markdown: `${"é".repeat(3000)} END-OF-USAGE` });
    const all = [pages[0]!, pages[1]!, big, pages[3]!];
    const full = composeFullTxt(doc, all, { maxBytes: 1_000_000, site }).text;
    expect(Buffer.byteLength(full, "utf8")).toBeGreaterThan(4000);

    const { text, omitted, warnings } = composeFullTxt(doc, all, { maxBytes: 4000, site });
    expect(Buffer.byteLength(text, "utf8")).toBeLessThanOrEqual(4000);
    expect(omitted).toEqual([u("/guide/usage")]);
    expect(text).not.toContain("éé");
    // The pages after the one that didn't fit still made it.
    expect(text).toContain("First release.");
    expect(text).toContain("Welcome home.");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(u("/guide/usage"));
    expect(warnings[0]).toContain("4000 bytes");
  });

  it("never cuts a page: each page is either whole or absent", () => {
    for (const maxBytes of [150, 300, 450, 600]) {
      const { text, omitted } = composeFullTxt(doc, pages, { maxBytes, site });
      expect(Buffer.byteLength(text, "utf8")).toBeLessThanOrEqual(maxBytes);
      for (const page of pages.slice(1)) expect(text.includes(page.markdown)).toBe(!omitted.includes(page.url));
    }
  });
});
