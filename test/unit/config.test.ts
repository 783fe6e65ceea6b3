import { loadConfig } from "../../src/config/env";
import { pipelineSettings } from "../../src/workers/pipelineSettings";
import { ConfigError } from "../../src/lib/errors";

describe("loadConfig", () => {
  it("gives working defaults for an empty environment (extractive provider, no auth)", () => {
    const c = loadConfig({});
    expect(c.http.port).toBe(3000);
    expect(c.worker.concurrency).toBe(8);
    expect(c.jobs.maxAttempts).toBe(5);
    expect(c.llm.provider).toBe("extractive");
    expect(c.auth.enabled).toBe(false);
    expect(c.schedules.defaultIntervalMs).toBe(24 * 3600 * 1000);
    expect(Object.isFrozen(c.crawl)).toBe(true);
  });

  it("switches to the openai provider when a key is set", () => {
    const c = loadConfig({ OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: "http://127.0.0.1:1234/v1", LTX_MODEL: "m" });
    expect(c.llm).toMatchObject({
      provider: "openai",
      apiKey: "sk-test",
      baseUrl: "http://127.0.0.1:1234/v1",
      model: "m",
    });
  });

  it.each([
    [{ PORT: "70000" }, "PORT"],
    [{ WORKER_CONCURRENCY: "0" }, "WORKER_CONCURRENCY"],
    [{ REDIS_URL: "http://localhost" }, "REDIS_URL"],
    [{ ENABLE_AUTH: "maybe" }, "ENABLE_AUTH"],
    [{ DEFAULT_UPDATE_INTERVAL: "soon" }, "DEFAULT_UPDATE_INTERVAL"],
    [{ DEFAULT_UPDATE_INTERVAL: "500ms" }, "DEFAULT_UPDATE_INTERVAL"],
    [{ ENABLE_AUTH: "1" }, "AUTH_PASSWORD_HASH"],
    [{ TLS_CERT_PATH: "/tmp/c.pem" }, "TLS_KEY_PATH"],
    [{ MAX_PAGES: "500", MAX_PAGES_LIMIT: "100" }, "MAX_PAGES"],
  ])("rejects %p naming %s", (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });

  it("parses durations in every documented form", () => {
    for (const [v, ms] of [
      ["30s", 30_000],
      ["15m", 900_000],
      ["6h", 21_600_000],
      ["1d", 86_400_000],
      ["90", 90_000],
    ] as const) {
      expect(loadConfig({ DEFAULT_UPDATE_INTERVAL: v }).schedules.defaultIntervalMs).toBe(ms);
    }
  });
});

describe("pipelineSettings", () => {
  it("applies request overrides over the config defaults", () => {
    const c = loadConfig({ MAX_PAGES: "50" });
    expect(pipelineSettings(c).run.limits.maxPages).toBe(50);
    const s = pipelineSettings(c, { maxPages: 7, include: ["/docs/*"], provider: "openai", model: "x" });
    expect(s.run.limits).toMatchObject({ maxPages: 7, include: ["/docs/*"], exclude: [] });
    expect(s.providerOptions).toMatchObject({ provider: "openai", model: "x" });
    expect(s.run.fetch.userAgent).toMatch(/^ltx\/\d+\.\d+\.\d+/);
    expect(s.run.fetch.addressPolicy).toBeUndefined();
    expect(s.run.jobMaxBytes).toBe(c.crawl.jobMaxBytes);
  });

  it("refuses a maxPages above MAX_PAGES_LIMIT, however the job was added", () => {
    const c = loadConfig({ MAX_PAGES_LIMIT: "100" });
    expect(() => pipelineSettings(c, { maxPages: 101 })).toThrow(/above MAX_PAGES_LIMIT/);
  });
});
