/*
 * The SSRF address table, checked without connecting anywhere: classifyAddress and the policy are
 * pure, and the URL guard gets a lookup stub, so no packet leaves this process.
 */
import { clientBudgetKey } from "../../src/security/ipAddress";
import {
  type AddressCategory,
  checkUrlScheme,
  classifyAddress,
  createAddressPolicy,
  parseLegacyIPv4,
} from "../../src/security/addressPolicy";
import { createUrlGuard } from "../../src/security/urlGuard";
import { BlockedAddressError, ConfigError, InvalidUrlError } from "../../src/lib/errors";

const refused: [string, AddressCategory][] = [
  ["0.0.0.0", "unspecified"],
  ["0.1.2.3", "unspecified"],
  ["10.0.0.1", "private"],
  ["10.255.255.255", "private"],
  ["172.16.0.1", "private"],
  ["172.31.255.254", "private"],
  ["192.168.1.1", "private"],
  ["127.0.0.1", "loopback"],
  ["127.255.255.254", "loopback"],
  ["169.254.169.254", "metadata"],
  ["169.254.1.1", "link-local"],
  ["100.64.0.1", "cgnat"],
  ["100.127.255.255", "cgnat"],
  ["100.100.100.200", "metadata"],
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast"],
  ["255.255.255.255", "broadcast"],
  ["240.0.0.1", "reserved"],
  ["192.0.0.8", "reserved"],
  ["192.0.2.1", "documentation"],
  ["198.51.100.7", "documentation"],
  ["203.0.113.9", "documentation"],
  ["198.18.0.1", "benchmarking"],
  ["198.19.255.255", "benchmarking"],
  // legacy inet_aton spellings that getaddrinfo still resolves
  ["2130706433", "loopback"],
  ["0x7f.1", "loopback"],
  ["0x7f000001", "loopback"],
  ["0177.0.0.1", "loopback"],
  ["127.1", "loopback"],
  ["127.0.1", "loopback"],
  ["017700000001", "loopback"],
  ["0", "unspecified"],
  ["0xa9.0xfe.0xa9.0xfe", "metadata"],
  ["2852039166", "metadata"], // 169.254.169.254 as one number
  ["012.0.0.1", "private"],
  // IPv6
  ["::1", "loopback"],
  ["[::1]", "loopback"],
  ["0:0:0:0:0:0:0:1", "loopback"],
  ["::", "unspecified"],
  ["fd00::1", "unique-local"],
  ["[fd00::1]", "unique-local"],
  ["fc00::1", "unique-local"],
  ["fd00:ec2::254", "metadata"],
  ["fe80::1", "link-local"],
  ["fe80::1%eth0", "link-local"],
  ["febf::1", "link-local"],
  ["fec0::1", "site-local"],
  ["ff02::1", "multicast"],
  ["ff05::2", "multicast"],
  ["2001:db8::1", "documentation"],
  ["100::1", "reserved"],
  ["2001:2::1", "benchmarking"],
  ["::ffff:10.0.0.1", "private"],
  ["[::ffff:10.0.0.1]", "private"],
  ["::ffff:127.0.0.1", "loopback"],
  ["::ffff:7f00:1", "loopback"],
  ["::ffff:a9fe:a9fe", "metadata"],
  ["0:0:0:0:0:ffff:c0a8:0101", "private"],
  ["::ffff:0:10.0.0.1", "private"], // SIIT
  ["::127.0.0.1", "reserved"], // IPv4-compatible (deprecated)
  ["::8.8.8.8", "reserved"],
  ["64:ff9b::10.0.0.1", "private"], // NAT64
  ["64:ff9b::7f00:1", "loopback"],
  ["64:ff9b:1::a9fe:a9fe", "metadata"],
  ["2002:7f00:1::", "loopback"], // 6to4 of 127.0.0.1
  ["2002:c0a8:101::1", "private"], // 6to4 of 192.168.1.1
  ["2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"], // Teredo, client 127.0.0.1 inverted
  ["4000::1", "reserved"], // outside global unicast
  ["::2", "reserved"],
  // not addresses at all
  ["", "invalid"],
  ["localhost", "invalid"],
  ["1.2.3.4.5", "invalid"],
  ["256.0.0.1", "invalid"],
  ["0x100.0.0.1", "invalid"],
  ["08.0.0.1", "invalid"],
  ["::ffff:999.0.0.1", "invalid"],
];

