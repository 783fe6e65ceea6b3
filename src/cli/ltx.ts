/**
 * The `ltx` command: a dispatcher over one module per sub-command. Each command returns its exit
 * code: 0 success, 1 the work failed (site unreachable, generation failed), 2 bad usage or input.
 */
import { VERSION } from "../lib/version";
import { quietOnClosedStdout } from "./closedStdout";
import { generateCommand } from "./generate";
import type * as CheckModule from "./check";
import type * as ApiModule from "./api";
import type * as WorkerModule from "./worker";
import type * as StartModule from "./start";
import type * as SitesModule from "./sites";
import type * as HashPasswordModule from "./hashPassword";

export interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

// Commands are required on demand so `ltx generate` never loads Express, BullMQ or Bull Board
// (a static import would load them all at start-up).
/* eslint-disable @typescript-eslint/no-require-imports */
const commands: Record<string, Command> = {
  generate: {
    summary: "crawl a site and print its llms.txt (or write llms.txt + llms-full.txt)",
    run: generateCommand,
  },
  check: {
    summary: "check an llms.txt (file or URL): errors, quality warnings and a score; --links fetches its links",
    run: (argv) => (require("./check") as typeof CheckModule).checkCommand(argv),
  },
  api: {
    summary: "run the HTTP API and Bull Board",
    run: (argv) => (require("./api") as typeof ApiModule).apiCommand(argv),
  },
  worker: {
    summary: "run a worker process (generate jobs, WORKER_CONCURRENCY at once)",
    run: (argv) => (require("./worker") as typeof WorkerModule).workerCommand(argv),
  },
  start: {
    summary: "run API + worker + schedules in one process (starts a local redis-server when REDIS_URL is unset)",
    run: (argv) => (require("./start") as typeof StartModule).startCommand(argv),
  },
  sites: {
    summary: "manage registered websites: `ltx sites import FILE`, `ltx sites list`",
    run: (argv) => (require("./sites") as typeof SitesModule).sitesCommand(argv),
  },
  "hash-password": {
    summary: "read a password from stdin and print the AUTH_PASSWORD_HASH for it",
    run: (argv) => (require("./hashPassword") as typeof HashPasswordModule).hashPasswordCommand(argv),
  },
};
/* eslint-enable @typescript-eslint/no-require-imports */

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    `ltx ${VERSION} — keeps llms.txt files (llmstxt.org) up to date for websites`,
    "",
    "Usage: ltx <command> [options]",
    "",
    "Commands:",
    ...lines,
    "",
    "Run `ltx <command> --help` for a command's options. Configuration comes from environment",
    "variables (see the README's table or .env.example).",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  quietOnClosedStdout();
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`ltx: unknown command ${JSON.stringify(name)} (try \`ltx --help\`)\n`);
    return 2;
  }
  return command.run(rest);
}
