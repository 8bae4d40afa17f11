// A per-run HTTP proxy (CONNECT and plain http://) on loopback, exported to the script as HTTP(S)_PROXY.
// It exists for host rules with wildcards (*.example.com): an address alone does not say which name it was
// looked up by, but a proxy request names the host, so the rule is matched by name here. Clients that
// ignore the proxy variables still connect directly and meet the supervisor, which decides by address
// (and says, when a wildcard rule could not be matched, that only the proxy can match it).
import * as http from 'node:http';
import * as net from 'node:net';
import { decideAddress, type Decision } from '../policy';
import type { ResolvedPolicy } from '../policy/schema';
import type { Violation } from '../policy/violation';
import type { RunReactions } from '../protocol/run-reactions';
import { lookupAll, localInterfaceAddresses } from './host-names';

export interface EgressProxy {
  readonly port: number;
  /** The variables that point clients at the proxy. */
  env(): Record<string, string>;
  close(): void;
}

/** Whether a run gets a proxy: only when a host rule needs a name that an address cannot give. */
export function needsEgressProxy(p: ResolvedPolicy): boolean {
  const n = p.network;
  return n.preset !== 'none' && [...n.allowHosts, ...n.denyHosts].some((h) => h.includes('*'));
}

/** The run's policy with the proxy's own address allowed (the script must reach it to use it). */
export function withProxyAllowed(p: ResolvedPolicy, port: number): ResolvedPolicy {
  return { ...p, network: { ...p.network, allowAddresses: [...p.network.allowAddresses, `127.0.0.1/32:${port}`] } };
}

/** "host:port" or "[v6]:port" of a CONNECT request; null when malformed. */
export function parseAuthority(s: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(s);
  if (!m) return null;
  const port = Number(m[3]);
  return port >= 1 && port <= 65535 ? { host: (m[1] ?? m[2]!).toLowerCase(), port } : null;
}

interface Target {
  ip: string;
  decision: Decision;
}

export async function startEgressProxy(policy: ResolvedPolicy, reactions: Pick<RunReactions, 'violation'>, runId: string, onViolation: (v: Violation) => void): Promise<EgressProxy> {
  const sockets = new Set<net.Socket>();
  // The same address decision as the supervisor's, with this machine's addresses found at run start.
  const localAddresses = localInterfaceAddresses();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };

  /** The address to use, or null (refused, reported). In warn mode a would-be block is reported and used. */
  const decide = async (host: string, port: number, how: string): Promise<{ ip: string } | { refused: string }> => {
    const ips = net.isIP(host) ? [host] : await lookupAll(host, 5000);
    if (!ips.length) return { refused: `${host} does not resolve` };
    const targets: Target[] = ips.map((ip) => ({ ip, decision: decideAddress(policy, ip, port, net.isIP(host) ? undefined : host, { localAddresses }) }));
    const ok = targets.find((t) => t.decision.allowed);
    if (ok) return { ip: ok.ip };
    const first = targets[0]!;
    const enforce = reactions.violation === 'refuse';
    const shown = `${host}:${port}${first.ip !== host ? ` (${first.ip})` : ''}`;
    onViolation({
      runId,
      time: new Date().toISOString(),
      kind: 'network',
      action: enforce ? 'blocked' : 'warned',
      severity: /metadata/.test(first.decision.rule) ? 'critical' : 'error',
      rule: first.decision.rule,
      message: `${enforce ? 'Blocked' : 'Allowed (warn mode), would block'} ${how} ${shown} through the sandbox proxy — ${first.decision.reason} (network preset ${policy.network.preset})`,
      address: first.ip,
      port,
      ...(net.isIP(host) ? {} : { host }),
    });
    return enforce ? { refused: first.decision.reason } : { ip: first.ip };
  };

  const server = http.createServer((req, res) => {
    // Plain http:// through the proxy: an absolute URL names the host.
    let url: URL;
    try {
      url = new URL(req.url ?? '');
      if (url.protocol !== 'http:') throw new Error('not http');
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('script-sandbox proxy: only absolute http:// URLs and CONNECT\n');
      return;
    }
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const port = Number(url.port || 80);
    void decide(host, port, 'http request to').then((d) => {
      if ('refused' in d) {
        res.writeHead(403, { 'content-type': 'text/plain', 'x-script-sandbox': 'blocked' }).end(`script-sandbox: blocked ${host}:${port}: ${d.refused}\n`);
        return;
      }
      const up = http.request({ host: d.ip, port, method: req.method, path: `${url.pathname}${url.search}`, headers: { ...req.headers, host: url.host } }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', (e) => (res.headersSent ? res.destroy() : res.writeHead(502, { 'content-type': 'text/plain' }).end(`script-sandbox proxy: ${e.message}\n`)));
      req.pipe(up);
    });
  });
  server.on('connection', track);
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const a = parseAuthority(req.url ?? '');
    if (!a) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    void decide(a.host, a.port, 'connect to').then((d) => {
      if ('refused' in d) {
        client.end(`HTTP/1.1 403 Forbidden\r\nX-Script-Sandbox: blocked\r\nContent-Type: text/plain\r\n\r\nscript-sandbox: blocked ${a.host}:${a.port}: ${d.refused}\n`);
        return;
      }
      const up = net.connect(a.port, d.ip, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length) up.write(head);
        up.pipe(client);
        client.pipe(up);
      });
      track(up);
      up.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
      client.on('close', () => up.destroy());
    });
  });
  server.on('clientError', (_e, s) => s.destroy());

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    port,
    env: () => ({ HTTP_PROXY: url, HTTPS_PROXY: url, http_proxy: url, https_proxy: url }),
    close: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}
