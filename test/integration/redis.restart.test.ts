/**
 * A Redis restart under a running service: `ltx start` (API, worker and schedules in one process)
 * against a real redis-server that is stopped for a few seconds and started again. Every ioredis
 * client the process has (ours, and the ones BullMQ duplicates from them) must have an 'error'
 * listener: without one, ioredis prints "[ioredis] Unhandled error event" for every failed
 * reconnect. After the restart the service answers /readyz and runs a job again.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { freePort, startRedis, type RedisServer } from "../support/redisServer";
import { startSiteServer, type SiteServer } from "../support/siteServer";

jest.setTimeout(90_000);

const root = path.resolve(__dirname, "..", "..");
let redis: RedisServer;
let site: SiteServer;

beforeAll(async () => {
  // AOF: the restart is a kill -9, and the second test's website must survive it.
  redis = await startRedis({ appendonly: true });
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

/** `ltx <command>` from the sources, its stdout and stderr collected into `out.text`. */
function spawnLtx(
  args: string[],
  env: Record<string, string>,
  out: { text: string },
): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    [
      "-r",
      "./tools/tsRequireHook.js",
      "-e",
      `require("./src/cli/ltx.ts").main(${JSON.stringify(args)}).then((c) => { process.exitCode = c; })`,
    ],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? "",
        REDIS_URL: redis.url,
        HOST: "127.0.0.1",
        LOG_LEVEL: "info",
        ALLOW_PRIVATE_NETWORKS: "1",
        EXTRACT_THREADS: "1",
        MAINTENANCE_INTERVAL: "1h",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stdout?.on("data", (d: Buffer) => (out.text += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out.text += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited };
}

test("a Redis restart under separate API and worker + scheduler processes: no unhandled error event in either", async () => {
  const apiOut = { text: "" };
  const workerOut = { text: "" };
  const port = String(await freePort());
  const api = spawnLtx(["api"], { PORT: port }, apiOut);
  const worker = spawnLtx(["worker"], { WORKER_CONCURRENCY: "2", SCHEDULE_CONCURRENCY: "1" }, workerOut);
  const base = `http://127.0.0.1:${port}`;
  try {
    await until("the API", 40_000, async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined));
    await until("the worker", 40_000, async () => (/worker started/.test(workerOut.text) ? true : undefined));
    // A website on a 1 s schedule: the scheduler, the schedule queue's worker and its event
    // reader are all busy when Redis goes away.
    const registered = await fetch(`${base}/api/websites`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: site.url, every: "1s" }),
    });
    expect(registered.status).toBe(201);
    const { id } = (await registered.json()) as { id: string };
    await new Promise((r) => setTimeout(r, 1500)); // past AOF's once-a-second fsync; a run is under way

    await redis.kill9();
    await new Promise((r) => setTimeout(r, 4000));
    await redis.restart();
    await until("ready again", 30_000, async () => ((await fetch(`${base}/readyz`)).status === 200 ? true : undefined));

    // Scheduled runs go on after the restart.
    const after = Date.now();
    await until("a scheduled run after the restart", 30_000, async () => {
      const w = (await (await fetch(`${base}/api/websites/${id}`)).json()) as { lastSuccessAt: string | null };
      return w.lastSuccessAt !== null && Date.parse(w.lastSuccessAt) > after ? true : undefined;
    });

    api.child.kill("SIGTERM");
    worker.child.kill("SIGTERM");
    expect(await api.exited).toBe(0);
    expect(await worker.exited).toBe(0);
    for (const out of [apiOut.text, workerOut.text]) {
      expect(out).toMatch(/redis connection error|ECONNREFUSED/); // the outage was seen …
      expect(out).not.toMatch(/Unhandled error event/); // … and every client handled it
    }
  } catch (e) {
    process.stderr.write(
      `ltx api output:\n${apiOut.text.slice(-4000)}\nltx worker output:\n${workerOut.text.slice(-4000)}\n`,
    );
    throw e;
  } finally {
    for (const p of [api.child, worker.child]) if (p.exitCode === null) p.kill("SIGKILL");
  }
});

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
    const status = await until("the job to finish", 60_000, async () => {
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
