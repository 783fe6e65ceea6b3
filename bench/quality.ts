/**
 * npm run bench:quality — how publishable the llms.txt files are that ltx (no API key, so the
 * extractive provider) and two open-source peers write for real documentation manuals of every
 * shape (Debian doc packages served on loopback, see bench/quality/corpus.ts), all scored by the
 * same checker, `ltx check --json`. Prints a table site × generator (warning counts per class,
 * errors, notes coverage, primary links and sections) with totals, and writes it to
 * bench/results/quality.md. Each file is kept in bench/.out/quality/<site>/<generator>/llms.txt.
 *
 * Flags: --sites a,b (default: the whole corpus) · --generators ltx,llm-txt-gen,llmstxt
 *        --timeout S (per generator run, default 180) · --jobs N (runs at once, default 2)
 * Every request goes to 127.0.0.1: the sites are served here and the generators get only those
 * URLs, with no proxy or API key in their environment.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ensureInstalled, selectSites } from "./quality/corpus";
import type { Generator } from "./quality/generator";
import { ltxGenerator, PACKAGE_ROOT } from "./quality/ltxGenerator";
import { ensurePeers, llmstxt, llmTxtGen } from "./quality/peers";
import { scoreFile } from "./quality/score";
import { serveCorpus } from "./quality/serveCorpus";
import { markdownTable, type Row, TABLE_LEGEND } from "./quality/table";

const OUT_DIR = path.join(PACKAGE_ROOT, "bench", ".out", "quality");
const RESULT_FILE = path.join(PACKAGE_ROOT, "bench", "results", "quality.md");
const TOTAL_BUDGET_MS = 40 * 60_000; // runs not started by then are reported as skipped

async function main(): Promise<void> {
  const started = Date.now();
  const { values } = parseArgs({
    options: {
      sites: { type: "string" },
      generators: { type: "string" },
      timeout: { type: "string" },
      jobs: { type: "string" },
    },
    strict: true,
  });
  const timeoutMs = Number(values.timeout ?? 180) * 1000;
  const jobs = Math.max(1, Number(values.jobs ?? 2));
  const sites = selectSites(values.sites);
  ensureInstalled(sites, (l) => console.log(l));

  const served = await serveCorpus(sites);
  try {
    const sitemapOf = (url: string): string => `${new URL(url).origin}/sitemap.xml`;
    const all: Generator[] = [ltxGenerator, llmTxtGen(sitemapOf), llmstxt(sitemapOf)];
    const wanted = values.generators?.split(",") ?? all.map((g) => g.name);
    const generators = all.filter((g) => wanted.includes(g.name));
    if (generators.some((g) => g.name !== "ltx")) ensurePeers((l) => console.log(l));
    console.log(
      `${served.length} sites × ${generators.length} generators, ${jobs} at once, ${timeoutMs / 1000} s per run; ` +
        `${os.availableParallelism()} cores, load average ${os.loadavg()[0]?.toFixed(1)}`,
    );

    const tasks = served.flatMap((s) => generators.map((g) => ({ s, g })));
    const rows: Row[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < tasks.length) {
        const { s, g } = tasks[next++] as (typeof tasks)[number];
        if (Date.now() - started > TOTAL_BUDGET_MS) {
          rows.push({ site: s.site.name, generator: g.name, ms: 0, failed: "skipped: total time budget spent" });
          continue;
        }
        const outDir = path.join(OUT_DIR, s.site.name, g.name);
        fs.rmSync(outDir, { recursive: true, force: true });
        fs.mkdirSync(outDir, { recursive: true });
        const run = await g.run(s.url, outDir, timeoutMs);
        const row: Row = { site: s.site.name, generator: g.name, ms: run.ms };
        if (run.ok) {
          try {
            row.score = await scoreFile(run.file, s.server.origin);
          } catch (e) {
            row.failed = `check: ${String(e).slice(0, 100)}`;
          }
        } else row.failed = run.reason;
        rows.push(row);
        const sc = row.score;
        console.log(
          `  ${s.site.name.padEnd(14)} ${g.name.padEnd(12)} ${(run.ms / 1000).toFixed(1).padStart(6)} s  ` +
            (sc
              ? `${sc.errors} errors, ${sc.classes} warning classes, notes ${(sc.notesShare * 100).toFixed(0)}%, ` +
                `${sc.primaryLinks} links, ${sc.primarySections} sections${run.ok && run.detail ? ` (${run.detail})` : ""}`
              : `failed: ${row.failed}`),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, worker));

    const order = (r: Row): number =>
      served.findIndex((s) => s.site.name === r.site) * 10 + generators.findIndex((g) => g.name === r.generator);
    rows.sort((a, b) => order(a) - order(b));
    const table = markdownTable(
      rows,
      generators.map((g) => g.name),
    );
    const minutes = ((Date.now() - started) / 60_000).toFixed(1);
    const shapes = served.map((s) => `${s.site.name} (${s.site.pkg}: ${s.site.shape})`).join(", ");
    const doc =
      `# npm run bench:quality\n\nRun ${new Date().toISOString().slice(0, 16)} UTC, ${minutes} min, ` +
      `\`--max-pages 200\` / \`--limit 200\`, ${timeoutMs / 1000} s per run, ${jobs} runs at once.\n\n` +
      `Sites: ${shapes}.\n\n${table}\n${TABLE_LEGEND}\n`;
    fs.mkdirSync(path.dirname(RESULT_FILE), { recursive: true });
    fs.writeFileSync(RESULT_FILE, doc);
    console.log(`\n${table}\n${TABLE_LEGEND}\n`);
    console.log(`files: ${path.relative(PACKAGE_ROOT, OUT_DIR)}/<site>/<generator>/llms.txt`);
    console.log(`table: ${path.relative(PACKAGE_ROOT, RESULT_FILE)} · total ${minutes} min`);
  } finally {
    await Promise.all(served.map((s) => s.server.close()));
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
