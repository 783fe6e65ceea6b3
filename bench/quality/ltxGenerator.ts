/**
 * ltx as a user runs it: the built CLI, `ltx generate URL --max-pages 200`, no API key (so the
 * extractive provider), writing llms.txt into the site's output folder.
 */
import fs from "node:fs";
import path from "node:path";
import type { Generator, GeneratorRun } from "./generator";
import { runCommand } from "./runCommand";

export const PACKAGE_ROOT = path.resolve(__dirname, "..", "..");
export const LTX_CLI = path.join(PACKAGE_ROOT, "bin", "ltx.js");

/** The environment of every child: no key (extractive), no proxy, nothing inherited that steers a crawl. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = ["PATH", "HOME", "LANG", "TMPDIR", "USER"];
  const env: NodeJS.ProcessEnv = {};
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k];
  return { ...env, NO_COLOR: "1", ...extra };
}

export const ltxGenerator: Generator = {
  name: "ltx",
  async run(url, outDir, timeoutMs): Promise<GeneratorRun> {
    const r = await runCommand(
      process.execPath,
      [LTX_CLI, "generate", url, "--max-pages", "200", "--out", outDir, "--json"],
      { cwd: PACKAGE_ROOT, env: childEnv({ LOG_LEVEL: "warn" }), timeoutMs },
    );
    const file = path.join(outDir, "llms.txt");
    if (r.timedOut) return { ok: false, reason: `timed out after ${timeoutMs / 1000} s`, ms: r.ms };
    if (r.code !== 0 || !fs.existsSync(file)) {
      const last = r.stderr.trim().split("\n").pop() ?? "";
      return { ok: false, reason: `exit ${r.code}: ${last.replace(/^ltx: /, "").slice(0, 120)}`, ms: r.ms };
    }
    let detail: string;
    try {
      const json = JSON.parse(r.stdout) as { pages?: { skipReason?: unknown }[] };
      const pages = json.pages ?? [];
      detail = `${pages.filter((p) => !p.skipReason).length} pages kept, ${pages.filter((p) => p.skipReason).length} skipped`;
    } catch {
      detail = "result JSON unreadable";
    }
    return { ok: true, file, ms: r.ms, detail };
  },
};
