import { InputError, InvalidUrlError } from "../../src/lib/errors";
import {
  checkPatterns,
  inScope,
  matchesPatterns,
  normalizeUrl,
  resolveSite,
  tryNormalizeUrl,
} from "../../src/pipeline/site";

describe("resolveSite", () => {
  it.each([
    [
      "https://Docs.Example.com",
      {
        origin: "https://docs.example.com",
        prefix: "/",
        startUrl: "https://docs.example.com/",
        key: "docs.example.com",
      },
    ],
    [
      "https://h.example/docs/intro.html",
      {
        origin: "https://h.example",
        prefix: "/docs/",
        startUrl: "https://h.example/docs/intro.html",
        key: "h.example/docs",
      },
    ],
    [
      "https://h.example/docs",
      { origin: "https://h.example", prefix: "/docs/", startUrl: "https://h.example/docs", key: "h.example/docs" },
    ],
    [
      "https://h.example/docs/",
      { origin: "https://h.example", prefix: "/docs/", startUrl: "https://h.example/docs/", key: "h.example/docs" },
    ],
    [
      "http://127.0.0.1:8080/",
      { origin: "http://127.0.0.1:8080", prefix: "/", startUrl: "http://127.0.0.1:8080/", key: "127.0.0.1:8080" },
    ],
    [
      "https://example.com:443/a/b/#top",
      { origin: "https://example.com", prefix: "/a/b/", startUrl: "https://example.com/a/b/", key: "example.com/a/b" },
    ],
    [
      "  http://[::1]:3000/guide/index.html?utm_source=x ",
      {
        origin: "http://[::1]:3000",
        prefix: "/guide/",
        startUrl: "http://[::1]:3000/guide/index.html",
        key: "[::1]:3000/guide",
      },
    ],
  ])("%s", (input, expected) => {
    expect(resolveSite(input)).toEqual(expected);
  });

  it.each([
    "not a url",
    "example.com",
    "ftp://example.com/",
    "file:///etc/passwd",
    "gopher://127.0.0.1/",
    "javascript:alert(1)",
    "https://user:secret@example.com/",
    "",
  ])("refuses %j with InvalidUrlError", (input) => {
    expect(() => resolveSite(input)).toThrow(InvalidUrlError);
  });

  it("names the scheme it refuses", () => {
    expect(() => resolveSite("file:///etc/passwd")).toThrow(/only http and https.*not file/);
  });
});

describe("normalizeUrl", () => {
  it.each([
    ["https://EXAMPLE.com:443/a?b=2&a=1#frag", "https://example.com/a?a=1&b=2"],
    ["http://example.com:80", "http://example.com/"],
    [
      "https://example.com/p?utm_source=x&utm_medium=y&gclid=1&fbclid=2&mc_cid=3&ref=hn&id=7",
      "https://example.com/p?id=7",
    ],
    ["https://example.com/p?", "https://example.com/p"],
    ["https://example.com/docs/", "https://example.com/docs/"],
    ["https://example.com/docs", "https://example.com/docs"],
    ["https://example.com/docs/index.html", "https://example.com/docs/index.html"],
    ["http://2130706433/", "http://127.0.0.1/"],
    ["https://bücher.example/", "https://xn--bcher-kva.example/"],
    ["https://example.com/a?tag=b&tag=a", "https://example.com/a?tag=b&tag=a"],
  ])("%s → %s", (input, expected) => {
    expect(normalizeUrl(input)).toBe(expected);
  });

  it("resolves relative links against a base", () => {
    expect(normalizeUrl("../b.html#x", "https://example.com/docs/a/index.html")).toBe(
      "https://example.com/docs/b.html",
    );
  });

  it("is idempotent", () => {
    for (const u of ["https://example.com/a?z=1&utm_x=2&b=3#f", "http://127.0.0.1:9/x/"])
      expect(normalizeUrl(normalizeUrl(u))).toBe(normalizeUrl(u));
  });

  it("tryNormalizeUrl returns undefined for unusable links", () => {
    expect(tryNormalizeUrl("mailto:a@example.com")).toBeUndefined();
    expect(tryNormalizeUrl("http://")).toBeUndefined();
  });
});

describe("inScope", () => {
  const site = resolveSite("https://example.com/docs/intro.html");
  it.each([
    ["https://example.com/docs/", true],
    ["https://example.com/docs", true],
    ["https://example.com/docs/api/x.html", true],
    ["https://example.com/docsearch/", false],
    ["https://example.com/", false],
    ["http://example.com/docs/", false],
    ["https://other.example.com/docs/", false],
    ["https://example.com:8443/docs/", false],
  ])("%s → %s", (url, expected) => {
    expect(inScope(site, url)).toBe(expected);
  });
});

describe("matchesPatterns", () => {
  const u = "https://example.com/docs/api/users.html?v=2";
  it.each([
    [[], [], true],
    [["/docs/*"], [], true],
    [["/docs/"], [], true],
    [["/blog/*"], [], false],
    [["docs/api"], [], true],
    [["*.html$"], [], false], // the query follows .html
    [["*users.html?v=2$"], [], true],
    [["/\\/api\\//"], [], true],
    [["/USERS/i"], [], true],
    [["https://example.com/docs/*"], [], true],
    [[], ["*/api/*"], false],
    [["/docs/*"], ["/docs/api/*"], false],
    [[], ["/blog"], true],
  ])("include %j exclude %j → %s", (include, exclude, expected) => {
    expect(matchesPatterns(u, include, exclude)).toBe(expected);
  });

  it("rejects a bad regex up front", () => {
    expect(() => checkPatterns(["/(unclosed/"])).toThrow(InputError);
    expect(() => checkPatterns(["/docs/*", "/ok+/"])).not.toThrow();
  });
});
