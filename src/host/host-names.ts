// What the supervisor needs to name addresses: the policy's host names resolved to addresses, reverse
// names from /etc/hosts, and the system's DNS resolvers (so that resolving a name is never itself refused).
import * as dns from 'node:dns';
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { ResolvedPolicy } from '../policy/schema';

export interface NetworkNames {
  hostNames: Record<string, string>;
  allowedAddresses: string[];
  resolvers: string[];
  /** Every address of this machine's interfaces (eth0's too: a service on 0.0.0.0 answers there). */
  localAddresses: string[];
}

/** This machine's interface addresses now; none when they cannot be listed. */
export function localInterfaceAddresses(): string[] {
  try {
    return Object.values(os.networkInterfaces()).flatMap((xs) => (xs ?? []).map((x) => x.address.replace(/%.*$/, '')));
  } catch {
    return [];
  }
}

export function parseHostsFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const [ip, name] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (ip && name && !(ip in out)) out[ip] = name;
  }
  return out;
}

export function parseResolvConf(text: string): string[] {
  return text
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((x): x is string => !!x);
}

/** Every address of a name (the system resolver, /etc/hosts included); none on error or timeout. */
export function lookupAll(name: string, timeoutMs: number): Promise<string[]> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve([]), timeoutMs);
    dns.lookup(name, { all: true }, (err, addrs) => {
      clearTimeout(t);
      resolve(err ? [] : addrs.map((a) => a.address));
    });
  });
}

export async function resolveNetworkNames(p: ResolvedPolicy, timeoutMs = 2000): Promise<NetworkNames> {
  const read = (f: string) => {
    try {
      return fs.readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  };
  const hostNames = parseHostsFile(read('/etc/hosts'));
  const allowedAddresses: string[] = [];
  const exact = (xs: string[]) => xs.filter((h) => !h.includes('*'));
  const allow = exact(p.network.allowHosts);
  const results = await Promise.all([...allow, ...exact(p.network.denyHosts)].map((h) => lookupAll(h, timeoutMs).then((as) => [h, as] as const)));
  for (const [h, as] of results) {
    for (const a of as) {
      hostNames[a] = h;
      if (allow.includes(h) && !p.network.denyHosts.includes(h)) allowedAddresses.push(a);
    }
  }
  return { hostNames, allowedAddresses, resolvers: parseResolvConf(read('/etc/resolv.conf')), localAddresses: localInterfaceAddresses() };
}