const allowed = [
  "8.8.8.8",
  "1.1.1.1",
  "93.184.215.14",
  "172.15.255.255",
  "172.32.0.1",
  "100.63.255.255",
  "100.128.0.1",
  "169.253.255.255",
  "192.169.0.1",
  "11.0.0.1",
  "223.255.255.255",
  "2606:4700:4700::1111",
  "2a00:1450:4001:80b::200e",
  "::ffff:8.8.8.8",
  "64:ff9b::8.8.8.8",
  "2002:808:808::1",
  "134744072",
];

describe("classifyAddress", () => {
  test.each(refused)("%s is %s", (address, category) => {
    expect(classifyAddress(address).category).toBe(category);
  });

  test.each(allowed)("%s is public", (address) => {
    expect(classifyAddress(address).category).toBe("public");
  });

  test("mapped and NAT64 forms report the IPv4 address and the form", () => {
    expect(classifyAddress("::ffff:10.0.0.1")).toEqual({
      address: "10.0.0.1",
      category: "private",
      range: "10.0.0.0/8",
      via: "ipv4-mapped",
    });
    expect(classifyAddress("64:ff9b::a9fe:a9fe")).toMatchObject({ address: "169.254.169.254", via: "nat64" });
  });

  test("legacy IPv4 spellings parse like inet_aton", () => {
    expect(parseLegacyIPv4("2130706433")).toEqual([127, 0, 0, 1]);
    expect(parseLegacyIPv4("0x7f.1")).toEqual([127, 0, 0, 1]);
    expect(parseLegacyIPv4("10.1.65535")).toEqual([10, 1, 255, 255]);
    expect(parseLegacyIPv4("4294967296")).toBeUndefined();
    expect(parseLegacyIPv4("1.2.3.256")).toBeUndefined();
    expect(parseLegacyIPv4("example")).toBeUndefined();
  });
});

describe("WHATWG URL normalises odd IPv4 hosts before they reach the guard", () => {
  test.each([
    ["http://2130706433/", "127.0.0.1"],
    ["http://0x7f.1/", "127.0.0.1"],
    ["http://0177.0.0.1/", "127.0.0.1"],
    ["http://127.1/", "127.0.0.1"],
    ["http://0x7f000001/", "127.0.0.1"],
    ["http://127。0。0。1/", "127.0.0.1"], // ideographic full stops
    ["http://①②⑦.0.0.1/", "127.0.0.1"], // circled digits map to ASCII under IDNA
    ["http://[::ffff:127.0.0.1]/", "[::ffff:7f00:1]"],
    ["http://[0:0:0:0:0:0:0:1]/", "[::1]"],
    ["http://LOCALHOST./", "localhost."],
  ])("%s → %s, refused", (url, host) => {
    const hostname = new URL(url).hostname;
    expect(hostname).toBe(host);
    if (hostname !== "localhost.") expect(classifyAddress(hostname).category).not.toBe("public");
  });
});

