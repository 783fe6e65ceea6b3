/*
 * The SSRF guard end to end: through the API (the URL pre-check answers 400, nothing enqueued) and
 * through a worker running the real pipeline (the connect-time policy fails the job at once).
 *
 * Loopback only, even if the guard were broken: every target is a server this file starts on
 * 127.0.0.1 / [::1], and dns.lookup is stubbed for the whole file so that no name is ever resolved
 * by a real resolver (test names answer 127.0.0.1; anything else is ENOTFOUND). A preflight proves
 * the crawler's fetch goes through the stub before any test hostname is used.
 */
import { readFailure } from "../../src/queues/failure";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { loadConfig } from "../../src/config/env";
import { pipelineSettings } from "../../src/workers/pipelineSettings";
import { BlockedAddressError, InvalidUrlError } from "../../src/lib/errors";
import { runPipeline } from "../../src/pipeline";
import { resolveSite } from "../../src/pipeline/site";
import { fetchPage } from "../../src/pipeline/fetch/fetch";
import { enqueueGenerate } from "../../src/queues/enqueue";
import { createAddressPolicy } from "../../src/security/addressPolicy";
import { request, startTestApi } from "../support/apiHarness";
import { type DnsStub, installDnsStub } from "../support/dnsStub";
import { type RedisServer, startRedis } from "../support/redisServer";
import { testFetchSettings } from "../support/siteServer";
import { createHarness, type Harness, waitFor } from "../support/workerHarness";

// ---- a DNS that only knows loopback ------------------------------------------------------------

const STUB: Record<string, string[]> = {
  "ssrf-target.test": ["127.0.0.1"],
  "allowed.test": ["127.0.0.1"],
  localhost: ["127.0.0.1", "::1"],
};
let dnsStub: DnsStub;

// ---- loopback targets that log every request ----------------------------------------------------

