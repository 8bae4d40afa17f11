// Fixtures of the network suites: loopback servers that count the connections they get, the script that
// tries connections and prints what each one got, and a sandbox with that script in its workspace.
import * as net from 'node:net';
import { writeScript, type CliResult, type Sandbox } from './helpers';
import { useSandbox } from './use-sandbox';

export interface CountingServer {
  port: number;
  /** Connections accepted so far. */
  count(): number;
  close(): Promise<void>;
}

/** A TCP server that counts connections; null when the address/port cannot be had (a busy port). */
export async function countingServer(host: string, port = 0): Promise<CountingServer | null> {
  let n = 0;
  const srv = net.createServer((s) => {
    n++;
    s.on('error', () => undefined); // clients close at once; a reset is not a test failure
    s.end('hello\n');
  });
  const ok = await new Promise<boolean>((res) => {
    srv.once('error', () => res(false));
    srv.listen(port, host, () => res(true));
  });
  if (!ok) return null;
  return { port: (srv.address() as net.AddressInfo).port, count: () => n, close: () => new Promise((r) => srv.close(() => r())) };
}

/** `connect.py host:port ...`: tries each target and prints `[[target, "ok" | errno], ...]` as JSON. */
export const CONNECT_PY = `import socket, sys, json
out = []
for target in sys.argv[1:]:
    host, port = target.rsplit(':', 1)
    host = host.strip('[]')
    try:
        fam = socket.AF_INET6 if ':' in host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(3)
        addr = socket.getaddrinfo(host, int(port), fam, socket.SOCK_STREAM)[0][4]
        s.connect(addr)
        out.append([target, 'ok'])
        s.close()
    except OSError as e:
        out.append([target, e.errno])
print(json.dumps(out))
`;

/** What connect.py printed: per target, "ok" or the errno. */
export function connectResults(r: CliResult): Array<[string, string | number]> {
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '[]');
}

export function violations(r: CliResult): Array<Record<string, unknown>> {
  return r.events.filter((e) => e.type === 'violation');
}

/** useSandbox with connect.py in the workspace. */
export function useNetSandbox(): Sandbox {
  return useSandbox({ setup: (sb) => writeScript(sb.workspace, 'connect.py', CONNECT_PY) });
}
