/**
 * Scores one llms.txt with `ltx check FILE --site ORIGIN --json`, the same checker for every
 * generator, and keeps what the table shows.
 */
import { LTX_CLI, PACKAGE_ROOT, childEnv } from "./ltxGenerator";
import { runCommand } from "./runCommand";

export const WARNING_CLASSES = [
  "generic-title",
  "unusable-summary",
  "missing-notes",
  "navigation-note",
  "repeated-note",
  "shared-affix",
  "slug-section",
  "mixed-language",
  "generated-listing",
  "duplicate-link",
] as const;
export type WarningClass = (typeof WARNING_CLASSES)[number];

export interface Score {
  errors: number;
  /** Per class: how many links (or parts) the warning touches; absent → 0. */
  warnings: Partial<Record<WarningClass, number>>;
  /** Number of warning classes present. */
  classes: number;
  notesShare: number;
  primaryLinks: number;
  primarySections: number;
  score: number;
}

interface CheckJson {
  errors: unknown[];
  warnings: { code: string; count: number }[];
  score: number;
  notesShare: number;
  stats: { primaryLinks: number; primarySections: number };
}

export async function scoreFile(file: string, origin: string): Promise<Score> {
  const r = await runCommand(process.execPath, [LTX_CLI, "check", file, "--site", origin, "--json"], {
    cwd: PACKAGE_ROOT,
    env: childEnv(),
    timeoutMs: 60_000,
  });
  // Exit 1 means "errors found", still with a report; anything else is a failed check.
  if (r.code !== 0 && r.code !== 1) throw new Error(`ltx check exit ${r.code}: ${r.stderr.trim().slice(0, 200)}`);
  const json = JSON.parse(r.stdout) as CheckJson;
  const warnings: Partial<Record<WarningClass, number>> = {};
  for (const w of json.warnings) warnings[w.code as WarningClass] = w.count;
  return {
    errors: json.errors.length,
    warnings,
    classes: json.warnings.length,
    notesShare: json.notesShare,
    primaryLinks: json.stats.primaryLinks,
    primarySections: json.stats.primarySections,
    score: json.score,
  };
}
