/*
 * The OpenAPI 3.1 document served at /openapi.json. test/integration/openapi.test.ts walks the
 * app's router and fails when a route is missing here, so a new route must be documented to
 * land. The websites and schedules routes are in openapiSchedules.ts.
 */
import { Router } from "express";
import { VERSION } from "../lib/version";
import { schedulePaths, scheduleSchemas } from "./openapiSchedules";
import { componentSchemas } from "./openapiSchemas";
import { requestBodySchemas } from "./openapiBodies";
import type { SchemaLimits } from "./schemas";

type Obj = Record<string, unknown>;

const json = (schema: string): Obj => ({ "application/json": { schema: { $ref: `#/components/schemas/${schema}` } } });
const ok = (description: string, schema?: string): Obj => ({
  description,
  ...(schema ? { content: json(schema) } : {}),
});
const err = (description: string): Obj => ({ description, content: json("Error") });
const text = (description: string, type = "text/plain"): Obj => ({
  description,
  content: { [type]: { schema: { type: "string" } } },
});
const body = (schema: string): Obj => ({ required: true, content: json(schema) });
const idParam = (description: string): Obj => ({
  name: "id",
  in: "path",
  required: true,
  schema: { type: "string" },
  description,
});

const PUBLIC: Obj = { security: [] };
const BAD = {
  "400": err("bad input: malformed JSON, wrong types, limits (INVALID_INPUT, INVALID_URL, BLOCKED_ADDRESS)"),
};
const AUTH = { "401": err("no valid session or token (ENABLE_AUTH=1)") };
const WRITE = {
  ...BAD,
  ...AUTH,
  "413": err("body larger than BODY_LIMIT_BYTES"),
  "429": err("over RATE_LIMIT_PER_MINUTE (see Retry-After)"),
};

const siteFile = (name: string): Obj => ({
  get: {
    tags: ["results"],
    summary: `the site's ${name} (public unless PUBLIC_FILES=0)`,
    parameters: [
      {
        name: "site",
        in: "path",
        required: true,
        schema: { type: "string" },
        description: "host[:port] then the path prefix, e.g. docs.example.com or example.com/docs",
      },
      { name: "If-None-Match", in: "header", schema: { type: "string" } },
      { name: "If-Modified-Since", in: "header", schema: { type: "string" } },
    ],
    responses: { "200": text(name), "304": { description: "not modified" }, "404": err("no file for this site yet") },
  },
});

