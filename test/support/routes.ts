/*
 * Every route an Express 5 app answers, read from its router stack, so tests (auth, OpenAPI)
 * cover routes added later without being edited. Nested routers are walked with their mount path.
 */
import type { Express } from "express";

export interface RouteInfo {
  method: string;
  /** "/api/jobs/:id", or a RegExp for regex routes (/^\/sites\//). */
  path: string | RegExp;
  /** The mount path of the router it lives in ("" at the top). */
  mount: string;
}

interface LayerLike {
  route?: { path: string | RegExp | (string | RegExp)[]; methods: Record<string, boolean> };
  /** A Router has a stack; a mounted sub-app (Bull Board's) has a router with one. */
  handle?: { stack?: LayerLike[]; router?: { stack?: LayerLike[] } };
  rawPath?: string | RegExp | (string | RegExp)[];
}

/**
 * `mount` prefixes every path: pass it for a sub-app (Bull Board's router is an Express app, and
 * app.use(path, subApp) hides it behind a wrapper function, so tests list it on its own).
 */
export function listRoutes(app: Express | { router?: unknown }, mount = ""): RouteInfo[] {
  const root = (app as unknown as { router: { stack: LayerLike[] } }).router;
  const out: RouteInfo[] = [];
  walk(root.stack, mount, out);
  return out;
}

function walk(stack: LayerLike[], prefix: string, out: RouteInfo[]): void {
  for (const layer of stack) {
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      for (const p of paths) {
        for (const [method, on] of Object.entries(layer.route.methods)) {
          if (!on || method === "_all") continue;
          out.push({
            method: method.toUpperCase(),
            path: typeof p === "string" ? prefix + (p === "/" && prefix !== "" ? "" : p) : p,
            mount: prefix,
          });
        }
      }
    } else if (layer.handle?.stack || layer.handle?.router?.stack) {
      const stack = layer.handle.stack ?? layer.handle.router?.stack ?? [];
      const mounts = Array.isArray(layer.rawPath) ? layer.rawPath : [layer.rawPath ?? "/"];
      for (const m of mounts) {
        if (typeof m !== "string") continue;
        walk(stack, prefix + (m === "/" ? "" : m), out);
      }
    }
  }
}

/** A concrete request path for a route: params become "x"; regex routes need an example. */
export function examplePath(route: RouteInfo, regexExamples: Record<string, string>): string {
  if (typeof route.path !== "string") {
    const example = regexExamples[String(route.path)];
    if (!example) throw new Error(`no example path for regex route ${String(route.path)}: add one to the test`);
    return example;
  }
  return route.path
    .replace(/:(\w+)\+?/g, "x")
    .replace(/\*\w*/g, "x")
    .replace(/\{([^}]*)\}/g, "");
}
