/**
 * npm run bench:corpus [-- --sites a,b]: installs the corpus packages that are missing and serves
 * each manual's root on its own loopback port until Ctrl-C, printing start URLs and sitemaps, so
 * that a generator (ltx or another) can be tried by hand on the same sites the benchmark uses.
 */
import { parseArgs } from "node:util";
import { type CorpusSite, ensureInstalled, selectSites } from "./corpus";
import { serveRoot, type StaticSite } from "./staticSite";

export interface ServedSite {
  site: CorpusSite;
  server: StaticSite;
  /** The start URL: origin + entry page. */
  url: string;
}

export async function serveCorpus(sites: readonly CorpusSite[]): Promise<ServedSite[]> {
  const served: ServedSite[] = [];
  try {
    for (const site of sites) {
      const server = await serveRoot(site.root);
      served.push({ site, server, url: `${server.origin}/${site.entry}` });
    }
  } catch (e) {
    await Promise.all(served.map((s) => s.server.close()));
    throw e;
  }
  return served;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { sites: { type: "string" } }, strict: true });
  const sites = selectSites(values.sites);
  ensureInstalled(sites, (l) => console.log(l));
  const served = await serveCorpus(sites);
  for (const s of served)
    console.log(
      `${s.site.name.padEnd(14)} ${s.site.shape.padEnd(40)} ${String(s.server.pages).padStart(5)} pages  ${s.url}  (${s.server.origin}/sitemap.xml)`,
    );
  console.log("serving; Ctrl-C to stop");
  const stop = (): void => {
    void Promise.all(served.map((s) => s.server.close())).then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
