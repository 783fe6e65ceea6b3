/**
 * Sites that need a browser, rendered by Debian's chromium (/usr/bin/chromium, installed by
 * scripts/install-test-deps.sh) through the real pipeline: a client-rendered app, a Doxygen-like
 * manual whose menu exists only in a JS data file, a page that probes other loopback ports from
 * the browser, a static site that must not start a browser at all, and a browser killed with
 * SIGKILL in the middle of a page.
 *
 * Loopback only, even if the guard were broken: every server is on 127.0.0.1, dns.lookup is
 * stubbed for the file (test names answer 127.0.0.1, anything else is ENOTFOUND), and all of the
 * browser's traffic goes through ltx's proxy, which resolves through that stub.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createBrowserRenderer, type BrowserRenderer } from "../../src/browser/browserRenderer";
import { runPipeline } from "../../src/pipeline";
import { createExtractor } from "../../src/pipeline/extract/extract";
import { createProvider } from "../../src/pipeline/generate";
import type { Extractor, PipelineOptions, RenderMode } from "../../src/pipeline/types";
import { createAddressPolicy } from "../../src/security/addressPolicy";
import { installDnsStub } from "../support/dnsStub";
import { type SiteServer, startSiteServer, testFetchSettings } from "../support/siteServer";

const CHROMIUM = "/usr/bin/chromium";
let extractor: Extractor;
let renderer: BrowserRenderer;

function newRenderer(): BrowserRenderer {
  return createBrowserRenderer({
    executablePath: CHROMIUM,
    concurrency: 1,
    recyclePages: 100,
    maxOldSpaceMb: 256,
    pageTimeoutMs: 10_000,
    connectTimeoutMs: 2_000,
    maxHtmlBytes: 1024 * 1024,
  });
}

function options(
  mode: RenderMode,
  r: BrowserRenderer | undefined,
  over: Partial<PipelineOptions> = {},
): PipelineOptions {
  return {
    limits: { maxPages: 20, maxDepth: 5, include: [], exclude: [] },
    fetch: testFetchSettings({ retries: 0 }),
    extractor,
    provider: createProvider({
      provider: "extractive",
      apiKey: undefined,
      baseUrl: undefined,
      model: "none",
      tokenBudget: 12_000,
      timeoutMs: 10_000,
    }),
    llmAttempts: 1,
    fullMaxBytes: 10 * 1024 * 1024,
    jobMaxBytes: 50 * 1024 * 1024,
    render: { mode, maxPages: 20, ...(r ? { renderer: r } : {}) },
    ...over,
  };
}

beforeAll(() => {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run scripts/install-test-deps.sh (it installs Debian's chromium)`);
  installDnsStub({ "site.test": ["127.0.0.1"] });
  extractor = createExtractor({ threads: 1, timeoutMs: 20_000 });
  renderer = newRenderer();
});

afterAll(async () => {
  await renderer.close();
  await extractor.close();
  jest.restoreAllMocks();
});

describe("auto", () => {
  let site: SiteServer;
  afterEach(() => site.close());

  test("a static site starts no browser", async () => {
    site = await startSiteServer("crawl-only");
    const own = newRenderer();
    try {
      const result = await runPipeline(site.url, options("auto", own));
      expect(result.pages.filter((p) => !p.skipReason).length).toBeGreaterThan(3);
      expect(result.pages.some((p) => p.rendered)).toBe(false);
      expect(own.stats.launches).toBe(0);
    } finally {
      await own.close();
    }
  });

  test("a client-rendered app: content written by a script from JSON is read from the rendered DOM", async () => {
    site = await startSiteServer("spa");
    const result = await runPipeline(site.url, options("auto", renderer));
    const kept = result.pages.filter((p) => !p.skipReason);
    // Every route serves the same shell: only rendering tells them apart.
    expect(kept.map((p) => new URL(p.url).pathname).sort()).toEqual(["/", "/guide.html", "/reference.html"]);
    expect(kept.every((p) => p.rendered === true)).toBe(true);
    expect(result.llmsTxt).toMatch(/^# Lumen/m);
    expect(result.llmsTxt).toContain("re-renders only the views that read what changed");
    expect(result.llmsFullTxt).toContain("The persist helper writes a store to localStorage");
    expect(result.llmsFullTxt).toContain("view(element, render)");
    expect(result.llmsFullTxt).not.toContain("Lumen needs JavaScript");
  });

  test("the same app with --render never: shells only, no content", async () => {
    site = await startSiteServer("spa");
    await expect(runPipeline(site.url, options("never", renderer))).rejects.toMatchObject({ code: "NO_CONTENT" });
  });

  test("a Doxygen-like manual whose menu is built from menudata.js: the rendered start page gives the links", async () => {
    site = await startSiteServer("doxygen-js");
    const statically = await runPipeline(site.url, options("never", undefined));
    expect(statically.pages.filter((p) => !p.skipReason)).toHaveLength(1);

    const result = await runPipeline(site.url, options("auto", renderer));
    const kept = result.pages.filter((p) => !p.skipReason).map((p) => new URL(p.url).pathname);
    expect(kept).toEqual(
      expect.arrayContaining([
        "/",
        "/modules.html",
        "/group__encoder.html",
        "/group__decoder.html",
        "/group__ctl.html",
        "/annotated.html",
      ]),
    );
    expect(result.llmsTxt).toContain("(http://127.0.0.1:");
    expect(result.llmsTxt).toContain("group__decoder.html");
    // The pages themselves read fine as served: only the start page went through the browser.
    expect(site.requests.filter((p) => p === "/menudata.js").length).toBeGreaterThanOrEqual(1);
  });
});

describe("the browser's requests meet the SSRF guard", () => {
  let target: { port: number; log: string[]; close(): Promise<void> };
  let site: SiteServer;

  beforeAll(async () => {
    const log: string[] = [];
    const server = http.createServer((req, res) => {
      log.push(`${req.method} ${req.url}`);
      res.end("secret");
    });
    server.on("upgrade", (req, socket) => {
      log.push(`UPGRADE ${req.url}`);
      socket.destroy();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    target = {
      port,
      log,
      close: () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    };
    const t = `127.0.0.1:${port}`;
    const probe = `<!DOCTYPE html><html><head><title>Probe</title></head><body>
      <h1>A page that looks innocent</h1>
      <p>This page has ordinary text for the crawler to keep, and scripts that try to reach other services on the
      machine that renders it: an image, an iframe, a fetch, a WebSocket, an HTTP redirect and a scripted one.</p>
      <img src="http://${t}/img">
      <iframe src="http://${t}/iframe"></iframe>
      <script>
        fetch("http://${t}/fetch").catch(() => {});
        fetch("/go").catch(() => {});
        fetch("http://localhost:${port}/by-name").catch(() => {});
        try { new WebSocket("ws://${t}/ws"); } catch (e) {}
        setTimeout(() => { location.href = "http://${t}/redirect"; }, 300);
      </script></body></html>`;
    site = await startSiteServer({
      routes: {
        "/": (_q, res) => {
          res.writeHead(200, { "content-type": "text/html" });
          res.end(probe);
        },
        // An HTTP redirect from the site itself to the target: the browser follows it, through the proxy.
        "/go": (_q, res) => {
          res.writeHead(302, { location: `http://${t}/via-redirect` });
          res.end();
        },
      },
    });
  });
  afterAll(async () => {
    await site.close();
    await target.close();
  });

  test("fetch, img, iframe, websocket and redirects to another loopback port never reach it", async () => {
    // The service's policy: loopback refused, except the site's own name (CRAWL_ALLOW_HOSTS=site.test).
    const policy = createAddressPolicy({ allowPrivate: false, allowHosts: ["site.test"] });
    const url = `http://site.test:${site.port}/`;
    const result = await runPipeline(
      url,
      options("always", renderer, { fetch: testFetchSettings({ retries: 0, addressPolicy: policy }) }),
    );
    expect(target.log).toEqual([]);
    expect(site.requests).toContain("/go"); // the page did run: its own-origin request went through
    const blocked = result.warnings.find((w) => w.startsWith("the browser was refused"));
    expect(blocked).toBeDefined();
    expect(blocked).toContain(`http://127.0.0.1:${target.port}/img`);
    expect(blocked).toContain(`http://127.0.0.1:${target.port}/fetch`);
    expect(blocked).toContain(`http://127.0.0.1:${target.port}/iframe`);
    expect(blocked).toContain(`CONNECT 127.0.0.1:${target.port}`); // the WebSocket's tunnel
    expect(blocked).toContain(`127.0.0.1:${target.port}/via-redirect`);
    expect(blocked).toMatch(/loopback address/);
  });
});

describe("a browser killed mid-page", () => {
  let site: SiteServer;
  afterAll(() => site.close());

  test("kill -9 of chromium: the page is rendered again on a new browser and the run completes", async () => {
    const own = newRenderer();
    let killed = 0;
    const shell = `<!DOCTYPE html><html><head><title>Slow app</title></head><body><div id="app"></div><script>
      fetch("/data.json").then((r) => r.json()).then((d) => {
        document.getElementById("app").innerHTML = "<h1>" + d.title + "</h1><p>" + d.text + "</p>";
      });</script></body></html>`;
    site = await startSiteServer({
      routes: {
        "/": (_q, res) => {
          res.writeHead(200, { "content-type": "text/html" });
          res.end(shell);
        },
        "/data.json": (_q, res) => {
          if (killed === 0) {
            // The first time the page asks for its data, the browser dies: SIGKILL, no clean-up.
            for (const pid of chromiumChildren()) {
              process.kill(pid, "SIGKILL");
              killed++;
            }
            return; // never answered; the browser is gone
          }
          res.writeHead(200, { "content-type": "application/json" });
          res.end(
            JSON.stringify({
              title: "Survivor",
              text: "This text was written by the page's script on the second browser, after the first one was killed in the middle of rendering it, which shows the page was retried and not lost. A worker whose browser dies keeps running: the pool starts another one for the next page.",
            }),
          );
        },
      },
    });
    try {
      const result = await runPipeline(site.url, options("auto", own));
      expect(killed).toBeGreaterThan(0);
      expect(result.pages[0]?.rendered).toBe(true);
      expect(result.llmsFullTxt).toContain("written by the page's script on the second browser");
      expect(own.stats).toMatchObject({ launches: 2, crashes: 1 });
    } finally {
      await own.close();
    }
  });
});

/** The chromium browser processes this test process started (the pool's, not anyone else's). */
function chromiumChildren(): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
      if (m && m[1] === "chromium" && Number(m[2]) === process.pid) out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}
