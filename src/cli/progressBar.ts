import type { Progress } from "../pipeline/types";

const PHASE_LABEL: Record<Progress["phase"], string> = {
  discover: "discovering",
  fetch: "fetching",
  extract: "extracting",
  generate: "writing llms.txt",
  validate: "validating",
  compose: "composing llms-full.txt",
  done: "done",
};

/**
 * A one-line progress bar on stderr, redrawn in place; only used when stderr is a TTY
 * (in a pipe or a log file the carriage returns would be noise).
 */
export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;
  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly width = 24,
  ) {}

  update(p: Progress): void {
    const now = Date.now();
    // Redraw at most ~12 times a second, but always on a phase change to "done".
    if (p.phase !== "done" && now - this.lastDraw < 80) return;
    this.lastDraw = now;
    const total = Math.max(p.pagesTotal, p.pagesExtracted, 1);
    const ratio = Math.min(1, p.pagesExtracted / total);
    const filled = Math.round(ratio * this.width);
    const bar = "█".repeat(filled) + "░".repeat(this.width - filled);
    const counts = `${p.pagesDiscovered} found · ${p.pagesFetched} fetched · ${p.pagesExtracted}/${p.pagesTotal} extracted`;
    const line = `${bar} ${counts} · ${PHASE_LABEL[p.phase]}`;
    const columns = this.out.columns ?? 100;
    this.out.write(`\r\x1b[2K${line.slice(0, columns - 1)}`);
    this.drawn = true;
  }

  /** Clears the bar so later messages start on a clean line. */
  finish(): void {
    if (this.drawn) this.out.write("\r\x1b[2K");
    this.drawn = false;
  }
}
