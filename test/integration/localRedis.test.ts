/**
 * `ltx start`'s own redis-server: loopback only, AOF on in the given data dir, `noeviction`, and
 * gone after stop(). The data survives a stop/start in the same dir (that is what AOF is for).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { silentLogger } from "../../src/lib/logger";
import { startLocalRedis } from "../../src/cli/localRedis";

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ltx-local-redis-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

test("starts on a free loopback port with AOF and noeviction, keeps data across restarts, stops", async () => {
  const dataDir = path.join(dir, "data");
  const first = await startLocalRedis({ dataDir, logger: silentLogger() });
  expect(first.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
  const client = new Redis(first.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    expect(await client.config("GET", "appendonly")).toEqual(["appendonly", "yes"]);
    expect(await client.config("GET", "maxmemory-policy")).toEqual(["maxmemory-policy", "noeviction"]);
    expect(await client.config("GET", "bind")).toEqual(["bind", "127.0.0.1"]);
    await client.set("kept", "yes");
  } finally {
    client.disconnect();
  }
  await first.stop();
  await first.stop(); // idempotent
  expect(() => process.kill(first.pid, 0)).toThrow(); // the process is gone
  expect(fs.readdirSync(dataDir)).toContain("appendonlydir");

  const second = await startLocalRedis({ dataDir, logger: silentLogger() });
  const again = new Redis(second.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await again.connect();
    expect(await again.get("kept")).toBe("yes");
  } finally {
    again.disconnect();
    await second.stop();
  }
});

test("a missing binary says how to get one", async () => {
  await expect(
    startLocalRedis({ dataDir: dir, logger: silentLogger(), binary: "/nonexistent/redis-server" }),
  ).rejects.toThrow(/install-redis\.sh.*apt-get install -y redis-server.*REDIS_URL/);
});
