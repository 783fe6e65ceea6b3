/*
 * One budget of bytes per job for everything it fetches: robots.txt, sitemaps, pages, error pages.
 * httpRequest.ts charges each response as it reads it, the larger of its bytes on the wire and
 * its decoded bytes (so neither a gzip bomb nor a stream that inflates to nothing runs free). When
 * the budget runs out, the response that crossed the line ends there (truncated, like the page
 * cap), every other response still downloading is aborted, and no new request starts.
 */
import { setMaxListeners } from "node:events";
import { FetchError } from "../../lib/errors";

/** Used when a caller gives no JOB_MAX_BYTES: a job is never unbounded. */
export const DEFAULT_JOB_MAX_BYTES = 500 * 1024 * 1024;

export class ByteBudget {
  private used = 0;
  private readonly controller = new AbortController();

  constructor(readonly limit: number) {
    // Every response in flight listens for the end of the budget.
    setMaxListeners(0, this.controller.signal);
  }

  /** Aborted once the budget is spent. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get spent(): number {
    return this.used;
  }

  get remaining(): number {
    return Math.max(0, this.limit - this.used);
  }

  get exhausted(): boolean {
    return this.used >= this.limit;
  }

  /** Counts n bytes (callers cut their chunk at `remaining` first); aborts `signal` once spent. */
  take(n: number): void {
    this.used += n;
    if (this.exhausted && !this.controller.signal.aborted) this.controller.abort();
  }

  /** The error of a request refused or cut because the budget is spent; never retried. */
  error(url: string): FetchError {
    return new FetchError(url, `not fetched: the job's byte budget of ${this.limit} bytes (JOB_MAX_BYTES) is spent`, {
      retryable: false,
      details: { transient: false, budget: true },
    });
  }
}