describe("createAddressPolicy", () => {
  const guard = createAddressPolicy({ allowPrivate: false, allowHosts: [] });

  test("refuses every non-public address with BlockedAddressError, never retried", () => {
    for (const [address] of refused) {
      let thrown: unknown;
      try {
        guard(address, "example.test");
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(BlockedAddressError);
      expect((thrown as BlockedAddressError).retryable).toBe(false);
      expect((thrown as BlockedAddressError).code).toBe("BLOCKED_ADDRESS");
    }
  });

  test("lets public addresses through", () => {
    for (const address of allowed) expect(() => guard(address, "example.test")).not.toThrow();
  });

  test("names the host, the address and how to lift it", () => {
    expect(() => guard("169.254.169.254", "metadata.test")).toThrow(
      /metadata\.test \(169\.254\.169\.254\): metadata address in 169\.254\.169\.254\/32.*CRAWL_ALLOW_HOSTS/,
    );
    expect(() => guard("::ffff:10.0.0.1", "::ffff:10.0.0.1")).toThrow(
      /10\.0\.0\.1: private address in 10\.0\.0\.0\/8 via ipv4-mapped IPv6/,
    );
  });

  test("ALLOW_PRIVATE_NETWORKS lifts it entirely", () => {
    const open = createAddressPolicy({ allowPrivate: true, allowHosts: [] });
    for (const [address] of refused) expect(() => open(address, "x")).not.toThrow();
  });

  test("CRAWL_ALLOW_HOSTS lifts it for names, wildcards, addresses and networks only", () => {
    const policy = createAddressPolicy({
      allowPrivate: false,
      allowHosts: ["wiki.internal", "*.corp.example", "127.0.0.1", "10.1.0.0/16", "fd00::/8", " "],
    });
    expect(() => policy("10.9.9.9", "wiki.internal")).not.toThrow();
    expect(() => policy("10.9.9.9", "WIKI.internal.")).not.toThrow();
    expect(() => policy("192.168.0.4", "docs.corp.example")).not.toThrow();
    expect(() => policy("127.0.0.1", "127.0.0.1")).not.toThrow();
    expect(() => policy("10.1.2.3", "anything.test")).not.toThrow();
    expect(() => policy("fd00::5", "v6.test")).not.toThrow();
    expect(() => policy("127.0.0.2", "127.0.0.2")).toThrow(BlockedAddressError);
    expect(() => policy("10.2.0.1", "other.internal")).toThrow(BlockedAddressError);
    expect(() => policy("192.168.0.4", "corp.example.evil.test")).toThrow(BlockedAddressError);
    expect(() => policy("192.168.0.4", "notcorp.example")).toThrow(BlockedAddressError);
  });

  test("a malformed allow-list entry is a config error at start-up", () => {
    expect(() => createAddressPolicy({ allowPrivate: false, allowHosts: ["10.0.0.0/33"] })).toThrow(ConfigError);
    expect(() => createAddressPolicy({ allowPrivate: false, allowHosts: ["http://x/"] })).toThrow(ConfigError);
  });
});

describe("checkUrlScheme", () => {
  test.each([
    "file:///etc/passwd",
    "gopher://127.0.0.1:70/_x",
    "ftp://example.com/",
    "data:text/plain,hi",
    "javascript:alert(1)",
    "dict://127.0.0.1:11211/",
  ])("%s is refused", (u) => {
    expect(() => checkUrlScheme(new URL(u))).toThrow(BlockedAddressError);
  });
  test.each(["http://example.com/", "https://example.com/"])("%s is allowed", (u) => {
    expect(() => checkUrlScheme(new URL(u))).not.toThrow();
  });
});

describe("createUrlGuard (the API's pre-check)", () => {
  const lookups: string[] = [];
  const lookup = async (host: string): Promise<string[]> => {
    lookups.push(host);
    if (host === "rebind.test") return ["93.184.215.14", "127.0.0.1"];
    if (host === "public.test") return ["93.184.215.14"];
    if (host === "localhost") return ["127.0.0.1", "::1"];
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
  };
  const check = createUrlGuard({ policy: createAddressPolicy({ allowPrivate: false, allowHosts: [] }), lookup });

  test.each([
    "http://127.0.0.1:8080/",
    "http://127.1/",
    "http://2130706433/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://0x7f.1/",
    "http://localhost/",
    "http://rebind.test/",
    "file:///etc/passwd",
    "gopher://127.0.0.1/",
  ])("%s → BLOCKED_ADDRESS", async (u) => {
    await expect(check(u)).rejects.toBeInstanceOf(BlockedAddressError);
  });

  test("IP literals are checked without a lookup; names through the lookup", async () => {
    lookups.length = 0;
    await expect(check("http://10.0.0.1/")).rejects.toThrow(BlockedAddressError);
    await expect(check("https://public.test/docs/")).resolves.toBeUndefined();
    expect(lookups).toEqual(["public.test"]);
  });

  test("a host that does not exist is an invalid URL; a URL that doesn't parse too", async () => {
    await expect(check("http://nowhere.test/")).rejects.toBeInstanceOf(InvalidUrlError);
    await expect(check("not a url")).rejects.toBeInstanceOf(InvalidUrlError);
  });

  test("with the guard lifted only the scheme is checked", async () => {
    const open = createUrlGuard({ policy: undefined, lookup });
    await expect(open("http://127.0.0.1/")).resolves.toBeUndefined();
    await expect(open("file:///etc/passwd")).rejects.toBeInstanceOf(BlockedAddressError);
  });
});

describe("clientBudgetKey", () => {
  test.each([
    ["203.0.113.9", "203.0.113.9"],
    ["::ffff:203.0.113.9", "203.0.113.9"],
    ["2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"],
    ["2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"],
    ["[2001:db8::5]", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
  ])("%s → %s", (addr, key) => {
    expect(clientBudgetKey(addr)).toBe(key);
  });
});
