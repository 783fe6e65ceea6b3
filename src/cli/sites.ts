/**
 * `ltx sites import FILE` and `ltx sites list`: bulk registration and a table of websites, talking
 * to Redis directly (REDIS_URL, REDIS_PREFIX) through the same modules the API uses, so a site
 * added here gets its job scheduler exactly as through POST /api/websites.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { ZodError } from "zod";
import { loadConfig, type Config } from "../config/env";
import { coerceError } from "../lib/coerceError";
import { isLtxError } from "../lib/errors";
import { createLogger } from "../lib/logger";
import { closeRedis, createRedis, keyPrefix } from "../queues/connection";
import { createQueues } from "../queues/queues";
import { describeSchedule } from "../websites/schedule";
import { createWebsiteService, type WebsiteService } from "../websites/service";
import { websiteView, type WebsiteView } from "../api/websiteView";
import { createWebsiteStore, WEBSITE_STATUSES } from "../store/websites";

export const SITES_HELP = `Usage: ltx sites <command> [options]

Commands:
  import FILE     register the URLs in FILE (one per line; blank lines and # comments are
                  ignored; "-" reads stdin). Prints how many were added, skipped (already
                  registered or repeated) and rejected (invalid), and each rejected line.
  list            print a table of the registered websites

Options for import:
  --every D       interval like 30s, 15m, 6h, 1d (default: DEFAULT_UPDATE_INTERVAL)
  --cron P        a cron pattern instead of --every; --tz ZONE for its time zone
  --spread D      spread the first runs over D (default: the interval, at most 1h)
  --max-pages N   --provider NAME  --model NAME   generation options for these sites
  --disabled      register them without a schedule
Options for list:
  --status S      only websites in status S (${WEBSITE_STATUSES.join(", ")})
  --limit N       at most N rows (default 100)
  --json          print JSON instead of a table

Exit codes: 0 done, 1 Redis unreachable or (import) some lines were rejected, 2 bad usage.
Environment: REDIS_URL (required), REDIS_PREFIX.`;

const OPTIONS = {
  every: { type: "string" },
  cron: { type: "string" },
  tz: { type: "string" },
  spread: { type: "string" },
  "max-pages": { type: "string" },
  provider: { type: "string" },
  model: { type: "string" },
  disabled: { type: "boolean" },
  status: { type: "string" },
  limit: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

export async function sitesCommand(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    return fail(`${coerceError(e).message} (try \`ltx sites --help\`)`, 2);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    out.write(`${SITES_HELP}\n`);
    return values.help ? 0 : 2;
  }
  if (command !== "import" && command !== "list")
    return fail(`unknown command ${JSON.stringify(command)} (try \`ltx sites --help\`)`, 2);
  if (command === "import" && rest.length !== 1) return fail("usage: ltx sites import FILE", 2);
  if (command === "list" && rest.length !== 0) return fail(`unexpected argument ${JSON.stringify(rest[0])}`, 2);

  let config: Readonly<Config>;
  try {
    config = loadConfig(env);
  } catch (e) {
    return fail(coerceError(e).message, 2);
  }
  if (!config.redis.url) return fail("REDIS_URL is not set: `ltx sites` talks to the service's Redis", 2);
  const logger = createLogger({
    level: config.logLevel === "info" ? "warn" : config.logLevel,
    name: "ltx-sites",
    destination: process.stderr,
  });
  const prefix = keyPrefix(config.redis.prefix);
  const redis = createRedis(config.redis.url, { name: "ltx-sites" });
  redis.on("error", () => undefined); // the command's own error says it
  const queues = createQueues({ connection: redis, prefix, jobs: config.jobs, logger });
  try {
    const service = createWebsiteService({
      websites: createWebsiteStore(redis, { prefix }),
      redis,
      queues,
      settings: {
        defaultEveryMs: config.schedules.defaultIntervalMs,
        maxPagesLimit: config.crawl.maxPagesLimit,
        maxUrlLength: config.http.maxUrlLength,
        maxWebsites: config.schedules.maxWebsites,
        maxImportUrls: config.schedules.maxImportUrls,
      },
      logger,
    });
    return command === "import"
      ? await importSites(service, rest[0] as string, values, out)
      : await listSites(service, values, out);
  } catch (e) {
    if (e instanceof ZodError)
      return fail(e.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; "), 2);
    const err = coerceError(e);
    return fail(err.message, isLtxError(err) && !err.retryable ? 2 : 1);
  } finally {
    await queues.close();
    await closeRedis(redis);
  }
}

async function importSites(
  service: WebsiteService,
  file: string,
  values: Values,
  out: NodeJS.WritableStream,
): Promise<number> {
  const text = file === "-" ? await readStdin() : await readFile(file, "utf8");
  const lines: { n: number; url: string }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const url = raw.replace(/\s+#.*$/, "").trim();
    if (url !== "" && !url.startsWith("#")) lines.push({ n: i + 1, url });
  });
  if (lines.length === 0) return fail(`${file}: no URLs in it`, 2);
  const body: Record<string, unknown> = { urls: lines.map((l) => l.url) };
  if (values.every !== undefined) body.every = values.every;
  if (values.cron !== undefined) body.cron = values.cron;
  if (values.tz !== undefined) body.tz = values.tz;
  if (values.spread !== undefined) body.spread = values.spread;
  if (values["max-pages"] !== undefined) body.maxPages = Number(values["max-pages"]);
  if (values.provider !== undefined) body.provider = values.provider;
  if (values.model !== undefined) body.model = values.model;
  if (values.disabled) body.enabled = false;
  const report = await service.import(body);
  out.write(
    `added ${report.added}, skipped ${report.skipped}, rejected ${report.rejected} (${lines.length} URLs in ${report.durationMs} ms)\n`,
  );
  report.items.forEach((item, i) => {
    if (item.status === "rejected")
      out.write(`rejected line ${lines[i]?.n ?? "?"}: ${item.url}: ${item.reason ?? "invalid"}\n`);
  });
  return report.rejected > 0 ? 1 : 0;
}

async function listSites(service: WebsiteService, values: Values, out: NodeJS.WritableStream): Promise<number> {
  const want = values.limit === undefined ? 100 : Number(values.limit);
  if (!Number.isInteger(want) || want < 1) return fail("--limit must be a positive integer", 2);
  const rows: WebsiteView[] = [];
  let cursor: string | undefined;
  do {
    const page = await service.list({
      limit: String(Math.min(100, want - rows.length)),
      ...(values.status ? { status: values.status } : {}),
      ...(cursor ? { cursor } : {}),
    });
    rows.push(...page.items.map(websiteView));
    cursor = page.nextCursor;
  } while (cursor !== undefined && rows.length < want);
  if (values.json) {
    out.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  out.write(table(rows));
  return 0;
}

function table(rows: WebsiteView[]): string {
  const head = ["ID", "STATUS", "SCHEDULE", "NEXT RUN", "LAST JOB", "FAILS", "URL"];
  const body = rows.map((w) => [
    w.id,
    w.status,
    describeSchedule(
      w.schedule.cron
        ? { pattern: w.schedule.cron, ...(w.schedule.tz ? { tz: w.schedule.tz } : {}) }
        : { every: w.schedule.everyMs ?? 0 },
    ),
    w.nextRunAt ?? "-",
    w.lastJob ? `${w.lastJob.status} ${w.lastJob.finishedAt ?? w.lastJob.startedAt ?? ""}`.trim() : "-",
    String(w.consecutiveFailures),
    w.url,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ");
  return `${[line(head), ...body.map(line)].join("\n")}\n${rows.length} website${rows.length === 1 ? "" : "s"}\n`;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function fail(message: string, code: number): number {
  process.stderr.write(`ltx sites: ${message}\n`);
  return code;
}
