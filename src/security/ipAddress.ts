/*
 * Byte-level parsing of IP address literals, for the SSRF guard. We compare bytes against prefix
 * tables instead of trusting string shapes, because one address has many spellings
 * ("::ffff:7f00:1" is "::ffff:127.0.0.1"; "0:0:0:0:0:0:0:1" is "::1").
 */
import net from "node:net";

/** Strips "[…]" (URL hostnames) and a "%zone" suffix (link-local scope ids). */
export function stripAddress(addr: string): string {
  let s = addr.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  return s.toLowerCase();
}

/** Four bytes of a dotted-quad IPv4 address in canonical form, or undefined. */
export function parseIPv4(s: string): number[] | undefined {
  if (net.isIPv4(s) !== true) return undefined;
  return s.split(".").map(Number);
}

/** Sixteen bytes of an IPv6 address (with "::" and an embedded dotted quad allowed), or undefined. */
export function parseIPv6(s: string): number[] | undefined {
  if (net.isIPv6(s) !== true) return undefined;
  let text = s;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  const maybeV4 = text.slice(lastColon + 1);
  if (maybeV4.includes(".")) {
    const v4 = parseIPv4(maybeV4);
    if (!v4) return undefined;
    tail.push(...v4);
    // Keep the separator so "::1.2.3.4" stays "::" and "a:b::1.2.3.4" stays "a:b::".
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith("::")) text = text.slice(0, -1);
  }
  const groupsNeeded = (16 - tail.length) / 2;
  const [head = "", rest] = text.split("::") as [string, string | undefined];
  const headGroups = head === "" ? [] : head.split(":");
  const restGroups = rest === undefined || rest === "" ? [] : rest.split(":");
  let groups: string[];
  if (rest === undefined) {
    groups = headGroups;
  } else {
    const fill = groupsNeeded - headGroups.length - restGroups.length;
    if (fill < 0) return undefined;
    groups = [...headGroups, ...Array<string>(fill).fill("0"), ...restGroups];
  }
  if (groups.length !== groupsNeeded) return undefined;
  const bytes: number[] = [];
  for (const g of groups) {
    const n = parseInt(g, 16);
    if (!/^[0-9a-f]{1,4}$/.test(g) || Number.isNaN(n)) return undefined;
    bytes.push(n >> 8, n & 0xff);
  }
  return [...bytes, ...tail];
}

export interface Cidr {
  bytes: number[];
  prefix: number;
}

/** "10.0.0.0/8" or "fc00::/7" → bytes + prefix length. Throws on anything else. */
export function parseCidr(text: string): Cidr {
  const [base = "", bits] = text.split("/");
  const stripped = stripAddress(base);
  const bytes = parseIPv4(stripped) ?? parseIPv6(stripped);
  if (!bytes) throw new Error(`not an IP network: ${JSON.stringify(text)}`);
  const prefix = bits === undefined ? bytes.length * 8 : Number(bits);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bytes.length * 8)
    throw new Error(`bad prefix length in ${JSON.stringify(text)}`);
  return { bytes, prefix };
}

/** Does `bytes` (same family as the network) fall inside `cidr`? */
export function inCidr(bytes: readonly number[], cidr: Cidr): boolean {
  if (bytes.length !== cidr.bytes.length) return false;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((cidr.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

export function formatIPv4(bytes: readonly number[]): string {
  return bytes.join(".");
}

/**
 * The budget a client address counts against (rate limits, login lockout). An IPv6 client
 * usually holds a whole /64 and can pick a new address in it per request, so its /64 is the
 * client; an IPv4 address (also one mapped into IPv6) is itself.
 */
const IPV4_MAPPED = parseCidr("::ffff:0:0/96");

export function clientBudgetKey(addr: string): string {
  const s = stripAddress(addr);
  const v6 = parseIPv6(s);
  if (!v6) return s;
  if (inCidr(v6, IPV4_MAPPED)) return formatIPv4(v6.slice(12));
  const hextets: string[] = [];
  for (let i = 0; i < 8; i += 2) hextets.push((((v6[i] ?? 0) << 8) | (v6[i + 1] ?? 0)).toString(16));
  return `${hextets.join(":")}::/64`;
}
