/**
 * HTTP mechanics of serving a stored file: content negotiation (the stored gzip bytes as-is, or
 * decompressed on the fly), conditional requests and byte ranges. Ranges are counted on the
 * decompressed representation (what `curl -C -` resumes), so a 206 is always sent without
 * Content-Encoding.
 */
import type { Request } from "express";
import type { FileValidators } from "../store/results";

/** RFC 9110 §13.2.2: If-None-Match wins; If-Modified-Since only counts without it. */
export function notModified(req: Request, file: FileValidators): boolean {
  const inm = req.get("if-none-match");
  if (inm !== undefined) {
    if (inm.trim() === "*") return true;
    // Weak comparison: W/"x" and "x" match (a proxy may weaken our strong tag).
    const strip = (t: string): string => t.trim().replace(/^W\//, "");
    return inm.split(",").some((t) => strip(t) === strip(file.etag));
  }
  const ims = req.get("if-modified-since");
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  const modified = Date.parse(file.lastModified);
  return Number.isFinite(since) && Number.isFinite(modified) && Math.floor(modified / 1000) <= Math.floor(since / 1000);
}

/** Whether the client takes gzip (Accept-Encoding: gzip or *, with q > 0). */
export function acceptsGzip(req: Request): boolean {
  const header = req.get("accept-encoding");
  if (!header) return false;
  let star: boolean | undefined;
  for (const part of header.split(",")) {
    const [coding = "", ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const ok = q === undefined || Number(q.slice(2)) > 0;
    if (coding.trim() === "gzip" || coding.trim() === "x-gzip") return ok;
    if (coding.trim() === "*") star = ok;
  }
  return star === true;
}

export type RangeAnswer = { kind: "none" } | { kind: "unsatisfiable" } | { kind: "range"; start: number; end: number };

/**
 * One byte range of a `size`-byte body (RFC 9110 §14). Several ranges, a malformed header or an
 * If-Range that does not match the ETag → the whole body (a 200), as the RFC allows.
 */
export function requestedRange(req: Request, size: number, etag: string): RangeAnswer {
  const header = req.get("range");
  if (header === undefined) return { kind: "none" };
  const ifRange = req.get("if-range");
  if (ifRange !== undefined && ifRange.trim() !== etag) return { kind: "none" };
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return { kind: "none" };
  let start: number;
  let end: number;
  if (m[1] === "") {
    // "bytes=-N": the last N bytes.
    const n = Number(m[2]);
    if (n === 0) return { kind: "unsatisfiable" };
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== "" && Number(m[2]) < start) return { kind: "none" };
  }
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "range", start, end };
}

/** Bytes start..end (inclusive) of a stream; stops reading (and decompressing) once past end. */
export async function* byteSlice(source: AsyncIterable<Buffer>, start: number, end: number): AsyncGenerator<Buffer> {
  let pos = 0;
  for await (const chunk of source) {
    const from = Math.max(0, start - pos);
    const to = Math.min(chunk.length, end + 1 - pos);
    pos += chunk.length;
    if (to > from) yield chunk.subarray(from, to);
    if (pos > end) return;
  }
}
