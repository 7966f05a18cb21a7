/** Why an address may not be reached by http.request, or undefined for a public unicast address. */
export type AddressClass =
  | "cloud metadata"
  | "loopback"
  | "private"
  | "link-local"
  | "unique-local"
  | "shared (carrier-grade NAT)"
  | "unspecified"
  | "multicast"
  | "reserved"
  | "documentation";

type Range4 = readonly [base: string, prefix: number, kind: AddressClass];

// Cloud metadata endpoints come first: they are also link-local or shared, but their own class is
// the one that matters (and is never lifted by a wildcard allow-list entry).
const METADATA_V4 = new Set(["169.254.169.254", "169.254.170.2", "100.100.100.200"]);
const METADATA_V6 = new Set(["fd00:ec2:0:0:0:0:0:254"]);

const RANGES_V4: readonly Range4[] = [
  ["0.0.0.0", 8, "unspecified"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "shared (carrier-grade NAT)"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "reserved"],
  ["192.0.2.0", 24, "documentation"],
  ["192.88.99.0", 24, "reserved"],
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "reserved"],
  ["198.51.100.0", 24, "documentation"],
  ["203.0.113.0", 24, "documentation"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];

const PARSED_V4 = RANGES_V4.map(([base, prefix, kind]) => ({
  base: ipv4ToInt(base),
  mask: prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0,
  kind,
}));

/**
 * The class of an IP address (IPv4 or IPv6, no brackets, no zone) that makes it off limits, or
 * undefined when it is public. IPv6 forms that carry an IPv4 address (mapped `::ffff:a.b.c.d`,
 * NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by that IPv4 address; anything outside global
 * unicast (2000::/3) is refused.
 */
export function classifyAddress(address: string): AddressClass | undefined {
  // node:net loaded on first use, like the HTTP client's other built-ins (see transport.ts).
  const { isIPv4, isIPv6 } = process.getBuiltinModule("node:net");
  if (isIPv4(address)) return classifyV4(ipv4ToInt(address), address);
  if (!isIPv6(address)) return "reserved";
  return classifyV6(parseIPv6(address));
}

function classifyV4(value: number, text: string): AddressClass | undefined {
  if (METADATA_V4.has(text)) return "cloud metadata";
  for (const range of PARSED_V4) {
    if ((value & range.mask) >>> 0 === range.base) return range.kind;
  }
  return undefined;
}

function classifyV6(h: number[]): AddressClass | undefined {
  const key = h.map((part) => part.toString(16)).join(":");
  if (METADATA_V6.has(key)) return "cloud metadata";
  const zeroUpTo = (n: number) => h.slice(0, n).every((part) => part === 0);
  if (zeroUpTo(8)) return "unspecified";
  if (zeroUpTo(7) && h[7] === 1) return "loopback";
  // ::ffff:a.b.c.d (mapped) and 64:ff9b::a.b.c.d (NAT64) reach the embedded IPv4 address.
  if (
    (zeroUpTo(5) && h[5] === 0xffff) ||
    (h[0] === 0x64 && h[1] === 0xff9b && h.slice(2, 6).every((p) => p === 0))
  ) {
    return embeddedV4(h[6]!, h[7]!);
  }
  if (zeroUpTo(6)) return "reserved"; // IPv4-compatible ::a.b.c.d, deprecated
  if (h[0] === 0x2002) return embeddedV4(h[1]!, h[2]!); // 6to4
  const first = h[0]!;
  if ((first & 0xfe00) === 0xfc00) return "unique-local";
  if ((first & 0xffc0) === 0xfe80) return "link-local";
  if ((first & 0xffc0) === 0xfec0) return "private"; // site-local, deprecated
  if ((first & 0xff00) === 0xff00) return "multicast";
  if ((first & 0xe000) !== 0x2000) return "reserved"; // not global unicast
  if (first === 0x2001 && h[1] === 0x0db8) return "documentation";
  if (first === 0x2001 && h[1]! < 0x0200) return "reserved"; // Teredo, ORCHID, benchmarking and other IETF blocks
  return undefined;
}

function embeddedV4(high: number, low: number): AddressClass | undefined {
  const value = ((high << 16) | low) >>> 0;
  const text = [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join(".");
  return classifyV4(value, text);
}

function ipv4ToInt(address: string): number {
  return address.split(".").reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}

/** Eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail converted). */
export function parseIPv6(address: string): number[] {
  let text = address;
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const value = ipv4ToInt(dotted[1]!);
    tail.push(value >>> 16, value & 0xffff);
    text = text.slice(0, -dotted[1]!.length);
    if (text.endsWith(":") && !text.endsWith("::")) text = text.slice(0, -1);
  }
  const [head, rest] = text.includes("::") ? text.split("::") : [text, undefined];
  const groups = (part: string | undefined) =>
    part ? part.split(":").map((g) => Number.parseInt(g, 16)) : [];
  const left = groups(head);
  const right = groups(rest);
  const missing = 8 - tail.length - left.length - right.length;
  const middle = rest === undefined ? [] : new Array<number>(missing).fill(0);
  return [...left, ...middle, ...right, ...tail];
}
