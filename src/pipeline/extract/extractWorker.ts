/**
 * Entry of one extraction thread (see extract.ts): answers {id, input} with {id, page} or
 * {id, error}. One page at a time; extractPage parses every page into one window it keeps per
 * thread, and detaches each page's tree when done so nothing of it stays reachable.
 */
import { parentPort, workerData } from "node:worker_threads";

import { coerceError } from "../../lib/coerceError";
import { isLtxError, type ErrorCode } from "../../lib/errors";
import { extractPage } from "./extractPage";
import type { ExtractedPage, ExtractInput } from "../types";

export interface WorkerOptions {
  maxHtmlBytes?: number;
}

export interface ExtractRequest {
  id: number;
  input: ExtractInput;
}

/** `ready` is sent once, when the modules are loaded: a task's time budget starts after it. */
export type ExtractReply =
  { ready: true } | { id: number; page: ExtractedPage } | { id: number; error: { message: string; code: ErrorCode } };

function serve(port: NonNullable<typeof parentPort>, opts: WorkerOptions): void {
  port.on("message", (msg: ExtractRequest) => {
    let reply: ExtractReply;
    try {
      const page = extractPage(msg.input, { ...(opts.maxHtmlBytes ? { maxHtmlBytes: opts.maxHtmlBytes } : {}) });
      reply = { id: msg.id, page };
    } catch (e) {
      const err = coerceError(e);
      const code = isLtxError(err) ? err.code : "INTERNAL";
      reply = { id: msg.id, error: { message: `extraction failed: ${err.message}`, code } };
    }
    port.postMessage(reply);
  });
  port.postMessage({ ready: true } satisfies ExtractReply);
}

// Only as a thread entry: importing this file elsewhere (for its types) must not start serving.
if (parentPort) serve(parentPort, (workerData ?? {}) as WorkerOptions);
