/*
 * The request bodies of the OpenAPI document, generated from the zod schemas the routes parse
 * them with (z.toJSONSchema), so the document can't drift from what the API accepts. Response
 * shapes are views built in code and stay written out in openapiSchemas.ts.
 */
import { z } from "zod";
import { websiteSchemas } from "../websites/service";
import { createJobBodySchema, type SchemaLimits } from "./schemas";

type Obj = Record<string, unknown>;

function toJsonSchema(schema: z.ZodType): Obj {
  // "input": what a client sends (before trims and defaults). Refinements (URL and pattern checks)
  // have no JSON Schema form and are described by the 400 answers instead.
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  return rest;
}

export function requestBodySchemas(limits: SchemaLimits): Obj {
  const websites = websiteSchemas(limits);
  return {
    CreateJob: toJsonSchema(createJobBodySchema(limits)),
    CreateWebsite: toJsonSchema(websites.create),
    PatchWebsite: {
      ...toJsonSchema(websites.patch),
      description: "null clears an option; the URL can't change",
    },
    ImportWebsites: toJsonSchema(websites.import),
  };
}
