// IP address parsing and classification, pure. Accepts the odd IPv4 encodings inet_aton (and so curl,
// Python's socket.inet_aton, ping …) accept, so an explanation can say what an address really is.

export interface Ip {
  version: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: number[];
}

export interface Cidr {
  ip: Ip;
  prefix: number;
}

/** IPv4 the way inet_aton reads it: 1–4 parts, each decimal, 0x-hex or 0-octal; the last part fills the
 *  remaining bytes (`169.254.43518`, `2852039166`, `0xA9FEA9FE`, `0251.0376.0251.0376`). */
export function parseIpv4Loose(s: string): Ip | null {
  const parts = s.split('.');
  if (parts.length < 1 || parts.length > 4) return null;
  const nums: number[] = [];
  for (const p of parts) {
    let n: number;
    if (/^0[xX][0-9a-fA-F]+$/.test(p)) n = parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) n = parseInt(p, 8);
    else if (/^[1-9][0-9]*$/.test(p)) n = parseInt(p, 10);
    else return null;
    if (!Number.isSafeInteger(n)) return null;
    nums.push(n);
  }
  const last = nums[nums.length - 1]!;
  const head = nums.slice(0, -1);
  if (head.some((n) => n > 255)) return null;
  const lastBytes = 4 - head.length;
  if (last >= 2 ** (8 * lastBytes)) return null;
  const bytes = [...head];
  for (let i = lastBytes - 1; i >= 0; i--) bytes.push(Math.floor(last / 2 ** (8 * i)) % 256);
  return { version: 4, bytes };
}

/** Strict dotted quad (used inside IPv6 text). */
function parseIpv4Strict(s: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const b = m.slice(1).map((x) => Number(x));
  return b.every((x, i) => x <= 255 && !(m[i + 1]!.length > 1 && m[i + 1]!.startsWith('0'))) ? b : null;
}

export function parseIpv6(s: string): Ip | null {
  let t = s;
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  const pct = t.indexOf('%');
  if (pct >= 0) t = t.slice(0, pct); // zone id (fe80::1%eth0)
  if (!t.includes(':')) return null;
  const halves = t.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    const parts = h.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4Strict(p);
        if (!v4) return null;
        out.push(v4[0]! * 256 + v4[1]!, v4[2]! * 256 + v4[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return null;
    }
    return out;
  };
  const a = groups(halves[0]!);
  const b = halves.length === 2 ? groups(halves[1]!) : [];
  if (!a || !b) return null;
  // An embedded IPv4 may only end the address.
  if (halves.length === 2 && halves[0]!.includes('.')) return null;
  let words: number[];
  if (halves.length === 2) {
    if (a.length + b.length > 7) return null;
    words = [...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b];
  } else {
    if (a.length !== 8) return null;
    words = a;
  }
  const bytes: number[] = [];
  for (const w of words) bytes.push(w >> 8, w & 0xff);
  return { version: 6, bytes };
}

export function parseIp(s: string): Ip | null {
  const t = s.trim();
  if (!t) return null;
  if (t.includes(':') || t.startsWith('[')) return parseIpv6(t);
  return parseIpv4Loose(t);
}

export function formatIp(ip: Ip): string {
  const b = ip.bytes;
  if (ip.version === 4) return b.join('.');
  if (b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return `::ffff:${b.slice(12).join('.')}`;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(b[i]! * 256 + b[i + 1]!);
  // RFC 5952: the longest run (≥ 2) of zero groups becomes "::", the first one on a tie.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i >= 2 && j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Canonical text of an address in any accepted encoding, or null: `0xA9FEA9FE` → `169.254.169.254`,
 *  `[0:0::FFFF:a9fe:a9fe]` → `::ffff:169.254.169.254`. */
export function parseIpLiteral(s: string): string | null {
  const ip = parseIp(s);
  return ip ? formatIp(ip) : null;
}

/** The IPv4 address inside an IPv4-mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96) or 6to4 (2002::/16, the
 *  address in bytes 2–5) IPv6 address: the host that is really reached, so it is what gets classified. */
export function embeddedIpv4(ip: Ip): Ip | null {
  if (ip.version !== 6) return null;
  const b = ip.bytes;
  const mapped = b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  const nat64 = b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && b.slice(4, 12).every((x) => x === 0);
  if (mapped || nat64) return { version: 4, bytes: b.slice(12) };
  if (b[0] === 0x20 && b[1] === 0x02) return { version: 4, bytes: b.slice(2, 6) };
  return null;
}

export function unwrapIp(ip: Ip): Ip {
  return embeddedIpv4(ip) ?? ip;
}

export function parseCidr(s: string): Cidr | null {
  const slash = s.lastIndexOf('/');
  const ipText = slash >= 0 ? s.slice(0, slash) : s;
  const ip = parseIp(ipText);
  if (!ip) return null;
  const max = ip.version === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const pt = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(pt)) return null;
    prefix = Number(pt);
    if (prefix > max) return null;
  }
  // ::ffff:a.b.c.d/n (or NAT64) with n ≥ 96 is an IPv4 range; 6to4 keeps its IPv4 in the middle, so not it.
  const v4 = ip.version === 6 && !(ip.bytes[0] === 0x20 && ip.bytes[1] === 0x02) ? embeddedIpv4(ip) : null;
  if (v4 && prefix >= 96) return { ip: v4, prefix: prefix - 96 };
  return { ip, prefix };
}

