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
    const answer = await client.requestRetrying("POST", "/api/websites", { url, every: `${everyMs / 1000}s` }, { tries: 10 });
    const website = field(answer.body, "website") ?? answer.body;
    const id = field(website, "id");
    if (answer.status >= 300 || typeof id !== "string") throw new Error(`POST /api/websites ${url}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
    return { id, url, siteKey: resolveSite(url).key, registeredAt: before };
  });
}

/** Deletes every website (its scheduler goes with it); returns when the last one was gone. */
export async function stopWebsites(client: ApiClient, websites: Registered[]): Promise<Map<string, number>> {
  const stoppedAt = new Map<string, number>();
  await mapLimit(websites, 8, async (w) => {
    const answer = await client.requestRetrying("DELETE", `/api/websites/${encodeURIComponent(w.id)}`, undefined, { tries: 20 });
    if (answer.status >= 300 && answer.status !== 404) throw new Error(`DELETE /api/websites/${w.id}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
    stoppedAt.set(w.id, Date.now());
  });
  return stoppedAt;
}

/**
 * Per website: the ticks its scheduler fired (one job each, read from GET /api/jobs?url=) against
 * the ticks that fell between registration and deletion (the first at registration). A fired tick
 * either ran the pipeline or was skipped with a reason: a run of the site still in flight (one per
 * site at a time; after a kill -9 the stalled run holds the site until it is recovered), or the
 * website was deleted meanwhile. A fired tick that never ended is lost.
 */
export async function countScheduledRuns(client: ApiClient, websites: Registered[], stoppedAt: Map<string, number>, everyMs: number): Promise<ScheduleAudit[]> {
  return mapLimit(websites, 4, async (w) => {
    const row: ScheduleAudit = { websiteId: w.id, url: w.url, siteKey: w.siteKey, expected: 0, fired: 0, ran: 0, succeeded: 0, skipped: 0, lost: 0 };
    let cursor: string | null = null;
    for (let page = 0; page < 1000; page++) {
      const q = `/api/jobs?limit=100&url=${encodeURIComponent(w.url)}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const answer = await client.requestRetrying("GET", q, undefined, { tries: 10 });
      const jobs = field(answer.body, "jobs");
      if (!Array.isArray(jobs)) throw new Error(`GET ${q}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
      for (const j of jobs) {
        row.fired++;
        const status = field(j, "status");
        if (status !== "success" && status !== "failure") row.lost++;
        else if (typeof field(field(j, "result"), "skipped") === "string") row.skipped++;
        else {
          row.ran++;
          if (status === "success") row.succeeded++;
        }
      }
      const next = field(answer.body, "nextCursor");
      cursor = typeof next === "string" ? next : null;
      if (!cursor) break;
    }
    row.expected = Math.floor(((stoppedAt.get(w.id) ?? Date.now()) - w.registeredAt) / everyMs) + 1;
    return row;
  });
}
