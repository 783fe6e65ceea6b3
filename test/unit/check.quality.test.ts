import { checkLlmsTxt, WARNING_CODES, type WarningCode } from "../../src/pipeline/validate/check";

const S = "https://docs.acme.dev";

/** A file a maintainer would publish: every detector stays quiet on it. */
function file(parts: { title?: string; summary?: string | null; sections?: Record<string, string[]> } = {}): string {
  const sections = parts.sections ?? {
    "Getting started": [
      `- [Install](${S}/install.html): How to install Acme with pip or from source.`,
      `- [Tutorial](${S}/tutorial/index.html): Build a first Acme app step by step.`,
    ],
    "API reference": [
      `- [Client](${S}/api/client.html): The Client class that opens sessions.`,
      `- [Errors](${S}/api/errors.html): Exceptions raised by the client and what they mean.`,
    ],
  };
  const summary = parts.summary === undefined ? "Acme is a Python library that signs and checks data." : parts.summary;
  return [
    `# ${parts.title ?? "Acme"}`,
    "",
    ...(summary === null ? [] : [`> ${summary}`, ""]),
    "Pages of the guide and the API reference.",
    "",
    ...Object.entries(sections).flatMap(([name, links]) => [`## ${name}`, "", ...links, ""]),
  ].join("\n");
}

function codes(text: string, site = S): WarningCode[] {
  return checkLlmsTxt(text, { site }).warnings.map((w) => w.code);
}

function links(n: number, make: (i: number) => string): string[] {
  return Array.from({ length: n }, (_, i) => make(i));
}

describe("checkLlmsTxt on a good file", () => {
  it("has no errors and no warnings, score 100, and counts the file's parts", () => {
    const r = checkLlmsTxt(file(), { site: S });
    expect(r).toMatchObject({ valid: true, errors: [], warnings: [], score: 100, notesShare: 1 });
    expect(r.stats).toEqual({ links: 4, primaryLinks: 4, sections: 2, primarySections: 2, notes: 4 });
  });

  it("lists exactly the ten warning classes", () => {
    expect(WARNING_CODES).toEqual([
      "generic-title",
      "unusable-summary",
      "missing-notes",
      "navigation-note",
      "repeated-note",
      "shared-affix",
      "slug-section",
      "mixed-language",
      "generated-listing",
      "duplicate-link",
    ]);
  });
});

describe("generic-title", () => {
  it.each([
    ["127.0.0.1:8080"],
    ["docs.acme.dev"],
    ["Overview (Acme API)"],
    ["Top (Acme)"],
    ["Main Page"],
    ["Acme Home Page"],
    ["Welcome to Acme"],
    ["Acme 2.1.4"],
    ["Acme documentation"],
  ])("fires on %p", (title) => {
    expect(codes(file({ title }))).toEqual(["generic-title"]);
  });

  it.each([["Acme"], ["SQLAlchemy"], ["Node.js"], ["The Lua Reference Manual"]])("stays quiet on %p", (title) => {
    expect(codes(file({ title }))).toEqual([]);
  });
});

describe("unusable-summary", () => {
  it.each([
    ["None"],
    ["github crates-io docs-rs"],
    ["Copyright © 2020 The Acme Authors. Permission is granted to copy this document."],
    ["Next: Intro, Up: Top [Contents][Index]"],
    ["Acme"],
  ])("fires on %p", (summary) => {
    expect(codes(file({ summary }))).toEqual(["unusable-summary"]);
  });

  it("fires when there is no summary, or when it is text the site repeats as notes", () => {
    const r = checkLlmsTxt(file({ summary: null }), { site: S });
    expect(r.warnings.map((w) => w.code)).toEqual(["unusable-summary"]);
    const shared = "Acme signs data so that it can be checked later.";
    const repeated = file({
      summary: shared,
      sections: {
        Guide: [`- [A](${S}/a.html): ${shared}`, `- [B](${S}/b.html): ${shared}`, `- [C](${S}/c.html): The C page.`],
      },
    });
    expect(codes(repeated)).toContain("unusable-summary");
  });

  it("stays quiet on the site's own sentence", () => {
    expect(codes(file({ summary: "Acme signs data so that it can be checked later." }))).toEqual([]);
  });
});

