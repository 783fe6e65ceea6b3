/**
 * .env.example documents every variable of src/config/env.ts, and the values it shows are the
 * real defaults: loading it gives the same Config as loading nothing. A variable added to env.ts
 * without a line here fails this test.
 */
import fs from "node:fs";
import path from "node:path";
import { loadConfig } from "../../src/config/env";

const root = path.resolve(__dirname, "..", "..");
const example = fs.readFileSync(path.join(root, ".env.example"), "utf8");

function schemaVariables(): string[] {
  const source = fs.readFileSync(path.join(root, "src", "config", "env.ts"), "utf8");
  const block = /const Env = z\.object\(\{([\s\S]*?)\n\}\);/.exec(source)?.[1] ?? "";
  return [...block.matchAll(/^\s+([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1] as string);
}

function exampleEntries(): { set: Record<string, string>; mentioned: Set<string> } {
  const set: Record<string, string> = {};
  const mentioned = new Set<string>();
  for (const line of example.split("\n")) {
    const m = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    mentioned.add(m[2] as string);
    if (!m[1]) set[m[2] as string] = m[3] as string;
  }
  return { set, mentioned };
}

test("every variable of env.ts appears in .env.example", () => {
  const vars = schemaVariables();
  expect(vars.length).toBeGreaterThan(40);
  const { mentioned } = exampleEntries();
  expect(vars.filter((v) => !mentioned.has(v))).toEqual([]);
  expect([...mentioned].filter((v) => !vars.includes(v))).toEqual([]);
});

test("the values .env.example sets are the defaults", () => {
  expect(loadConfig(exampleEntries().set)).toEqual(loadConfig({}));
});
