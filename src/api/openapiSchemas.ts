/*
 * Component schemas of the OpenAPI document (api/openapi.ts): the JSON shapes the routes send and
 * accept, written by hand from the views in api/jobView.ts (request bodies: openapiBodies.ts, generated). JSON Schema 2020-12 (OpenAPI 3.1).
 */
import { ERROR_CODES } from "../lib/errors";
import { WARNING_CODES } from "../pipeline/types";
import { JOB_STATUSES } from "./schemas";

type Schema = Record<string, unknown>;

const str = (extra: Schema = {}): Schema => ({ type: "string", ...extra });
const int = (extra: Schema = {}): Schema => ({ type: "integer", ...extra });
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const nullable = (s: Schema): Schema => ({ oneOf: [s, { type: "null" }] });

export const componentSchemas: Record<string, Schema> = {
  Error: {
    type: "object",
    required: ["error"],
    properties: {
      error: {
        type: "object",
        required: ["code", "message"],
        properties: { code: str({ enum: [...ERROR_CODES] }), message: str() },
      },
    },
  },
  JobLinks: {
    type: "object",
    properties: { self: str(), events: str(), llmsTxt: str(), llmsFullTxt: str() },
  },
  JobCreated: {
    type: "object",
    properties: {
      id: str(),
      url: str(),
      siteKey: str(),
      status: str({ enum: [...JOB_STATUSES] }),
      links: ref("JobLinks"),
      deduplicated: { type: "boolean" },
    },
  },
  Job: {
    type: "object",
    properties: {
      id: str(),
      url: str(),
      siteKey: str(),
      status: str({ enum: [...JOB_STATUSES] }),
      progress: { type: "object", properties: { phase: nullable(str()), pagesDone: int(), pagesTotal: int() } },
      attempts: int(),
      maxAttempts: int(),
      createdAt: str({ format: "date-time" }),
      startedAt: nullable(str({ format: "date-time" })),
      finishedAt: nullable(str({ format: "date-time" })),
      error: nullable({ type: "object", properties: { code: nullable(str()), message: str() } }),
      result: { description: "summary of a successful job (null otherwise)" },
      links: ref("JobLinks"),
      deduplicated: { type: "boolean" },
      cancelling: { type: "boolean" },
    },
  },
  JobList: {
    type: "object",
    properties: { jobs: { type: "array", items: ref("Job") }, nextCursor: nullable(str()) },
  },
  ResultMeta: {
    type: "object",
    description: "metadata of a site's latest files: pages, provider, model, token usage, version, generatedAt",
    properties: { links: ref("JobLinks"), quality: ref("Quality") },
    additionalProperties: true,
  },
  Quality: {
    type: "object",
    description:
      "what `ltx check` says of the llms.txt: one warning per defect class, with how many links it touches, and a score",
    properties: {
      score: int({ minimum: 0, maximum: 100, description: "100 without warnings" }),
      notesShare: { type: "number", minimum: 0, maximum: 1, description: "share of links with a note" },
      links: int(),
      primaryLinks: int({ description: "links outside the Optional section" }),
      sections: int(),
      primarySections: int({ description: "sections other than Optional" }),
      warnings: {
        type: "array",
        items: {
          type: "object",
          properties: {
            code: str({ enum: [...WARNING_CODES] }),
            message: str(),
            count: int(),
            lines: { type: "array", items: int(), maxItems: 5, description: "the first lines where it shows" },
          },
        },
      },
    },
  },
  Login: {
    type: "object",
    additionalProperties: false,
    required: ["password"],
    properties: { password: str({ minLength: 1, maxLength: 1024 }) },
  },
  Me: {
    type: "object",
    properties: {
      authenticated: { type: "boolean" },
      authEnabled: { type: "boolean" },
      via: str({ enum: ["none", "session", "token"] }),
      expiresAt: str({ format: "date-time" }),
      tokenId: str(),
      tokenName: str(),
    },
  },
  CreateToken: {
    type: "object",
    additionalProperties: false,
    required: ["name"],
    properties: { name: str({ minLength: 1, maxLength: 100 }) },
  },
  Token: {
    type: "object",
    properties: {
      id: str(),
      name: str(),
      hint: str({ description: "first characters of the secret" }),
      createdAt: str({ format: "date-time" }),
    },
  },
  TokenCreated: {
    allOf: [
      ref("Token"),
      { type: "object", properties: { token: str({ description: "the secret (ltx_…): shown only in this answer" }) } },
    ],
  },
  TokenList: { type: "object", properties: { tokens: { type: "array", items: ref("Token") } } },
  Health: { type: "object", properties: { status: str({ const: "ok" }), version: str(), uptimeSeconds: int() } },
  Ready: {
    type: "object",
    properties: {
      status: str({ enum: ["ready", "unavailable"] }),
      checks: {
        type: "array",
        items: { type: "object", properties: { name: str(), ok: { type: "boolean" }, detail: str() } },
      },
      workers: {
        type: "object",
        description: "the worker fleet from heartbeats; stuck: jobs wait and no worker took one for a minute",
        properties: {
          alive: { type: "integer" },
          slots: { type: "integer" },
          active: { type: "integer" },
          waiting: { type: "integer" },
          lastTakenAt: { type: ["integer", "null"] },
          stuck: { type: "boolean" },
          reason: str(),
        },
      },
    },
  },
};
