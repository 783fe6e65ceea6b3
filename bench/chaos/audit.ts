/**
 * The end-of-run checks of the chaos run. Each returns figures for the table and a list of
 * breaches; the run fails when any list is non-empty. Jobs are read through the API (what a
 * client sees); versions are read from the result store (to catch a job whose results were stored
 * twice, by two workers that both thought they held it).
 */
import { parseLlmsTxt, validateLlmsTxt } from "../../src/pipeline/validate/format";
import { resolveSite } from "../../src/pipeline/site";
import type { ResultStore } from "../../src/store/results";

export interface JobOutcome {
  url: string;
  id: string;
  status: string;
  error: string | null;
  siteKey: string;
}

export interface JobsAudit {
  submitted: number;
  succeeded: number;
  failed: number;
  failedByReason: Map<string, number>;
  lost: JobOutcome[];
}

/** A failure's reason without the volatile bits (ports, ids, numbers), so equal reasons group. */
export function reasonKey(message: string): string {
  return message
    .replace(/https?:\/\/\S+/g, "<url>")
    .replace(/\d+/g, "N")
    .slice(0, 120);
}

export function auditJobs(outcomes: JobOutcome[], submitted: number): JobsAudit {
  const failedByReason = new Map<string, number>();
  let succeeded = 0;
  let failed = 0;
  const lost: JobOutcome[] = [];
  for (const o of outcomes) {
    if (o.status === "success") succeeded++;
    else if (o.status === "failure") {
      failed++;
      const key = reasonKey(o.error ?? "(no reason given)");
      failedByReason.set(key, (failedByReason.get(key) ?? 0) + 1);
      if (!o.error) lost.push(o); // a failure must say why
    } else lost.push(o);
  }
  return { submitted, succeeded, failed, failedByReason, lost };
}

export interface DuplicatesAudit {
  /** Jobs that stored more than one version. */
  processedTwice: number;
  /** … of which the stored files differ: must be 0. */
  processedTwiceDifferent: string[];
}

export async function auditDuplicates(store: ResultStore, siteKeys: Iterable<string>): Promise<DuplicatesAudit> {
  let processedTwice = 0;
  const different: string[] = [];
  for (const siteKey of siteKeys) {
    const byJob = new Map<string, Set<string>>();
    const counts = new Map<string, number>();
    for (const v of await store.listVersions(siteKey)) {
      const set = byJob.get(v.jobId) ?? new Set<string>();
      set.add(v.etag);
      byJob.set(v.jobId, set);
      counts.set(v.jobId, (counts.get(v.jobId) ?? 0) + 1);
    }
    for (const [jobId, n] of counts) {
      if (n < 2) continue;
      processedTwice++;
      if ((byJob.get(jobId)?.size ?? 0) > 1) different.push(`${siteKey} job ${jobId}`);
    }
  }
  return { processedTwice, processedTwiceDifferent: different };
}

export interface FilesAudit {
  checked: number;
  invalid: string[];
}

/**
 * Every stored llms.txt, as served by the API, must parse and pass the full validator against its
 * own run's page list; llms-full.txt must be served too; and every site in mustExist (those with
 * a successful job) must have files.
 */
export async function auditFiles(
  apiBase: string,
  store: ResultStore,
  mustExist: Iterable<string> = [],
): Promise<FilesAudit> {
  const invalid: string[] = [];
  let checked = 0;
  const missing = new Set(mustExist);
  for (let offset = 0; offset < 100_000; offset += 500) {
    const sites = await store.listSites({ offset, limit: 500 });
    for (const { siteKey } of sites) {
      checked++;
      missing.delete(siteKey);
      const meta = await store.getMeta(siteKey);
      const res = await fetch(`${apiBase}/sites/${siteKey}/llms.txt`, { signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      const full = await fetch(`${apiBase}/sites/${siteKey}/llms-full.txt`, { signal: AbortSignal.timeout(10_000) });
      await full.arrayBuffer();
      if (res.status !== 200 || full.status !== 200 || !meta) {
        invalid.push(`${siteKey}: llms.txt ${res.status}, llms-full.txt ${full.status}${meta ? "" : ", no metadata"}`);
        continue;
      }
      const { doc, issues: formatIssues } = parseLlmsTxt(text);
      const pageUrls = new Set(
        meta.pages.filter((p) => !p.skipReason && p.status !== null && p.status < 300).map((p) => p.url),
      );
      const issues = doc ? validateLlmsTxt(text, { site: resolveSite(meta.url), pageUrls }) : formatIssues;
      if (issues.length > 0)
        invalid.push(
          `${siteKey}: ${issues
            .slice(0, 3)
            .map((i) => `${i.code} (line ${i.line ?? "?"})`)
            .join(", ")}`,
        );
    }
    if (sites.length < 500) break;
  }
  for (const siteKey of missing) invalid.push(`${siteKey}: a job succeeded but no files are stored`);
  return { checked, invalid };
}

export interface ScheduleAudit {
  websiteId: string;
  url: string;
  siteKey: string;
  /** Ticks a queue that always keeps up would fire inside the website's window. */
  nominal: number;
  /** Ticks the scheduler fired (one job each). */
  fired: number;
  /** … that ran the pipeline (success or failure). */
  ran: number;
  succeeded: number;
  /** … that ended at once: a run of the site was in flight, or the website was gone. */
  skipped: number;
  /** … that never ended. */
  lost: number;
  /** Two ticks less than an interval apart: a tick fired twice. */
  duplicateTicks: number;
  /** A gap of more than an interval although the tick before it was taken in time: a tick lost. */
  unexplainedGaps: number;
  /** How late each tick was taken (start − due), ms. */
  delaysMs: number[];
}

/** A site breaches when a tick fired twice, went missing, or never ended. */
export function scheduleBreaches(rows: ScheduleAudit[]): ScheduleAudit[] {
  return rows.filter((r) => r.duplicateTicks > 0 || r.unexplainedGaps > 0 || r.lost > 0);
}
