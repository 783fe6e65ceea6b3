/**
 * `ltx check <file|url>`: judges any llms.txt, ltx's or hand-written, with the checker that runs
 * on every file ltx stores: format and reference-parser errors, quality warnings and a score;
 * with --links, every linked page fetched too.
 *
 * Linked URLs come from a file someone else may have written, so the service's address guard
 * applies to them (ALLOW_PRIVATE_NETWORKS and CRAWL_ALLOW_HOSTS lift it), except for the host the
 * file itself is on: checking the llms.txt of docs served on localhost is the common case.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { loadConfig } from "../config/env";
import { pipelineSettings } from "../workers/pipelineSettings";
import { coerceError } from "../lib/coerceError";
import { InputError, isLtxError } from "../lib/errors";
import { fetchPage } from "../pipeline/fetch/fetch";
import { resolveSite } from "../pipeline/site";
import type { FetchSettings, Site } from "../pipeline/types";
import { checkLlmsTxt } from "../pipeline/validate/check";
import { checkLinks } from "../pipeline/validate/checkLinks";
import { parseLlmsTxt } from "../pipeline/validate/format";
import { createAddressPolicy } from "../security/addressPolicy";
import { formatCheck, type CheckOutput } from "./checkOutput";
import { ProgressBar } from "./progressBar";

export const CHECK_HELP = `Usage: ltx check <file|url> [options]

Checks an llms.txt (a file, "-" for stdin, or an http(s) URL): errors in its format and in how the
spec's reference parser reads it, quality warnings (one code per defect class) and a score.

Options:
  --site ORIGIN   the site the file is for (default: the URL's own site, or the links' most common origin)
  --links         fetch every linked page (robots.txt-aware): report non-2xx, redirects and off-site links
  --json          print the report as JSON
  -h, --help      show this help

Exit codes: 0 valid (warnings allowed), 1 errors found, 2 bad usage or unreadable input.`;

const OPTIONS = {
  site: { type: "string" },
  links: { type: "boolean" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export async function checkCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    return fail(`${coerceError(e).message} (try \`ltx check --help\`)`, 2);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${CHECK_HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1)
    return fail(
      positionals.length === 0 ? "missing <file|url> (try `ltx check --help`)" : "expected one <file|url>",
      2,
    );
  const source = positionals[0] as string;
  try {
    const config = loadConfig(process.env);
    const isUrl = /^https?:\/\//i.test(source);
    const explicit = values.site ? siteOf(values.site, "--site") : undefined;
    const settings = fetchSettings(config, explicit ?? (isUrl ? siteOf(source, "<url>") : undefined));
    const text = isUrl ? await download(source, settings) : await readInput(source);
    const site = explicit ?? (isUrl ? siteOf(source, "<url>") : guessSite(text));
    const report = checkLlmsTxt(text, site ? { site: site.origin } : {});
    const out: CheckOutput = { source, site: site ? `${site.origin}${site.prefix}` : null, ...report };
    if (values.links) out.links = await linkReport(text, site, fetchSettings(config, site), !values.json);
    process.stdout.write(values.json ? `${JSON.stringify(out, null, 2)}\n` : formatCheck(out));
    return out.valid && (out.links?.errors.length ?? 0) === 0 ? 0 : 1;
  } catch (e) {
    const err = coerceError(e);
    const usage = isLtxError(err) && ["INVALID_URL", "INVALID_INPUT", "CONFIG_INVALID"].includes(err.code);
    return fail(err.message, usage ? 2 : 1);
  }
}

/** The site a URL is on: its origin, and the folder of an llms.txt URL as the prefix. */
function siteOf(url: string, what: string): Site {
  try {
    return resolveSite(url.replace(/[^/]*\.txt$/i, ""));
  } catch (e) {
    throw new InputError(`${what}: ${coerceError(e).message}`, { cause: e });
  }
}

/** A file without --site: the site is the origin most of its links are on. */
function guessSite(text: string): Site | undefined {
  const counts = new Map<string, number>();
  for (const s of parseLlmsTxt(text).doc?.sections ?? [])
    for (const l of s.links) {
      try {
        const origin = new URL(l.url).origin;
        counts.set(origin, (counts.get(origin) ?? 0) + 1);
      } catch {
        // not absolute: the format errors say so
      }
    }
  const top = [...counts].sort((a, b) => b[1] - a[1])[0];
  return top && top[0] !== "null" ? resolveSite(`${top[0]}/`) : undefined;
}

function fetchSettings(config: ReturnType<typeof loadConfig>, site: Site | undefined): FetchSettings {
  const host = site ? new URL(site.origin).hostname.replace(/^\[|\]$/g, "") : undefined;
  const policy = createAddressPolicy({
    allowPrivate: config.crawl.allowPrivateNetworks,
    allowHosts: [...config.crawl.allowHosts, ...(host ? [host] : [])],
  });
  return pipelineSettings(config, {}, policy).run.fetch;
}

async function readInput(file: string): Promise<string> {
  try {
    return file === "-" ? await readStdin() : await readFile(file, "utf8");
  } catch (e) {
    throw new InputError(`can't read ${file}: ${coerceError(e).message}`, { cause: e });
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

async function download(url: string, settings: FetchSettings): Promise<string> {
  const page = await fetchPage(url, settings, { accept: "text/plain,text/markdown;q=0.9,*/*;q=0.5" });
  if (page.status < 200 || page.status >= 300) throw new Error(`${url} answered HTTP ${page.status}`);
  return page.body;
}

async function linkReport(text: string, site: Site | undefined, settings: FetchSettings, tty: boolean) {
  const links = (parseLlmsTxt(text).doc?.sections ?? []).flatMap((s) =>
    s.links.map((l) => ({ url: l.url, line: l.line })),
  );
  const bar = tty && process.stderr.isTTY ? new ProgressBar(process.stderr) : undefined;
  const report = await checkLinks(links, site, {
    settings,
    ...(bar
      ? {
          onProgress: (done: number, total: number) =>
            bar.update({
              phase: "fetch",
              pagesDiscovered: total,
              pagesFetched: done,
              pagesExtracted: done,
              pagesTotal: total,
            }),
        }
      : {}),
  });
  bar?.finish();
  return report;
}

function fail(message: string, code: number): number {
  process.stderr.write(`ltx: ${message}\n`);
  return code;
}