export function cidrContains(c: Cidr, ip: Ip): boolean {
  if (c.ip.version !== ip.version) return false;
  let bits = c.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((c.ip.bytes[i]! & mask) !== (ip.bytes[i]! & mask)) return false;
  }
  return true;
}

export type AddressCategory = 'cloud-metadata' | 'unspecified' | 'loopback' | 'local-interface' | 'link-local' | 'private' | 'multicast' | 'reserved' | 'public';

interface CategoryRange {
  category: Exclude<AddressCategory, 'public' | 'local-interface'>;
  cidr: string;
  what: string;
}

/** Checked in order; the first match wins. */
const RANGES: readonly CategoryRange[] = Object.freeze([
  { category: 'cloud-metadata', cidr: '169.254.169.254/32', what: 'cloud metadata service (AWS, GCP, Azure, Oracle, DigitalOcean: instance credentials)' },
  { category: 'cloud-metadata', cidr: '169.254.170.2/32', what: 'cloud metadata service (AWS ECS task credentials)' },
  { category: 'cloud-metadata', cidr: '168.63.129.16/32', what: 'cloud metadata service (Azure WireServer)' },
  { category: 'cloud-metadata', cidr: '100.100.100.200/32', what: 'cloud metadata service (Alibaba Cloud)' },
  { category: 'cloud-metadata', cidr: 'fd00:ec2::254/128', what: 'cloud metadata service (AWS, IPv6)' },
  { category: 'cloud-metadata', cidr: 'fd20:ce::254/128', what: 'cloud metadata service (GCP, IPv6)' },
  { category: 'unspecified', cidr: '0.0.0.0/8', what: 'unspecified address ("this host": reaches local services)' },
  { category: 'unspecified', cidr: '::/128', what: 'unspecified address ("this host": reaches local services)' },
  { category: 'loopback', cidr: '127.0.0.0/8', what: 'loopback address (services on this machine)' },
  { category: 'loopback', cidr: '::1/128', what: 'loopback address (services on this machine)' },
  { category: 'reserved', cidr: '::/96', what: 'deprecated IPv4-compatible IPv6 address' },
  { category: 'link-local', cidr: '169.254.0.0/16', what: 'link-local address' },
  { category: 'link-local', cidr: 'fe80::/10', what: 'link-local address' },
  { category: 'private', cidr: '10.0.0.0/8', what: 'private network address (RFC 1918)' },
  { category: 'private', cidr: '172.16.0.0/12', what: 'private network address (RFC 1918)' },
  { category: 'private', cidr: '192.168.0.0/16', what: 'private network address (RFC 1918)' },
  { category: 'private', cidr: '100.64.0.0/10', what: 'carrier-grade NAT address (RFC 6598)' },
  { category: 'private', cidr: 'fc00::/7', what: 'unique local IPv6 address (private network)' },
  { category: 'private', cidr: 'fec0::/10', what: 'site-local IPv6 address (private network)' },
  { category: 'multicast', cidr: '224.0.0.0/4', what: 'multicast address' },
  { category: 'multicast', cidr: 'ff00::/8', what: 'multicast address' },
  { category: 'reserved', cidr: '240.0.0.0/4', what: 'reserved or broadcast address' },
  // Special-purpose ranges (RFC 6890) that are no public internet: documentation, benchmarking, IETF.
  { category: 'reserved', cidr: '192.0.0.0/24', what: 'IETF protocol assignment address (RFC 6890, not public)' },
  { category: 'reserved', cidr: '192.0.2.0/24', what: 'documentation address TEST-NET-1 (RFC 5737, not public)' },
  { category: 'reserved', cidr: '198.51.100.0/24', what: 'documentation address TEST-NET-2 (RFC 5737, not public)' },
  { category: 'reserved', cidr: '203.0.113.0/24', what: 'documentation address TEST-NET-3 (RFC 5737, not public)' },
  { category: 'reserved', cidr: '198.18.0.0/15', what: 'benchmarking address (RFC 2544, not public)' },
  { category: 'reserved', cidr: '2001:db8::/32', what: 'documentation address (RFC 3849, not public)' },
  // 6to4 whose embedded IPv4 did not unwrap (never: unwrapIp handles 2002::/16); kept so the range is named.
  { category: 'reserved', cidr: '2002::/16', what: '6to4 address' },
]);

function frozenCidr(c: Cidr): Cidr {
  return Object.freeze({ prefix: c.prefix, ip: Object.freeze({ version: c.ip.version, bytes: Object.freeze([...c.ip.bytes]) as number[] }) });
}
const PARSED_RANGES = Object.freeze(RANGES.map((r) => Object.freeze({ ...r, parsed: frozenCidr(parseCidr(r.cidr)!) })));

