import { diffLlmsDocs, isEmptyChange, summarizeChanges } from "../../src/pipeline/diff";

const v1 = `# Docs

> The docs.

## Guides

- [Install](https://x.test/install): how to install
- [Configure](https://x.test/configure)

## API

- [Client](https://x.test/api/client)
- [Server](https://x.test/api/server)
`;

describe("diffLlmsDocs / summarizeChanges", () => {
  test("identical files: no change", () => {
    const s = summarizeChanges(v1, v1);
    expect(isEmptyChange(s)).toBe(true);
    expect(s.text).toMatch(/no change to the index/);
  });

  test("sections and links added, removed, renamed, moved", () => {
    const v2 = `# Docs

> The docs.

## Tutorials

- [Install](https://x.test/install): how to install
- [Setup](https://x.test/configure)

## Reference

- [Client](https://x.test/api/client)
- [Server](https://x.test/api/server)
- [Errors](https://x.test/api/errors)

## Optional

- [Changelog](https://x.test/changelog)
`;
    const s = summarizeChanges(v1, v2);
    expect(s.sections.renamed).toEqual([
      { from: "Guides", to: "Tutorials" },
      { from: "API", to: "Reference" },
    ]);
    expect(s.sections.added).toEqual(["Optional"]);
    expect(s.sections.removed).toEqual([]);
    expect(s.links.added.map((l) => l.url)).toEqual(["https://x.test/api/errors", "https://x.test/changelog"]);
    expect(s.links.removed).toEqual([]);
    expect(s.links.renamed).toEqual([{ url: "https://x.test/configure", from: "Configure", to: "Setup" }]);
    expect(s.links.moved).toEqual([]); // moving with a renamed section is not a move
    expect(s.text).toBe("1 section added, 2 sections renamed, 2 links added, 1 link renamed");
  });

  test("a link removed and one moved between sections", () => {
    const a = {
      title: "T",
      sections: [
        {
          name: "A",
          links: [
            { title: "1", url: "u1" },
            { title: "2", url: "u2" },
            { title: "3", url: "u3" },
          ],
        },
        { name: "B", links: [{ title: "4", url: "u4" }] },
      ],
    };
    const b = {
      title: "T2",
      sections: [
        {
          name: "A",
          links: [
            { title: "1", url: "u1" },
            { title: "2", url: "u2" },
          ],
        },
        {
          name: "B",
          links: [
            { title: "4", url: "u4" },
            { title: "3", url: "u3" },
          ],
        },
      ],
    };
    const s = diffLlmsDocs(a, {
      ...b,
      sections: b.sections.map((x) => ({ ...x, links: x.links.filter((l) => l.url !== "u2" || x.name === "A") })),
    });
    expect(s.title).toEqual({ from: "T", to: "T2" });
    expect(s.links.moved).toEqual([{ url: "u3", from: "A", to: "B" }]);
    const removed = diffLlmsDocs(a, {
      title: "T",
      sections: [
        { name: "A", links: [{ title: "1", url: "u1" }] },
        { name: "B", links: [{ title: "4", url: "u4" }] },
      ],
    });
    expect(removed.links.removed.map((l) => l.url)).toEqual(["u2", "u3"]);
    expect(removed.sections).toEqual({ added: [], removed: [], renamed: [] });
  });

  test("the first version: everything is added", () => {
    const s = summarizeChanges(undefined, v1);
    expect(s.sections.added).toEqual(["Guides", "API"]);
    expect(s.links.added).toHaveLength(4);
  });
});
