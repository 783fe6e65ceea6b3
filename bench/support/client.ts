/**
 * The harness's HTTP client for the ltx API: JSON in and out, a timeout on every request, and
 * bounded retries for the answers a client should retry (network errors, 5xx, 429) while
 * Redis restarts under the API. Loopback only: the base URL is built from 127.0.0.1 by the caller.
 */

export interface ApiAnswer {
  status: number;
  body: unknown;
}

export class ApiClient {
  /** Requests that were retried (network error, 5xx or 429): shown in the table. */
  retries = 0;

  constructor(readonly base: string) {}

  async request(method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<ApiAnswer> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers:
        body === undefined
          ? { accept: "application/json" }
          : { "content-type": "application/json", accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text for the error message
    }
    return { status: res.status, body: parsed };
  }

  /** request() until an answer below 500 (and not 429), at most `tries` times. */
  async requestRetrying(
    method: string,
    path: string,
    body?: unknown,
    opts: { tries?: number; deadline?: number } = {},
  ): Promise<ApiAnswer> {
    const tries = opts.tries ?? 30;
    let last = "";
    for (let i = 0; i < tries; i++) {
      if (opts.deadline !== undefined && Date.now() > opts.deadline) break;
      try {
        const answer = await this.request(method, path, body);
        if (answer.status < 500 && answer.status !== 429) return answer;
        last = `${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`;
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
      }
      this.retries++;
      await sleep(Math.min(2000, 100 * 2 ** Math.min(i, 5)));
    }
    throw new Error(`${method} ${path}: gave up after ${tries} tries (last: ${last})`);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs fn over items with at most `limit` at once. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  });
  await Promise.all(lanes);
  return out;
}

export function field(o: unknown, key: string): unknown {
  return typeof o === "object" && o !== null ? (o as Record<string, unknown>)[key] : undefined;
}
