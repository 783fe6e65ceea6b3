/*
 * A website for tests: serves test/fixtures/sites/<name>/ on 127.0.0.1:0 and logs every request,
 * so a test can assert what was (and was never) fetched.
 *
 * - Files: "/" and "/dir/" serve index.html; `{{origin}}` in text files becomes the server's origin
 *   (sitemaps and robots.txt need absolute URLs and the port is only known at listen time);
 *   "/x.gz" where only "x" exists is x gzipped on the fly (application/gzip, no Content-Encoding).
 * - Every file answers with an ETag and a Last-Modified, and honours If-None-Match /
 *   If-Modified-Since with 304 (for change-detection tests).
 * - `routes` (exact path, query ignored) take precedence over files; `handlers` builds common ones.
 *   The "broken" fixture gets its special routes (500, redirect loop, huge page…) automatically.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import { execFileSync } from "node:child_process";
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import type { FetchSettings } from "../../src/pipeline/types";

export type RouteHandler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  ctx: { origin: string; hits: number },
) => void;

export interface SiteServerOptions {
  /** A fixture name (test/fixtures/sites/<name>) or an absolute directory. */
  site?: string;
  routes?: Record<string, RouteHandler>;
  /** Extra headers on every file response. */
  headers?: Record<string, string>;
  /** Serve HTTPS with this key pair (see selfSignedCert). */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export interface RequestLogEntry {
  path: string;
  at: number;
  headers: http.IncomingHttpHeaders;
}

export interface SiteServer {
  /** "http://127.0.0.1:<port>/" */
  url: string;
  /** "http://127.0.0.1:<port>" */
  origin: string;
  port: number;
  /** Paths (with query) in the order they were requested. */
  requests: string[];
  log: RequestLogEntry[];
  close(): Promise<void>;
}

export const FIXTURES_DIR = path.resolve(__dirname, "../fixtures/sites");
const LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".xml": "application/xml",
  ".gz": "application/gzip",
  ".pdf": "application/pdf",
  ".png": "image/png",
  ".json": "application/json",
};

/** Builders for special routes. */
export const handlers = {
  status(code: number, body = `<html><body><h1>HTTP ${code}</h1></body></html>`): RouteHandler {
    return (_req, res) => {
      res.writeHead(code, { "content-type": "text/html; charset=utf-8" });
      res.end(body);
    };
  },
  redirect(to: string, code = 301): RouteHandler {
    return (_req, res, ctx) => {
      res.writeHead(code, { location: to.replace("{{origin}}", ctx.origin) });
      res.end();
    };
  },
  /** Answers after ms (or never, for ms = Infinity: the client must time out). */
  slow(ms: number, body = "<html><head><title>Slow</title></head><body><p>finally</p></body></html>"): RouteHandler {
    return (req, res) => {
      if (ms === Infinity) return; // hang: the connection closes when the client gives up
      const t = setTimeout(() => {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        res.end(body);
      }, ms);
      req.on("close", () => clearTimeout(t));
    };
  },
  /** A `bytes`-long HTML page, streamed; stops writing when the client hangs up. */
  huge(bytes: number): RouteHandler {
    return (req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": String(bytes) });
      const head = Buffer.from("<!DOCTYPE html><html><head><title>Huge page</title></head><body>");
      const para = Buffer.from(
        "<p>This paragraph repeats to make the page larger than any sensible byte cap.</p>\n".padEnd(1024, " "),
      );
      let sent = 0;
      let closed = false;
      req.on("close", () => (closed = true));
      res.on("close", () => (closed = true));
      const write = (): void => {
        while (!closed && sent < bytes) {
          const chunk = sent === 0 ? head : para;
          const piece = chunk.subarray(0, Math.min(chunk.length, bytes - sent));
          sent += piece.length;
          if (!res.write(piece)) return void res.once("drain", write);
        }
        if (!closed) res.end();
      };
      write();
    };
  },
  /** Fails `times` times with `code`, then serves `then`. */
  failFirst(times: number, then: RouteHandler, code = 500): RouteHandler {
    return (req, res, ctx) => (ctx.hits <= times ? handlers.status(code)(req, res, ctx) : then(req, res, ctx));
  },
  /** A body with Content-Encoding gzip. */
  gzipped(body: string, contentType = "text/html; charset=utf-8"): RouteHandler {
    return (_req, res) => {
      res.writeHead(200, { "content-type": contentType, "content-encoding": "gzip" });
      res.end(zlib.gzipSync(body));
    };
  },
  html(body: string, headers: Record<string, string> = {}): RouteHandler {
    return (_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", ...headers });
      res.end(body);
    };
  },
};

/** Special routes that belong to a fixture (generated, not stored: keeps fixtures small). */
function fixtureRoutes(name: string | undefined): Record<string, RouteHandler> {
  if (name !== "broken") return {};
  return {
    "/server-error.html": handlers.status(500),
    "/loop/a": handlers.redirect("/loop/b", 302),
    "/loop/b": handlers.redirect("/loop/a", 302),
    "/huge.html": handlers.huge(6 * 1024 * 1024), // above the default 5 MB cap
    "/old-guide.html": handlers.redirect("/guide.html", 301),
    // Another origin on the same loopback server: leaving the site without leaving 127.0.0.0/8.
    "/offsite.html": (req, res, ctx) =>
      handlers.redirect(`${ctx.origin.replace("127.0.0.1", "localhost")}/elsewhere.html`, 302)(req, res, ctx),
  };
}

