/**
 * /api/schedules: every BullMQ job scheduler (one per scheduled website on the schedule queue, one
 * per maintenance task), and pausing regeneration as a whole.
 *
 * Pause pauses the schedule and the generate queue (manual jobs wait too). No scheduler is touched, so none is lost:
 * a scheduler's due job is promoted into the paused queue and waits there, and BullMQ only adds a
 * scheduler's next job when a worker takes the current one. So while paused each scheduler has at
 * most one job waiting, however many ticks pass, and on resume each due site runs once; the next
 * run after that is the next tick from then.
 */
import type { JobSchedulerJson, Queue } from "bullmq";
import { type Request, type Response, Router } from "express";
import { z } from "zod";
import type { GenerateQueue } from "../../queues/queues";

export interface SchedulesRouteDeps {
  /** The websites' schedulers. */
  schedule: GenerateQueue;
  /** One-off jobs: paused and resumed with the schedules. */
  generate: GenerateQueue;
  /** The maintenance queue, when this process knows it. */
  maintenance?: Queue;
}

export interface ScheduleView {
  queue: string;
  id: string;
  name: string;
  every: number | null;
  pattern: string | null;
  tz: string | null;
  nextRunAt: string | null;
  iterations: number;
  websiteId: string | null;
}

const listQuery = z.strictObject({
  // "generate" is the websites' queue's name from before it was "schedule", kept for old callers.
  queue: z.enum(["schedule", "generate", "maintenance"]).optional(),
  cursor: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export function schedulesRouter(deps: SchedulesRouteDeps): Router {
  const router = Router();

  router.get("/api/schedules", async (req: Request, res: Response) => {
    const q = listQuery.parse(req.query);
    // Paging runs over the schedule queue's schedulers (there may be thousands); the maintenance
    // queue's few come with the first page.
    const schedule = deps.schedule as unknown as Queue;
    const [page, total, paused] = await Promise.all([
      schedule.getJobSchedulers(q.cursor, q.cursor + q.limit - 1, true),
      schedule.getJobSchedulersCount(),
      schedule.isPaused(),
    ]);
    const items = q.queue === "maintenance" ? [] : page.map((s) => view(schedule.name, s));
    if (q.cursor === 0 && deps.maintenance && q.queue !== "generate" && q.queue !== "schedule") {
      for (const s of await deps.maintenance.getJobSchedulers(0, -1, true)) items.push(view(deps.maintenance.name, s));
    }
    const next = q.cursor + page.length;
    res.json({
      paused,
      total,
      items,
      ...(q.queue !== "maintenance" && next < total ? { nextCursor: String(next) } : {}),
    });
  });

  router.post("/api/schedules/pause", async (_req: Request, res: Response) => {
    await Promise.all([deps.schedule.pause(), deps.generate.pause()]);
    res.json({ paused: true, queues: [deps.schedule.name, deps.generate.name] });
  });

  router.post("/api/schedules/resume", async (_req: Request, res: Response) => {
    await Promise.all([deps.schedule.resume(), deps.generate.resume()]);
    res.json({ paused: false, queues: [deps.schedule.name, deps.generate.name] });
  });

  return router;
}

function view(queue: string, s: JobSchedulerJson): ScheduleView {
  const data = s.template?.data as { websiteId?: unknown } | undefined;
  return {
    queue,
    id: s.key,
    name: s.name,
    every: s.every ?? null,
    pattern: s.pattern ?? null,
    tz: s.tz ?? null,
    nextRunAt: s.next ? new Date(s.next).toISOString() : null,
    iterations: s.iterationCount ?? 0,
    websiteId: typeof data?.websiteId === "string" ? data.websiteId : null,
  };
}
