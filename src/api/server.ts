/*
 * The API's listening server: plain HTTP, or HTTPS when TLS_CERT_PATH/TLS_KEY_PATH are set
 * (scripts/dev-cert.sh makes a self-signed pair for development). buildApp never listens; the
 * API root (and `ltx start`) call this with the app.
 */
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import type { RequestListener } from "node:http";
import { coerceError } from "../lib/coerceError";
import { ConfigError } from "../lib/errors";

export interface TlsFiles {
  certPath: string;
  keyPath: string;
}

export function createHttpServer(app: RequestListener, tls?: TlsFiles): http.Server {
  if (!tls) return http.createServer(app);
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = fs.readFileSync(tls.certPath);
    key = fs.readFileSync(tls.keyPath);
  } catch (e) {
    throw new ConfigError(`invalid configuration: can't read TLS_CERT_PATH/TLS_KEY_PATH: ${coerceError(e).message}`);
  }
  try {
    // TLS 1.2 is the floor; node's defaults pick modern ciphers.
    return https.createServer({ cert, key, minVersion: "TLSv1.2" }, app);
  } catch (e) {
    throw new ConfigError(
      `invalid configuration: TLS_CERT_PATH/TLS_KEY_PATH don't form a certificate and key: ${coerceError(e).message}`,
    );
  }
}
