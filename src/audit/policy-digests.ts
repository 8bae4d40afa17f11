// Which policy digests the current audit file already holds in full: the full resolved policy is written
// with the first run_started of its digest in each file (rotated files get dropped, and each file should
// stay self-contained for readers). Scans only bytes not scanned yet.
import { parseAuditLine } from '../protocol/audit';
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
        const p = parseAuditLine(line.toString('utf8'));
        if (p.ok && p.record.type === 'run_started' && p.record.policy) s.digests.add(p.record.policyDigest);
      });
    }
    return scan.digests.has(digest);
  }

  /** The file with this inode now holds digest's policy (just written). */
  note(ino: number, digest: string): void {
    if (this.scan && this.scan.ino === ino) this.scan.digests.add(digest);
  }
}
