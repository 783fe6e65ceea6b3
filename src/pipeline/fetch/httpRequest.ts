/*
 * One HTTP(S) request, no redirects or retries (fetch.ts adds those). Built on node:http/https
 * rather than global fetch because we need what fetch hides: a `lookup` hook so the SSRF policy
 * sees every address at connect time (no DNS-rebinding gap between "check" and "connect"), a
 * connect timeout distinct from the total one, and the socket itself, to hang up once the byte
 * cap is reached instead of downloading the rest.
 */
import { createHash } from "node:crypto";
import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import type { Readable } from "node:stream";
import zlib from "node:zlib";
import { coerceError } from "../../lib/coerceError";
import { AbortedError, BlockedAddressError, FetchError, isLtxError } from "../../lib/errors";
import type { ByteBudget } from "./byteBudget";
import type { AddressPolicy, FetchSettings } from "../types";

export interface FetchAgents {
  http: http.Agent;
  https: https.Agent;
}

export interface RequestOptions {
  signal?: AbortSignal;
  headers: Record<string, string>;
  maxBytes: number;
  /** Decide from the Content-Type (and this hop's URL) whether the body is worth reading (default: always). */
  wantBody?: (contentType: string, url: string) => boolean;
  agents?: FetchAgents;
  /**
   * Takes the decoded body chunk by chunk instead of buffering it (the buffer stays empty):
   * sitemaps are scanned as they arrive. Returning false stops the download (truncated: true).
   */
  onChunk?: (chunk: Buffer) => boolean;
  /** The job's byte budget: charged as the body is read; when spent, requests end (see byteBudget.ts). */
  budget?: ByteBudget;
}

/** A redirect or 304 body this small is drained (the socket stays reusable); a larger one is not read. */
const DRAIN_MAX_BYTES = 4096;

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The decoded (gunzipped…) body bytes read, at most maxBytes (empty with onChunk). */
  buffer: Buffer;
  /** Decoded body bytes read (buffer.length, unless onChunk took them). */
  bytes: number;
  truncated: boolean;
  hash: string;
}

/** Marks errors worth a retry (resets, refusals, timeouts): fetch.ts reads it. */
export function isTransient(e: unknown): boolean {
  return isLtxError(e) && e.details?.transient === true;
}

function hostPort(u: URL): string {
  return `${u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`;
}

function blocked(e: unknown, u: URL): BlockedAddressError {
  const err = coerceError(e);
  if (err instanceof BlockedAddressError) return err;
  return new BlockedAddressError(`refused to fetch ${u.hostname}: ${err.message}`, { cause: err });
}

/**
 * A dns.lookup that hands every resolved address to the policy before net connects to any of
 * them. Node calls it with `all: true` when it may try several addresses (autoSelectFamily).
 */
function guardedLookup(policy: AddressPolicy, onBlocked: (e: BlockedAddressError) => void): net.LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "");
      try {
        if (addresses.length === 0) throw new Error("no addresses");
        for (const a of addresses) policy(a.address, hostname);
      } catch (e) {
        const b = blocked(e, new URL(`http://${hostname}`));
        onBlocked(b);
        return callback(b, "");
      }
      const first = addresses[0];
      if (options.all || !first) return callback(null, addresses);
      return callback(null, first.address, first.family);
    });
  };
}

function netError(e: unknown, u: URL, phase: "connect" | "read"): FetchError {
  const err = coerceError(e);
  // Read `code` off the original value: under jest, node's own errors come from another realm and
  // fail `instanceof Error`, so coerceError wraps them and the wrapper has no code.
  const raw = (typeof e === "object" && e !== null ? e : {}) as {
    code?: unknown;
    errors?: { code?: unknown }[];
    message?: unknown;
  };
  const rawCode = raw.code ?? raw.errors?.[0]?.code;
  const code = typeof rawCode === "string" || typeof rawCode === "number" ? String(rawCode) : "";
  const detail = code || (typeof raw.message === "string" ? raw.message : err.message);
  if (code === "ENOTFOUND" || code === "EAI_NONAME") {
    return new FetchError(u.toString(), `could not resolve host ${u.hostname} (${code})`, {
      cause: err,
      details: { transient: false, code },
    });
  }
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(code)) {
    return new FetchError(
      u.toString(),
      `TLS error from ${hostPort(u)}: ${code} (set ACCEPT_INVALID_CERTS=1 to allow)`,
      { cause: err, retryable: false, details: { transient: false, code } },
    );
  }
  const what =
    phase === "connect" ? `could not connect to ${hostPort(u)}` : `connection to ${hostPort(u)} failed while reading`;
  return new FetchError(u.toString(), `${what}: ${detail}`, { cause: err, details: { transient: true, code } });
}

