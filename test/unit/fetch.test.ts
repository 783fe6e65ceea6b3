import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { AbortedError, BlockedAddressError, FetchError, InvalidUrlError } from "../../src/lib/errors";
import { fetchPage } from "../../src/pipeline/fetch/fetch";
import { HostLimiter } from "../../src/pipeline/fetch/hostLimiter";
import type { AddressPolicy } from "../../src/pipeline/types";
import { type SiteServer, handlers, selfSignedCert, startSiteServer, testFetchSettings } from "../support/siteServer";

let broken: SiteServer;
let special: SiteServer;
beforeAll(async () => {
  broken = await startSiteServer("broken");
  special = await startSiteServer({
    routes: {
      "/r1": handlers.redirect("/r2"),
      "/r2": handlers.redirect("/r3"),
      "/r3": handlers.redirect("/r4"),
      "/r4": handlers.html("<p>end of the chain</p>"),
      "/flaky": handlers.failFirst(1, handlers.html("<p>second time lucky</p>"), 503),
      "/gone": handlers.status(404),
      "/hang": handlers.slow(Infinity),
      "/gzip": handlers.gzipped("<p>gzip body</p>"),
      "/br": (_req, res) => {
        res.writeHead(200, { "content-type": "text/html", "content-encoding": "br" });
        res.end(zlib.brotliCompressSync("<p>brotli body</p>"));
      },
      "/deflate": (_req, res) => {
        res.writeHead(200, { "content-type": "text/html", "content-encoding": "deflate" });
        res.end(zlib.deflateSync("<p>deflate body</p>"));
      },
      "/latin1-header": (_req, res) => {
        res.writeHead(200, { "content-type": "text/html; charset=windows-1252" });
        res.end(Buffer.from("<p>caf\xe9</p>", "latin1"));
      },
      "/latin1-meta": (_req, res) => {
        res.writeHead(200, { "content-type": "text/html" });
        res.end(Buffer.from('<html><head><meta charset="iso-8859-1"></head><body>na\xefve</body></html>', "latin1"));
      },
      "/to-file": handlers.redirect("file:///etc/passwd", 302),
    },
  });
});
afterAll(async () => {
  await broken.close();
  await special.close();
});

