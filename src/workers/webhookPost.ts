/*
 * One POST of a JSON body to a webhook receiver. node:http rather than fetch for the same reason as
 * the crawler's requests (pipeline/fetch/httpRequest.ts): a `lookup` hook hands every resolved
 * address to the SSRF policy at connect time, so a receiver's name can't be re-pointed at an
 * internal address between a check and the connection. No redirects are followed.
 */
import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { coerceError } from "../lib/coerceError";
import { BlockedAddressError, FetchError } from "../lib/errors";
import type { AddressPolicy } from "../pipeline/types";
import { checkUrlScheme } from "../security/addressPolicy";

export interface PostOptions {
  headers: Record<string, string>;
  timeoutMs: number;
  policy?: AddressPolicy;
}

/** The receiver's answer is read up to this many bytes and then dropped: only its status matters. */
const MAX_ANSWER_BYTES = 64 * 1024;

export function postJson(target: string, body: string, opts: PostOptions): Promise<number> {
  const url = new URL(target);
  checkUrlScheme(url);
  const policy = opts.policy;
  const bareHost = url.hostname.replace(/^\[|\]$/g, "");
  // Node skips `lookup` for IP literals, so those meet the policy here, before any socket exists.
  if (policy && net.isIP(bareHost) !== 0) {
    try {
      policy(bareHost, bareHost);
    } catch (e) {
      return Promise.reject(coerceError(e));
    }
  }
  let refused: BlockedAddressError | undefined;
  const lookup: net.LookupFunction | undefined = policy
    ? (hostname, options, callback) => {
        dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
          if (err) return callback(err, "");
          try {
            if (addresses.length === 0) throw new Error("no addresses");
            for (const a of addresses) policy(a.address, hostname);
          } catch (e) {
            const c = coerceError(e);
            refused =
              c instanceof BlockedAddressError
                ? c
                : new BlockedAddressError(`refused to post to ${hostname}: ${c.message}`, { cause: c });
            return callback(refused, "");
          }
          const first = addresses[0];
          if (options.all || !first) return callback(null, addresses);
          return callback(null, first.address, first.family);
        });
      }
    : undefined;
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...opts.headers },
        timeout: opts.timeoutMs,
        ...(lookup ? { lookup } : {}),
      },
      (res) => {
        let read = 0;
        res.on("data", (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) res.destroy();
        });
        res.on("close", () => resolve(res.statusCode ?? 0));
        res.on("error", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on("error", (e) => {
      if (refused) return reject(refused);
      reject(new FetchError(target, `webhook POST failed: ${coerceError(e).message}`, { cause: e }));
    });
    req.end(body);
  });
}
