/*
 * Files our own parser reads one way and the spec's reference parser (AnswerDotAI llms_txt)
 * another way, or not at all. Each case's comment gives what that parser does with it, as seen
 * running its miniparse.parse_llms_txt.
 */
import { checkLlmsTxt } from "../../src/pipeline/validate/check";

const U = "https://docs.acme.dev";
const HEAD = "# Acme\n\n> Acme signs data.\n\nThe guide and the API.\n\n";

function errors(text: string): { code: string; line?: number }[] {
  return checkLlmsTxt(text).errors.map(({ code, line }) => ({ code, line }));
}

describe("errors of the reference parser's reading", () => {
  it("accepts a file both parsers read alike", () => {
    expect(errors(`${HEAD}## Guide\n\n- [Install](${U}/install.html): How to install.\n`)).toEqual([]);
  });

  it("an H3 inside a section (read as a section named '# Sub')", () => {
    expect(errors(`${HEAD}## Guide\n\n### Sub\n\n- [A](${U}/a.html)\n`)).toEqual([
      { code: "unexpected-heading", line: 9 },
    ]);
  });

  it("prose in a list section (the parse fails)", () => {
    expect(errors(`${HEAD}## Guide\n\nSee the pages below.\n- [A](${U}/a.html)\n`)).toEqual([
      { code: "prose-in-section", line: 9 },
    ]);
  });

  it("a ')' in a URL (the URL ends at it)", () => {
    expect(errors(`${HEAD}## Guide\n\n- [A](${U}/a_(b).html): A.\n- [B](${U}/b.html)\n`)).toEqual([
      { code: "paren-in-url", line: 9 },
    ]);
    expect(errors(`${HEAD}## Guide\n\n- [A](${U}/a_%28b%29.html): A.\n`)).toEqual([]);
  });

  it("a ']' in a link name, even escaped (the parse fails)", () => {
    expect(errors(`${HEAD}## Guide\n\n- [Array \\[\\] ops](${U}/a.html): A.\n`)).toEqual([
      { code: "bracket-in-name", line: 9 },
    ]);
  });

  it("a summary with nothing after it before the first section (read as body text)", () => {
    expect(errors(`# Acme\n\n> Acme signs data.\n\n## Guide\n\n- [A](${U}/a.html): A.\n`)).toEqual([
      { code: "summary-misread", line: 3 },
    ]);
  });

  it("a summary over two lines (only the first is the summary)", () => {
    expect(
      errors(`# Acme\n\n> Acme signs data\n> and checks it.\n\nText.\n\n## Guide\n\n- [A](${U}/a.html)\n`),
    ).toEqual([{ code: "multiline-summary", line: 4 }]);
  });

  it("a title alone before the first section (the parse fails)", () => {
    expect(errors(`# Acme\n\n## Guide\n\n- [A](${U}/a.html): A.\n`)).toEqual([{ code: "title-alone", line: 1 }]);
  });

  it("'##Name' without a space (a section for the reference parser, text for ours)", () => {
    expect(errors(`# Acme\n\n> Acme signs data.\n\n##Guide\n- [A](${U}/a.html)\n`).map((e) => e.code)).toContain(
      "heading-without-space",
    );
  });

  it("keeps the format validator's own errors", () => {
    expect(errors("Acme\n")).toEqual([{ code: "missing-h1", line: 1 }]);
    expect(errors(`${HEAD}## Guide\n\n- [A](/a.html)\n`)).toEqual([{ code: "link-not-absolute", line: 9 }]);
    expect(errors(`${HEAD}## Guide\n\n- [A](${U}/a)\n\n## Guide\n\n- [B](${U}/b)\n`)).toEqual([
      { code: "duplicate-section", line: 11 },
    ]);
  });
});
