/**
 * The only mapping from an error to an HTTP answer. Every route throws (Express 5 forwards rejected
 * promises here); nothing else writes an error status. The answer is always
 * `{ error: { code, message } }`, so clients branch on `code`, never on the text.
 */
import type { ErrorRequestHandler, RequestHandler } from "express";
import { ZodError } from "zod";
import { coerceError } from "../../lib/coerceError";
import { type ErrorCode, isLtxError } from "../../lib/errors";
import type { Logger } from "../../lib/logger";

// A Record over every code: adding a code to lib/errors.ts without a status here won't compile.
export const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_INPUT: 400,
  INVALID_URL: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  QUOTA_EXCEEDED: 403,
  PAYLOAD_TOO_LARGE: 413,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  TOO_MANY_REQUESTS: 429,
  TOO_MANY_QUEUED: 429,
  BLOCKED_ADDRESS: 400,
  ROBOTS_DISALLOWED: 422,
  FETCH_FAILED: 502,
  START_PAGE_FAILED: 422,
  NO_CONTENT: 422,
  RATE_LIMITED: 503,
  LLM_FAILED: 502,
  OUTPUT_INVALID: 502,
  ABORTED: 409,
  TIMEOUT: 504,
  CONFIG_INVALID: 500,
  REDIS_MISCONFIGURED: 503,
  UNAVAILABLE: 503,
  FILE_STORE_FAILED: 503,
  INTERNAL: 500,
};

export interface HttpErrorBody {
  error: { code: ErrorCode; message: string };
}

export interface HttpError {
  status: number;
  body: HttpErrorBody;
  /** Not a client mistake: log it with its stack. */
  unexpected: boolean;
}

/** Classifies any thrown value. Exported for the SSE route, which may fail after headers are sent. */
export function toHttpError(e: unknown): HttpError {
  if (isLtxError(e)) return answer(HTTP_STATUS[e.code], e.code, e.message, HTTP_STATUS[e.code] >= 500);
  if (e instanceof ZodError) return answer(400, "INVALID_INPUT", describeZodError(e), false);
  const parserError = fromBodyParser(e);
  if (parserError) return parserError;
  return answer(500, "INTERNAL", "internal error", true);
}

/** "url: must be http(s); maxPages: too big" — one line a person can act on. */
export function describeZodError(e: ZodError): string {
  return e.issues
    .slice(0, 10)
    .map((i) => (i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message))
    .join("; ");
}

/**
 * body-parser (behind express.json) throws http-errors with a `type`: too large, malformed JSON,
 * bad charset. They are the client's fault, so they never become a 500.
 */
function fromBodyParser(e: unknown): HttpError | undefined {
  if (typeof e !== "object" || e === null || !("type" in e) || typeof e.type !== "string") return undefined;
  switch (e.type) {
    case "entity.too.large":
      return answer(413, "PAYLOAD_TOO_LARGE", "request body is too large", false);
    case "entity.parse.failed":
      return answer(400, "INVALID_INPUT", "request body is not valid JSON", false);
    case "encoding.unsupported":
    case "charset.unsupported":
    case "request.size.invalid":
    case "request.aborted":
    case "stream.encoding.set":
    case "parameters.too.many":
      return answer(400, "INVALID_INPUT", `unreadable request body (${e.type})`, false);
    default:
      return undefined;
  }
}

function answer(status: number, code: ErrorCode, message: string, unexpected: boolean): HttpError {
  return { status, body: { error: { code, message } }, unexpected };
}

export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (e: unknown, req, res, next) => {
    const err = coerceError(e);
    const http = toHttpError(e);
    if (http.unexpected) logger.error({ err, method: req.method, path: req.path }, "request failed");
    else logger.debug({ code: http.body.error.code, method: req.method, path: req.path }, "request rejected");
    // Headers already out (a stream broke midway): all Express can do is drop the connection.
    if (res.headersSent) return next(err);
    res.status(http.status).json(http.body);
  };
}

/** Last in the chain: any path no router claimed. */
export const notFoundHandler: RequestHandler = (req, res) => {
  const body: HttpErrorBody = { error: { code: "NOT_FOUND", message: `no route for ${req.method} ${req.path}` } };
  res.status(404).json(body);
};
