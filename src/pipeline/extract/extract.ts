/**
 * The Extractor: a pool of worker_threads running extractPage, with a time budget per page.
 *
 * Why threads: jsdom + readability is synchronous CPU work, 3–18 pages/s on real manuals and
 * 12–19 s for one 2.5 MB page. On the main thread that blocks the event loop, and a BullMQ worker
 * whose loop is blocked can't renew its job lock (lockDuration): the job is taken for stalled and
 * handed to another worker while this one is still running it. HTTP, progress events and shutdown
 * signals would stall too. So the main thread only posts bodies and receives ExtractedPage objects.
 *
 * Why terminate on timeout or abort: a thread inside readability can't be interrupted; killing it
 * is the only way to get the CPU back. A fresh thread replaces it when there is work.
 */
import path from "node:path";
import { Worker } from "node:worker_threads";

import { coerceError } from "../../lib/coerceError";
import { AbortedError, ERROR_CODES, LtxError, type ErrorCode } from "../../lib/errors";
import type { ExtractReply, ExtractRequest, WorkerOptions } from "./extractWorker";
import type { ExtractedPage, ExtractInput, Extractor } from "../types";

export interface ExtractorOptions {
  /** Threads at most; they start when there is work. One per core leaves the main thread a share. */
  threads: number;
  /** Time budget of one page, from the moment its thread starts on it. */
  timeoutMs: number;
  /** Characters of HTML that jsdom/readability get per page (see extractPage). */
  maxHtmlBytes?: number;
  /**
   * V8 old-generation limit of each thread. A page that needs more kills only its thread (the task
   * fails, the pool goes on), not the process. A low limit also makes V8 collect sooner, which
   * keeps the pool's RSS near what the pages need rather than what the heap could grow to.
   */
  maxHeapMb?: number;
  /** V8 young generation of each thread (see DEFAULT_YOUNG_GENERATION_MB). */
  youngGenerationMb?: number;
  /** A thread is replaced after this many pages, so slow leaks in jsdom can't pile up. */
  maxPagesPerThread?: number;
}

/** Enough for jsdom + readability on a 1 MB page (maxHtmlBytes) of dense markup, with room to spare. */
const DEFAULT_MAX_HEAP_MB = 384;
const DEFAULT_MAX_PAGES_PER_THREAD = 500;
/**
 * jsdom allocates many short-lived objects: a young generation above V8's default means fewer
 * scavenges and less promoted garbage. Measured over the vim manual (152 pages) on one thread:
 * 256/32 MB → 57 CPU s, RSS 352 MB; 384/64 → 47 s, 413 MB; no limits → 46 s, 791 MB.
 */
const DEFAULT_YOUNG_GENERATION_MB = 64;

