/**
 * The chaos run's websites: register them on a short schedule, stop them all at the end of the
 * chaos window, then count the runs each one had against the ticks that fell inside its window.
 */
import { resolveSite } from "../../src/pipeline/site";
import type { ScheduleAudit } from "./audit";
import { type ApiClient, field, mapLimit } from "../support/client";

export interface Registered {
  id: string;
  url: string;
  siteKey: string;
  registeredAt: number;
}

export async function registerWebsites(client: ApiClient, urls: string[], everyMs: number): Promise<Registered[]> {
  return mapLimit(urls, 8, async (url) => {
    const before = Date.now();
    const answer = await client.requestRetrying(
      "POST",
      "/api/websites",
      { url, every: `${everyMs / 1000}s` },
      { tries: 10 },
    );
    const website = field(answer.body, "website") ?? answer.body;
    const id = field(website, "id");
    if (answer.status >= 300 || typeof id !== "string")
      throw new Error(`POST /api/websites ${url}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
    return { id, url, siteKey: resolveSite(url).key, registeredAt: before };
  });
}

/**
 * Deletes every website (its scheduler goes with it), keeping its files for the audit; returns
 * when the last one was gone.
 */
export async function stopWebsites(client: ApiClient, websites: Registered[]): Promise<Map<string, number>> {
  const stoppedAt = new Map<string, number>();
  await mapLimit(websites, 8, async (w) => {
    const answer = await client.requestRetrying(
      "DELETE",
      `/api/websites/${encodeURIComponent(w.id)}?keepFiles=true`,
      undefined,
      {
        tries: 20,
      },
    );
    if (answer.status >= 300 && answer.status !== 404)
      throw new Error(`DELETE /api/websites/${w.id}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
    stoppedAt.set(w.id, Date.now());
  });
  return stoppedAt;
}

/**
 * Per website: the ticks its scheduler fired (one job each, read from GET /api/jobs?url=), checked
 * against the rule BullMQ's job schedulers follow: a worker adds the next tick when it takes the
 * current one, at the next slot of the interval; slots missed meanwhile (the queue was backlogged)
 * are skipped, never run late or twice. So each gap between two ticks is either one interval, or
 * longer only when the earlier tick was taken late; a longer gap without that is a lost tick.
 * `nominal` is what a queue that always keeps up would fire (one per interval of the window).
 *
 * A fired tick either ran the pipeline or was skipped at once with a reason: a run of the site
 * still in flight (one per site at a time; after a kill -9 the stalled run holds the site until it
 * is recovered), or the website was deleted meanwhile. A tick that never ended is lost.
 */
export async function countScheduledRuns(
  client: ApiClient,
  websites: Registered[],
  stoppedAt: Map<string, number>,
  everyMs: number,
): Promise<ScheduleAudit[]> {
  return mapLimit(websites, 4, async (w) => {
    const row: ScheduleAudit = {
      websiteId: w.id,
      url: w.url,
      siteKey: w.siteKey,
      nominal: 0,
      fired: 0,
      ran: 0,
      succeeded: 0,
      skipped: 0,
      lost: 0,
      duplicateTicks: 0,
      unexplainedGaps: 0,
      delaysMs: [],
    };
    const ticks: Array<{ due: number; started: number }> = [];
    let cursor: string | null = null;
    for (let page = 0; page < 1000; page++) {
      const q = `/api/jobs?limit=100&url=${encodeURIComponent(w.url)}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const answer = await client.requestRetrying("GET", q, undefined, { tries: 10 });
      const jobs = field(answer.body, "jobs");
      if (!Array.isArray(jobs))
        throw new Error(`GET ${q}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
      for (const j of jobs) {
        row.fired++;
        const status = field(j, "status");
        if (status !== "success" && status !== "failure") row.lost++;
        else if (typeof field(field(j, "result"), "skipped") === "string") row.skipped++;
        else {
          row.ran++;
          if (status === "success") row.succeeded++;
        }
        // Scheduler job ids are "repeat:<scheduler id>:<due time in ms>".
        const due = Number(/:(\d+)$/.exec(String(field(j, "id")))?.[1]);
        const started = Date.parse(String(field(j, "startedAt")));
        if (Number.isFinite(due)) ticks.push({ due, started: Number.isFinite(started) ? started : Infinity });
      }
      const next = field(answer.body, "nextCursor");
      cursor = typeof next === "string" ? next : null;
      if (!cursor) break;
    }
    ticks.sort((a, b) => a.due - b.due);
    // BullMQ resolves times to the millisecond; 250 ms covers clock reads between the processes.
    const slack = 250;
    for (let i = 0; i < ticks.length; i++) {
      const t = ticks[i] as { due: number; started: number };
      if (Number.isFinite(t.started)) row.delaysMs.push(Math.max(0, t.started - t.due));
      const next = ticks[i + 1];
      if (!next) break;
      const gap = next.due - t.due;
      if (gap < everyMs - slack) row.duplicateTicks++;
      // A gap of several intervals is right when the earlier tick was taken that late: its next
      // tick is the first slot after it was taken (a re-run after a stall only makes that later).
      else if (gap > everyMs + slack && t.started < next.due - everyMs - slack) row.unexplainedGaps++;
    }
    // The edges: the first tick is due at registration, and the scheduler must not stop early.
    // Deleting a website removes its tick that was not taken yet, so a missing last tick only
    // counts when this site's ticks were all taken in time (a backlogged queue explains it).
    const stop = stoppedAt.get(w.id) ?? Date.now();
    const first = ticks[0];
    const last = ticks[ticks.length - 1];
    const keptUp = row.delaysMs.every((d) => d < everyMs - slack);
    if (!first || first.due > w.registeredAt + everyMs + slack) row.unexplainedGaps++;
    if (keptUp && last && stop - last.due > everyMs + slack && last.started < stop - everyMs - slack)
      row.unexplainedGaps++;
    row.nominal = Math.floor((stop - w.registeredAt) / everyMs) + 1;
    return row;
  });
}
