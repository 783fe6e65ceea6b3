/**
 * The human report of `ltx check`: a summary line, then errors, warnings and bad links, one per
 * line with the file's line number first so an editor can jump to it.
 */
import type { CheckReport } from "../pipeline/validate/check";
import type { LinkReport } from "../pipeline/validate/checkLinks";

/** What `ltx check --json` prints: the checker's report, what was checked, and the link report. */
export interface CheckOutput extends CheckReport {
  source: string;
  site: string | null;
  links?: LinkReport;
}

export function formatCheck(out: CheckOutput): string {
  const { stats } = out;
  const linkErrors = out.links?.errors ?? [];
  const errorCount = out.errors.length + linkErrors.length;
  const lines = [
    `${out.source}: ${errorCount === 0 ? "valid" : `${plural(errorCount, "error")}`}, ${plural(out.warnings.length, "warning")}, score ${out.score}/100`,
    `  ${plural(stats.links, "link")} (${stats.primaryLinks} primary) in ${plural(stats.sections, "section")} (${stats.primarySections} primary); notes on ${Math.round(out.notesShare * 100)}%${out.site ? `; site ${out.site}` : ""}`,
  ];
  for (const e of out.errors) lines.push(`${where(e.line)} error    ${e.code}: ${e.message}`);
  for (const w of out.warnings)
    lines.push(`${where(w.lines[0])} warning  ${w.code} (${w.count}): ${w.message}${more(w.lines, w.count)}`);
  if (out.links) {
    const { links } = out;
    const redirects = linkErrors.filter((e) => e.code === "link-redirect").length;
    const offSite = linkErrors.filter((e) => e.code === "link-off-site").length;
    const bad = linkErrors.length - redirects - offSite;
    lines.push(
      `links: ${links.checked} pages fetched; ${bad} not 2xx or unreachable, ${redirects} redirected, ${offSite} off the site, ${links.skipped} not fetched (robots.txt)`,
    );
    for (const e of linkErrors) lines.push(`${where(e.line)} error    ${e.code}: ${e.message}`);
  }
  return `${lines.join("\n")}\n`;
}

function where(line: number | undefined): string {
  return `  ${line === undefined ? "" : `line ${line}`}`.padEnd(12);
}

function more(lines: number[], count: number): string {
  return lines.length > 1 ? ` (lines ${lines.join(", ")}${count > lines.length ? ", …" : ""})` : "";
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
