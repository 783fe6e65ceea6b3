/*
 * CORS, off unless CORS_ORIGINS is set: without it no Access-Control-* header is sent and
 * browsers keep other origins out. An allowed origin gets credentials too (cookies, Bearer), so
 * list exact origins; "*" allows any origin but then without credentials.
 */
import type { RequestHandler } from "express";

const ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
const ALLOW_HEADERS = "Content-Type, Authorization, Last-Event-ID, If-None-Match";

export function cors(origins: readonly string[]): RequestHandler {
  const exact = new Set(origins.filter((o) => o !== "*").map((o) => o.replace(/\/$/, "").toLowerCase()));
  const any = origins.includes("*");
  return (req, res, next) => {
    if (origins.length === 0) return next();
    res.vary("Origin");
    const origin = req.headers.origin;
    if (!origin) return next();
    const allowed = exact.has(origin.toLowerCase());
    if (!allowed && !any) return next();
    res.setHeader("Access-Control-Allow-Origin", allowed ? origin : "*");
    if (allowed) res.setHeader("Access-Control-Allow-Credentials", "true");
    res.setHeader("Access-Control-Expose-Headers", "Location, Retry-After, ETag");
    if (req.method === "OPTIONS" && req.headers["access-control-request-method"]) {
      res.setHeader("Access-Control-Allow-Methods", ALLOW_METHODS);
      res.setHeader("Access-Control-Allow-Headers", ALLOW_HEADERS);
      res.setHeader("Access-Control-Max-Age", "600");
      res.status(204).end();
      return;
    }
    next();
  };
}
