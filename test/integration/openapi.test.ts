/*
 * /openapi.json matches the routes: every route the app's router answers (found by walking it) is
 * in the document with its method, and every documented operation exists. A new route without a
 * path item fails here.
 */
import { BOARD_BASE_PATH, createBoardRouter } from "../../src/admin/board";
import { request, startTestApi, type TestApi } from "../support/apiHarness";
import { type RedisServer, startRedis } from "../support/redisServer";
import { listRoutes, type RouteInfo } from "../support/routes";

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, unknown> };
};

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];

let redis: RedisServer;
let t: TestApi;
let doc: Doc;
let routes: RouteInfo[];

/** "/api/jobs/:id" → "/api/jobs/{id}" */
const toOpenApi = (p: string): string => p.replace(/:(\w+)/g, "{$1}");

beforeAll(async () => {
  redis = await startRedis();
  t = await startTestApi(redis.url, {}, {});
  const res = await request(t.url, "GET", "/openapi.json");
  expect(res.status).toBe(200);
  doc = res.body as Doc;
  routes = listRoutes(t.api.app);
});

afterAll(async () => {
  await t?.close();
  await redis?.stop();
});

test("is OpenAPI 3.1 and every $ref resolves", () => {
  expect(doc.openapi).toBe("3.1.0");
  const refs = JSON.stringify(doc).match(/"\$ref":"#\/components\/schemas\/[^"]+"/g) ?? [];
  expect(refs.length).toBeGreaterThan(5);
  for (const ref of refs)
    expect(Object.keys(doc.components.schemas)).toContain(ref.split("/").pop()?.replace(/"$/, ""));
});

test("every route of the app is documented with its method", () => {
  expect(routes.length).toBeGreaterThan(10); // the walk works, so this test can fail
  const documentedPaths = Object.keys(doc.paths);
  const missing: string[] = [];
  for (const r of routes) {
    const method = r.method.toLowerCase();
    if (typeof r.path === "string") {
      const item = doc.paths[toOpenApi(r.path)];
      if (!item || !(method in item)) missing.push(`${r.method} ${r.path}`);
    } else {
      // A regex route (/sites/…) is covered by the documented paths it matches.
      const regex = r.path;
      const covered = documentedPaths.filter(
        (p) => regex.test(p.replace(/\{[^}]+\}/g, "x")) && method in (doc.paths[p] ?? {}),
      );
      if (covered.length === 0) missing.push(`${r.method} ${String(r.path)}`);
    }
  }
  expect(missing).toEqual([]);
});

test("Bull Board's routes are covered by its documented base path", () => {
  const board = listRoutes(createBoardRouter({ queues: t.api.context.queues.all }) as never, BOARD_BASE_PATH);
  expect(board.length).toBeGreaterThan(5);
  expect(board.every((r) => typeof r.path === "string" && r.path.startsWith(BOARD_BASE_PATH))).toBe(true);
  expect(doc.paths[BOARD_BASE_PATH]).toHaveProperty("get");
});

test("every documented operation exists (no stale entries)", () => {
  const stale: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of Object.keys(item).filter((m) => METHODS.includes(m))) {
      const concrete = path.replace(/\{[^}]+\}/g, "x");
      const found = routes.some(
        (r) =>
          r.method.toLowerCase() === method &&
          (typeof r.path === "string" ? toOpenApi(r.path) === path : r.path.test(concrete)),
      );
      if (!found && path !== BOARD_BASE_PATH) stale.push(`${method.toUpperCase()} ${path}`);
    }
  }
  expect(stale).toEqual([]);
});
