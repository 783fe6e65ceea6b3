/**
 * Error classes with a stable `code`. Callers branch on `code` (or the class), never on messages.
 * `retryable: false` means trying again can't help (bad input, a start page that says 4xx, …):
 * the worker turns those into BullMQ's UnrecoverableError so no attempt is wasted.
 * The only mapping to HTTP status is api/middleware/errors.ts.
 */
export const ERROR_CODES = [
  "INVALID_INPUT", // a request body, query, CLI flag or job payload failed validation
  "INVALID_URL", // not a URL, or not http(s)
  "NOT_FOUND",
  "CONFLICT",
  "PAYLOAD_TOO_LARGE",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "TOO_MANY_REQUESTS", // a client of ours went over its rate limit
  "QUOTA_EXCEEDED", // a configured total (MAX_WEBSITES) would be exceeded
  "TOO_MANY_QUEUED", // a client of ours has MAX_QUEUED_PER_CLIENT jobs in flight already
  "BLOCKED_ADDRESS", // the SSRF guard refused a host or address
  "ROBOTS_DISALLOWED", // robots.txt forbids the start URL
  "FETCH_FAILED", // network error, timeout or bad status while fetching
  "START_PAGE_FAILED", // the start URL answered 4xx / unusable content
  "NO_CONTENT", // nothing readable was found on the site
  "RATE_LIMITED", // an upstream (the LLM) said 429: wait retryAfterMs
  "LLM_FAILED", // the LLM call failed (5xx, network, bad answer)
  "OUTPUT_INVALID", // a generated llms.txt failed validation
  "ABORTED", // cancelled through an AbortSignal
  "TIMEOUT",
  "CONFIG_INVALID",
  "REDIS_MISCONFIGURED",
  "UNAVAILABLE", // a dependency (Redis) is not reachable
  "FILE_STORE_FAILED", // the file store (disk, S3) refused a write or a read
  "INTERNAL",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface LtxErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  details?: Record<string, unknown>;
}

export class LtxError extends Error {
  override name = this.constructor.name;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;
  constructor(
    readonly code: ErrorCode,
    message: string,
    opts: LtxErrorOptions = {},
  ) {
    super(message, { cause: opts.cause });
    this.retryable = opts.retryable ?? true;
    this.details = opts.details;
  }
}

/** Bad input from a user, a request or a job payload. Never retried. */
export class InputError extends LtxError {
  constructor(message: string, opts: Omit<LtxErrorOptions, "retryable"> & { code?: ErrorCode } = {}) {
    super(opts.code ?? "INVALID_INPUT", message, { ...opts, retryable: false });
  }
}

export class InvalidUrlError extends LtxError {
  constructor(url: string, reason: string, opts: LtxErrorOptions = {}) {
    super("INVALID_URL", `invalid URL ${JSON.stringify(truncate(url, 200))}: ${reason}`, { ...opts, retryable: false });
  }
}

export class TooManyQueuedError extends LtxError {
  constructor(message: string) {
    super("TOO_MANY_QUEUED", message, { retryable: false });
  }
}

export class NotFoundError extends LtxError {
  constructor(message: string) {
    super("NOT_FOUND", message, { retryable: false });
  }
}

/** A configured total would be exceeded; nothing was changed. */
export class QuotaExceededError extends LtxError {
  constructor(message: string) {
    super("QUOTA_EXCEEDED", message, { retryable: false });
  }
}

export class ConflictError extends LtxError {
  constructor(message: string) {
    super("CONFLICT", message, { retryable: false });
  }
}

/** The SSRF guard refused a destination. Never retried. */
export class BlockedAddressError extends LtxError {
  constructor(message: string, opts: LtxErrorOptions = {}) {
    super("BLOCKED_ADDRESS", message, { ...opts, retryable: false });
  }
}

export class FetchError extends LtxError {
  constructor(
    readonly url: string,
    message: string,
    opts: LtxErrorOptions & { status?: number; code?: ErrorCode } = {},
  ) {
    super(opts.code ?? "FETCH_FAILED", message, opts);
    this.status = opts.status;
  }
  readonly status: number | undefined;
}

/** An upstream asked us to slow down. The worker pauses the whole queue for retryAfterMs. */
export class RateLimitedError extends LtxError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
    opts: LtxErrorOptions = {},
  ) {
    super("RATE_LIMITED", message, opts);
  }
}

export class LlmError extends LtxError {
  constructor(message: string, opts: LtxErrorOptions = {}) {
    super("LLM_FAILED", message, opts);
  }
}

export class OutputInvalidError extends LtxError {
  constructor(message: string, opts: LtxErrorOptions = {}) {
    super("OUTPUT_INVALID", message, opts);
  }
}

export class AbortedError extends LtxError {
  constructor(message = "aborted", opts: LtxErrorOptions = {}) {
    super("ABORTED", message, { ...opts, retryable: false });
  }
}

export class ConfigError extends LtxError {
  constructor(message: string) {
    super("CONFIG_INVALID", message, { retryable: false });
  }
}

export function isLtxError(e: unknown): e is LtxError {
  return e instanceof LtxError;
}

/** Throws AbortedError when the signal has fired: call between steps of long work. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError(reasonText(signal.reason));
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return typeof reason === "string" ? reason : "aborted";
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/** The FileStore failed (disk full, read-only, S3 down). Retryable: the attempt backs off and tries again. */
export class FileStoreError extends LtxError {
  constructor(message: string, opts: Omit<LtxErrorOptions, "retryable"> = {}) {
    super("FILE_STORE_FAILED", message, { ...opts, retryable: true });
  }
}
