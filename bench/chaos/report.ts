/**
 * The chaos run's table: one line per check with its figure and verdict, then the details of any
 * breach. Returns the number of breaches (the run's exit code is 1 when it is not 0).
 */
import type { DuplicatesAudit, FilesAudit, JobsAudit, ScheduleAudit } from "./audit";
import type { LogProblem } from "../support/processes";

export interface Report {
  plan: { jobs: number; websites: number; workers: number; everyMs: number; seed: number; strictTicks: boolean };
  jobs: JobsAudit;
  duplicates: DuplicatesAudit;
  files: FilesAudit;
  runs: ScheduleAudit[];
  schedules: ScheduleAudit[];
  faults: { kill9: number; sigterm: number; redisRestarts: number; storeOutages: number };
  /** Jobs a worker died holding, found stalled and run again by another. */
  stalledJobs: number;
  crashes: string[];
  logProblems: LogProblem[];
  sites: { total: number; errors: number; slow: number };
  llm: Record<string, number>;
  clientRetries: number;
  redisUsedMemory: string;
  elapsedMs: number;
  runDir: string;
}

export function printReport(r: Report): number {
  const rows: Array<[string, string, boolean | null]> = [];
  const row = (what: string, value: string | number, ok: boolean | null = null): void =>
    void rows.push([what, String(value), ok]);
  const nominal = r.runs.reduce((n, x) => n + x.nominal, 0);
  const delays = r.runs.flatMap((x) => x.delaysMs).sort((a, b) => a - b);
  const pct = (p: number): string =>
    delays.length ? `${(delays[Math.min(delays.length - 1, Math.floor(p * delays.length))] ?? 0) / 1000}` : "?";
  const sum = (k: "fired" | "ran" | "skipped" | "lost" | "duplicateTicks" | "unexplainedGaps"): number =>
    r.runs.reduce((n, x) => n + x[k], 0);

  row(
    "faults injected",
    `${r.faults.kill9} kill -9, ${r.faults.sigterm} SIGTERM, ${r.faults.redisRestarts} redis restart, ${r.faults.storeOutages} file store outage`,
    r.faults.sigterm >= 1 && r.faults.redisRestarts >= 1 && r.faults.kill9 >= 1 && r.faults.storeOutages >= 1,
  );
  row("site requests (500s, slow)", `${r.sites.total} (${r.sites.errors}, ${r.sites.slow})`);
  row(
    "LLM requests",
    Object.entries(r.llm)
      .map(([k, v]) => `${k}=${v}`)
      .join(", "),
  );
  row("client retries (5xx/network)", r.clientRetries);
  row("jobs recovered after a stall", r.stalledJobs);
  row("jobs submitted", r.jobs.submitted);
  row("jobs succeeded", r.jobs.succeeded);
  row("jobs failed (with reason)", r.jobs.failed);
  for (const [reason, n] of [...r.jobs.failedByReason].sort((a, b) => b[1] - a[1])) row(`  ${n}×`, reason);
  row("jobs lost", r.jobs.lost.length, r.jobs.lost.length === 0 && r.jobs.submitted === r.plan.jobs);
  row("jobs processed twice", r.duplicates.processedTwice);
  row(
    "  … with different results",
    r.duplicates.processedTwiceDifferent.length,
    r.duplicates.processedTwiceDifferent.length === 0,
  );
  row(
    `scheduled ticks (${r.plan.websites} sites, every ${r.plan.everyMs / 1000}s)`,
    `${sum("fired")} fired / ${nominal} at the nominal rate`,
  );
  row(
    "  taken late by (p50 / p99 / max, s)",
    `${pct(0.5)} / ${pct(0.99)} / ${delays.length ? (delays[delays.length - 1] ?? 0) / 1000 : "?"}`,
  );
  row("  ran / skipped (site's run in flight)", `${sum("ran")} / ${sum("skipped")}`);
  row("  fired twice", sum("duplicateTicks"), sum("duplicateTicks") === 0);
  row("  lost (gap not explained by a late take)", sum("unexplainedGaps"), sum("unexplainedGaps") === 0);
  row("  never ended", sum("lost"), sum("lost") === 0);
  const onRate = r.runs.filter((x) => Math.abs(x.fired - x.nominal) <= 1).length;
  row(
    "  sites within ±1 of the nominal rate",
    `${onRate} of ${r.runs.length}`,
    r.plan.strictTicks ? onRate === r.runs.length : null,
  );
  row("stored llms.txt checked", r.files.checked, r.files.checked > 0);
  row("  invalid", r.files.invalid.length, r.files.invalid.length === 0);
  row("crashes / bad exits", r.crashes.length, r.crashes.length === 0);
  row("unhandled rejections / fatal log lines", r.logProblems.length, r.logProblems.length === 0);
  row("redis used memory at the end", r.redisUsedMemory);
  row("elapsed", `${(r.elapsedMs / 1000).toFixed(1)} s`);

  const width = Math.max(...rows.map(([w]) => w.length));
  const out = [
    `\nchaos run (seed ${r.plan.seed}, ${r.plan.workers} workers)`,
    `${"check".padEnd(width)}  value`,
    `${"-".repeat(width)}  ${"-".repeat(30)}`,
  ];
  for (const [what, value, ok] of rows)
    out.push(`${what.padEnd(width)}  ${value}${ok === null ? "" : ok ? "  ok" : "  BREACH"}`);
  const breaches = rows.filter(([, , ok]) => ok === false).length;

  const details: string[] = [];
  for (const o of r.jobs.lost.slice(0, 20)) details.push(`lost: ${o.url} job ${o.id} status ${o.status}`);
  for (const d of r.duplicates.processedTwiceDifferent.slice(0, 20))
    details.push(`processed twice, different results: ${d}`);
  for (const s of r.schedules.slice(0, 20))
    details.push(
      `schedule: ${s.url} fired ${s.fired} ticks (nominal ${s.nominal}): ${s.duplicateTicks} twice, ${s.unexplainedGaps} lost, ${s.lost} never ended`,
    );
  for (const f of r.files.invalid.slice(0, 20)) details.push(`invalid llms.txt: ${f}`);
  for (const c of r.crashes.slice(0, 20)) details.push(`crash: ${c}`);
  for (const p of r.logProblems.slice(0, 20)) details.push(`log ${p.file}: ${p.line}`);
  if (details.length > 0) out.push("", ...details);
  out.push("", breaches === 0 ? "chaos: PASS (0 breaches)" : `chaos: FAIL (${breaches} breaches; logs in ${r.runDir})`);
  process.stdout.write(`${out.join("\n")}\n`);
  return breaches;
}
