/*
 * A dns.lookup for tests that never asks a real resolver: IP literals answer themselves (net and
 * http look them up too, and getaddrinfo answers those locally), names in `table` answer their
 * loopback addresses, anything else is ENOTFOUND. Installed with jest.spyOn on the node:dns module
 * object, which is what net.connect and the crawler's fetch call at connect time.
 */
import dns from "node:dns";
import net from "node:net";

export interface DnsStub {
  /** Every name (not literal) looked up, in order. */
  lookedUp: string[];
  table: Record<string, string[]>;
  /** The URL pre-check's LookupAll over the same table. */
  lookupAll(hostname: string): Promise<string[]>;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

export function notFound(hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname} (test DNS stub)`), { code: "ENOTFOUND", hostname });
}

export function installDnsStub(table: Record<string, string[]> = {}): DnsStub {
  const stub: DnsStub = {
    lookedUp: [],
    table,
    async lookupAll(hostname) {
      const rows = answer(hostname, 0);
      if (!rows) throw notFound(hostname);
      return rows.map((r) => r.address);
    },
  };
  function answer(hostname: string, family: number): dns.LookupAddress[] | undefined {
    const literal = net.isIP(hostname) !== 0;
    if (!literal) stub.lookedUp.push(hostname);
    const found = literal ? [hostname] : stub.table[hostname.toLowerCase().replace(/\.$/, "")];
    if (!found) return undefined;
    const rows = found.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
    return family === 4 || family === 6 ? rows.filter((r) => r.family === family) : rows;
  }
  function lookup(hostname: string, options: unknown, callback?: LookupCallback): void {
    const cb = (typeof options === "function" ? options : callback) as LookupCallback;
    const opts =
      typeof options === "object" && options !== null
        ? (options as dns.LookupOptions)
        : { family: typeof options === "number" ? options : 0 };
    const rows = answer(hostname, Number(opts.family ?? 0));
    process.nextTick(() => {
      if (!rows || rows.length === 0) return cb(notFound(hostname), opts.all ? [] : "");
      if (opts.all) return cb(null, rows);
      const first = rows[0] as dns.LookupAddress;
      return cb(null, first.address, first.family);
    });
  }
  jest.spyOn(dns, "lookup").mockImplementation(lookup);
  jest.spyOn(dns.promises, "lookup").mockImplementation(async (hostname: string) => {
    throw notFound(hostname); // nothing in ltx resolves through the promise API at connect time
  });
  return stub;
}