function decoderFor(encoding: string): zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | undefined {
  // Sync flush at the end tolerates streams we cut at the byte cap or that end early.
  const flush = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
  switch (encoding.trim().toLowerCase()) {
    case "gzip":
    case "x-gzip":
      return zlib.createGunzip(flush);
    case "deflate":
      return zlib.createInflate(flush);
    case "br":
      return zlib.createBrotliDecompress({ finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH });
    default:
      return undefined;
  }
}

/** Sends one GET and reads at most maxBytes of its decoded body. Does not follow redirects. */
export function requestOnce(url: string, settings: FetchSettings, opts: RequestOptions): Promise<RawResponse> {
  const u = new URL(url);
  const policy = settings.addressPolicy;
  const bareHost = u.hostname.replace(/^\[|\]$/g, "");
  // Node skips `lookup` for IP literals, so those meet the policy here, before any socket exists.
  if (policy && net.isIP(bareHost) !== 0) {
    try {
      policy(bareHost, bareHost);
    } catch (e) {
      return Promise.reject(blocked(e, u));
    }
  }
  const budget = opts.budget;
  if (budget?.exhausted) return Promise.reject(budget.error(url));
  return new Promise<RawResponse>((resolve, reject) => {
    let settled = false;
    let blockedErr: BlockedAddressError | undefined;
    let connectTimer: NodeJS.Timeout | undefined;
    const isHttps = u.protocol === "https:";
    const agent = opts.agents ? (isHttps ? opts.agents.https : opts.agents.http) : false;
    const req = (isHttps ? https : http).request(u, {
      method: "GET",
      headers: opts.headers,
      agent,
      lookup: policy ? guardedLookup(policy, (b) => (blockedErr = b)) : undefined,
      rejectUnauthorized: !settings.acceptInvalidCerts,
    });
    const finish = (err: Error | undefined, value?: RawResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(totalTimer);
      clearTimeout(connectTimer);
      opts.signal?.removeEventListener("abort", onAbort);
      budget?.signal.removeEventListener("abort", onBudgetSpent);
      if (err) {
        req.destroy();
        reject(err);
      } else if (value) resolve(value);
    };
    const totalTimer = setTimeout(
      () =>
        finish(
          new FetchError(url, `timed out after ${settings.timeoutMs} ms fetching ${url}`, {
            details: { transient: true, code: "ETIMEDOUT" },
          }),
        ),
      settings.timeoutMs,
    );
    const onAbort = (): void => finish(new AbortedError());
    if (opts.signal?.aborted) return finish(new AbortedError());
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    // Another response spent the job's budget: this one stops too (the one that crossed has settled).
    const onBudgetSpent = (): void => finish(budget?.error(url));
    budget?.signal.addEventListener("abort", onBudgetSpent, { once: true });

    req.on("socket", (socket) => {
      if (!socket.connecting) return; // a kept-alive socket from the agent
      connectTimer = setTimeout(
        () =>
          finish(
            new FetchError(url, `timed out after ${settings.connectTimeoutMs} ms connecting to ${hostPort(u)}`, {
              details: { transient: true, code: "ETIMEDOUT" },
            }),
          ),
        settings.connectTimeoutMs,
      );
      socket.once("connect", () => clearTimeout(connectTimer));
    });
    req.on("error", (e) => finish(blockedErr ?? (isLtxError(e) ? e : netError(e, u, "connect"))));
    req.on("response", (res) => {
      const status = res.statusCode ?? 0;
      const contentType = String(res.headers["content-type"] ?? "");
      const empty = (): RawResponse => ({
        status,
        headers: res.headers,
        buffer: Buffer.alloc(0),
        bytes: 0,
        truncated: false,
        hash: createHash("sha256").digest("hex"),
      });
      if ((status >= 300 && status < 400) || status === 304) {
        // A redirect's body is never the document: drain a small one so a keep-alive socket can
        // be reused, and hang up on anything else (a 302 with an endless body was read for 30 s).
        const length = Number(res.headers["content-length"] ?? NaN);
        if (length >= 0 && length <= DRAIN_MAX_BYTES) {
          budget?.take(Math.min(length, budget.remaining));
          res.resume();
          res.once("end", () => finish(undefined, empty()));
          res.once("error", (e) => finish(netError(e, u, "read")));
        } else {
          finish(undefined, empty());
          res.destroy();
        }
        return;
      }
      if (opts.wantBody && !opts.wantBody(contentType, url)) {
        // Not a page we keep (a PDF, an image): hang up rather than download it.
        finish(undefined, { ...empty(), truncated: res.headers["content-length"] !== "0" });
        res.destroy();
        return;
      }
      // Only a 2xx body is the document; an error page is buffered as usual.
      const onChunk = status >= 200 && status < 300 ? opts.onChunk : undefined;
      readBody(res, { maxBytes: opts.maxBytes, url, onChunk, budget }, (err, body) => {
        if (err) return finish(err instanceof FetchError ? err : netError(err, u, "read"));
        if (!body) return;
        finish(undefined, { status, headers: res.headers, ...body });
        if (body.truncated) res.destroy(); // stop the download: the socket is closed, not drained
      });
    });
    req.end();
  });
}