describe("missing-notes", () => {
  it("fires below 90% and reports the share", () => {
    const sections = {
      Guide: links(10, (i) => `- [Page ${i}](${S}/p${i}.html)${i < 8 ? `: What page ${i} is about.` : ""}`),
    };
    const r = checkLlmsTxt(file({ sections }), { site: S });
    expect(r.notesShare).toBeCloseTo(0.8);
    expect(r.warnings).toEqual([
      expect.objectContaining({ code: "missing-notes", count: 2, message: expect.stringContaining("80%") }),
    ]);
  });

  it("stays quiet at 90%", () => {
    const sections = {
      Guide: links(10, (i) => `- [Page ${i}](${S}/p${i}.html)${i < 9 ? `: What page ${i} is about.` : ""}`),
    };
    expect(codes(file({ sections }))).toEqual([]);
  });
});

describe("navigation-note", () => {
  it.each([
    ["Next: Fonts, Previous: Intro, Up: Conventions [Contents][Index]"],
    ["Home » Guide » Install"],
    ["Symbols | _ | A | B | C | D | E"],
    ["Skip to content"],
    ["Previous topic"],
    ["[Install](https://docs.acme.dev/install.html) [Tutorial](https://docs.acme.dev/t.html)"],
  ])("fires on %p", (note) => {
    const sections = { Guide: [`- [Install](${S}/install.html): ${note}`, `- [Use](${S}/use.html): How to use Acme.`] };
    expect(codes(file({ sections }))).toEqual(["navigation-note"]);
  });

  it("stays quiet on sentences that mention next or up", () => {
    const sections = {
      Guide: [
        `- [Install](${S}/install.html): Set up Acme, then read the next chapter.`,
        `- [Loops](${S}/loops.html): Counting up: for, while and repeat loops.`,
      ],
    };
    expect(codes(file({ sections }))).toEqual([]);
  });
});

describe("repeated-note", () => {
  it("fires when links share a note, or a note repeats the name", () => {
    const shared = {
      Guide: [
        `- [A](${S}/a.html): Acme documentation.`,
        `- [B](${S}/b.html): Acme documentation.`,
        `- [C](${S}/c.html): C.`,
      ],
    };
    const r = checkLlmsTxt(file({ sections: shared }), { site: S });
    expect(r.warnings).toEqual([expect.objectContaining({ code: "repeated-note", count: 3 })]);
  });

  it("stays quiet when each note is the page's own", () => {
    expect(codes(file())).toEqual([]);
  });
});

describe("shared-affix", () => {
  it("fires on a suffix half the names keep", () => {
    const sections = {
      Guide: links(
        6,
        (i) => `- [Page ${i}${i % 2 ? " — Acme 3.4.1 documentation" : ""}](${S}/p${i}.html): Page ${i} text.`,
      ),
    };
    expect(codes(file({ sections }))).toEqual(["shared-affix"]);
  });

  it("fires on a shared prefix", () => {
    const sections = { Guide: links(4, (i) => `- [Acme: Part ${i}](${S}/p${i}.html): About part ${i}.`) };
    expect(codes(file({ sections }))).toEqual(["shared-affix"]);
  });

  it("stays quiet on names that only share a word", () => {
    const sections = { Classes: links(4, (i) => `- [Class Widget${i}](${S}/w${i}.html): Widget number ${i}.`) };
    expect(codes(file({ sections }))).toEqual([]);
  });
});

describe("slug-section", () => {
  it.each([
    ["C3ref", "c3ref"],
    ["Org", "org"],
    ["De", "de"],
    ["user_guide", "guide"],
    ["Orm", "orm"],
  ])("fires on %p", (name, dir) => {
    const sections = { [name]: [`- [ORM quick start](${S}/${dir}/start.html): Begin with the ORM.`] };
    expect(codes(file({ sections }))).toEqual(["slug-section"]);
  });

  it("stays quiet on a heading the site writes itself, and on Optional", () => {
    const sections = {
      Tutorial: [`- [Tutorial - First steps](${S}/tutorial/first.html): The first steps.`],
      Optional: [`- [Changelog](${S}/optional/changes.html): What changed in each release.`],
    };
    expect(codes(file({ sections }))).toEqual([]);
  });
});

