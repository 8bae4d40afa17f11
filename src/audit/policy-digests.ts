// Which policy digests the current audit file already holds in full: the full resolved policy is written
// with the first run_started of its digest in each file (rotated files get dropped, and each file should
// stay self-contained for readers). Scans only bytes not scanned yet.
import { forEachLine, readFully } from './lines';

export class PolicyDigests {
  private scan: { ino: number; scannedTo: number; digests: Set<string> } | null = null;

  reset(): void {
    this.scan = null;
  }

  /** Whether the file (fd, inode, size) holds the full policy for digest. */
  has(st: { fd: number; ino: number; size: number }, digest: string): boolean {
    let scan = this.scan;
    if (!scan || scan.ino !== st.ino || scan.scannedTo > st.size) scan = this.scan = { ino: st.ino, scannedTo: 0, digests: new Set() };
    if (scan.scannedTo < st.size) {
      const buf = Buffer.alloc(st.size - scan.scannedTo);
      readFully(st.fd, buf, scan.scannedTo);
      const s = scan;
      s.scannedTo += forEachLine(buf, (line) => {
        if (line.indexOf('"type":"run_started"') < 0 || line.indexOf('"policy":{') < 0) return;
        const digest = fullPolicyDigest(line.toString('utf8'));
        if (digest !== null) s.digests.add(digest);
      });
    }
    return scan.digests.has(digest);
  }

  /** The file with this inode now holds digest's policy (just written). */
  note(ino: number, digest: string): void {
    if (this.scan && this.scan.ino === ino) this.scan.digests.add(digest);
  }
}

/**
 * The policyDigest of a run_started line that carries its full policy, else null. A JSON read of the three
 * fields, not the record schema's parse: that schema's first use cost a cold CLI run tens of ms on its path
 * to the exit code, and it would prove nothing more here (a schema-valid line is no more authentic than
 * this; the chain's macs are what `audit verify` checks).
 */
function fullPolicyDigest(text: string): string | null {
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof r !== 'object' || r === null) return null;
  const { type, policy, policyDigest } = r as { type?: unknown; policy?: unknown; policyDigest?: unknown };
  return type === 'run_started' && typeof policy === 'object' && policy !== null && typeof policyDigest === 'string' ? policyDigest : null;
}
