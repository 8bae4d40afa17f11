// Parsing of struct sockaddr as read from a sandboxed process's memory. Pure; the supervisor decides on
// the parsed value and, for emulated calls, uses its own copy of the original bytes.

export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;

export type SockAddr =
  | { family: 'inet'; ip: string; port: number }
  | { family: 'inet6'; ip: string; port: number; scopeId: number }
  | { family: 'unix'; path: string; abstract: boolean; unnamed: boolean }
  | { family: 'other'; af: number };

export function parseSockaddr(buf: Buffer): SockAddr | null {
  if (buf.length < 2) return null;
  const af = buf.readUInt16LE(0);
  if (af === AF_INET) {
    if (buf.length < 8) return null;
    return { family: 'inet', port: buf.readUInt16BE(2), ip: `${buf[4]}.${buf[5]}.${buf[6]}.${buf[7]}` };
  }
  if (af === AF_INET6) {
    if (buf.length < 24) return null;
    const words: string[] = [];
    for (let i = 0; i < 8; i++) words.push(buf.readUInt16BE(8 + 2 * i).toString(16));
    const scopeId = buf.length >= 28 ? buf.readUInt32LE(24) : 0;
    // IPv4-mapped (::ffff:a.b.c.d) is written the dotted way, so the IPv4 rules recognise it.
    if (words.slice(0, 5).every((w) => w === '0') && words[5] === 'ffff') {
      return { family: 'inet6', port: buf.readUInt16BE(2), ip: `::ffff:${buf[20]}.${buf[21]}.${buf[22]}.${buf[23]}`, scopeId };
    }
    return { family: 'inet6', port: buf.readUInt16BE(2), ip: compressIpv6(words), scopeId };
  }
  if (af === AF_UNIX) {
    const raw = buf.subarray(2);
    if (raw.length === 0) return { family: 'unix', path: '', abstract: false, unnamed: true };
    if (raw[0] === 0) return { family: 'unix', path: '@' + raw.subarray(1).toString('latin1').replace(/\0+$/, ''), abstract: true, unnamed: false };
    const nul = raw.indexOf(0);
    return { family: 'unix', path: raw.subarray(0, nul < 0 ? raw.length : nul).toString('utf8'), abstract: false, unnamed: false };
  }
  return { family: 'other', af };
}

function compressIpv6(words: string[]): string {
  // RFC 5952: the longest run of two or more zero groups becomes "::".
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === '0') j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return words.join(':');
  return `${words.slice(0, best).join(':')}::${words.slice(best + bestLen).join(':')}`;
}

/** An AF_UNIX sockaddr for an absolute path, for emulated connects (sun_path is 108 bytes). */
export function unixSockaddr(path: string): Buffer | null {
  const p = Buffer.from(path, 'utf8');
  if (p.length > 107) return null;
  const b = Buffer.alloc(2 + p.length + 1);
  b.writeUInt16LE(AF_UNIX, 0);
  p.copy(b, 2);
  return b;
}

export function describeAddr(a: SockAddr): string {
  switch (a.family) {
    case 'inet':
      return `${a.ip}:${a.port}`;
    case 'inet6':
      return `[${a.ip}]:${a.port}`;
    case 'unix':
      return a.unnamed ? 'unix:(unnamed)' : `unix:${a.path}`;
    case 'other':
      return `family ${a.af}`;
  }
}
