/**
 * The web page's files and router, without a browser (test/e2e/browser.test.ts drives one):
 * the page must work under helmet's default Content-Security-Policy (no inline scripts or
 * handlers), load nothing from other hosts, and never write API data as HTML.
 */
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import express from "express";
import helmet from "helmet";
import { WEB_ROOT, webRouter } from "../../src/web/router";

const indexHtml = fs.readFileSync(path.join(WEB_ROOT, "index.html"), "utf8");
const appJs = fs.readFileSync(path.join(WEB_ROOT, "assets", "app.js"), "utf8");

test("index.html has no inline script or event handler, and loads only its own assets", () => {
  const scripts = [...indexHtml.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
  expect(scripts.length).toBeGreaterThan(0);
  for (const [, attrs, body] of scripts) {
    expect(attrs).toMatch(/\bsrc="\/assets\/[\w.-]+\.js"/);
    expect(body?.trim()).toBe("");
  }
  expect(indexHtml).not.toMatch(/\son[a-z]+\s*=/i); // onclick= and friends are inline scripts too
  const refs = [...indexHtml.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? "");
  const assets = refs.filter((r) => r.startsWith("/assets/"));
  expect(assets.length).toBeGreaterThanOrEqual(3);
  for (const a of assets) expect(fs.existsSync(path.join(WEB_ROOT, a))).toBe(true);
  // Scripts, styles and icons come from this server; the only outside URL is the format's home page.
  for (const m of indexHtml.matchAll(/<(?:script|link|img)\b[^>]*\b(?:src|href)="([^"]+)"/gi))
    expect(m[1]).toMatch(/^\//);
});

test("app.js writes API data as text, never as HTML", () => {
  expect(appJs).not.toMatch(/\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write/);
  expect(appJs).toContain("textContent");
});

test("webRouter serves the page and its assets under helmet's CSP, and lets other paths through", async () => {
  const app = express();
  app.use(helmet());
  app.use(webRouter());
  app.use((_req, res) => void res.status(404).json({ error: { code: "NOT_FOUND", message: "no route" } }));
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(await page.text()).toBe(indexHtml);

    const js = await fetch(`${base}/assets/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    expect(await js.text()).toBe(appJs);
    const css = await fetch(`${base}/assets/style.css`);
    expect(css.headers.get("content-type")).toMatch(/^text\/css/);
    await css.arrayBuffer();

    // Unknown assets and other paths reach the app's own 404, not a directory listing.
    for (const p of ["/assets/nope.js", "/assets/", "/api/jobs", "/assets/../package.json"]) {
      const res = await fetch(`${base}${p}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: { code: "NOT_FOUND", message: "no route" } });
    }
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
