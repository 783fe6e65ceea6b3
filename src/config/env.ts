/**
 * All configuration comes from environment variables, parsed once at start-up by loadConfig.
 * Only composition roots (api/main, workers/main, cli commands) call it; they hand each module
 * the slice it needs. Every variable is documented in the README's table and in .env.example.
 */
import { isIP } from "node:net";
import os from "node:os";
import { z } from "zod";
import { ConfigError } from "../lib/errors";
import { PROVIDER_NAMES, type ProviderName } from "../lib/providers";
import { parseDuration } from "../lib/time";

const bool = (def: boolean) =>
  z
    .enum(["1", "0", "true", "false", "yes", "no", "on", "off", ""])
    .optional()
    .transform((v) => (v === undefined || v === "" ? def : ["1", "true", "yes", "on"].includes(v)));

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);

const duration = (def: string) =>
  z
    .string()
    .default(def)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined || ms < 1000) {
        ctx.addIssue({
          code: "custom",
          message: `expected a duration like 30s, 15m, 6h, 1d (at least 1s), got ${JSON.stringify(v)}`,
        });
        return z.NEVER;
      }
      return ms;
    });

/**
 * TRUST_PROXY: how many proxies in front of the API set X-Forwarded-For/-Proto/-Host ("1"), or
 * which addresses they have ("loopback", "10.0.0.0/8, 192.168.1.7"). "true" would trust any
 * client's X-Forwarded-For and let each one pick its own rate-limit and lockout budget, so it is
 * refused. Off by default.
 */
const TRUST_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);
const trustProxy = z
  .string()
  .optional()
  .transform((v, ctx): number | string | false => {
    const t = (v ?? "").trim();
    if (t === "" || t === "0" || t === "false" || t === "off" || t === "no") return false;
    if (/^\d{1,2}$/.test(t)) return Number(t);
    const parts = t.split(",").map((x) => x.trim());
    const bad = parts.find((p) => !TRUST_NAMES.has(p) && !isAddressOrSubnet(p));
    if (bad !== undefined) {
      ctx.addIssue({
        code: "custom",
        message: `expected a hop count, or addresses/subnets/loopback/linklocal/uniquelocal; got ${JSON.stringify(bad)}`,
      });
      return z.NEVER;
    }
    return parts.join(",");
  });

function isAddressOrSubnet(p: string): boolean {
  const [addr, bits, ...rest] = p.split("/");
  if (rest.length > 0 || addr === undefined) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );

