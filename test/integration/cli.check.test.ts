import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { CheckOutput } from "../../src/cli/checkOutput";
import { runCli, runCliInProcess } from "../support/runCli";
import { handlers, startSiteServer, type SiteServer } from "../support/siteServer";

const PAGE = (title: string): string => `<html><head><title>${title}</title></head><body><p>${title}</p></body></html>`;

/** A maintainer's llms.txt for the site at origin, with the given link lines. */
function llms(origin: string, links: string[]): string {
  return [
    "# Acme",
    "",
    "> Acme signs data so that it can be checked later.",
    "",
    "The guide and the API reference.",
    "",
    "## Guide",
    "",
    ...links.map((l) => l.replaceAll("{{origin}}", origin)),
    "",
  ].join("\n");
}

const GOOD_LINKS = [
  "- [Install](https://127.0.0.1/install.html): How to install Acme.",
  "- [Usage](https://127.0.0.1/usage.html): How to use Acme.",
];

describe("ltx check (the CLI, as a user runs it)", () => {
  let site: SiteServer;
  let other: SiteServer;
  let dir: string;

  beforeAll(async () => {
    other = await startSiteServer({ "/elsewhere.html": handlers.html(PAGE("Elsewhere")) });
    site = await startSiteServer({
      "/robots.txt": (_req, res) => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("User-agent: *\nDisallow: /private/\n");
      },
      "/install.html": handlers.html(PAGE("Install")),
      "/usage.html": handlers.html(PAGE("Usage")),
      "/old.html": handlers.redirect("{{origin}}/usage.html"),
      "/gone.html": handlers.status(404),
      "/llms.txt": (_req, res, ctx) => {
        res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
        res.end(
          llms(ctx.origin, [
            "- [Install]({{origin}}/install.html): How to install Acme.",
            "- [Usage]({{origin}}/usage.html#start): How to use Acme.",
          ]),
        );
      },
    });
    dir = await mkdtemp(path.join(os.tmpdir(), "ltx-check-"));
  });
  afterAll(async () => {
    await site.close();
    await other.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function file(name: string, text: string): Promise<string> {
    const p = path.join(dir, name);
    await writeFile(p, text);
    return p;
  }

  it("exits 0 on a valid file and prints the summary, score and counts", async () => {
    const run = await runCliInProcess(["check", await file("good.txt", llms("", GOOD_LINKS))]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/good\.txt: valid, 0 warnings, score 100\/100/);
    expect(run.stdout).toMatch(/2 links \(2 primary\) in 1 section \(1 primary\); notes on 100%/);
  });

  it("exits 1 on errors and names each with its line; warnings alone keep exit 0", async () => {
    const broken = llms("", [...GOOD_LINKS, "- [Paren](https://127.0.0.1/a_(b).html): A page."]);
    const bad = await runCliInProcess(["check", await file("bad.txt", broken)]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/line 11\s+error\s+paren-in-url/);

    const weak = llms("", ["- [Install](https://127.0.0.1/install.html)", "- [Usage](https://127.0.0.1/usage.html)"]);
    const warned = await runCliInProcess(["check", await file("weak.txt", weak), "--json"]);
    expect(warned.code).toBe(0);
    const out = JSON.parse(warned.stdout) as CheckOutput;
    expect(out.warnings).toEqual([expect.objectContaining({ code: "missing-notes", count: 2, lines: [9, 10] })]);
    expect(out).toMatchObject({ valid: true, notesShare: 0, site: "https://127.0.0.1/" });
  });

  it("exits quietly with its own code when stdout is closed early (`ltx check FILE | head`)", async () => {
    // Enough lines that the writes outlast the closed pipe; each link without a note is a warning line.
    const many = Array.from({ length: 2000 }, (_, i) => `- [Page ${i}](https://127.0.0.1/p${i}.html)`);
    const broken = [...many, "- [Paren](https://127.0.0.1/a_(b).html): A page."];
    const run = await runCli(["check", await file("long.txt", llms("", broken))], { closeStdout: true });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(1); // the file's errors still decide the exit code
  });

  it("exits 2 with one line on stderr for bad usage or an unreadable file", async () => {
    for (const args of [
      ["check"],
      ["check", "a.txt", "b.txt"],
      ["check", "--nope", "a.txt"],
      ["check", path.join(dir, "missing.txt")],
    ]) {
      const run = await runCliInProcess(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
      expect(run.stdout).toBe("");
    }
  });

  it("reads from a URL, taking the site from it", async () => {
    const run = await runCliInProcess(["check", `${site.origin}/llms.txt`, "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ valid: true, site: `${site.origin}/`, stats: { links: 2 } });
    const missing = await runCliInProcess(["check", `${site.origin}/nothing/llms.txt`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/answered HTTP 404/);
  });

  it("--links fetches each page once and reports non-2xx, redirects and off-site links, minding robots.txt", async () => {
    const text = llms(site.origin, [
      "- [Install]({{origin}}/install.html): How to install Acme.",
      "- [Usage]({{origin}}/usage.html#start): How to use Acme.",
      "- [Usage again]({{origin}}/usage.html#end): The end of the usage page.",
      "- [Old]({{origin}}/old.html): The old usage page.",
      "- [Gone]({{origin}}/gone.html): A page that was removed.",
      "- [Private]({{origin}}/private/x.html): Not for robots.",
      `- [Elsewhere](${other.origin}/elsewhere.html): A page of another site.`,
    ]);
    const before = site.requests.length;
    const run = await runCliInProcess([
      "check",
      await file("links.txt", text),
      "--site",
      site.url,
      "--links",
      "--json",
    ]);
    expect(run.code).toBe(1);
    const out = JSON.parse(run.stdout) as CheckOutput;
    const codes = out.links?.errors.map((e) => [e.line, e.code]);
    expect(codes).toEqual([
      [12, "link-redirect"],
      [13, "link-status"],
      [15, "link-off-site"],
    ]);
    expect(out.links).toMatchObject({ skipped: 1 });
    const asked = site.requests.slice(before);
    expect(asked.filter((p) => p === "/usage.html")).toHaveLength(2); // once itself, once as /old.html's target
    expect(asked).not.toContain("/private/x.html");
    expect(asked).toContain("/robots.txt");
    expect(other.requests).toContain("/elsewhere.html");

    const human = await runCliInProcess(["check", path.join(dir, "links.txt"), "--site", site.url, "--links"]);
    expect(human.stdout).toMatch(
      /links: 6 pages fetched; 1 not 2xx or unreachable, 1 redirected, 1 off the site, 1 not fetched \(robots\.txt\)/,
    );
  });

  it("--links keeps the address guard for hosts other than the file's own", async () => {
    // 127.0.0.2 is loopback too, but not the host the file is on: the guard refuses it before connecting.
    const text = llms(site.origin, [
      "- [Install]({{origin}}/install.html): How to install Acme.",
      `- [Internal](http://127.0.0.2:${site.port}/usage.html): Another host.`,
    ]);
    const run = await runCli(["check", await file("guard.txt", text), "--site", site.url, "--links", "--json"]);
    expect(run.code).toBe(1);
    const out = JSON.parse(run.stdout) as CheckOutput;
    expect(out.links?.errors).toEqual([
      expect.objectContaining({ line: 10, code: "link-off-site" }),
      expect.objectContaining({
        line: 10,
        code: "link-unreachable",
        message: expect.stringMatching(/refusing to fetch/),
      }),
    ]);
  });
});
