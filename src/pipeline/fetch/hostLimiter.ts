/*
 * Politeness towards one host: at most `concurrency` requests in flight, and — when robots.txt asks
 * for a Crawl-delay — requests started at least delayMs apart, one at a time. A delay is a site
 * owner asking us to go slowly; running several requests in parallel with spaced starts would still
 * break that request whenever responses are slow, so a delay also means concurrency 1.
 */
import { AbortedError } from "../../lib/errors";

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

interface HostState {
  active: number;
  lastStart: number;
  queue: Waiter[];
  timer: NodeJS.Timeout | undefined;
}

export class HostLimiter {
  private readonly hosts = new Map<string, HostState>();
  private delayMs: number;

  constructor(
    private readonly concurrency: number,
    delayMs = 0,
  ) {
    this.delayMs = Math.max(0, delayMs);
  }

  /** The Crawl-delay is only known once robots.txt is read. */
  setDelayMs(ms: number): void {
    this.delayMs = Math.max(0, ms);
  }

  /** Runs fn when the host has a free slot (and the delay since the last start has passed). */
  async run<T>(host: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(host, signal);
    try {
      return await fn();
    } finally {
      this.release(host);
    }
  }

  private state(host: string): HostState {
    let s = this.hosts.get(host);
    if (!s) {
      s = { active: 0, lastStart: 0, queue: [], timer: undefined };
      this.hosts.set(host, s);
    }
    return s;
  }

  private acquire(host: string, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new AbortedError());
    const s = this.state(host);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = s.queue.indexOf(waiter);
        if (i >= 0) s.queue.splice(i, 1);
        reject(new AbortedError());
      };
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject,
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      s.queue.push(waiter);
      this.pump(s);
    });
  }

  private release(host: string): void {
    const s = this.state(host);
    s.active--;
    this.pump(s);
  }

  private pump(s: HostState): void {
    const limit = this.delayMs > 0 ? 1 : this.concurrency;
    while (s.active < limit && s.queue.length > 0) {
      const wait = s.lastStart + this.delayMs - Date.now();
      if (wait > 0) {
        if (s.timer === undefined) {
          s.timer = setTimeout(() => {
            s.timer = undefined;
            this.pump(s);
          }, wait);
        }
        return;
      }
      const next = s.queue.shift();
      if (!next) return;
      s.active++;
      s.lastStart = Date.now();
      next.resolve();
    }
  }
}
