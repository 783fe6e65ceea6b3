import { types } from "node:util";

/** JavaScript can throw anything: turn it into an Error before logging, wrapping or reading it. */
export function coerceError(e: unknown): Error {
  // isNativeError also recognises errors from another realm (a vm context, jest's sandbox),
  // where `instanceof Error` is false.
  if (e instanceof Error || types.isNativeError(e)) return e;
  if (typeof e === "string") return new Error(e);
  try {
    return new Error(`non-error thrown: ${JSON.stringify(e)}`);
  } catch {
    return new Error(`non-error thrown: ${String(e)}`);
  }
}