type Body = Pick<RawResponse, "buffer" | "bytes" | "truncated" | "hash">;

function readBody(
  res: http.IncomingMessage,
  opts: { maxBytes: number; url: string; onChunk?: (chunk: Buffer) => boolean; budget?: ByteBudget },
  done: (err: Error | undefined, body?: Body) => void,
): void {
  const { maxBytes, url, onChunk, budget } = opts;
  const decoder = decoderFor(String(res.headers["content-encoding"] ?? ""));
  const stream: Readable = decoder ? res.pipe(decoder) : res;
  const chunks: Buffer[] = [];
  let total = 0;
  let ended = false;
  const end = (truncated: boolean): void => {
    if (ended) return;
    ended = true;
    const buffer = Buffer.concat(chunks, onChunk ? 0 : total);
    done(undefined, { buffer, bytes: total, truncated, hash: createHash("sha256").update(buffer).digest("hex") });
    if (truncated) {
      decoder?.destroy();
      res.destroy();
    }
  };
  // A response costs the larger of its wire bytes and its decoded bytes; `charged` is what the
  // budget has been told so far.
  let wire = 0;
  let charged = 0;
  const charge = (): void => {
    const cost = Math.max(wire, total);
    if (budget && cost > charged) budget.take(cost - charged);
    charged = cost;
  };
  if (decoder && budget) {
    res.on("data", (chunk: Buffer) => {
      if (ended) return;
      wire += chunk.length;
      if (wire - Math.max(charged, total) >= budget.remaining) {
        end(true); // settle first: the budget's abort then stops the other responses, not this one
        charge();
      } else charge();
    });
  }
  stream.on("data", (chunk: Buffer) => {
    if (ended) return;
    // The budget can cut a chunk too: the response that spends it keeps what fits and ends
    // (settled before charge() aborts the budget's signal, which stops the other responses).
    const budgetRoom = budget ? Math.max(0, charged - total) + budget.remaining : Infinity;
    const room = Math.min(maxBytes - total, budgetRoom);
    const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
    total += piece.length;
    if (onChunk) {
      if (!onChunk(piece)) {
        end(true);
        return charge();
      }
    } else chunks.push(piece);
    if (chunk.length > room || chunk.length >= budgetRoom) end(true);
    charge();
  });
  stream.once("end", () => end(false));
  const fail = (e: Error): void => {
    if (ended) return;
    ended = true;
    const zlibError = decoder !== undefined && (e as NodeJS.ErrnoException).code?.startsWith("Z_") === true;
    done(
      zlibError
        ? new FetchError(
            url,
            `could not decode the ${String(res.headers["content-encoding"])} body of ${url}: ${e.message}`,
          )
        : e,
    );
  };
  stream.once("error", fail);
  if (decoder) res.once("error", fail);
  // A socket closed before the body ended (the server died mid-response).
  res.once("close", () => {
    if (!res.complete) fail(Object.assign(new Error("response ended early"), { code: "ECONNRESET" }));
  });
}
