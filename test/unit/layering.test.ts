/**
 * The import table of the layout (README, Development) is enforced by dependency-cruiser in
 * `npm run lint`. This checks the rules fire: an import of api/ from websites/ and of ioredis
 * from pipeline/ (files planted for the test and removed after) must each be a violation.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(__dirname, "../..");
const planted = [
  ["src/websites/zzPlantedForTest.ts", 'import { buildApp } from "../api/app";\nexport const planted = buildApp;\n'],
  ["src/pipeline/zzPlantedForTest.ts", 'import { Redis } from "ioredis";\nexport const planted = Redis;\n'],
] as const;

test("the layering rules refuse api/ from websites/ and ioredis from pipeline/", () => {
  try {
    for (const [file, text] of planted) fs.writeFileSync(path.join(root, file), text);
    const res = spawnSync(
      process.execPath,
      [
        path.join(root, "node_modules/dependency-cruiser/bin/dependency-cruise.mjs"),
        "src",
        "--config",
        ".dependency-cruiser.cjs",
      ],
      { cwd: root, encoding: "utf8", timeout: 60_000 },
    );
    const out = `${res.stdout}${res.stderr}`;
    expect(out).toMatch(/nothing-below-api-imports-api: src\/websites\/zzPlantedForTest\.ts → src\/api\/app\.ts/);
    expect(out).toMatch(/pipeline-no-infrastructure: src\/pipeline\/zzPlantedForTest\.ts → node_modules\/ioredis\//);
    expect(res.status).not.toBe(0);
  } finally {
    for (const [file] of planted) fs.rmSync(path.join(root, file), { force: true });
  }
});
