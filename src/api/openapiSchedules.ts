/*
 * The websites and schedules routes in the OpenAPI document: /api/websites (registered sites and their schedules)
 * and /api/schedules (BullMQ job schedulers; pause/resume regeneration).
 */
type Obj = Record<string, unknown>;

const json = (schema: Obj): Obj => ({ "application/json": { schema } });
const ref = (name: string): Obj => ({ $ref: `#/components/schemas/${name}` });
const err = (description: string): Obj => ({ description, content: json(ref("Error")) });
const ok = (description: string, schema?: Obj): Obj => ({ description, ...(schema ? { content: json(schema) } : {}) });
const id: Obj = { name: "id", in: "path", required: true, schema: { type: "string" }, description: "website id" };
const AUTH = { "401": err("no valid session or token (ENABLE_AUTH=1)") };
const WRITE = {
  "400": err("bad input (INVALID_INPUT, INVALID_URL, BLOCKED_ADDRESS)"),
  ...AUTH,
  "413": err("body too large"),
  "429": err("over RATE_LIMIT_PER_MINUTE"),
};

export const scheduleSchemas: Obj = {
  Website: {
    type: "object",
    description: "a registered website: id, url, siteKey, schedule, enabled, options, status, nextRunAt, links",
    properties: { quality: { oneOf: [ref("Quality"), { type: "null" }] } },
    additionalProperties: true,
  },
  WebsiteList: {
    type: "object",
    properties: { items: { type: "array", items: ref("Website") }, nextCursor: { type: "string" } },
  },
  ImportReport: {
    type: "object",
    properties: {
      added: { type: "integer" },
      skipped: { type: "integer" },
      rejected: { type: "integer" },
      durationMs: { type: "number" },
      items: {
        type: "array",
        items: {
          type: "object",
          properties: {
            url: { type: "string" },
            status: { type: "string", enum: ["added", "skipped", "rejected"] },
            id: { type: "string" },
            reason: { type: "string" },
          },
        },
      },
    },
  },
  Schedule: {
    type: "object",
    properties: {
      queue: { type: "string" },
      id: { type: "string" },
      name: { type: "string" },
      every: { type: ["number", "null"] },
      pattern: { type: ["string", "null"] },
      tz: { type: ["string", "null"] },
      nextRunAt: { type: ["string", "null"], format: "date-time" },
      iterations: { type: "integer" },
      websiteId: { type: ["string", "null"] },
    },
  },
  ScheduleList: {
    type: "object",
    properties: {
      paused: { type: "boolean" },
      total: { type: "integer" },
      items: { type: "array", items: ref("Schedule") },
      nextCursor: { type: "string" },
    },
  },
  Paused: {
    type: "object",
    properties: { paused: { type: "boolean" }, queues: { type: "array", items: { type: "string" } } },
  },
};

export const schedulePaths: Obj = {
  "/api/websites": {
    post: {
      tags: ["websites"],
      summary: "register a website (and its schedule)",
      requestBody: { required: true, content: json(ref("CreateWebsite")) },
      responses: { "201": ok("registered", ref("Website")), "409": err("URL already registered"), ...WRITE },
    },
    get: {
      tags: ["websites"],
      summary: "list registered websites",
      parameters: [
        { name: "status", in: "query", schema: { type: "string" } },
        { name: "cursor", in: "query", schema: { type: "integer", minimum: 0 } },
        { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 100 } },
      ],
      responses: { "200": ok("a page of websites", ref("WebsiteList")), "400": err("bad query"), ...AUTH },
    },
  },
  "/api/websites/import": {
    post: {
      tags: ["websites"],
      summary: "register many websites at once",
      requestBody: { required: true, content: json(ref("ImportWebsites")) },
      responses: { "200": ok("what was added, skipped, rejected", ref("ImportReport")), ...WRITE },
    },
  },
  "/api/websites/{id}": {
    parameters: [id],
    get: {
      tags: ["websites"],
      summary: "one website",
      responses: { "200": ok("the website", ref("Website")), "404": err("no such website"), ...AUTH },
    },
    patch: {
      tags: ["websites"],
      summary: "change its schedule, options or enabled flag",
      requestBody: { required: true, content: json(ref("PatchWebsite")) },
      responses: { "200": ok("updated", ref("Website")), "404": err("no such website"), ...WRITE },
    },
    delete: {
      tags: ["websites"],
      summary: "unregister (its schedule and its site's files go too, unless keepFiles=true)",
      parameters: [
        {
          name: "keepFiles",
          in: "query",
          description: "true: keep the site's stored files (still served under /sites/…)",
          schema: { type: "string", enum: ["true", "false", "1", "0"] },
        },
      ],
      responses: { "204": { description: "removed" }, "404": err("no such website"), ...AUTH },
    },
  },
  "/api/websites/{id}/refresh": {
    parameters: [id],
    post: {
      tags: ["websites"],
      summary: "regenerate now",
      responses: {
        "202": ok("queued", ref("Job")),
        "200": ok("a job is already in flight", ref("Job")),
        "404": err("no such website"),
        ...AUTH,
      },
    },
  },
  "/api/websites/{id}/versions": {
    parameters: [id],
    get: {
      tags: ["websites"],
      summary: "stored versions with change summaries, newest first",
      responses: { "200": ok("versions"), "404": err("no such website"), ...AUTH },
    },
  },
  "/api/websites/{id}/versions/{n}": {
    parameters: [id, { name: "n", in: "path", required: true, schema: { type: "integer", minimum: 1 } }],
    get: {
      tags: ["websites"],
      summary: "one version with its llms.txt",
      responses: { "200": ok("the version"), "404": err("no such website or version"), ...AUTH },
    },
  },
  "/api/schedules": {
    get: {
      tags: ["schedules"],
      summary: "every job scheduler (one per scheduled website, plus maintenance tasks)",
      parameters: [
        { name: "queue", in: "query", schema: { type: "string", enum: ["generate", "maintenance"] } },
        { name: "cursor", in: "query", schema: { type: "integer", minimum: 0 } },
        { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 1000 } },
      ],
      responses: { "200": ok("schedulers", ref("ScheduleList")), "400": err("bad query"), ...AUTH },
    },
  },
  "/api/schedules/pause": {
    post: {
      tags: ["schedules"],
      summary: "pause regeneration (the generate queue)",
      responses: { "200": ok("paused", ref("Paused")), ...AUTH },
    },
  },
  "/api/schedules/resume": {
    post: {
      tags: ["schedules"],
      summary: "resume regeneration",
      responses: { "200": ok("resumed", ref("Paused")), ...AUTH },
    },
  },
};
