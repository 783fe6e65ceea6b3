/**
 * The open-source generators ltx is compared with, installed from npm into bench/.peers/ (its own
 * package.json, written here; never the repo's dependencies), and run as their READMEs say:
 *
 *   llm-txt-gen 0.1.0  `llm-txt-gen URL --limit 200 --output FILE` (it crawls same-origin links
 *                      when it finds no sitemap; given ours with --sitemap). No --ai, --firecrawl or
 *                      --browser, and no API keys in its environment: nothing leaves loopback.
 *   llmstxt 0.9.0      `llmstxt gen SITEMAP_URL > FILE`: it reads only the sitemap's URLs. Its
 *                      sitemapper dependency is pinned to 3.2.24 (3.3 is ESM-only and its
 *                      require() fails).
 *
 * Both get an environment without proxies or keys and run in a fresh folder, so no config file
 * of theirs (llm.config.json) is picked up.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { Generator, GeneratorRun } from "./generator";
import { childEnv, PACKAGE_ROOT } from "./ltxGenerator";
import { runCommand } from "./runCommand";

export const PEERS_DIR = path.join(PACKAGE_ROOT, "bench", ".peers");

const PEER_PACKAGE = {
  name: "ltx-bench-peers",
  private: true,
  version: "0.0.0",
  dependencies: { "llm-txt-gen": "0.1.0", llmstxt: "0.9.0" },
  overrides: { sitemapper: "3.2.24" },
};

function bin(pkg: string, rel: string): string {
  return path.join(PEERS_DIR, "node_modules", pkg, rel);
}

/** Installs the peers unless the pinned versions are already there. */
export function ensurePeers(log: (line: string) => void): void {
  const installed = (pkg: string, version: string): boolean => {
    try {
      const json = JSON.parse(fs.readFileSync(path.join(PEERS_DIR, "node_modules", pkg, "package.json"), "utf8")) as {
        version?: string;
      };
      return json.version === version;
    } catch {
      return false;
    }
  };
  if (installed("llm-txt-gen", "0.1.0") && installed("llmstxt", "0.9.0") && installed("sitemapper", "3.2.24")) return;
  fs.mkdirSync(PEERS_DIR, { recursive: true });
  fs.writeFileSync(path.join(PEERS_DIR, "package.json"), `${JSON.stringify(PEER_PACKAGE, null, 2)}\n`);
  log(`installing peers into ${path.relative(PACKAGE_ROOT, PEERS_DIR)}/`);
  execFileSync("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", PEERS_DIR], {
    cwd: PEERS_DIR,
    stdio: ["ignore", "inherit", "inherit"],
    timeout: 5 * 60_000,
  });
}

function failure(r: { timedOut: boolean; code: number | null; stderr: string; ms: number }, timeoutMs: number) {
  if (r.timedOut) return { ok: false as const, reason: `timed out after ${timeoutMs / 1000} s`, ms: r.ms };
  const lines = r.stderr
    .trim()
    .split("\n")
    .filter((l) => l.trim() !== "" && !/^\s+at /.test(l));
  return { ok: false as const, reason: `exit ${r.code}: ${(lines.pop() ?? "").slice(0, 120)}`, ms: r.ms };
}

/** A run whose file is missing or has no link at all counts as failed, with the tool's last words. */
function fileRun(file: string, r: { ms: number; stderr: string }, what: string): GeneratorRun {
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  if (!/\]\(https?:/.test(text)) {
    const last = r.stderr.trim().split("\n").pop() ?? "";
    return { ok: false, reason: `${what} wrote no links${last ? ` (${last.slice(0, 100)})` : ""}`, ms: r.ms };
  }
  return { ok: true, file, ms: r.ms };
}

export function llmTxtGen(sitemapOf: (url: string) => string): Generator {
  return {
    name: "llm-txt-gen",
    async run(url, outDir, timeoutMs): Promise<GeneratorRun> {
      const file = path.join(outDir, "llms.txt");
      const args = [bin("llm-txt-gen", "dist/cli.js"), url, "--limit", "200", "--sitemap", sitemapOf(url)];
      const r = await runCommand(process.execPath, [...args, "--output", file], {
        cwd: outDir,
        env: childEnv(),
        timeoutMs,
      });
      if (r.timedOut || r.code !== 0) return failure(r, timeoutMs);
      return fileRun(file, r, "llm-txt-gen");
    },
  };
}

export function llmstxt(sitemapOf: (url: string) => string): Generator {
  return {
    name: "llmstxt",
    async run(url, outDir, timeoutMs): Promise<GeneratorRun> {
      const file = path.join(outDir, "llms.txt");
      const r = await runCommand(process.execPath, [bin("llmstxt", "src/cli/llmstxt.js"), "gen", sitemapOf(url)], {
        cwd: outDir,
        env: childEnv(),
        timeoutMs,
      });
      if (r.timedOut || r.code !== 0) return failure(r, timeoutMs);
      fs.writeFileSync(file, r.stdout); // it prints the file; its spinner goes to stderr
      return fileRun(file, r, "llmstxt");
    },
  };
}