export interface Classification {
  category: AddressCategory;
  /** The range that matched, e.g. "10.0.0.0/8"; the address itself for public ones. */
  range: string;
  what: string;
}

/** Classifies an address (unwrap IPv4-mapped / NAT64 / 6to4 first). `local`: this machine's own interface
 *  addresses (found at run start); a service listening on 0.0.0.0 is reached through them as through
 *  loopback, so they count as local whatever range they are in (metadata and loopback still name themselves). */
export function classifyIp(ip: Ip, local: readonly string[] = []): Classification {
  const r = PARSED_RANGES.find((x) => cidrContains(x.parsed, ip));
  if (r && (r.category === 'cloud-metadata' || r.category === 'unspecified' || r.category === 'loopback')) return { category: r.category, range: r.cidr, what: r.what };
  const text = formatIp(ip);
  if (local.some((l) => { const p = parseIp(l); return p !== null && formatIp(unwrapIp(p)) === text; })) {
    return { category: 'local-interface', range: text, what: "address of one of this machine's own network interfaces (services on this machine)" };
  }
  if (r) return { category: r.category, range: r.cidr, what: r.what };
  return { category: 'public', range: text, what: 'public address' };
}

/** Host names of cloud metadata services, blocked by name whatever address they resolve to. */
export const METADATA_HOSTS: readonly string[] = Object.freeze([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
]);

/** An allowAddresses entry: `CIDR`, `CIDR:PORT`, `CIDR:LO-HI`, IPv6 with a port in brackets: `[fd00::/8]:443`. */
export interface AddressRule {
  text: string;
  cidr: Cidr;
  ports: [number, number] | null;
}

function parsePorts(s: string): [number, number] | null {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s);
  if (!m) return null;
  const lo = Number(m[1]);
  const hi = m[2] !== undefined ? Number(m[2]) : lo;
  if (lo < 1 || hi > 65535 || lo > hi) return null;
  return [lo, hi];
}

export function parseAddressRule(text: string): AddressRule | null {
  const s = text.trim();
  let cidrText = s;
  let portText: string | null = null;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return null;
    cidrText = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest) {
      if (!rest.startsWith(':')) return null;
      portText = rest.slice(1);
    }
  } else {
    const colons = (s.match(/:/g) ?? []).length;
    if (colons === 1) {
      const i = s.indexOf(':');
      cidrText = s.slice(0, i);
      portText = s.slice(i + 1);
    }
  }
  const cidr = parseCidr(cidrText);
  if (!cidr) return null;
  let ports: [number, number] | null = null;
  if (portText !== null) {
    ports = parsePorts(portText);
    if (!ports) return null;
  }
  return { text, cidr, ports };
}

export function ruleCovers(r: AddressRule, ip: Ip, port: number): boolean {
  return cidrContains(r.cidr, ip) && (r.ports === null || (port >= r.ports[0] && port <= r.ports[1]));
}

/** The rule names exactly this one address (a /32 or /128, no wider range). */
export function ruleNamesExactly(r: AddressRule, ip: Ip): boolean {
  return r.cidr.prefix === (ip.version === 4 ? 32 : 128) && cidrContains(r.cidr, ip);
}

export function normalizeHost(h: string): string {
  let t = h.trim().toLowerCase();
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  while (t.endsWith('.')) t = t.slice(0, -1);
  return t;
}

/** Host patterns: `*` (any), `*.example.com` (any name below example.com, not example.com itself),
 *  `api-*.example.com` (`*` within one label), an exact name, or an IP literal (compared canonically). */
export function hostMatches(pattern: string, host: string | undefined, ip?: Ip): boolean {
  const p = normalizeHost(pattern);
  if (p === '*') return true;
  const pIp = parseIp(p);
  if (pIp) {
    const candidates = [host ? parseIp(normalizeHost(host)) : null, ip ?? null].filter((x): x is Ip => !!x).map((x) => formatIp(unwrapIp(x)));
    return candidates.includes(formatIp(unwrapIp(pIp)));
  }
  if (!host) return false;
  const h = normalizeHost(host);
  if (p.startsWith('*.') && !p.slice(2).includes('*')) return h.endsWith(p.slice(1)) && h.length > p.length - 1;
  if (!p.includes('*')) return h === p;
  const re = new RegExp('^' + p.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^.]*') + '$');
  return re.test(h);
}

/** A host pattern is well formed: labels of letters, digits, `-`, `_`, `*`, or an IP literal. */
export function validHostPattern(pattern: string): boolean {
  const p = normalizeHost(pattern);
  if (p === '*') return true;
  if (p.includes(':')) return parseIpv6(p) !== null;
  return p.length > 0 && p.length <= 253 && p.split('.').every((l) => /^[a-z0-9_*-]{1,63}$/.test(l));
}