function resolveDir(site: string): string {
  return path.isAbsolute(site) ? site : path.join(FIXTURES_DIR, site);
}

function fileFor(dir: string, urlPath: string): string | undefined {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (rel.endsWith("/")) rel += "index.html";
  const full = path.join(dir, rel);
  if (!full.startsWith(dir + path.sep)) return undefined; // no ../ escapes
  return full;
}

function serveFile(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  dir: string,
  urlPath: string,
  origin: string,
  extra: Record<string, string>,
): void {
  const full = fileFor(dir, urlPath);
  let body: Buffer | undefined;
  let ext = full ? path.extname(full) : "";
  if (full && fs.existsSync(full) && fs.statSync(full).isFile()) body = fs.readFileSync(full);
  else if (full?.endsWith(".gz") && fs.existsSync(full.slice(0, -3)))
    body = zlib.gzipSync(substitute(fs.readFileSync(full.slice(0, -3)), ".xml", origin));
  else if (full && fs.existsSync(full) && fs.statSync(full).isDirectory())
    return handlers.redirect(`${urlPath}/`)(req, res, { origin, hits: 0 });
  if (!body || !full) return handlers.status(404)(req, res, { origin, hits: 0 });
  if (!full.endsWith(".gz") || fs.existsSync(full)) body = substitute(body, ext, origin);
  ext = ext || ".html";
  const etag = `"${createHash("sha1").update(body).digest("hex").slice(0, 16)}"`;
  const headers = {
    "content-type": TYPES[ext] ?? "application/octet-stream",
    etag,
    "last-modified": LAST_MODIFIED,
    ...extra,
  };
  if (
    req.headers["if-none-match"] === etag ||
    (req.headers["if-none-match"] === undefined && req.headers["if-modified-since"] === LAST_MODIFIED)
  ) {
    res.writeHead(304, { etag, "last-modified": LAST_MODIFIED });
    return void res.end();
  }
  res.writeHead(200, { ...headers, "content-length": String(body.length) });
  res.end(body);
}

function substitute(body: Buffer, ext: string, origin: string): Buffer {
  if (![".html", ".md", ".txt", ".xml"].includes(ext)) return body;
  const text = body.toString("utf8");
  return text.includes("{{origin}}") ? Buffer.from(text.replaceAll("{{origin}}", origin)) : body;
}

function isRouteMap(x: SiteServerOptions | Record<string, RouteHandler>): x is Record<string, RouteHandler> {
  const values = Object.values(x);
  return values.length > 0 && values.every((v) => typeof v === "function");
}

/** Starts a server for a fixture name, a directory, options, or just a map of routes. */
export async function startSiteServer(
  source: string | SiteServerOptions | Record<string, RouteHandler>,
): Promise<SiteServer> {
  const opts: SiteServerOptions =
    typeof source === "string" ? { site: source } : isRouteMap(source) ? { routes: source } : source;
  const dir = opts.site !== undefined ? resolveDir(opts.site) : undefined;
  const routes = { ...fixtureRoutes(opts.site), ...opts.routes };
  const hits = new Map<string, number>();
  const log: RequestLogEntry[] = [];
  const requests: string[] = [];
  let origin = "";
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const target = req.url ?? "/";
    log.push({ path: target, at: Date.now(), headers: req.headers });
    requests.push(target);
    const urlPath = target.split("?")[0] ?? "/";
    const n = (hits.get(urlPath) ?? 0) + 1;
    hits.set(urlPath, n);
    const route = routes[urlPath];
    try {
      if (route) return route(req, res, { origin, hits: n });
      if (!dir) return handlers.status(404)(req, res, { origin, hits: n });
      serveFile(req, res, dir, urlPath, origin, opts.headers ?? {});
    } catch (e) {
      res.writeHead(500);
      res.end(String(e));
    }
  };
  const server = opts.tls ? https.createServer(opts.tls, onRequest) : http.createServer(onRequest);
  const sockets = new Set<Socket>();
  server.on(opts.tls ? "secureConnection" : "connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  origin = `${opts.tls ? "https" : "http"}://127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url: `${origin}/`,
    origin,
    port,
    requests,
    log,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive and hung (slow) connections would hold close() open.
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

/** Fetch settings for talking to test servers: short timeouts, small back-offs, the real User-Agent. */
export function testFetchSettings(over: Partial<FetchSettings> = {}): FetchSettings {
  return {
    userAgent: "ltx/0.0.0-test (+https://llmstxt.org; llms.txt generator)",
    connectTimeoutMs: 2000,
    timeoutMs: 5000,
    maxBytes: 1024 * 1024,
    maxRedirects: 5,
    perHostConcurrency: 4,
    retries: 2,
    acceptInvalidCerts: false,
    ...over,
  };
}

/** A throw-away self-signed certificate for 127.0.0.1/localhost (openssl), for HTTPS test servers. */
export function selfSignedCert(): { key: Buffer; cert: Buffer } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ltx-cert-"));
  try {
    const key = path.join(dir, "key.pem");
    const cert = path.join(dir, "cert.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-keyout",
        key,
        "-out",
        cert,
      ],
      { stdio: "ignore" },
    );
    return { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
