/**
 * A sitemap.xml for a directory of static HTML, as a site's build would publish it: every HTML
 * page under the root, once. Debian doc trees are full of symlinks: theme assets pointing out of
 * the tree, directories linked to a sibling (a language alias such as `ja_JP.ujis → japanese/`),
 * dangling links. A symlink is followed only when its target stays inside the root, and a file
 * reached by two paths is listed once, under the first path in sorted order.
 */
import fs from "node:fs";
import path from "node:path";

export interface SitemapEntry {
  /** URL path, starting with "/", each segment percent-encoded. */
  urlPath: string;
  lastmod: string;
}

const HTML = /\.html?$/i;
// A page tree this deep is a symlink loop or not documentation; either way stop.
const MAX_DEPTH = 12;
const MAX_ENTRIES = 50_000; // the sitemap protocol's own limit per file

/** True when `real` (a resolved path) is `root` or below it. */
export function isInside(root: string, real: string): boolean {
  const rel = path.relative(root, real);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

export function listHtmlPages(root: string): SitemapEntry[] {
  const realRoot = fs.realpathSync(root);
  const seen = new Set<string>();
  const out: SitemapEntry[] = [];
  const walk = (dir: string, segments: string[]): void => {
    if (segments.length > MAX_DEPTH || out.length >= MAX_ENTRIES) return;
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      let real: string;
      let stat: fs.Stats;
      try {
        real = fs.realpathSync(full);
        stat = fs.statSync(real);
      } catch {
        continue; // dangling symlink
      }
      if (!isInside(realRoot, real) || seen.has(real)) continue;
      seen.add(real);
      if (stat.isDirectory()) walk(full, [...segments, name]);
      else if (stat.isFile() && HTML.test(name))
        out.push({
          urlPath: `/${[...segments, name].map(encodeURIComponent).join("/")}`,
          lastmod: stat.mtime.toISOString().slice(0, 10),
        });
    }
  };
  walk(realRoot, []);
  return out;
}

export function sitemapXml(origin: string, entries: readonly SitemapEntry[]): string {
  const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const urls = entries.map((e) => `  <url><loc>${esc(origin + e.urlPath)}</loc><lastmod>${e.lastmod}</lastmod></url>`);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ...urls,
    "</urlset>",
    "",
  ].join("\n");
}
