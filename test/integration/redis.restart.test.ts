/**
 * A Redis restart under a running service: `ltx start` (API, worker and schedules in one process)
 * against a real redis-server that is stopped for a few seconds and started again. Every ioredis
 * client the process has (ours, and the ones BullMQ duplicates from them) must have an 'error'
 * listener: without one, ioredis prints "[ioredis] Unhandled error event" for every failed
 * reconnect. After the restart the service answers /readyz and runs a job again.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { startRedis, type RedisServer } from "../support/redisServer";
import { startSiteServer, type SiteServer } from "../support/siteServer";

jest.setTimeout(90_000);

const root = path.resolve(__dirname, "..", "..");
let redis: RedisServer;
let site: SiteServer;

beforeAll(async () => {
  redis = await startRedis();
  site = await startSiteServer("crawl-only");
});
afterAll(async () => {
  await site?.close();
  await redis?.stop();
});

async function until<T>(what: string, deadlineMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test("a Redis restart under API, worker and schedules leaves no unhandled ioredis error event; jobs run again", async () => {
  let child: ChildProcess | undefined;
  let output = "";
  try {
    child = spawn(
      process.execPath,
      [
        "-r",
        "./tools/tsRequireHook.js",
        "-e",
        'require("./src/cli/ltx.ts").main(["start"]).then((c) => { process.exitCode = c; })',
      ],
      {
        cwd: root,
        env: {
          PATH: process.env.PATH,
          REDIS_URL: redis.url,
          HOST: "127.0.0.1",
          PORT: "0",
          LOG_LEVEL: "info",
          ALLOW_PRIVATE_NETWORKS: "1",
          EXTRACT_THREADS: "1",
          MAINTENANCE_INTERVAL: "1h",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child?.once("exit", (code) => resolve(code)));
    const api = await until("the API", 40_000, async () => /API on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1]);

    await redis.kill9();
    // Long enough for every client to fail a few reconnects (ECONNREFUSED) and for the
    // worker's blocking fetch and the event stream reader to notice.
    await new Promise((r) => setTimeout(r, 4000));
    const down = await fetch(`${api}/readyz`);
    expect(down.status).toBe(503);
    await redis.restart();

    await until("ready again", 30_000, async () => ((await fetch(`${api}/readyz`)).status === 200 ? true : undefined));
    const created = (await (
      await fetch(`${api}/api/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ url: site.url }),
      })
    ).json()) as { id: string };
    const status = await until("the job to finish", 30_000, async () => {
      const view = (await (await fetch(`${api}/api/jobs/${created.id}`)).json()) as { status: string };
      return view.status === "success" || view.status === "failure" ? view.status : undefined;
    });
    expect(status).toBe("success");

    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(output).toMatch(/redis connection error|ECONNREFUSED/); // the outage was seen …
    expect(output).not.toMatch(/Unhandled error event/); // … and every client handled it
  } catch (e) {
    process.stderr.write(`ltx start output:\n${output.slice(-6000)}\n`);
    throw e;
  } finally {
    if (child && child.exitCode === null) child.kill("SIGKILL");
  }
});