describe("mixed-language", () => {
  it("fires on parallel language trees", () => {
    const sections = {
      Guide: [
        `- [Install](${S}/en/install.html): How to install.`,
        `- [Usage](${S}/en/usage.html): How to use it.`,
        `- [Installation](${S}/de/install.html): Wie man installiert.`,
      ],
    };
    const r = checkLlmsTxt(file({ sections }), { site: S });
    expect(r.warnings).toEqual([expect.objectContaining({ code: "mixed-language", count: 1 })]);
  });

  it("fires on language file-name suffixes and on mixed scripts", () => {
    const suffixes = {
      Guide: [`- [User guide](${S}/user.en.html): The user's guide.`, `- [Guide](${S}/user.fr.html): Le guide.`],
    };
    expect(codes(file({ sections: suffixes }))).toEqual(["mixed-language"]);
    const scripts = {
      Guide: [
        `- [Install](${S}/install.html): How to install.`,
        `- [Usage](${S}/usage.html): How to use it.`,
        `- [インストール](${S}/ja1.html): インストールの方法。`,
        `- [使い方](${S}/ja2.html): 使い方の説明。`,
      ],
    };
    expect(codes(file({ sections: scripts }))).toEqual(["mixed-language"]);
  });

  it("stays quiet on one language tree", () => {
    const sections = {
      Guide: [`- [Install](${S}/en/install.html): How to install.`, `- [Usage](${S}/en/usage.html): How to use it.`],
    };
    expect(codes(file({ sections }))).toEqual([]);
  });
});

describe("generated-listing", () => {
  it.each([
    [`${S}/_modules/acme/core.html`, "acme.core"],
    [`${S}/org/acme/class-use/Client.html`, "Client"],
    [`${S}/overview-tree.html`, "Tree"],
    [`${S}/genindex.html`, "General Index"],
    [`${S}/node/Concept-Index.html`, "Concept Index"],
    [`${S}/client_8h_source.html`, "client.h"],
  ])("fires on %p as a primary link", (url, name) => {
    const sections = {
      Guide: [`- [${name}](${url}): A listing of things.`, `- [Use](${S}/use.html): How to use Acme.`],
    };
    expect(codes(file({ sections }))).toEqual(["generated-listing"]);
  });

  it("stays quiet when listings are under Optional", () => {
    const sections = {
      Guide: [`- [Use](${S}/use.html): How to use Acme.`],
      Optional: [`- [General Index](${S}/genindex.html): Every term of the manual, A to Z.`],
    };
    expect(codes(file({ sections }))).toEqual([]);
  });
});

describe("duplicate-link", () => {
  it("fires on the same page twice, also as dir/ and dir/index.html", () => {
    const sections = {
      Guide: [
        `- [Tutorial](${S}/tutorial/): The tutorial.`,
        `- [Tutorial start](${S}/tutorial/index.html): Where the tutorial begins.`,
      ],
    };
    expect(codes(file({ sections }))).toEqual(["duplicate-link"]);
  });

  it("stays quiet on chapters of one page (fragments)", () => {
    const sections = {
      Manual: [`- [Basics](${S}/manual.html#basics): Values and types.`, `- [API](${S}/manual.html#api): The C API.`],
    };
    expect(codes(file({ sections }))).toEqual([]);
  });
});

describe("score", () => {
  it("falls with each class and is 0 with errors", () => {
    const one = checkLlmsTxt(file({ title: "Main Page" }), { site: S }).score;
    const two = checkLlmsTxt(file({ title: "Main Page", summary: "None" }), { site: S }).score;
    expect(one).toBeLessThan(100);
    expect(two).toBeLessThan(one);
    expect(checkLlmsTxt("no title\n").score).toBe(0);
  });
});
