/** The benchmark's table, as markdown: one row per site × generator, and a totals row per generator. */
import { type Score, WARNING_CLASSES } from "./score";

export interface Row {
  site: string;
  generator: string;
  ms: number;
  /** Set when the generator produced no file (or the check could not read it). */
  failed?: string;
  score?: Score;
}

// Short column heads, in WARNING_CLASSES order, so the table stays readable in a terminal.
const HEADS = ["title", "summ", "notes", "nav", "rep", "affix", "slug", "lang", "listing", "dup"];

export function markdownTable(rows: readonly Row[], generators: readonly string[]): string {
  const head = ["site", "generator", "errors", ...HEADS, "classes", "notes %", "links", "sections", "score", "time s"];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const r of rows) lines.push(`| ${cells(r).join(" | ")} |`);
  for (const g of generators)
    lines.push(
      `| ${totals(
        rows.filter((r) => r.generator === g),
        g,
      ).join(" | ")} |`,
    );
  return `${lines.join("\n")}\n`;
}

function cells(r: Row): string[] {
  const time = (r.ms / 1000).toFixed(1);
  if (!r.score)
    return [
      r.site,
      r.generator,
      `failed: ${(r.failed ?? "").replace(/\|/g, "/")}`,
      ...HEADS.map(() => ""),
      "",
      "",
      "",
      "",
      "",
      time,
    ];
  const s = r.score;
  return [
    r.site,
    r.generator,
    String(s.errors),
    ...WARNING_CLASSES.map((c) => (s.warnings[c] ? String(s.warnings[c]) : "·")),
    String(s.classes),
    (s.notesShare * 100).toFixed(0),
    String(s.primaryLinks),
    String(s.primarySections),
    String(s.score),
    time,
  ];
}

function totals(rows: readonly Row[], generator: string): string[] {
  const scored = rows.flatMap((r) => (r.score ? [r.score] : []));
  const sum = (f: (s: Score) => number): number => scored.reduce((n, s) => n + f(s), 0);
  const failed = rows.length - scored.length;
  const mean = (f: (s: Score) => number): string => (scored.length ? (sum(f) / scored.length).toFixed(0) : "");
  return [
    `**total** (${scored.length} ok${failed ? `, ${failed} failed` : ""})`,
    `**${generator}**`,
    String(sum((s) => s.errors)),
    ...WARNING_CLASSES.map((c) => String(scored.filter((s) => s.warnings[c]).length)),
    String(sum((s) => s.classes)),
    `${mean((s) => s.notesShare * 100)} (mean)`,
    String(sum((s) => s.primaryLinks)),
    String(sum((s) => s.primarySections)),
    `${mean((s) => s.score)} (mean)`,
    (rows.reduce((n, r) => n + r.ms, 0) / 1000).toFixed(0),
  ];
}

export const TABLE_LEGEND = `Warning columns: links (or parts) each class touches, "·" = none; in the totals row, the number
of sites with that class. title generic-title, summ unusable-summary, notes missing-notes, nav
navigation-note, rep repeated-note, affix shared-affix, slug slug-section, lang mixed-language,
listing generated-listing, dup duplicate-link. classes = warning classes present; notes % = share
of links with a note; links / sections = primary ones (Optional excluded); score = ltx check's 0–100.`;
