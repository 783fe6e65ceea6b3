import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { resolveSite } from "../../src/pipeline/site";
import { validateLlmsTxt, parseLlmsTxt } from "../../src/pipeline/validate/format";
import type { PipelineResult } from "../../src/pipeline/types";
import { runCli, runCliInProcess } from "../support/runCli";
import { startSiteServer, type SiteServer } from "../support/siteServer";

describe("ltx generate (the CLI, as a user runs it)", () => {
  let site: SiteServer;
  let robots: SiteServer;
  let out: string;

  beforeAll(async () => {
    site = await startSiteServer("crawl-only");
    robots = await startSiteServer("robots");
    out = await mkdtemp(path.join(os.tmpdir(), "ltx-cli-"));
  });
  afterAll(async () => {
    await site.close();
    await robots.close();
    await rm(out, { recursive: true, force: true });
  });

  it("writes a valid llms.txt and llms-full.txt with --out", async () => {
    const run = await runCli(["generate", site.url, "--out", out]);
    expect(run.stderr).toMatch(/ltx: \d+ pages/);
    expect(run.code).toBe(0);
    const llms = await readFile(path.join(out, "llms.txt"), "utf8");
    const full = await readFile(path.join(out, "llms-full.txt"), "utf8");
    const { doc } = parseLlmsTxt(llms);
    const urls = doc!.sections.flatMap((s) => s.links.map((l) => l.url));
    expect(urls).toEqual(expect.arrayContaining([`${site.origin}/guide/install.html`, `${site.origin}/about.html`]));
    // every link is a fetched page of the site: the validator passes against the crawled set
    expect(validateLlmsTxt(llms, { site: resolveSite(site.url), pageUrls: new Set(urls) })).toEqual([]);
    for (const u of urls) expect(full).toContain(u);
    expect(run.stdout).toBe(""); // --out writes files, not stdout
  });

  it("prints llms.txt on stdout and the whole result with --json", async () => {
    const plain = await runCliInProcess(["generate", site.url, "--max-pages", "3"]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^# .+/);
    expect(parseLlmsTxt(plain.stdout).issues).toEqual([]);

    const json = await runCliInProcess(["generate", site.url, "--json", "--max-pages", "3"]);
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout) as PipelineResult;
    expect(result.provider).toBe("extractive");
    expect(result.pages.filter((p) => !p.skipReason)).toHaveLength(3);
    expect(result.llmsTxt).toBe(plain.stdout);
    expect(result.pages[0]).toMatchObject({ status: 200, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it("never requests what robots.txt disallows", async () => {
    const run = await runCliInProcess(["generate", robots.url, "--json"]);
    expect(run.code).toBe(0);
    expect(robots.requests.some((p) => p.startsWith("/private/") || p === "/drafts/unreleased.html")).toBe(false);
    expect(robots.requests).toContain("/robots.txt");
  });

  it.each([
    [["generate", "not a url"], 2, /invalid URL/],
    [["generate", "ftp://127.0.0.1/"], 2, /invalid URL/],
    [["generate"], 2, /missing <url>/],
    [["generate", "http://127.0.0.1:9/", "--max-pages", "ten"], 2, /--max-pages must be a whole number/],
    [["generate", "http://127.0.0.1:9/", "--provider", "magic"], 2, /--provider must be extractive or openai/],
    [["generate", "http://127.0.0.1:9/", "--bogus"], 2, /Unknown option '--bogus'/],
    [["frobnicate"], 2, /unknown command "frobnicate"/],
  ])("bad input %p → one line on stderr, exit %d", async (args, code, message) => {
    const run = await runCliInProcess(args);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stdout).toBe("");
  });

  it("an unreachable host fails with a clear line and exit 1", async () => {
    const run = await runCliInProcess(["generate", "http://127.0.0.1:9/"]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/127\.0\.0\.1:9/);
  });

  it("a start URL disallowed by robots.txt fails without being requested", async () => {
    const before = robots.requests.length;
    const run = await runCliInProcess(["generate", `${robots.origin}/private/`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/robots\.txt/);
    expect(robots.requests.slice(before).some((p) => p.startsWith("/private"))).toBe(false);
  });

  it("documents every option in --help", async () => {
    const top = await runCli(["--help"]);
    expect(top.code).toBe(0);
    for (const c of ["generate", "api", "worker", "start", "sites", "hash-password"]) expect(top.stdout).toContain(c);
    const help = await runCliInProcess(["generate", "--help"]);
    expect(help.code).toBe(0);
    for (const flag of [
      "--max-pages",
      "--max-depth",
      "--include",
      "--exclude",
      "--provider",
      "--model",
      "--out",
      "--json",
      "--no-private",
      "--llm-attempts",
      "--full-max-bytes",
    ]) {
      expect(help.stdout).toContain(flag);
    }
  });

  it("--no-private refuses a loopback site before any request reaches it", async () => {
    const before = site.requests.length;
    const run = await runCliInProcess(["generate", site.url, "--no-private"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/blocked|not allowed|private|loopback/i);
    expect(site.requests.length).toBe(before);
  });
});
