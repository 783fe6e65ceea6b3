/**
 * Serves one documentation root on 127.0.0.1 (a free port), as a plain static host would:
 * files by path, a directory's index.html, a redirect to the slash for a directory, 404 else, and
 * a generated /sitemap.xml (the root's own sitemap.xml is shadowed: Debian ships some with the
 * upstream's public URLs in them, which must never be handed to a crawler).
 *
 * Only files whose real path is inside the root are served: symlinks out of the tree (theme
 * assets into /usr/share/javascript) answer 404, like a host that does not follow them.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { isInside, listHtmlPages, sitemapXml } from "./sitemap";

export interface StaticSite {
  /** http://127.0.0.1:PORT */
  origin: string;
  /** Number of HTML pages in the sitemap. */
  pages: number;
  /** Requests answered, by status class ("2xx", "3xx", "4xx"). */
  requests: Record<string, number>;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  ".html": "text/html",
  ".htm": "text/html",
  ".css": "text/css",
  ".js": "text/javascript",
  ".json": "application/json",
  ".png": "image/png",
  ".gif": "image/gif",
  ".jpg": "image/jpeg",
  ".svg": "image/svg+xml",
  ".txt": "text/plain",
  ".xml": "application/xml",
  ".gz": "application/gzip",
  ".inv": "application/octet-stream",
};

export async function serveRoot(root: string): Promise<StaticSite> {
  const realRoot = fs.realpathSync(root);
  const entries = listHtmlPages(realRoot);
  const requests: Record<string, number> = {};
  let sitemap = "";

  const server = http.createServer((req, res) => {
    const send = (status: number, headers: http.OutgoingHttpHeaders, body?: fs.ReadStream | string): void => {
      const cls = `${Math.floor(status / 100)}xx`;
      requests[cls] = (requests[cls] ?? 0) + 1;
      res.writeHead(status, headers);
      if (body === undefined || req.method === "HEAD") {
        if (typeof body !== "string") body?.destroy();
        res.end();
      } else if (typeof body === "string") res.end(body);
      else body.pipe(res);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, { allow: "GET, HEAD" });
    let urlPath: string;
    try {
      urlPath = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      return send(400, {});
    }
    if (urlPath === "/sitemap.xml") return send(200, { "content-type": "application/xml" }, sitemap);
    const file = resolveFile(realRoot, urlPath);
    if (file.kind === "redirect") return send(301, { location: `${urlPath}/` });
    if (file.kind === "missing") return send(404, { "content-type": "text/plain" }, "not found\n");
    const type = TYPES[path.extname(file.path).toLowerCase()] ?? "application/octet-stream";
    send(200, { "content-type": type, "content-length": file.size }, fs.createReadStream(file.path));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sitemap = sitemapXml(origin, entries);
  let closing: Promise<void> | undefined;
  return {
    origin,
    pages: entries.length,
    requests,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

type Resolved = { kind: "file"; path: string; size: number } | { kind: "redirect" } | { kind: "missing" };

function resolveFile(realRoot: string, urlPath: string): Resolved {
  if (urlPath.includes("\0")) return { kind: "missing" };
  const full = path.join(realRoot, path.normalize(urlPath));
  try {
    const real = fs.realpathSync(full);
    if (!isInside(realRoot, real)) return { kind: "missing" };
    const stat = fs.statSync(real);
    if (stat.isDirectory()) {
      if (!urlPath.endsWith("/")) return { kind: "redirect" };
      return resolveFile(realRoot, `${urlPath}index.html`);
    }
    return stat.isFile() ? { kind: "file", path: real, size: stat.size } : { kind: "missing" };
  } catch {
    return { kind: "missing" };
  }
}
