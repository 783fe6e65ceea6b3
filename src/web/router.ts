/**
 * The web page at `/`: one HTML file and its assets (web/ at the package root), served as static
 * files. They live outside src/ so that `tsc` needs no copy step: from src/web/router.ts (ts-jest)
 * and from dist/web/router.js (the build) the package root is two levels up either way.
 *
 * The page is public even with auth on: it holds no data, and it shows the login form when the
 * API answers 401. Everything it shows comes from the protected /api routes.
 */
import path from "node:path";
import express, { type Router } from "express";

/** web/ at the package root, resolved the same from src/web and dist/web. */
export const WEB_ROOT = path.resolve(__dirname, "..", "..", "web");

export interface WebRouterOptions {
  /** Where index.html and assets/ are; default WEB_ROOT. */
  root?: string;
}

export function webRouter(opts: WebRouterOptions = {}): Router {
  const root = opts.root ?? WEB_ROOT;
  const router = express.Router();
  // no-cache, not no-store: the browser revalidates with the ETag, so a deploy shows at once
  // and an unchanged page costs a 304.
  const sendIndex: express.RequestHandler = (_req, res) => {
    res.set("Cache-Control", "no-cache").sendFile(path.join(root, "index.html"));
  };
  router.get(["/", "/index.html"], sendIndex);
  router.use(
    "/assets",
    express.static(path.join(root, "assets"), {
      index: false,
      redirect: false,
      dotfiles: "ignore",
      setHeaders: (res) => res.setHeader("Cache-Control", "no-cache"),
    }),
  );
  return router;
}
