import { InputError } from "../../src/lib/errors";
import { PATTERN_LIMITS, UrlPatterns, checkPatterns, patternProblem } from "../../src/pipeline/urlPatterns";

/** Runs fn and returns its wall time in ms. */
function timed(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

describe("UrlPatterns globs", () => {
  it.each([
    ["/docs/*", "https://e.com/docs/a.html", true],
    ["/docs/*", "https://e.com/blog/a.html", false],
    ["*.html$", "https://e.com/docs/a.html", true],
    ["*.html$", "https://e.com/docs/a.html?v=1", false],
    ["/a*b*c$", "https://e.com/aXbYc", true],
    ["/a*b*c$", "https://e.com/aXbYcZ", false],
    ["/a*a$", "https://e.com/a", false],
    ["/a*a$", "https://e.com/aa", true],
    ["/x*y", "https://e.com/x/y/z", true],
    ["api", "https://e.com/api/v1", true],
    ["https://e.com/docs/*", "https://e.com/docs/x", true],
    ["https://e.com/docs/*", "http://e.com/docs/x", false],
    // "?" and "." are literal in a glob
    ["/a?b", "https://e.com/aXb", false],
    ["/a.b", "https://e.com/aXb", false],
  ])("%s on %s → %s", (pattern, url, expected) => {
    expect(new UrlPatterns([pattern], []).matches(url)).toBe(expected);
  });

  it("matches a catastrophic glob against a long link in linear time", () => {
    // As a RegExp (^/a.*a.*…b) this backtracks exponentially: minutes for a 50-character path.
    const patterns = new UrlPatterns(["/a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"], []);
    const url = `https://e.com/${"a".repeat(1900)}`;
    let result = true;
    const ms = timed(() => {
      for (let i = 0; i < 1000; i++) result = patterns.matches(url);
    });
    expect(result).toBe(false);
    expect(ms).toBeLessThan(1000);
  });
});

describe("UrlPatterns regexes (RE2)", () => {
  it.each([
    ["/\\/api\\//", "https://e.com/docs/api/x", true],
    ["/USERS/i", "https://e.com/users", true],
    ["/USERS/", "https://e.com/users", false],
    ["/^https:\\/\\/e\\.com\\/(en|de)\\//", "https://e.com/de/x", true],
    ["/^https:\\/\\/e\\.com\\/(en|de)\\//", "https://e.com/fr/x", false],
  ])("%s on %s → %s", (pattern, url, expected) => {
    expect(new UrlPatterns([pattern], []).matches(url)).toBe(expected);
  });

  it("matches a nested-quantifier regex in linear time", () => {
    const patterns = new UrlPatterns(["/(a+)+b/", "/(a|aa)*z/"], []);
    const url = `https://e.com/${"a".repeat(1900)}`;
    const ms = timed(() => {
      for (let i = 0; i < 100; i++) patterns.matches(url);
    });
    expect(patterns.matches(url)).toBe(false);
    expect(ms).toBeLessThan(1000);
  });

  it("combines include and exclude lists of globs and regexes", () => {
    const p = new UrlPatterns(["/docs/*", "/\\/guide\\//i"], ["*.pdf$", "/draft/i"]);
    expect(p.matches("https://e.com/docs/a")).toBe(true);
    expect(p.matches("https://e.com/x/GUIDE/a")).toBe(true);
    expect(p.matches("https://e.com/docs/a.pdf")).toBe(false);
    expect(p.matches("https://e.com/docs/draft-1")).toBe(false);
    expect(p.matches("https://e.com/blog/a")).toBe(false);
  });

  it("never matches a URL longer than 2,048 characters", () => {
    expect(new UrlPatterns([], []).matches(`https://e.com/${"a".repeat(2100)}`)).toBe(false);
  });
});

describe("checkPatterns", () => {
  it.each([
    ["/(/", /missing closing \)/],
    ["/(a)\\1/", /invalid escape/],
    ["/(?=a)b/", /unsupported Perl syntax/],
    ["/a{2000}/", /invalid repeat count/],
    ["/[a-z]{300}/i", /too complex/],
    ["/x/q", /unsupported regex flag "q"/],
    ["x".repeat(PATTERN_LIMITS.maxLength + 1), /longer than 500/],
  ])("refuses %s", (pattern, message) => {
    expect(patternProblem(pattern)).toMatch(message);
    expect(() => checkPatterns([pattern])).toThrow(InputError);
  });

  it("accepts globs, paths and ordinary regexes", () => {
    expect(() =>
      checkPatterns(["/docs/*", "/docs/", "*.pdf$", "/ok+/", "/^https?:\\/\\/[^/]+\\/v\\d+\\//i"]),
    ).not.toThrow();
  });

  it("caps the number of patterns and their regexes' size together", () => {
    expect(() => checkPatterns(Array.from({ length: 51 }, (_, i) => `/p${i}/*`))).toThrow(/at most 50/);
    const big = Array.from({ length: 10 }, (_, i) => `/[a-z]{${100 + i}}x/`);
    expect(() => checkPatterns(big)).toThrow(/too complex together/);
  });

  it("is what a crawl's pattern set is built with", () => {
    expect(() => new UrlPatterns(["/(/"], [])).toThrow(InputError);
    expect(() => new UrlPatterns([], ["/(/"])).toThrow(/invalid exclude pattern/);
  });
});
