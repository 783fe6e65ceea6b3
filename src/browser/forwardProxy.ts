/*
 * The forward proxy every browser request goes through. Chromium is launched (and each context
 * opened) with --proxy-server pointing here and `<-loopback>` in the bypass list, so not even a
 * loopback URL skips it. For each request the proxy:
 *   - allows http and https only (plain requests in absolute form, CONNECT tunnels for TLS and
 *     WebSockets); anything else is answered 400;
 *   - resolves the host itself and hands every address to the crawler's SSRF policy at connect
 *     time (the same guardedLookup as pipeline/fetch), so a DNS answer that changes between two
 *     requests (rebinding) is caught as it is for a fetch; IP literals meet the policy directly;
 *   - asks `allowUrl` (robots.txt) about plain requests;
 *   - counts the bytes it relays back to the browser against a budget, and cuts every connection
 *     once the budget is spent.
 * A refused request is answered 403 and written to `blocked`, which the crawl turns into warnings.
 */
import http from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import { coerceError } from "../lib/coerceError";
import { guardedLookup } from "../pipeline/fetch/httpRequest";
import type { AddressPolicy } from "../pipeline/types";

export interface ForwardProxyOptions {
  /** Unset: any address may be reached (a local `ltx generate`); the scheme rules still hold. */
  addressPolicy?: AddressPolicy;
  /** robots.txt and friends; a plain request whose URL this refuses is answered 403. */
  allowUrl?: (url: string) => boolean;
  /** Refuse everything: the browser-wide default proxy, for traffic outside any session's context. */
  denyAll?: boolean;
  connectTimeoutMs: number;
}

export interface ForwardProxy {
  /** "http://127.0.0.1:<port>" */
  url: string;
  /** Bytes relayed to the browser since the last resetBudget. */
  readonly bytes: number;
  /** Sets the bytes the browser may still receive; past it every connection is cut. */
  resetBudget(maxBytes: number): void;
  /** Refused requests since the last takeBlocked ("GET http://…: reason"), and empties the list. */
  takeBlocked(): string[];
  close(): Promise<void>;
}

// Headers that describe one hop, not the request: never forwarded (RFC 9110 §7.6.1).
const HOP_HEADERS = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "proxy-authenticate",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);
/** Refused requests kept per page at most: a page that probes a whole range must not bloat the warnings. */
const BLOCKED_KEEP = 50;