const Env = z.object({
  // Redis and the processes
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(), // unset → `ltx start` runs a local redis-server
  REDIS_PREFIX: z.string().min(1).max(100).default("ltx"), // may carry a {hash tag} for Redis Cluster
  REDIS_DATA_DIR: z.string().default("./data"), // where the local redis-server keeps its AOF
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: int(3000, 0, 65535),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  METRICS_PORT: int(0, 0, 65535), // a worker process serves /metrics here when set
  METRICS_TOKEN: z.string().min(16).optional(), // set: /metrics needs Authorization: Bearer <token>
  METRICS_CACHE_MS: int(5_000, 0, 300_000), // one Redis read of the queue gauges serves scrapes this long

  // Files (llms.txt, llms-full.txt, page records): outside Redis
  FILE_STORE: z.enum(["fs", "s3"]).default("fs"),
  FILES_DIR: z.string().min(1).default("./data/files"), // FILE_STORE=fs: one directory shared by the API and the workers
  FILES_PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).optional(), // set: /sites/… files answer 302 to <url>/<key>
  S3_BUCKET: z.string().min(1).optional(),
  S3_PREFIX: z.string().default(""), // key prefix inside the bucket
  S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(), // MinIO, R2, Ceph …; unset: AWS
  S3_REGION: z.string().min(1).default("us-east-1"),
  S3_FORCE_PATH_STYLE: bool(false), // bucket in the path (MinIO, most self-hosted stores)

  // Workers and jobs
  WORKER_CONCURRENCY: int(8, 1, 1000), // one-off jobs per worker process
  SCHEDULE_CONCURRENCY: int(2, 1, 1000), // scheduled runs per worker process, on slots of their own
  EXTRACT_THREADS: int(Math.max(1, Math.min(4, os.availableParallelism())), 1, 64), // extraction worker threads per process
  MAX_ATTEMPTS: int(5, 1, 100),
  RETRY_BASE_DELAY_MS: int(60_000, 0), // back-off: base × 2^(attempt-1) …
  RETRY_MAX_DELAY_MS: int(3_600_000, 0), // … capped here
  JOB_RETENTION_DAYS: z.coerce.number().min(0).default(7),
  JOB_RETENTION_COUNT: int(10_000, 0), // finished jobs kept at most, per state
  JOB_TIMEOUT_MS: int(30 * 60_000, 1000), // wall-clock limit of one job attempt
  SHUTDOWN_GRACE_MS: int(30_000, 0), // SIGTERM: how long active jobs may run before they are handed back
  WORKER_LOCK_DURATION_MS: int(30_000, 2_000), // a job's lock; renewed every half of it. A dead worker's job is taken over after it lapses
  STALLED_INTERVAL_MS: int(30_000, 1_000), // how often workers look for jobs whose lock lapsed (killed workers)

  // Crawl
  MAX_PAGES: int(100, 1, 100_000), // default pages per site
  MAX_PAGES_LIMIT: int(1000, 1, 100_000), // the most a request may ask for
  MAX_DEPTH: int(10, 0, 1000),
  PAGE_MAX_BYTES: int(5 * 1024 * 1024, 1024),
  JOB_MAX_BYTES: int(500 * 1024 * 1024, 1024), // total bytes fetched by one job
  FULL_MAX_BYTES: int(10 * 1024 * 1024, 1024),
  FETCH_TIMEOUT_MS: int(30_000, 100),
  CONNECT_TIMEOUT_MS: int(10_000, 100),
  EXTRACT_TIMEOUT_MS: int(20_000, 100),
  PER_HOST_CONCURRENCY: int(4, 1, 64),
  ACCEPT_INVALID_CERTS: bool(false), // outbound fetches only
  ALLOW_PRIVATE_NETWORKS: bool(false), // lifts the SSRF guard (local use and tests)
  CRAWL_ALLOW_HOSTS: list, // hosts the SSRF guard lets through even when private

  // LLM
  OPENAI_API_KEY: z.string().min(1).optional(), // unset → extractive provider
  OPENAI_BASE_URL: z.url().optional(), // any OpenAI-compatible server (Ollama, vLLM, LM Studio)
  LTX_PROVIDER: z.enum(PROVIDER_NAMES).optional(), // default: openai when a key is set
  LTX_MODEL: z.string().min(1).default("gpt-4o-mini"),
  LLM_TOKEN_BUDGET: int(12_000, 500), // prompt tokens per LLM request; bigger sites are batched
  LLM_ATTEMPTS: int(3, 1, 10),
  LLM_TIMEOUT_MS: int(120_000, 1000),

  // Websites and schedules
  DEFAULT_UPDATE_INTERVAL: duration("1d"),
  MAX_VERSIONS_PER_SITE: int(20, 1, 10_000),
  MAX_WEBSITES: int(100_000, 1), // registered websites in total; a create or import beyond it is refused
  MAX_IMPORT_URLS: int(10_000, 1, 1_000_000), // URLs one import request may carry
  FAILURE_BACKOFF_AFTER: int(3, 1), // consecutive failures before a schedule stretches
  FAILURE_PAUSE_AFTER: int(10, 1), // consecutive failures before a website is paused
  MAINTENANCE_INTERVAL: duration("1h"),

  // Security
  ENABLE_AUTH: bool(false),
  AUTH_PASSWORD_HASH: z.string().min(1).optional(),
  SESSION_SECRET: z.string().min(16).optional(),
  SESSION_DURATION_SECONDS: int(7 * 24 * 3600, 60),
  PUBLIC_FILES: bool(true),
  TLS_CERT_PATH: z.string().min(1).optional(),
  TLS_KEY_PATH: z.string().min(1).optional(),
  CORS_ORIGINS: list,
  ALLOWED_HOSTS: list, // Host names the API answers to; unset: loopback names when HOST is loopback, else any
  TRUST_PROXY: trustProxy, // Express "trust proxy": unset/0 off, a hop count, or addresses/subnets
  BODY_LIMIT_BYTES: int(1024 * 1024, 1024),
  MAX_URL_LENGTH: int(2048, 64),
  RATE_LIMIT_PER_MINUTE: int(120, 1), // write requests per client per minute
  MAX_QUEUED_PER_CLIENT: int(10_000, 1), // one-off jobs a client may have queued or running; more → 429
});

