/**
 * `ltx sites import FILE` and `ltx sites list` against a real redis-server: counts, the rejected
 * lines with their line numbers, and the table.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { Redis } from "ioredis";
import { sitesCommand } from "../../src/cli/sites";
import { startRedis, type RedisServer } from "../support/redisServer";

let server: RedisServer;
let dir: string;

beforeAll(async () => {
  server = await startRedis();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ltx-sites-"));
});

afterAll(async () => {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const stderr = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    const code = await sitesCommand(argv, sink, { REDIS_URL: server.url, REDIS_PREFIX: "cli", LOG_LEVEL: "silent" });
    return { code, out };
  } finally {
    stderr.mockRestore();
  }
}

test("import a file of 1,000 URLs with comments, duplicates and bad lines, then list", async () => {
  const lines = ["# docs we keep", ""];
  for (let i = 0; i < 1000; i++) lines.push(`http://127.0.0.1:9/site${i}/  # number ${i}`);
  lines.push("http://127.0.0.1:9/site7/", "ftp://127.0.0.1/x", "not a url");
  const file = path.join(dir, "sites.txt");
  fs.writeFileSync(file, lines.join("\n"));

  const first = await run(["import", file, "--every", "6h", "--spread", "1h"]);
  expect(first.code).toBe(1); // some lines were rejected
  expect(first.out).toMatch(/^added 1000, skipped 1, rejected 2 \(1003 URLs in \d+ ms\)$/m);
  expect(first.out).toContain("rejected line 1004: ftp://127.0.0.1/x: ");
  expect(first.out).toContain("rejected line 1005: not a url: ");

  const again = await run(["import", file]);
  expect(again.out).toMatch(/^added 0, skipped 1001, rejected 2/m);

  const redis = new Redis(server.url);
  expect(await redis.zcard("cli:schedule:repeat")).toBe(1000); // one scheduler per website
  redis.disconnect();

  const list = await run(["list", "--limit", "150"]);
  expect(list.code).toBe(0);
  const rows = list.out.trim().split("\n");
  expect(rows[0]).toMatch(/^ID\s+STATUS\s+SCHEDULE\s+NEXT RUN\s+LAST JOB\s+FAILS\s+URL$/);
  expect(rows).toHaveLength(152); // header, 150 rows, the count line
  expect(rows[1]).toMatch(/active\s+every 6h\s+\d{4}-\d\d-\d\dT.*http:\/\/127\.0\.0\.1:9\/site0\/$/);
  expect(rows[151]).toBe("150 websites");
});

test("usage errors exit 2", async () => {
  expect((await run([])).code).toBe(2);
  expect((await run(["import"])).code).toBe(2);
  expect((await run(["frobnicate"])).code).toBe(2);
  expect((await run(["list", "--status", "bogus"])).code).toBe(2);
  expect((await run(["--help"])).code).toBe(0);
});
