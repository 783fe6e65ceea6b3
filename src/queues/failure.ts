/**
 * How a failed attempt's error crosses the queue. BullMQ keeps only an error's message (as the
 * job's failedReason), so the processor throws a JobFailure whose message is `{"code","message"}`
 * as JSON: the code travels as a field and the message stays the message. readFailure is the one
 * reader (API views); in-process listeners (outcomes, metrics) read the JobFailure's fields.
 */
import { ERROR_CODES, type ErrorCode } from "../lib/errors";

export interface Failure {
  /** null for reasons written by BullMQ itself (a stalled job) or by code outside ltx. */
  code: ErrorCode | null;
  message: string;
}

export class JobFailure extends Error {
  readonly code: ErrorCode;
  /** The error's own message (Error.message holds the JSON that BullMQ stores). */
  readonly reason: string;

  /**
   * `final`: the job fails now without spending its other attempts. BullMQ recognises that by the
   * error's name, "UnrecoverableError".
   */
  constructor(code: ErrorCode, reason: string, opts: { final: boolean; cause?: unknown }) {
    super(JSON.stringify({ code, message: reason }), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = opts.final ? "UnrecoverableError" : "JobFailure";
    this.code = code;
    this.reason = reason;
  }
}

const CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** A job's failedReason as a Failure; a reason that isn't ours comes back whole, without a code. */
export function readFailure(failedReason: string): Failure {
  if (failedReason.startsWith("{")) {
    try {
      const v = JSON.parse(failedReason) as { code?: unknown; message?: unknown };
      if (typeof v.code === "string" && CODES.has(v.code) && typeof v.message === "string")
        return { code: v.code as ErrorCode, message: v.message };
    } catch {
      // not JSON after all: a foreign reason
    }
  }
  return { code: null, message: failedReason };
}

/** The code and message of an error a worker saw fail a job (JobFailure, or anything else). */
export function failureOf(err: Error): Failure {
  if (err instanceof JobFailure) return { code: err.code, message: err.reason };
  return readFailure(err.message);
}
