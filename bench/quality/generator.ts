/** What the benchmark asks of a generator (ltx or a peer): one site's URL in, one llms.txt file out. */
export type GeneratorRun =
  { ok: true; file: string; ms: number; detail?: string } | { ok: false; reason: string; ms: number };

export interface Generator {
  name: string;
  /** Writes `outDir/llms.txt` for the site at `url`, within `timeoutMs`. */
  run(url: string, outDir: string, timeoutMs: number): Promise<GeneratorRun>;
}