describe("fetchPage", () => {
  it("records final URL, status, validators, hash and sends our User-Agent", async () => {
    const before = broken.log.length;
    const page = await fetchPage(`${broken.origin}/guide.html`, testFetchSettings());
    expect(page).toMatchObject({
      status: 200,
      finalUrl: `${broken.origin}/guide.html`,
      contentType: "text/html",
      truncated: false,
    });
    expect(page.etag).toMatch(/^".+"$/);
    expect(page.lastModified).toBe("Wed, 01 Jan 2025 00:00:00 GMT");
    expect(page.hash).toBe(
      createHash("sha256")
        .update(fs.readFileSync(path.join(__dirname, "../fixtures/sites/broken/guide.html")))
        .digest("hex"),
    );
    expect(page.body).toContain("<h2>Authentication</h2>");
    expect(broken.log[before]?.headers["user-agent"]).toMatch(/^ltx\//);
  });

  it("stops reading at the byte cap and hangs up", async () => {
    const page = await fetchPage(`${broken.origin}/huge.html`, testFetchSettings({ maxBytes: 64 * 1024 }));
    expect(page.truncated).toBe(true);
    expect(page.bytes).toBe(64 * 1024);
    expect(page.body.length).toBeLessThanOrEqual(64 * 1024);
    // The connection was closed, not drained: the same server still answers at once.
    expect((await fetchPage(`${broken.origin}/guide.html`, testFetchSettings())).status).toBe(200);
  });

  it("follows redirects and reports the final URL", async () => {
    const page = await fetchPage(`${broken.origin}/old-guide.html`, testFetchSettings());
    expect(page.finalUrl).toBe(`${broken.origin}/guide.html`);
    expect(page.status).toBe(200);
  });

  it("stops a redirect loop without requesting it again", async () => {
    const before = broken.requests.length;
    await expect(fetchPage(`${broken.origin}/loop/a`, testFetchSettings())).rejects.toThrow(/redirect loop/);
    expect(broken.requests.slice(before)).toEqual(["/loop/a", "/loop/b"]);
  });

  it("stops after maxRedirects hops", async () => {
    const err = await fetchPage(`${special.origin}/r1`, testFetchSettings({ maxRedirects: 2 })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FetchError);
    expect((err as FetchError).retryable).toBe(false);
    expect(special.requests.filter((p) => /^\/r\d$/.test(p))).toEqual(["/r1", "/r2", "/r3"]);
  });

  it("retries 5xx a bounded number of times, then returns the status", async () => {
    const before = broken.requests.length;
    const page = await fetchPage(`${broken.origin}/server-error.html`, testFetchSettings({ retries: 2 }));
    expect(page.status).toBe(500);
    expect(broken.requests.slice(before)).toEqual(["/server-error.html", "/server-error.html", "/server-error.html"]);
  });

  it("a transient 503 succeeds on retry; a 404 is not retried", async () => {
    expect((await fetchPage(`${special.origin}/flaky`, testFetchSettings())).status).toBe(200);
    expect(special.requests.filter((p) => p === "/flaky")).toHaveLength(2);
    expect((await fetchPage(`${special.origin}/gone`, testFetchSettings())).status).toBe(404);
    expect(special.requests.filter((p) => p === "/gone")).toHaveLength(1);
  });

  it("times out a server that never answers", async () => {
    const started = Date.now();
    await expect(
      fetchPage(`${special.origin}/hang`, testFetchSettings({ timeoutMs: 300, retries: 1 })),
    ).rejects.toThrow(/timed out after 300 ms/);
    expect(special.requests.filter((p) => p === "/hang")).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(10_000); // generous: the test machine may be busy
  });

  it("says clearly when nothing listens", async () => {
    await expect(fetchPage("http://127.0.0.1:9/", testFetchSettings({ retries: 0 }))).rejects.toThrow(
      "could not connect to 127.0.0.1:9: ECONNREFUSED",
    );
  });

  it.each([
    ["/gzip", "gzip body"],
    ["/br", "brotli body"],
    ["/deflate", "deflate body"],
  ])("decodes %s", async (p, text) => {
    const page = await fetchPage(`${special.origin}${p}`, testFetchSettings());
    expect(page.body).toBe(`<p>${text}</p>`);
    expect(page.hash).toBe(createHash("sha256").update(`<p>${text}</p>`).digest("hex"));
  });

  it("decodes the charset from the header or from <meta>", async () => {
    expect((await fetchPage(`${special.origin}/latin1-header`, testFetchSettings())).body).toBe("<p>café</p>");
    expect((await fetchPage(`${special.origin}/latin1-meta`, testFetchSettings())).body).toContain("naïve");
  });

  it("answers a conditional request's 304 as notModified", async () => {
    const first = await fetchPage(`${broken.origin}/reference.html`, testFetchSettings());
    const second = await fetchPage(`${broken.origin}/reference.html`, testFetchSettings(), {
      conditional: { etag: first.etag, lastModified: first.lastModified },
    });
    expect(second).toMatchObject({ status: 304, notModified: true, body: "" });
    expect(broken.log[broken.log.length - 1]?.headers["if-none-match"]).toBe(first.etag);
  });

  it("does not download bodies the caller does not want", async () => {
    const page = await fetchPage(`${broken.origin}/fernwood-api.pdf`, testFetchSettings(), {
      wantBody: (ct) => ct.startsWith("text/"),
    });
    expect(page).toMatchObject({ status: 200, contentType: "application/pdf", bytes: 0, body: "" });
  });

  it("refuses other schemes without a request, also as a redirect target", async () => {
    await expect(fetchPage("file:///etc/passwd", testFetchSettings())).rejects.toThrow(InvalidUrlError);
    await expect(fetchPage("gopher://127.0.0.1:70/", testFetchSettings())).rejects.toThrow(InvalidUrlError);
    await expect(fetchPage(`${special.origin}/to-file`, testFetchSettings())).rejects.toThrow(BlockedAddressError);
  });

  it("aborts through the signal", async () => {
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 100);
    await expect(fetchPage(`${special.origin}/hang`, testFetchSettings(), { signal: ctl.signal })).rejects.toThrow(
      AbortedError,
    );
  });
});

