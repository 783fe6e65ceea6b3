/*
 * The SSRF guard. ltx fetches any URL a client names, so a service instance must not be usable to
 * reach what sits next to it: loopback, private networks, cloud metadata endpoints and the like.
 *
 * The check runs on *addresses*, at connect time (pipeline/fetch/fetch.ts calls the policy with every
 * address a hostname resolved to, and again on every redirect), so a DNS answer that changes
 * between a pre-check and the connection (DNS rebinding) is still caught. classifyAddress is pure
 * and connects nowhere; the unit test runs the whole table through it.
 */
import type { AddressPolicy } from "../pipeline/types";
import { BlockedAddressError, ConfigError } from "../lib/errors";
import { type Cidr, formatIPv4, inCidr, parseCidr, parseIPv4, parseIPv6, stripAddress } from "./ipAddress";

export type AddressCategory =
  | "public"
  | "unspecified"
  | "loopback"
  | "private"
  | "link-local"
  | "metadata"
  | "cgnat"
  | "multicast"
  | "broadcast"
  | "reserved"
  | "documentation"
  | "benchmarking"
  | "unique-local"
  | "site-local"
  | "invalid";

export interface AddressClass {
  /** Canonical text of the address that was classified (the embedded IPv4 for mapped forms). */
  address: string;
  category: AddressCategory;
  /** The range that matched, e.g. "10.0.0.0/8"; absent for public addresses. */
  range?: string;
  /** For IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4, Teredo): which form. */
  via?: string;
}

type Row = readonly [cidr: string, category: Exclude<AddressCategory, "public" | "invalid">];

// IANA IPv4 Special-Purpose Address Registry (RFC 6890 and successors). First match wins, so the
// narrow rows (metadata, broadcast) come before the ranges that contain them.
const V4_ROWS: readonly Row[] = [
  ["169.254.169.254/32", "metadata"], // AWS, GCP, Azure, OpenStack instance metadata
  ["100.100.100.200/32", "metadata"], // Alibaba Cloud metadata (inside CGNAT space anyway)
  ["255.255.255.255/32", "broadcast"],
  ["0.0.0.0/8", "unspecified"], // "this network": 0.0.0.0 reaches the local host on Linux
  ["10.0.0.0/8", "private"],
  ["100.64.0.0/10", "cgnat"],
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local"],
  ["172.16.0.0/12", "private"],
  ["192.0.0.0/24", "reserved"], // IETF protocol assignments
  ["192.0.2.0/24", "documentation"],
  ["192.88.99.0/24", "reserved"], // former 6to4 relay anycast
  ["192.168.0.0/16", "private"],
  ["198.18.0.0/15", "benchmarking"],
  ["198.51.100.0/24", "documentation"],
  ["203.0.113.0/24", "documentation"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved"],
];

const V6_ROWS: readonly Row[] = [
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["fd00:ec2::254/128", "metadata"], // AWS instance metadata over IPv6
  ["100::/64", "reserved"], // discard-only
  ["2001:db8::/32", "documentation"],
  ["2001:2::/48", "benchmarking"],
  ["2001:10::/28", "reserved"], // ORCHID
  ["fc00::/7", "unique-local"],
  ["fe80::/10", "link-local"],
  ["fec0::/10", "site-local"], // deprecated, still routed privately by some networks
  ["ff00::/8", "multicast"],
];

// IPv6 forms that carry an IPv4 address: the connection really goes to (or is translated to) that
// IPv4 host, so it is the IPv4 address that must pass. `at` is the byte offset of the IPv4 part.
const EMBEDDING_ROWS: readonly { cidr: string; via: string; at: number; xor?: boolean }[] = [
  { cidr: "::ffff:0:0/96", via: "ipv4-mapped", at: 12 },
  { cidr: "::ffff:0:0:0/96", via: "ipv4-translated", at: 12 }, // SIIT, RFC 6145
  { cidr: "64:ff9b::/96", via: "nat64", at: 12 },
  { cidr: "64:ff9b:1::/48", via: "nat64-local", at: 12 },
  { cidr: "2002::/16", via: "6to4", at: 2 },
  { cidr: "2001::/32", via: "teredo", at: 12, xor: true }, // the client address, bit-inverted
];

const compile = (rows: readonly Row[]) => rows.map(([text, category]) => ({ text, category, cidr: parseCidr(text) }));
const V4 = compile(V4_ROWS);
const V6 = compile(V6_ROWS);
const EMBEDDINGS = EMBEDDING_ROWS.map((r) => ({ ...r, net: parseCidr(r.cidr) }));
const IPV4_COMPATIBLE = parseCidr("::/96"); // deprecated (RFC 4291); nothing legitimate uses it
const GLOBAL_UNICAST = parseCidr("2000::/3"); // everything outside it is unassigned or special

/**
 * Classifies an IP address literal. Accepts IPv4 (also the legacy inet_aton spellings that
 * getaddrinfo still resolves: "2130706433", "0x7f.1", "0177.0.0.1", "127.1"), IPv6 with or without
 * brackets and zone id. Anything that is not an address is "invalid" (and so refused).
 */
export function classifyAddress(addr: string): AddressClass {
  const s = stripAddress(addr);
  const v4 = parseIPv4(s) ?? parseLegacyIPv4(s);
  if (v4) return classifyV4(v4);
  const v6 = parseIPv6(s);
  if (!v6) return { address: addr, category: "invalid" };
  for (const row of V6) if (inCidr(v6, row.cidr)) return { address: s, category: row.category, range: row.text };
  for (const e of EMBEDDINGS) {
    if (!inCidr(v6, e.net)) continue;
    const inner = v6.slice(e.at, e.at + 4).map((b) => (e.xor ? b ^ 0xff : b));
    return { ...classifyV4(inner), via: e.via };
  }
  if (inCidr(v6, IPV4_COMPATIBLE)) return { address: s, category: "reserved", range: "::/96", via: "ipv4-compatible" };
  if (!inCidr(v6, GLOBAL_UNICAST)) return { address: s, category: "reserved", range: "not in 2000::/3" };
  return { address: s, category: "public" };
}

function classifyV4(bytes: number[]): AddressClass {
  const address = formatIPv4(bytes);
  for (const row of V4) if (inCidr(bytes, row.cidr)) return { address, category: row.category, range: row.text };
  return { address, category: "public" };
}

/**
 * inet_aton's forms: 1 to 4 parts, each decimal, octal (leading 0) or hex (0x); the last part fills
 * the remaining bytes. WHATWG URL parsing already turns these into dotted quads, but getaddrinfo
 * accepts them too, so a hostname that skipped URL parsing must not slip through.
 */
export function parseLegacyIPv4(s: string): number[] | undefined {
  const parts = s.split(".");
  if (parts.length > 4 || parts.some((p) => p === "")) return undefined;
  const nums: number[] = [];
  for (const p of parts) {
    let n: number;
    if (/^0x[0-9a-f]*$/i.test(p)) n = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) n = parseInt(p, 8);
    else if (/^[1-9][0-9]*$/.test(p)) n = Number(p);
    else return undefined;
    nums.push(n);
  }
  const last = nums.pop() ?? 0;
  if (nums.some((n) => n > 255) || last >= 256 ** (4 - nums.length)) return undefined;
  const bytes = [...nums];
  for (let i = 3 - nums.length; i >= 0; i--) bytes.push(Math.floor(last / 256 ** i) % 256);
  return bytes;
}

