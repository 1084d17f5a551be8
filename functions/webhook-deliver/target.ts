// Where a webhook may be sent, decided at send time (an owner's URL is theirs to choose, the address it
// resolves to is not): only public unicast addresses, never this platform's own network, loopback, link-local
// (cloud metadata lives at 169.254.169.254), private, shared, reserved, documentation or multicast ranges. On
// a local platform (the database says so with each claim) loopback is allowed too, and plain http only to it.
// Every resolved address must pass: one private record among public ones refuses the whole host.

export type AddressClass = "public" | "loopback" | "non-public";

export type ResolveDns = (host: string, type: "A" | "AAAA") => Promise<string[]>;

export class TargetRefused extends Error {
  constructor(reason: string) {
    super(`refused: ${reason}`);
    this.name = "TargetRefused";
  }
}

/** Parses dotted-quad IPv4 (exactly four decimal octets, no leading zeros) to its 32-bit value. */
export function parseIpv4(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255) return null;
    value = value * 256 + Number(part);
  }
  return value;
}

/** Parses an IPv6 address (with ::, and a trailing dotted IPv4) to its eight 16-bit groups. */
export function parseIpv6(text: string): number[] | null {
  let rest = text.toLowerCase();
  if (rest.includes("%")) return null; // a zone id names a local interface: never a webhook target
  let tail: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(rest);
  if (dotted) {
    const v4 = parseIpv4(dotted[2]);
    if (v4 === null) return null;
    tail = [Math.floor(v4 / 65536), v4 % 65536];
    rest = dotted[1].endsWith("::") ? dotted[1] : dotted[1].slice(0, -1);
  }
  const halves = rest.split("::");
  if (halves.length > 2) return null;
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]) : [];
  if (![...left, ...right].every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  const l = left.map((g) => parseInt(g, 16));
  const r = right.map((g) => parseInt(g, 16));
  const count = l.length + r.length + tail.length;
  if (halves.length === 1) return count === 8 ? [...l, ...tail] : null;
  if (count > 7) return null;
  return [...l, ...new Array<number>(8 - count).fill(0), ...r, ...tail];
}

const V4_RANGES: Array<[string, number, AddressClass]> = [
  ["0.0.0.0", 8, "non-public"], // this network
  ["10.0.0.0", 8, "non-public"], // private
  ["100.64.0.0", 10, "non-public"], // shared address space (carrier NAT)
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "non-public"], // link-local, cloud metadata
  ["172.16.0.0", 12, "non-public"], // private
  ["192.0.0.0", 24, "non-public"], // IETF protocol assignments
  ["192.0.2.0", 24, "non-public"], // documentation
  ["192.88.99.0", 24, "non-public"], // 6to4 relay anycast
  ["192.168.0.0", 16, "non-public"], // private
  ["198.18.0.0", 15, "non-public"], // benchmarking
  ["198.51.100.0", 24, "non-public"], // documentation
  ["203.0.113.0", 24, "non-public"], // documentation
  ["224.0.0.0", 4, "non-public"], // multicast
  ["240.0.0.0", 4, "non-public"], // reserved, broadcast
];

export function classifyIpv4(value: number): AddressClass {
  for (const [base, bits, kind] of V4_RANGES) {
    const size = 2 ** (32 - bits);
    const start = parseIpv4(base)!;
    if (value >= start && value < start + size) return kind;
  }
  return "public";
}

export function classifyIpv6(groups: number[]): AddressClass {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups;
  const embeddedV4 = g6 * 65536 + g7;
  const upperZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (upperZero && g5 === 0 && g6 === 0 && g7 === 1) return "loopback"; // ::1
  if (upperZero && g5 === 0xffff) return classifyIpv4(embeddedV4); // ::ffff:a.b.c.d, mapped
  if (upperZero && g5 === 0) return embeddedV4 <= 1 ? "non-public" : classifyIpv4(embeddedV4); // ::, ::a.b.c.d
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return classifyIpv4(embeddedV4); // NAT64
  if (g0 === 0x2002) return classifyIpv4(g1 * 65536 + g2); // 6to4 carries its IPv4
  if ((g0 & 0xe000) !== 0x2000) return "non-public"; // outside global unicast 2000::/3: ULA, link-local, multicast, ...
  if (g0 === 0x2001 && g1 < 0x200) return "non-public"; // 2001::/23 IETF assignments (Teredo among them)
  if (g0 === 0x2001 && g1 === 0x0db8) return "non-public"; // documentation
  if (g0 === 0x3fff && g1 < 0x1000) return "non-public"; // documentation (3fff::/20)
  return "public";
}

/** public / loopback / non-public for an IP literal; null when the text is not one. */
export function classifyAddress(address: string): AddressClass | null {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  const v4 = parseIpv4(bare);
  if (v4 !== null) return classifyIpv4(v4);
  const v6 = bare.includes(":") ? parseIpv6(bare) : null;
  return v6 ? classifyIpv6(v6) : null;
}

export const denoResolveDns: ResolveDns = (host, type) => Deno.resolveDns(host, type);

async function addressesOf(host: string, resolve: ResolveDns): Promise<string[]> {
  const settled = await Promise.allSettled([resolve(host, "A"), resolve(host, "AAAA")]);
  const found = settled.flatMap((r) => (r.status === "fulfilled" ? r.value : []));
  if (found.length === 0) throw new TargetRefused(`${host} does not resolve to any address`);
  return found;
}

/**
 * Checks a claimed delivery's URL where it points now. Throws TargetRefused with the reason the
 * delivery log shows; returns the approved addresses, the only ones the request may connect to
 * (pinned-fetch.ts), when the request may be made.
 */
export async function checkTarget(rawUrl: string, allowLoopback: boolean, resolve: ResolveDns): Promise<string[]> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new TargetRefused("the address is not a valid URL");
  }
  if (url.username || url.password) throw new TargetRefused("the address contains credentials");
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  const literal = classifyAddress(host);
  const isLocalhostName = host === "localhost" || host.endsWith(".localhost"); // always loopback (RFC 6761)
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const classes: Array<[string, AddressClass]> = literal
    ? [[bare, literal]]
    : isLocalhostName
    ? [["127.0.0.1", "loopback"]]
    : (await addressesOf(host, resolve)).map((a) => [a, classifyAddress(a) ?? "non-public"]);
  for (const [address, kind] of classes) {
    if (kind === "non-public") throw new TargetRefused(`${host} points to ${address}, which is not a public address`);
    if (kind === "loopback" && !allowLoopback) throw new TargetRefused(`${host} points to this machine (${address})`);
  }
  const onlyLoopback = classes.every(([, kind]) => kind === "loopback");
  const addresses = classes.map(([address]) => address);
  if (url.protocol === "https:") return addresses;
  if (url.protocol === "http:" && allowLoopback && onlyLoopback) return addresses;
  throw new TargetRefused(`${url.protocol.replace(":", "")} is not allowed: use https`);
}
