/*
 * /healthz: the process is up and its event loop turns (no dependency is touched, so a Redis
 * outage doesn't get the API restarted by an orchestrator). /readyz: it can do its job, i.e.
 * Redis answers, is set to `noeviction`, and every queue answers; else 503 with what failed, so a
 * load balancer stops sending traffic until Redis is back.
 *
 * /readyz also reports the worker fleet (heartbeats, queues/workerHeartbeat.ts) under `workers`,
 * with `stuck: true` when jobs wait and nothing takes them. That doesn't make the API unready: it
 * can still take submissions, and taking it out of a load balancer would not start a worker.
 */
import { type Request, type Response, Router } from "express";
import type { Redis } from "ioredis";
import { coerceError } from "../../lib/coerceError";
import { VERSION } from "../../lib/version";
import type { FleetStatus } from "../../queues/workerHeartbeat";

export interface HealthDeps {
  redis: Redis;
  queues: readonly { name: string; getJobCounts(...types: string[]): Promise<Record<string, number>> }[];
  /** Each check gives up after this long (default 2 s): a hung Redis must not hang the probe. */
  timeoutMs?: number;
  /** The worker fleet given the generate queue's waiting count (queues/workerHeartbeat.ts). */
  fleet?: (waiting: number) => Promise<FleetStatus>;
}

interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function run(name: string, fn: () => Promise<string | undefined>): Promise<Check> {
  try {
    const detail = await fn();
    return { name, ok: true, ...(detail ? { detail } : {}) };
  } catch (e) {
    return { name, ok: false, detail: coerceError(e).message };
  }
}

export function healthRouter(deps: HealthDeps): Router {
  const router = Router();
  const ms = deps.timeoutMs ?? 2000;
  const started = Date.now();

  router.get("/healthz", (_req: Request, res: Response) => {
    res.setHeader("Cache-Control", "no-store");
    res.json({ status: "ok", version: VERSION, uptimeSeconds: Math.round((Date.now() - started) / 1000) });
  });

  router.get("/readyz", async (_req: Request, res: Response) => {
    const waiting = new Map<string, number>();
    const checks = await Promise.all([
      run("redis", async () => {
        const pong = await withTimeout(deps.redis.ping(), ms, "Redis PING");
        if (pong !== "PONG") throw new Error(`PING answered ${String(pong)}`);
        return undefined;
      }),
      run("maxmemory-policy", async () => {
        const info = await withTimeout(deps.redis.info("memory"), ms, "Redis INFO");
        const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1] ?? "unknown";
        if (policy !== "noeviction") throw new Error(`maxmemory-policy is ${policy}; ltx needs noeviction`);
        return policy;
      }),
      ...deps.queues.map((q) =>
        run(`queue:${q.name}`, async () => {
          const counts = await withTimeout(q.getJobCounts("waiting", "prioritized", "active"), ms, `queue ${q.name}`);
          waiting.set(q.name, (counts.waiting ?? 0) + (counts.prioritized ?? 0));
          return `waiting ${counts.waiting ?? 0}, prioritized ${counts.prioritized ?? 0}, active ${counts.active ?? 0}`;
        }),
      ),
    ]);
    const ready = checks.every((c) => c.ok);
    const workers =
      ready && deps.fleet
        ? await withTimeout(deps.fleet(waiting.get("generate") ?? 0), ms, "worker heartbeats").catch(() => undefined)
        : undefined;
    res.setHeader("Cache-Control", "no-store");
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? "ready" : "unavailable", checks, ...(workers ? { workers } : {}) });
  });

  return router;
}