const paths: Obj = {
  "/api/jobs": {
    post: {
      tags: ["jobs"],
      summary: "submit a URL: one generate job per site at a time",
      requestBody: body("CreateJob"),
      responses: {
        "202": ok("queued", "JobCreated"),
        "200": ok("a job for this site is already in flight (deduplicated: true)", "Job"),
        ...WRITE,
        "429": err(
          "over RATE_LIMIT_PER_MINUTE (TOO_MANY_REQUESTS, see Retry-After), or the client has MAX_QUEUED_PER_CLIENT jobs in flight (TOO_MANY_QUEUED; nothing queued)",
        ),
      },
    },
    get: {
      tags: ["jobs"],
      summary: "list jobs, newest first",
      parameters: [
        {
          name: "status",
          in: "query",
          schema: { type: "string", enum: ["queued", "started", "running", "success", "failure"] },
        },
        { name: "url", in: "query", schema: { type: "string" } },
        { name: "cursor", in: "query", schema: { type: "string" } },
        { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 100 } },
      ],
      responses: { "200": ok("a page of jobs", "JobList"), ...BAD, ...AUTH },
    },
  },
  "/api/jobs/{id}": {
    parameters: [idParam("job id")],
    get: {
      tags: ["jobs"],
      summary: "one job",
      responses: { "200": ok("the job", "Job"), "404": err("no such job"), ...AUTH },
    },
    delete: {
      tags: ["jobs"],
      summary: "remove a queued job, or cancel a running one",
      responses: {
        "204": { description: "removed" },
        "202": ok("cancelling a running job", "Job"),
        "404": err("no such job"),
        "409": err("cannot cancel"),
        ...AUTH,
        "429": err("rate limited"),
      },
    },
  },
  "/api/jobs/{id}/retry": {
    parameters: [idParam("job id")],
    post: {
      tags: ["jobs"],
      summary: "retry a failed job",
      responses: {
        "202": ok("queued again", "Job"),
        "404": err("no such job"),
        "409": err("not failed"),
        ...AUTH,
        "429": err("rate limited"),
      },
    },
  },
  "/api/jobs/{id}/events": {
    parameters: [idParam("job id")],
    get: {
      tags: ["jobs"],
      summary: "Server-Sent Events: progress, then the final state",
      responses: { "200": text("an event stream", "text/event-stream"), "404": err("no such job"), ...AUTH },
    },
  },
  "/api/results": {
    get: {
      tags: ["results"],
      summary: "metadata of a site's latest files",
      parameters: [{ name: "url", in: "query", required: true, schema: { type: "string" } }],
      responses: { "200": ok("metadata", "ResultMeta"), "404": err("no result yet"), ...BAD, ...AUTH },
    },
  },
  "/sites/{site}/llms.txt": siteFile("llms.txt"),
  "/sites/{site}/llms-full.txt": siteFile("llms-full.txt"),
  "/api/tokens": {
    post: {
      tags: ["auth"],
      summary: "make an API token (the secret is shown once)",
      requestBody: body("CreateToken"),
      responses: { "201": ok("the new token", "TokenCreated"), ...WRITE },
    },
    get: {
      tags: ["auth"],
      summary: "list API tokens (without secrets)",
      responses: { "200": ok("tokens", "TokenList"), ...AUTH },
    },
  },
  "/api/tokens/{id}": {
    parameters: [idParam("token id")],
    delete: {
      tags: ["auth"],
      summary: "revoke an API token",
      responses: {
        "204": { description: "revoked" },
        "404": err("no such token"),
        ...AUTH,
        "429": err("rate limited"),
      },
    },
  },
  "/auth/login": {
    post: {
      ...PUBLIC,
      tags: ["auth"],
      summary: "log in with the password: sets an HttpOnly session cookie",
      requestBody: body("Login"),
      responses: {
        "200": ok("logged in", "Me"),
        "401": err("wrong password"),
        "404": err("auth is off"),
        "429": err("locked out after repeated failures (see Retry-After)"),
        ...BAD,
      },
    },
  },
  "/auth/logout": {
    post: {
      ...PUBLIC,
      tags: ["auth"],
      summary: "end the session",
      responses: { "204": { description: "logged out" } },
    },
  },
  "/auth/me": {
    get: {
      ...PUBLIC,
      tags: ["auth"],
      summary: "who is calling",
      responses: { "200": ok("the caller", "Me"), "401": err("not logged in") },
    },
  },
  "/healthz": {
    get: {
      ...PUBLIC,
      tags: ["operations"],
      summary: "the process is alive",
      responses: { "200": ok("alive", "Health") },
    },
  },
  "/readyz": {
    get: {
      ...PUBLIC,
      tags: ["operations"],
      summary: "Redis reachable with noeviction, queues answer",
      responses: { "200": ok("ready", "Ready"), "503": ok("not ready", "Ready") },
    },
  },
  "/metrics": {
    get: {
      ...PUBLIC,
      tags: ["operations"],
      summary: "Prometheus metrics (needs Authorization: Bearer <METRICS_TOKEN> when that is set)",
      responses: { "200": text("Prometheus text format"), "401": err("METRICS_TOKEN is set and was not sent") },
    },
  },
  "/openapi.json": {
    get: {
      ...PUBLIC,
      tags: ["operations"],
      summary: "this document",
      responses: { "200": { description: "OpenAPI 3.1" } },
    },
  },
  "/admin/queues": {
    get: {
      tags: ["operations"],
      summary: "Bull Board (HTML; its own API and assets live under this path)",
      responses: { "200": text("HTML page", "text/html"), ...AUTH },
    },
  },
  "/": {
    get: {
      ...PUBLIC,
      tags: ["web"],
      summary: "the web page (HTML)",
      responses: { "200": text("HTML page", "text/html") },
    },
  },
  "/index.html": {
    get: {
      ...PUBLIC,
      tags: ["web"],
      summary: "the web page (HTML)",
      responses: { "200": text("HTML page", "text/html") },
    },
  },
};

export interface OpenApiOptions {
  /** More path items, merged over the built-in ones. */
  extraPaths?: Obj;
  extraSchemas?: Obj;
  /** MAX_PAGES_LIMIT and MAX_URL_LENGTH, for the request bodies' limits. */
  limits?: SchemaLimits;
}

const DEFAULT_LIMITS: SchemaLimits = { maxPagesLimit: 1000, maxUrlLength: 2048 };

export function buildOpenApi(opts: OpenApiOptions = {}): Obj {
  return {
    openapi: "3.1.0",
    info: {
      title: "ltx",
      version: VERSION,
      description:
        "Generates and serves llms.txt files (llmstxt.org) for websites. With ENABLE_AUTH=1 every /api route, the event streams and Bull Board need a session cookie (POST /auth/login) or an API token (Authorization: Bearer ltx_…).",
    },
    servers: [{ url: "/" }],
    security: [{ session: [] }, { bearer: [] }],
    tags: ["jobs", "results", "websites", "schedules", "auth", "operations", "web"].map((name) => ({ name })),
    paths: { ...paths, ...schedulePaths, ...opts.extraPaths },
    components: {
      securitySchemes: {
        session: { type: "apiKey", in: "cookie", name: "ltx_session" },
        bearer: { type: "http", scheme: "bearer", description: "an API token from POST /api/tokens" },
      },
      schemas: {
        ...componentSchemas,
        ...scheduleSchemas,
        ...requestBodySchemas(opts.limits ?? DEFAULT_LIMITS),
        ...opts.extraSchemas,
      },
    },
  };
}

export function openapiRouter(opts: OpenApiOptions = {}): Router {
  const doc = JSON.stringify(buildOpenApi(opts));
  const router = Router();
  router.get("/openapi.json", (_req, res) => {
    res.type("application/json").send(doc);
  });
  return router;
}
