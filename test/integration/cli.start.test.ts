/**
 * `ltx start` as a user runs it: one process, no REDIS_URL. It starts its own redis-server (AOF,
 * data in REDIS_DATA_DIR), the schedules, a worker and the API; a job for a loopback fixture site
 * runs to success and its llms.txt is served; SIGTERM stops everything (redis-server included)
 * and the process exits 0. Only loopback traffic: the fixture site is served by this test.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";

jest.setTimeout(60_000);

const root = path.resolve(__dirname, "..", "..");
const siteDir = path.join(root, "test", "fixtures", "sites", "crawl-only");

function serveFixture(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    let file = path.join(siteDir, decodeURIComponent(url.pathname));
    if (!file.startsWith(siteDir)) return void res.writeHead(403).end();
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
    if (!fs.existsSync(file)) return void res.writeHead(404).end("not found");
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(fs.readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("ltx start runs redis-server, worker and API; a job succeeds; SIGTERM exits 0 and stops redis-server", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ltx-start-"));
  const site = await serveFixture();
  const sitePort = (site.address() as { port: number }).port;
  let child: ChildProcess | undefined;
  let output = "";
  try {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      REDIS_DATA_DIR: path.join(dir, "data"),
      FILES_DIR: path.join(dir, "files"),
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
      ALLOW_PRIVATE_NETWORKS: "1",
      EXTRACT_THREADS: "1",
      MAINTENANCE_INTERVAL: "1h",
    };
    child = spawn(
      process.execPath,
      [
        "-r",
        "./tools/tsRequireHook.js",
        "-e",
        'require("./src/cli/ltx.ts").main(["start"]).then((c) => { process.exitCode = c; })',
      ],
      { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child?.once("exit", (code) => resolve(code)));

    const deadline = Date.now() + 40_000;
    let api: string | undefined;
    while (!api && Date.now() < deadline) {
      api = /API on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      if (child.exitCode !== null) throw new Error(`ltx start exited early:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!api) throw new Error(`ltx start did not come up:\n${output}`);
    const redisPid = Number(/"redisPid":(\d+)/.exec(output)?.[1]);
    expect(alive(redisPid)).toBe(true);
    expect(fs.readdirSync(path.join(dir, "data"))).toContain("appendonlydir");

    const created = (await (
      await fetch(`${api}/api/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ url: `http://127.0.0.1:${sitePort}/` }),
      })
    ).json()) as { id: string; links: { llmsTxt: string } };
    let status = "";
    while (status !== "success" && Date.now() < deadline) {
      const view = (await (await fetch(`${api}/api/jobs/${created.id}`)).json()) as { status: string; error: unknown };
      status = view.status;
      if (status === "failure") throw new Error(`job failed: ${JSON.stringify(view.error)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe("success");
    const file = await fetch(`${api}${created.links.llmsTxt}`);
    expect(file.status).toBe(200);
    expect(await file.text()).toMatch(/^# /);

    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(alive(redisPid)).toBe(false);
  } catch (e) {
    process.stderr.write(`ltx start output:\n${output.slice(-4000)}\n`);
    throw e;
  } finally {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    site.closeAllConnections();
    await new Promise((r) => site.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