interface Target {
  port: number;
  log: string[];
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 and [::1] on one port; every request is logged, whichever address. */
async function startTarget(
  handler: http.RequestListener = (_q, r) => r.end("<html><title>secret</title></html>"),
  hosts = ["127.0.0.1", "::1"],
): Promise<Target> {
  const log: string[] = [];
  const servers: http.Server[] = [];
  let port = 0;
  for (const host of hosts) {
    const s = http.createServer((req, res) => {
      log.push(`${host} ${req.method} ${req.url}`);
      handler(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, host, () => resolve());
    });
    port = (s.address() as AddressInfo).port;
    servers.push(s);
  }
  return {
    port,
    log,
    close: async () => {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    },
  };
}

let redis: RedisServer;
let target: Target;

beforeAll(async () => {
  dnsStub = installDnsStub(STUB);
  redis = await startRedis();
  target = await startTarget();

  // Preflight: localhost is 127.0.0.1 in /etc/hosts (no DNS either way); the stub says 127.0.0.2,
  // where only this probe listens. If the request lands, the crawler resolves through the stub.
  const probe = await startTarget(undefined, ["127.0.0.2"]);
  const saved = STUB.localhost;
  STUB.localhost = ["127.0.0.2"];
  try {
    await fetchPage(
      `http://localhost:${probe.port}/`,
      testFetchSettings({ retries: 0, addressPolicy: () => undefined }),
    );
  } finally {
    STUB.localhost = saved as string[];
    await probe.close();
  }
  if (probe.log.length !== 1)
    throw new Error(
      "the crawler's fetch does not resolve through dns.lookup: refusing to run tests with test hostnames",
    );
});

afterAll(async () => {
  await target?.close();
  await redis?.stop();
  jest.restoreAllMocks();
});

afterEach(() => {
  // Every test asserts on the log itself; this catches a request that slipped in between.
  expect(target.log).toEqual([]);
});

const loopbackUrls = (port: number): string[] => [
  `http://127.0.0.1:${port}/`,
  `http://127.1:${port}/`,
  `http://localhost:${port}/`,
  `http://[::1]:${port}/`,
  `http://[::ffff:127.0.0.1]:${port}/`,
  `http://2130706433:${port}/`,
  `http://0x7f.1:${port}/`,
  `http://0177.0.0.1:${port}/docs/`,
  `http://ssrf-target.test:${port}/`,
];

describe("through the API (pre-check)", () => {
  test("every loopback spelling, the stubbed hostname, file:// and gopher:// → 400 and nothing enqueued", async () => {
    const t = await startTestApi(
      redis.url,
      { ALLOW_PRIVATE_NETWORKS: "0" },
      { lookup: (host) => dnsStub.lookupAll(host) },
    );
    try {
      const seen: string[] = [];
      for (const url of loopbackUrls(target.port)) {
        const res = await request(t.url, "POST", "/api/jobs", { url });
        seen.push(`${url} ${res.status} ${res.body?.error?.code}`);
      }
      for (const url of ["file:///etc/passwd", `gopher://127.0.0.1:${target.port}/_GET%20/`]) {
        const res = await request(t.url, "POST", "/api/jobs", { url });
        seen.push(
          `${url} ${res.status} ${res.body?.error?.code === "INVALID_INPUT" || res.body?.error?.code === "BLOCKED_ADDRESS" ? "refused" : res.body?.error?.code}`,
        );
      }
      expect(seen).toEqual([
        ...loopbackUrls(target.port).map((u) => `${u} 400 BLOCKED_ADDRESS`),
        "file:///etc/passwd 400 refused",
        `gopher://127.0.0.1:${target.port}/_GET%20/ 400 refused`,
      ]);
      expect(dnsStub.lookedUp).toContain("ssrf-target.test");
      const counts = await t.api.context.queues.generate.getJobCounts();
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
      expect(target.log).toEqual([]);
    } finally {
      await t.close();
    }
  });

  test("CRAWL_ALLOW_HOSTS lifts the pre-check for the listed host only", async () => {
    const t = await startTestApi(
      redis.url,
      { CRAWL_ALLOW_HOSTS: "ssrf-target.test", ALLOW_PRIVATE_NETWORKS: "0" },
      { lookup: (host) => dnsStub.lookupAll(host) },
    );
    try {
      expect(
        (await request(t.url, "POST", "/api/jobs", { url: `http://ssrf-target.test:${target.port}/` })).status,
      ).toBe(202);
      expect((await request(t.url, "POST", "/api/jobs", { url: `http://127.0.0.1:${target.port}/` })).status).toBe(400);
      // No worker runs here: accepted is only queued, nothing is fetched.
      expect(target.log).toEqual([]);
    } finally {
      await t.close();
    }
  });
});

describe("through a worker (connect-time policy, real pipeline)", () => {
  let h: Harness;
  const guarded = createAddressPolicy({ allowPrivate: false, allowHosts: [] });
  const config = loadConfig({ FETCH_TIMEOUT_MS: "3000", CONNECT_TIMEOUT_MS: "1000", MAX_PAGES: "5" });
  let policy = guarded;

  beforeAll(async () => {
    h = await createHarness(redis.url);
    await h.startWorker(
      (url, opts) => runPipeline(resolveSite(url), opts),
      {},
      { settings: (o) => pipelineSettings(config, o, policy) },
    );
  });
  afterAll(async () => {
    await h.close();
  });

  async function runJob(url: string): Promise<{ failedReason: string; attemptsMade: number }> {
    const { job } = await enqueueGenerate(h.queues, { url, trigger: "api" });
    const id = job.id ?? "";
    const state = await waitFor(
      async () => {
        const s = await h.queues.generate.getJobState(id);
        return s === "failed" || s === "completed" ? s : undefined;
      },
      15_000,
      `job for ${url} to finish`,
    );
    expect(state).toBe("failed");
    // Read the job after it finished: a copy read while it ran has no failedReason yet.
    const j = await h.queues.generate.getJob(id);
    return { failedReason: j?.failedReason ?? "", attemptsMade: j?.attemptsMade ?? -1 };
  }

  test("each loopback spelling and the stubbed hostname fail at once with BLOCKED_ADDRESS, no request made", async () => {
    const outcomes: string[] = [];
    dnsStub.lookedUp.length = 0;
    for (const url of loopbackUrls(target.port)) {
      const r = await runJob(url);
      outcomes.push(`${url} ${readFailure(r.failedReason).code ?? r.failedReason} attempts=${r.attemptsMade}`);
    }
    expect(outcomes).toEqual(loopbackUrls(target.port).map((u) => `${u} BLOCKED_ADDRESS attempts=1`));
    expect(dnsStub.lookedUp).toContain("ssrf-target.test"); // the worker resolved it, through the stub
    expect(target.log).toEqual([]);
  });

  test("a redirect from an allow-listed loopback server to another loopback port is refused at the redirect", async () => {
    const allowed = await startTarget(
      (req, res) => {
        res.writeHead(302, { location: `http://127.0.0.1:${target.port}${req.url ?? "/"}` }).end();
      },
      ["127.0.0.1"],
    );
    policy = createAddressPolicy({ allowPrivate: false, allowHosts: ["allowed.test"] });
    try {
      const r = await runJob(`http://allowed.test:${allowed.port}/`);
      expect(readFailure(r.failedReason).code).toBe("BLOCKED_ADDRESS");
      expect(r.attemptsMade).toBe(1);
      expect(allowed.log.length).toBeGreaterThan(0); // the allow-listed host was fetched…
      expect(target.log).toEqual([]); // …but nothing followed its redirect
    } finally {
      policy = guarded;
      await allowed.close();
    }
  });

  test("file:// and gopher:// never become jobs, and the fetcher refuses them too", async () => {
    await expect(enqueueGenerate(h.queues, { url: "file:///etc/passwd" })).rejects.toThrow();
    await expect(enqueueGenerate(h.queues, { url: `gopher://127.0.0.1:${target.port}/` })).rejects.toThrow();
    for (const url of ["file:///etc/passwd", `gopher://127.0.0.1:${target.port}/`]) {
      const err: unknown = await fetchPage(url, testFetchSettings({ addressPolicy: guarded })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err instanceof InvalidUrlError || err instanceof BlockedAddressError).toBe(true);
    }
    expect(target.log).toEqual([]);
  });

  test("control: with the guard lifted the same target is reached, so the empty logs above mean something", async () => {
    await fetchPage(
      `http://127.0.0.1:${target.port}/`,
      testFetchSettings({ retries: 0, addressPolicy: createAddressPolicy({ allowPrivate: true, allowHosts: [] }) }),
    );
    await fetchPage(`http://[::1]:${target.port}/`, testFetchSettings({ retries: 0 }));
    expect(target.log).toEqual([`127.0.0.1 GET /`, `::1 GET /`]);
    target.log.length = 0;
  });
});
