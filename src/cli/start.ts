/**
 * `ltx start` (what `npm start` runs): API + worker + schedules in one process. Without REDIS_URL
 * it first starts a local redis-server (AOF on, data in REDIS_DATA_DIR, a free loopback port,
 * `noeviction`) and stops it on exit.
 *
 * All parts share one shutdown registry. Registration order is redis-server → schedules → worker →
 * API, so the stop order (the reverse) is: HTTP stops taking requests → the worker finishes or
 * hands back its jobs → the schedules' maintenance worker → the local redis-server, which all of
 * them needed until then.
 */
import { runApiProcess } from "../api/main";
import { startLocalRedis } from "./localRedis";
import { runSchedulerProcess } from "../scheduler/main";
import { runWorkerProcess } from "../workers/main";
import { failedStart, parseServeArgs, startService } from "./api";

const USAGE = `Usage: ltx start [--host HOST] [--port PORT]

Runs the API, a worker and the schedules in one process. When REDIS_URL is unset it starts a
local redis-server (scripts/install-redis.sh installs one) with its data in REDIS_DATA_DIR (default ./data), and stops it on exit.
`;

export async function startCommand(argv: string[]): Promise<number> {
  const args = parseServeArgs(argv);
  if (typeof args === "string") {
    process.stderr.write(`ltx start: ${args}\n${USAGE}`);
    return 2;
  }
  if ("help" in args) {
    process.stdout.write(USAGE);
    return 0;
  }
  const service = startService("start");
  if (typeof service === "number") return service;
  const { config, logger, shutdown, stopped } = service;
  try {
    let redisUrl = config.redis.url;
    if (redisUrl === undefined) {
      const local = await startLocalRedis({ dataDir: config.redis.dataDir, logger });
      shutdown.add("local redis-server", () => local.stop());
      redisUrl = local.url;
    }
    await runSchedulerProcess(config, logger, { shutdown, redisUrl });
    await runWorkerProcess(config, logger.child({ part: "worker" }), { shutdown, redisUrl });
    const api = await runApiProcess(config, logger.child({ part: "api" }), {
      shutdown,
      redisUrl,
      host: args.host,
      port: args.port,
    });
    process.stderr.write(`ltx: API on ${api.url}  ·  web page ${api.url}/  ·  Bull Board ${api.url}/admin/queues\n`);
  } catch (e) {
    return failedStart("start", e, logger, shutdown);
  }
  return stopped;
}