export interface AddressPolicyOptions {
  /** ALLOW_PRIVATE_NETWORKS=1: lift the guard entirely (local use, tests). */
  allowPrivate: boolean;
  /**
   * CRAWL_ALLOW_HOSTS: hostnames ("wiki.internal"), wildcards ("*.corp.example"), IP addresses or
   * networks ("10.1.0.0/16") that may be fetched even though they are private.
   */
  allowHosts: readonly string[];
}

/**
 * The policy the service hands to pipeline/fetch/fetch.ts. It throws BlockedAddressError (never retried)
 * for anything but public unicast addresses, unless the host or address is allow-listed.
 */
export function createAddressPolicy(opts: AddressPolicyOptions): AddressPolicy {
  if (opts.allowPrivate) return () => undefined;
  const allow = compileAllowList(opts.allowHosts);
  return (address: string, hostname: string): void => {
    const c = classifyAddress(address);
    if (c.category === "public") return;
    if (allow(address, hostname)) return;
    const host = stripAddress(hostname);
    const what = host === stripAddress(address) ? c.address : `${host} (${c.address})`;
    const range = c.range ? ` in ${c.range}` : "";
    const via = c.via ? ` via ${c.via} IPv6` : "";
    throw new BlockedAddressError(
      `refusing to fetch ${what}: ${c.category} address${range}${via}; set CRAWL_ALLOW_HOSTS or ALLOW_PRIVATE_NETWORKS=1 to allow it`,
      {
        details: { hostname: host, address: c.address, category: c.category },
      },
    );
  };
}

function compileAllowList(entries: readonly string[]): (address: string, hostname: string) => boolean {
  const names = new Set<string>();
  const suffixes: string[] = [];
  const nets: Cidr[] = [];
  for (const raw of entries) {
    const e = raw.trim().toLowerCase().replace(/\.$/, "");
    if (e === "") continue;
    if (e.startsWith("*.")) {
      suffixes.push(e.slice(1));
      continue;
    }
    const stripped = stripAddress(e.split("/")[0] ?? "");
    if (parseIPv4(stripped) || parseIPv6(stripped)) {
      try {
        nets.push(parseCidr(e));
      } catch {
        throw new ConfigError(`CRAWL_ALLOW_HOSTS: bad network ${JSON.stringify(raw)}`);
      }
      continue;
    }
    if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(e))
      throw new ConfigError(`CRAWL_ALLOW_HOSTS: not a hostname, *.wildcard, IP or CIDR: ${JSON.stringify(raw)}`);
    names.add(e);
  }
  return (address, hostname) => {
    const host = stripAddress(hostname).replace(/\.$/, "");
    if (names.has(host) || suffixes.some((s) => host.endsWith(s))) return true;
    const s = stripAddress(address);
    const bytes = parseIPv4(s) ?? parseLegacyIPv4(s) ?? parseIPv6(s);
    return bytes !== undefined && nets.some((n) => inCidr(bytes, n));
  };
}

/** Only http(s) is fetched; file:, gopher:, ftp:, data: and the rest are refused. */
export function checkUrlScheme(url: URL): void {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new BlockedAddressError(`refusing to fetch ${url.protocol} URLs: only http and https are allowed`, {
      details: { scheme: url.protocol },
    });
  }
}
