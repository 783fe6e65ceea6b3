/**
 * The shutdown registry of a process. Roots register each part's close() as they build it
 * (redis → queues → store → worker/HTTP); run() closes them in reverse, so the part built last
 * (the one taking work: HTTP server, Worker) stops first and Redis, which everything else still
 * needs while closing, goes last. A failed step is logged and the later ones still run.
 *
 * installSignalHandlers: on SIGTERM/SIGINT run(), then exit 0. A deadline caps the wait (exit 1),
 * and a second signal means "now" (exit 128+signo), like graphile/worker's signal handling.
 */
import os from "node:os";
import { coerceError } from "./coerceError";
import type { Logger } from "./logger";

export interface ShutdownStep {
  name: string;
  run: () => Promise<void> | void;
}

export interface Shutdown {
  /** Registers a close step; steps run in reverse registration order. */
  add(name: string, run: () => Promise<void> | void): void;
  /** Runs every step once; later calls return the same promise. */
  run(reason: string): Promise<void>;
  readonly started: boolean;
}

export function createShutdown(logger?: Logger): Shutdown {
  const steps: ShutdownStep[] = [];
  let running: Promise<void> | undefined;
  return {
    add(name, run) {
      steps.push({ name, run });
    },
    run(reason) {
      running ??= (async () => {
        logger?.info({ reason }, "shutting down");
        for (const step of [...steps].reverse()) {
          const started = Date.now();
          try {
            await step.run();
            logger?.debug({ step: step.name, ms: Date.now() - started }, "closed");
          } catch (e) {
            logger?.error({ err: coerceError(e), step: step.name }, "close step failed");
          }
        }
      })();
      return running;
    },
    get started() {
      return running !== undefined;
    },
  };
}

export interface SignalOptions {
  /** After the first signal, exit(1) if run() hasn't finished by then. */
  deadlineMs: number;
  logger?: Logger;
  signals?: NodeJS.Signals[];
  /** Injected by tests; process.exit otherwise. */
  exit?: (code: number) => void;
}

/** Installs the handlers; returns a function that removes them. */
export function installSignalHandlers(shutdown: Shutdown, opts: SignalOptions): () => void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const signals = opts.signals ?? ["SIGTERM", "SIGINT"];
  let received = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++received > 1) {
      opts.logger?.warn({ signal }, "second signal: exiting now");
      exit(128 + (os.constants.signals[signal] ?? 0)); // the operator insists
      return;
    }
    opts.logger?.info({ signal, deadlineMs: opts.deadlineMs }, "signal received: finishing active work");
    // unref: the deadline must not keep an otherwise finished process alive.
    setTimeout(() => {
      opts.logger?.error({ deadlineMs: opts.deadlineMs }, "shutdown deadline passed: exiting");
      exit(1);
    }, opts.deadlineMs).unref();
    void shutdown.run(signal).then(() => exit(0));
  };
  for (const s of signals) process.on(s, onSignal);
  return () => {
    for (const s of signals) process.off(s, onSignal);
  };
}