export async function startForwardProxy(opts: ForwardProxyOptions): Promise<ForwardProxy> {
  let budget = Number.POSITIVE_INFINITY;
  let bytes = 0;
  let blocked: string[] = [];
  const sockets = new Set<Duplex>();
  const track = (s: Duplex): void => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  };
  const refuse = (what: string, reason: string): void => {
    if (blocked.length < BLOCKED_KEEP) blocked.push(`${what}: ${reason}`);
  };
  /** Counts relayed bytes; false (and every socket cut) once the budget is spent. */
  const count = (n: number): boolean => {
    bytes += n;
    if (bytes <= budget) return true;
    for (const s of sockets) s.destroy();
    return false;
  };
  /** The reason a host may not be reached, checked before any socket exists for IP literals. */
  const literalRefusal = (host: string): string | undefined => {
    if (opts.denyAll) return "outside any render session";
    const bare = host.replace(/^\[|\]$/g, "");
    if (!opts.addressPolicy || net.isIP(bare) === 0) return undefined;
    try {
      opts.addressPolicy(bare, bare);
      return undefined;
    } catch (e) {
      return coerceError(e).message;
    }
  };
  /** A lookup that reports what the policy refused through `onBlocked` (one per connection). */
  const lookupFor = (onBlocked: (reason: string) => void): net.LookupFunction | undefined => {
    const policy = opts.addressPolicy;
    return policy ? guardedLookup(policy, (b) => onBlocked(b.message)) : undefined;
  };

  const server = http.createServer((req, res) => {
    track(req.socket);
    const what = `${req.method ?? "GET"} ${req.url ?? ""}`;
    let target: URL;
    try {
      target = new URL(req.url ?? "");
    } catch {
      refuse(what, "not an absolute http(s) URL");
      return void res.writeHead(400).end();
    }
    if (target.protocol !== "http:") {
      // https arrives as CONNECT; anything else (ftp:, file:…) is not ours to fetch.
      refuse(what, `only http and https are allowed, not ${target.protocol}`);
      return void res.writeHead(400).end();
    }
    const refusal =
      literalRefusal(target.hostname) ??
      (opts.allowUrl && !opts.allowUrl(target.toString()) ? "robots.txt disallows it" : undefined);
    if (refusal !== undefined) {
      refuse(what, refusal);
      return void res.writeHead(403, { "content-type": "text/plain" }).end("refused by ltx");
    }
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_HEADERS.has(k) && v !== undefined) headers[k] = v;
    let blockedReason: string | undefined;
    const upstream = http.request({
      host: target.hostname.replace(/^\[|\]$/g, ""),
      port: target.port || 80,
      path: `${target.pathname}${target.search}`,
      method: req.method,
      headers,
      lookup: lookupFor((r) => (blockedReason = r)),
      timeout: opts.connectTimeoutMs,
    });
    upstream.on("response", (up) => {
      const out: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(up.headers)) if (!HOP_HEADERS.has(k) && v !== undefined) out[k] = v;
      res.writeHead(up.statusCode ?? 502, out);
      up.on("data", (chunk: Buffer) => {
        if (count(chunk.length)) res.write(chunk);
      });
      up.once("end", () => res.end());
      up.once("error", () => res.destroy());
    });
    upstream.on("timeout", () => upstream.destroy(new Error("connect timeout")));
    upstream.on("error", () => {
      if (blockedReason !== undefined) refuse(what, blockedReason);
      if (!res.headersSent) res.writeHead(blockedReason !== undefined ? 403 : 502).end();
      else res.destroy();
    });
    req.pipe(upstream);
  });

  // CONNECT host:port — TLS to https origins and WebSocket tunnels. The policy sees the address
  // the tunnel really connects to; robots.txt can't be asked (the path is inside the TLS stream).
  server.on("connect", (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    track(client);
    const what = `CONNECT ${req.url ?? ""}`;
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(req.url ?? "");
    const host = m?.[1];
    const port = Number(m?.[2]);
    if (!host || !(port > 0 && port < 65536)) {
      refuse(what, "not host:port");
      return void client.end("HTTP/1.1 400 Bad Request\r\n\r\n");
    }
    const refusal = literalRefusal(host);
    if (refusal !== undefined) {
      refuse(what, refusal);
      return void client.end("HTTP/1.1 403 Forbidden\r\n\r\n");
    }
    let blockedReason: string | undefined;
    const upstream = net.connect({
      host: host.replace(/^\[|\]$/g, ""),
      port,
      lookup: lookupFor((r) => (blockedReason = r)),
      timeout: opts.connectTimeoutMs,
    });
    track(upstream);
    upstream.once("connect", () => {
      upstream.setTimeout(0);
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.on("data", (chunk: Buffer) => {
        if (count(chunk.length)) client.write(chunk);
      });
      client.pipe(upstream);
    });
    upstream.once("timeout", () => upstream.destroy(new Error("connect timeout")));
    upstream.once("error", () => {
      if (blockedReason !== undefined) refuse(what, blockedReason);
      client.end(blockedReason !== undefined ? "HTTP/1.1 403 Forbidden\r\n\r\n" : "HTTP/1.1 502 Bad Gateway\r\n\r\n");
    });
    upstream.once("close", () => client.destroy());
    client.once("error", () => upstream.destroy());
    client.once("close", () => upstream.destroy());
  });
  // A WebSocket asked of the proxy directly (not tunnelled) is refused: only CONNECT carries them.
  server.on("upgrade", (req: http.IncomingMessage, client: Duplex) => {
    refuse(`UPGRADE ${req.url ?? ""}`, "WebSockets only through CONNECT");
    client.end("HTTP/1.1 403 Forbidden\r\n\r\n");
  });
  server.on("clientError", (_e, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    get bytes() {
      return bytes;
    },
    resetBudget(maxBytes) {
      bytes = 0;
      budget = maxBytes;
    },
    takeBlocked() {
      const out = blocked;
      blocked = [];
      return out;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
