/**
 * `ltx api`: the HTTP API and Bull Board against REDIS_URL, until SIGTERM/SIGINT.
 * Exit codes: 0 after a clean shutdown, 1 when Redis is misconfigured or unreachable at start (or
 * the shutdown deadline passed), 2 for bad configuration or usage.
 */
import type { Config } from "../config/env";
import { loadConfig } from "../config/env";
import { runApiProcess } from "../api/main";
import { coerceError } from "../lib/coerceError";
import { isLtxError } from "../lib/errors";
import { createLogger, type Logger } from "../lib/logger";
import { createShutdown, installSignalHandlers, type Shutdown } from "../lib/shutdown";

const USAGE = `Usage: ltx api [--host HOST] [--port PORT]

Runs the HTTP API (/api/*, /sites/*) and Bull Board (/admin/queues) against REDIS_URL.
--host and --port override HOST and PORT. Everything else comes from environment variables
(see .env.example).
`;

export interface ServeArgs {
  host?: string;
  port?: number;
}

/** Parses [--host H] [--port N]; a string is a usage error to print. */
export function parseServeArgs(argv: string[]): ServeArgs | { help: true } | string {
  const out: ServeArgs = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--help" || arg === "-h") return { help: true };
    const [flag, inline] = arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    if (flag !== "--host" && flag !== "--port") return `unexpected argument ${JSON.stringify(arg)}`;
    const value = inline ?? argv[++i];
    if (value === undefined || value === "") return `${flag} needs a value`;
    if (flag === "--host") out.host = value;
    else {
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        return `--port must be 0-65535, got ${JSON.stringify(value)}`;
      out.port = port;
    }
  }
  return out;
}

/**
 * Loads config and installs the signal handlers every long-running command shares. `stopped`
 * resolves with 0 once the registry has closed everything; the deadline and a second signal exit
 * at once (process.exit), since something is then stuck.
 */
export function startService(
  name: string,
  deadlineExtraMs = 15_000,
): { config: Readonly<Config>; logger: Logger; shutdown: Shutdown; stopped: Promise<number> } | number {
  let config: Readonly<Config>;
  try {
    config = loadConfig();
  } catch (e) {
    process.stderr.write(`ltx ${name}: ${coerceError(e).message}\n`);
    return 2;
  }
  const logger = createLogger({ level: config.logLevel, name: `ltx-${name}` });
  const shutdown = createShutdown(logger);
  const stopped = new Promise<number>((resolve) => {
    installSignalHandlers(shutdown, {
      deadlineMs: config.worker.shutdownGraceMs + deadlineExtraMs,
      logger,
      exit: (code) => (code === 0 ? resolve(0) : process.exit(code)),
    });
  });
  return { config, logger, shutdown, stopped };
}

/** Logs a start-up failure, closes what was built, and picks the exit code. */
export async function failedStart(name: string, e: unknown, logger: Logger, shutdown: Shutdown): Promise<number> {
  const err = coerceError(e);
  logger.fatal({ err, code: isLtxError(err) ? err.code : undefined }, `${name} failed to start`);
  process.stderr.write(`ltx ${name}: ${err.message}\n`);
  await shutdown.run("start-up failed");
  return isLtxError(err) && err.code === "CONFIG_INVALID" ? 2 : 1;
}

export async function apiCommand(argv: string[]): Promise<number> {
  const args = parseServeArgs(argv);
  if (typeof args === "string") {
    process.stderr.write(`ltx api: ${args}\n${USAGE}`);
    return 2;
  }
  if ("help" in args) {
    process.stdout.write(USAGE);
    return 0;
  }
  const service = startService("api");
  if (typeof service === "number") return service;
  const { config, logger, shutdown, stopped } = service;
  try {
    await runApiProcess(config, logger, { shutdown, host: args.host, port: args.port });
  } catch (e) {
    return failedStart("api", e, logger, shutdown);
  }
  return stopped;
}