export type RawEnv = z.infer<typeof Env>;

export interface Config {
  redis: { url: string | undefined; prefix: string; dataDir: string };
  http: {
    host: string;
    port: number;
    bodyLimitBytes: number;
    maxUrlLength: number;
    rateLimitPerMinute: number;
    maxQueuedPerClient: number;
    corsOrigins: string[];
    allowedHosts: string[];
    trustProxy: number | string | false;
    tls: { certPath: string; keyPath: string } | undefined;
  };
  files: {
    store: RawEnv["FILE_STORE"];
    dir: string;
    publicBaseUrl: string | undefined;
    s3:
      | { bucket: string; prefix: string; endpoint: string | undefined; region: string; forcePathStyle: boolean }
      | undefined;
  };
  logLevel: RawEnv["LOG_LEVEL"];
  metricsPort: number;
  metricsToken: string | undefined;
  metricsCacheMs: number;
  worker: {
    concurrency: number;
    scheduleConcurrency: number;
    extractThreads: number;
    shutdownGraceMs: number;
    jobTimeoutMs: number;
    lockDurationMs: number;
    stalledIntervalMs: number;
  };
  jobs: {
    maxAttempts: number;
    retryBaseDelayMs: number;
    retryMaxDelayMs: number;
    retentionDays: number;
    retentionCount: number;
  };
  crawl: {
    maxPages: number;
    maxPagesLimit: number;
    maxDepth: number;
    pageMaxBytes: number;
    jobMaxBytes: number;
    fullMaxBytes: number;
    fetchTimeoutMs: number;
    connectTimeoutMs: number;
    extractTimeoutMs: number;
    perHostConcurrency: number;
    acceptInvalidCerts: boolean;
    allowPrivateNetworks: boolean;
    allowHosts: string[];
  };
  llm: {
    provider: ProviderName;
    apiKey: string | undefined;
    baseUrl: string | undefined;
    model: string;
    tokenBudget: number;
    attempts: number;
    timeoutMs: number;
  };
  schedules: {
    defaultIntervalMs: number;
    maxVersionsPerSite: number;
    maxWebsites: number;
    maxImportUrls: number;
    failureBackoffAfter: number;
    failurePauseAfter: number;
    maintenanceIntervalMs: number;
  };
  auth: {
    enabled: boolean;
    passwordHash: string | undefined;
    sessionSecret: string | undefined;
    sessionDurationSeconds: number;
    publicFiles: boolean;
  };
}