describe("addressPolicy", () => {
  const refuseLoopback: AddressPolicy = (address) => {
    if (address === "127.0.0.1" || address === "::1" || address.startsWith("127."))
      throw new BlockedAddressError(`${address} is a loopback address`);
  };

  it.each(["127.0.0.1", "localhost", "2130706433", "127.1"])(
    "refuses %s before any request reaches the server",
    async (host) => {
      const server = await startSiteServer("broken");
      try {
        const err = await fetchPage(
          `http://${host}:${server.port}/guide.html`,
          testFetchSettings({ addressPolicy: refuseLoopback }),
        ).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(BlockedAddressError);
        expect(server.requests).toEqual([]);
      } finally {
        await server.close();
      }
    },
  );

  it("sees every resolved address with the hostname, at connect time", async () => {
    const seen: string[] = [];
    await fetchPage(
      `http://localhost:${broken.port}/guide.html`,
      testFetchSettings({ addressPolicy: (a, h) => void seen.push(`${h}=${a}`) }),
    );
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s === "localhost=127.0.0.1" || s === "localhost=::1")).toBe(true);
  });

  it("is applied again on a redirect hop", async () => {
    const target = await startSiteServer("broken");
    const origin = await startSiteServer({
      "/go": handlers.redirect(`http://localhost:${target.port}/guide.html`, 302),
    });
    try {
      // Allows 127.0.0.1 by name; refuses the same address when reached through "localhost".
      const policy: AddressPolicy = (_a, hostname) => {
        if (hostname === "localhost") throw new BlockedAddressError("localhost is not allowed");
      };
      await expect(fetchPage(`${origin.origin}/go`, testFetchSettings({ addressPolicy: policy }))).rejects.toThrow(
        BlockedAddressError,
      );
      expect(origin.requests).toEqual(["/go"]);
      expect(target.requests).toEqual([]);
    } finally {
      await origin.close();
      await target.close();
    }
  });
});

describe("TLS", () => {
  it("refuses a self-signed certificate unless acceptInvalidCerts", async () => {
    const server = await startSiteServer({ site: "broken", tls: selfSignedCert() });
    try {
      await expect(fetchPage(`${server.origin}/guide.html`, testFetchSettings({ retries: 0 }))).rejects.toThrow(
        /TLS error/,
      );
      const page = await fetchPage(`${server.origin}/guide.html`, testFetchSettings({ acceptInvalidCerts: true }));
      expect(page.body).toContain("<h2>Authentication</h2>");
    } finally {
      await server.close();
    }
  });
});

describe("HostLimiter", () => {
  it("caps concurrent work per host", async () => {
    const limiter = new HostLimiter(2);
    let active = 0;
    let peak = 0;
    const job = (): Promise<void> =>
      limiter.run("h", async () => {
        peak = Math.max(peak, ++active);
        await new Promise((r) => setTimeout(r, 20));
        active--;
      });
    await Promise.all([job(), job(), job(), job(), job(), limiter.run("other", async () => undefined)]);
    expect(peak).toBe(2);
  });

  it("spaces starts by the crawl delay, one at a time", async () => {
    const limiter = new HostLimiter(4, 150);
    const starts: number[] = [];
    await Promise.all([1, 2, 3].map(() => limiter.run("h", async () => void starts.push(Date.now()))));
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(140);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(140);
  });

  it("drops an aborted waiter", async () => {
    const limiter = new HostLimiter(1);
    const ctl = new AbortController();
    let release!: () => void;
    const first = limiter.run("h", () => new Promise<void>((r) => (release = r)));
    const second = limiter.run("h", async () => "ran", ctl.signal);
    ctl.abort();
    await expect(second).rejects.toThrow(AbortedError);
    release();
    await first;
  });
});