interface Task {
  id: number;
  input: ExtractInput;
  resolve: (page: ExtractedPage) => void;
  reject: (err: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  task: Task | undefined;
  timer: NodeJS.Timeout | undefined;
  pages: number;
}

export function createExtractor(opts: ExtractorOptions): Extractor {
  const threads = Math.max(1, Math.floor(opts.threads));
  const maxPagesPerThread = opts.maxPagesPerThread ?? DEFAULT_MAX_PAGES_PER_THREAD;
  const slots = new Set<Slot>();
  const exiting = new Set<Promise<unknown>>();
  const queue: Task[] = [];
  let nextId = 1;
  let closing: Promise<void> | undefined;

  function extract(input: ExtractInput, signal?: AbortSignal): Promise<ExtractedPage> {
    if (closing) return Promise.reject(new AbortedError("extractor closed"));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<ExtractedPage>((resolve, reject) => {
      const task: Task = { id: nextId++, input, resolve, reject, signal, onAbort: undefined };
      if (signal) {
        task.onAbort = () => abortTask(task);
        signal.addEventListener("abort", task.onAbort, { once: true });
      }
      queue.push(task);
      pump();
    });
  }

  function pump(): void {
    if (closing) return;
    for (const slot of slots) {
      if (queue.length === 0) break;
      if (slot.ready && !slot.task) start(slot, queue.shift() as Task);
    }
    // Threads still starting will take queued pages when ready: start more only for the rest.
    let unserved = queue.length - Array.from(slots).filter((s) => !s.ready).length;
    while (unserved-- > 0 && slots.size < threads) spawn();
    updateRefs();
  }

  function start(slot: Slot, task: Task): void {
    slot.task = task;
    slot.timer = setTimeout(() => kill(slot, timeoutError(opts.timeoutMs)), opts.timeoutMs);
    slot.worker.postMessage({ id: task.id, input: task.input } satisfies ExtractRequest);
  }

  function spawn(): void {
    const workerData: WorkerOptions = opts.maxHtmlBytes ? { maxHtmlBytes: opts.maxHtmlBytes } : {};
    const worker = new Worker(workerEntry.code, {
      eval: workerEntry.eval,
      workerData,
      resourceLimits: {
        maxOldGenerationSizeMb: opts.maxHeapMb ?? DEFAULT_MAX_HEAP_MB,
        maxYoungGenerationSizeMb: opts.youngGenerationMb ?? DEFAULT_YOUNG_GENERATION_MB,
      },
    });
    const slot: Slot = { worker, ready: false, task: undefined, timer: undefined, pages: 0 };
    slots.add(slot);
    worker.on("message", (msg: ExtractReply) => onReply(slot, msg));
    // "error": an uncaught exception in the thread, or ERR_WORKER_OUT_OF_MEMORY from resourceLimits.
    worker.on("error", (e: unknown) => onDeath(slot, threadError(e)));
    worker.on("exit", (code) => onDeath(slot, new Error(`exited with code ${code}`)));
  }

  function onReply(slot: Slot, msg: ExtractReply): void {
    if ("ready" in msg) {
      slot.ready = true;
      return pump();
    }
    const task = slot.task;
    if (!task || task.id !== msg.id) return; // a late answer to a task already given up on
    clearTimeout(slot.timer);
    slot.task = undefined;
    slot.pages++;
    if ("page" in msg) settle(task, undefined, msg.page);
    else settle(task, new LtxError(isErrorCode(msg.error.code) ? msg.error.code : "INTERNAL", msg.error.message));
    if (slot.pages >= maxPagesPerThread) retire(slot);
    pump();
  }

  function onDeath(slot: Slot, cause: Error): void {
    if (!slots.has(slot)) return; // terminated by us, or "exit" after "error"
    const wasReady = slot.ready;
    kill(slot, new LtxError("INTERNAL", `extraction thread crashed: ${cause.message}`, { cause }));
    // A thread that dies before it is ready will die again: fail the waiting pages, don't loop.
    if (!wasReady)
      for (const task of queue.splice(0))
        settle(task, new LtxError("INTERNAL", `extraction thread failed to start: ${cause.message}`, { cause }));
  }

  /** Stops a thread now; its task (if any) fails with `err`. */
  function kill(slot: Slot, err: Error): void {
    const task = slot.task;
    retire(slot);
    if (task) settle(task, err);
    pump();
  }

  function retire(slot: Slot): void {
    slots.delete(slot);
    clearTimeout(slot.timer);
    slot.task = undefined;
    const done = slot.worker.terminate().finally(() => exiting.delete(done));
    exiting.add(done);
  }

  function abortTask(task: Task): void {
    const queued = queue.indexOf(task);
    if (queued >= 0) {
      queue.splice(queued, 1);
      return settle(task, abortError(task.signal));
    }
    for (const slot of slots) if (slot.task === task) return kill(slot, abortError(task.signal));
  }

  function settle(task: Task, err: Error | undefined, page?: ExtractedPage): void {
    if (task.onAbort) task.signal?.removeEventListener("abort", task.onAbort);
    if (err) task.reject(err);
    else task.resolve(page as ExtractedPage);
  }

  /** Idle threads must not keep the process alive; busy ones, or ones starting for queued pages, must. */
  function updateRefs(): void {
    for (const slot of slots) {
      if (slot.task || (!slot.ready && queue.length > 0)) slot.worker.ref();
      else slot.worker.unref();
    }
  }

  function close(): Promise<void> {
    closing ??= (async () => {
      const err = new AbortedError("extractor closed");
      for (const task of queue.splice(0)) settle(task, err);
      for (const slot of Array.from(slots)) kill(slot, err);
      await Promise.allSettled(Array.from(exiting));
    })();
    return closing;
  }

  return { extract, close };
}

/**
 * Production (dist/*.js): the thread loads dist/pipeline/extract/extractWorker.js. From sources (jest,
 * benches) this file is .ts and Node's loader in the thread can't read TypeScript, so the thread
 * first installs the dev-only transpiling hook (tools/tsRequireHook.js, not shipped in dist).
 */
const workerEntry = ((): { code: string; eval: boolean } => {
  if (!__filename.endsWith(".ts")) return { code: path.join(__dirname, "extractWorker.js"), eval: false };
  const hook = path.join(__dirname, "..", "..", "..", "tools", "tsRequireHook.js");
  const entry = path.join(__dirname, "extractWorker.ts");
  return { code: `require(${JSON.stringify(hook)});\nrequire(${JSON.stringify(entry)});`, eval: true };
})();

function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && (ERROR_CODES as readonly string[]).includes(code);
}

/**
 * Errors raised for a thread (ERR_WORKER_OUT_OF_MEMORY, …) come from Node's own realm; under a
 * sandbox such as jest's they are not `instanceof Error` there, so read their message directly.
 */
function threadError(e: unknown): Error {
  const message = (e as { message?: unknown } | null)?.message;
  return typeof message === "string" ? new Error(message, { cause: e }) : coerceError(e);
}

function timeoutError(ms: number): LtxError {
  return new LtxError("TIMEOUT", `extraction took longer than ${ms / 1000}s`);
}

function abortError(signal: AbortSignal | undefined): AbortedError {
  const reason: unknown = signal?.reason;
  return new AbortedError(reason instanceof Error ? reason.message : typeof reason === "string" ? reason : "aborted");
}