/** Parses the environment; throws ConfigError naming every bad variable. Pure: pass any env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join("; ")}`);
  }
  const e = parsed.data;
  if (e.OPENAI_API_KEY === undefined && e.LTX_PROVIDER === "openai" && e.OPENAI_BASE_URL === undefined) {
    throw new ConfigError("invalid configuration: LTX_PROVIDER=openai needs OPENAI_API_KEY or OPENAI_BASE_URL");
  }
  if (e.ENABLE_AUTH && (!e.AUTH_PASSWORD_HASH || !e.SESSION_SECRET)) {
    throw new ConfigError(
      "invalid configuration: ENABLE_AUTH=1 needs AUTH_PASSWORD_HASH (make one with `ltx hash-password`) and SESSION_SECRET (16+ characters)",
    );
  }
  if ((e.TLS_CERT_PATH === undefined) !== (e.TLS_KEY_PATH === undefined)) {
    throw new ConfigError("invalid configuration: TLS_CERT_PATH and TLS_KEY_PATH go together");
  }
  if (e.FILE_STORE === "s3" && e.S3_BUCKET === undefined)
    throw new ConfigError("invalid configuration: FILE_STORE=s3 needs S3_BUCKET");
  if (e.MAX_PAGES > e.MAX_PAGES_LIMIT)
    throw new ConfigError("invalid configuration: MAX_PAGES is above MAX_PAGES_LIMIT");
  const config: Config = {
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX, dataDir: e.REDIS_DATA_DIR },
    http: {
      host: e.HOST,
      port: e.PORT,
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
      maxUrlLength: e.MAX_URL_LENGTH,
      rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
      maxQueuedPerClient: e.MAX_QUEUED_PER_CLIENT,
      corsOrigins: e.CORS_ORIGINS,
      allowedHosts: e.ALLOWED_HOSTS,
      trustProxy: e.TRUST_PROXY,
      tls: e.TLS_CERT_PATH && e.TLS_KEY_PATH ? { certPath: e.TLS_CERT_PATH, keyPath: e.TLS_KEY_PATH } : undefined,
    },
    files: {
      store: e.FILE_STORE,
      dir: e.FILES_DIR,
      publicBaseUrl: e.FILES_PUBLIC_BASE_URL?.replace(/\/+$/, ""),
      s3:
        e.S3_BUCKET === undefined
          ? undefined
          : {
              bucket: e.S3_BUCKET,
              prefix: e.S3_PREFIX,
              endpoint: e.S3_ENDPOINT,
              region: e.S3_REGION,
              forcePathStyle: e.S3_FORCE_PATH_STYLE,
            },
    },
    logLevel: e.LOG_LEVEL,
    metricsPort: e.METRICS_PORT,
    metricsToken: e.METRICS_TOKEN,
    metricsCacheMs: e.METRICS_CACHE_MS,
    worker: {
      concurrency: e.WORKER_CONCURRENCY,
      scheduleConcurrency: e.SCHEDULE_CONCURRENCY,
      extractThreads: e.EXTRACT_THREADS,
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
      jobTimeoutMs: e.JOB_TIMEOUT_MS,
      lockDurationMs: e.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: e.STALLED_INTERVAL_MS,
    },
    jobs: {
      maxAttempts: e.MAX_ATTEMPTS,
      retryBaseDelayMs: e.RETRY_BASE_DELAY_MS,
      retryMaxDelayMs: e.RETRY_MAX_DELAY_MS,
      retentionDays: e.JOB_RETENTION_DAYS,
      retentionCount: e.JOB_RETENTION_COUNT,
    },
    crawl: {
      maxPages: e.MAX_PAGES,
      maxPagesLimit: e.MAX_PAGES_LIMIT,
      maxDepth: e.MAX_DEPTH,
      pageMaxBytes: e.PAGE_MAX_BYTES,
      jobMaxBytes: e.JOB_MAX_BYTES,
      fullMaxBytes: e.FULL_MAX_BYTES,
      fetchTimeoutMs: e.FETCH_TIMEOUT_MS,
      connectTimeoutMs: e.CONNECT_TIMEOUT_MS,
      extractTimeoutMs: e.EXTRACT_TIMEOUT_MS,
      perHostConcurrency: e.PER_HOST_CONCURRENCY,
      acceptInvalidCerts: e.ACCEPT_INVALID_CERTS,
      allowPrivateNetworks: e.ALLOW_PRIVATE_NETWORKS,
      allowHosts: e.CRAWL_ALLOW_HOSTS,
    },
    llm: {
      provider: e.LTX_PROVIDER ?? (e.OPENAI_API_KEY ? "openai" : "extractive"),
      apiKey: e.OPENAI_API_KEY,
      baseUrl: e.OPENAI_BASE_URL,
      model: e.LTX_MODEL,
      tokenBudget: e.LLM_TOKEN_BUDGET,
      attempts: e.LLM_ATTEMPTS,
      timeoutMs: e.LLM_TIMEOUT_MS,
    },
    schedules: {
      defaultIntervalMs: e.DEFAULT_UPDATE_INTERVAL,
      maxVersionsPerSite: e.MAX_VERSIONS_PER_SITE,
      maxWebsites: e.MAX_WEBSITES,
      maxImportUrls: e.MAX_IMPORT_URLS,
      failureBackoffAfter: e.FAILURE_BACKOFF_AFTER,
      failurePauseAfter: e.FAILURE_PAUSE_AFTER,
      maintenanceIntervalMs: e.MAINTENANCE_INTERVAL,
    },
    auth: {
      enabled: e.ENABLE_AUTH,
      passwordHash: e.AUTH_PASSWORD_HASH,
      sessionSecret: e.SESSION_SECRET,
      sessionDurationSeconds: e.SESSION_DURATION_SECONDS,
      publicFiles: e.PUBLIC_FILES,
    },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === "object") {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
