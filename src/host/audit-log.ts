// The audit log: JSON Lines in the workspace, one record per line, each line chained to the one before by
// SHA-256 so that editing, deleting or reordering a line is detectable (`verifyAuditFile`).
//
// Durability and concurrency, the point of this module:
// - A line is one write(2) of the whole line on an O_APPEND fd. A short write (disk full) is cut back off
//   before the error is reported, so the file only ever holds whole lines of reported records.
// - Several processes (CLIs, VS Code windows) may write one file. Each append takes an exclusive flock on
//   `<file>.lock` (native/linux/file-lock: released by the kernel when a holder dies, even by SIGKILL), then
//   reads the file's actual last line to get seq/prev — another writer may have appended since — writes, and
//   unlocks. Records queued meanwhile are written in one lock hold, in order, one write per line.
// - A writer killed inside write(2) can leave an incomplete last line (the kernel checks for fatal signals
//   between pages). The next writer, under the lock, cuts that fragment off and records a `log_repaired`
//   line naming its length and hash, so the repair is itself on the record. A writer that finds the chain
//   ending below a seq it already wrote or saw (file deleted, lines cut) records `log_regressed` likewise.
// - fsync policy (option `fsync`, default 'lifecycle'): fdatasync after host/run lifecycle records
//   (run_started, run_finished, run_aborted, host_*, policy_error, log_*), not after each violation.
//   A SIGKILLed writer loses nothing either way (written lines are in the page cache); the sync bounds
//   what a power cut can take to the violations since the last lifecycle record, without letting a
//   script that floods violations turn every one of them into a disk flush. 'always' and 'never' exist.
// - Rotation by size: audit.jsonl → audit.1.jsonl → audit.2.jsonl …, dropping beyond `keep`; the chain goes
//   on in the new file (its first line's prev is the hash of the rotated file's last line).
// - Masking: every string of every record passes through maskSecrets (patterns + literal secret values)
//   before it is serialized, so no secret reaches the file in any field, command lines included.
// - The full resolved policy is written with the first run_started of its digest *in each file*, not only
//   once per chain: rotated files get dropped, and each file should stay self-contained for readers.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { maskSecrets } from '../policy/evaluate';
import {
  AUDIT_FORMAT_VERSION,
  AuditRecord,
  GENESIS_HASH,
  parseAuditLine,
  type AuditRecordInput,
  type AuditWriter,
} from '../protocol/audit';
import { SandboxError } from '../protocol/errors';
import { openFileLock, processIdentity, processLiveness, type FileLock, type ProcessIdentity } from '../../native/linux/file-lock';

export const DEFAULT_AUDIT_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_AUDIT_KEEP = 5;
/** Literal secret values shorter than this are not masked: masking "1" or "yes" would shred the log. */
export const MIN_SECRET_VALUE_LENGTH = 4;

export type FsyncPolicy = 'always' | 'lifecycle' | 'never';

export interface AuditLogOptions {
  /** Rotate when a line would take the file past this size. Default 10 MiB. */
  maxBytes?: number;
  /** Rotated files kept (audit.1.jsonl … audit.N.jsonl), at least 1. Default 5. */
  keep?: number;
  /** Regular expressions; matching text is masked in every field. */
  secretPatterns?: string[];
  /** Literal secret values masked in every field (see also addSecretValues). */
  secretValues?: string[];
  fsync?: FsyncPolicy;
  /** How long append waits for another writer's lock before failing with AUDIT_LOCKED. Default 10 s. */
  lockTimeoutMs?: number;
  /** Close runs of dead writers with run_aborted on open. Default true. */
  recover?: boolean;
  /** Clock for record times (tests). */
  now?: () => number;
  /** Tests only: write as this process identity (to simulate dead writers and reused pids). */
  writerIdentity?: ProcessIdentity;
}

const LIFECYCLE = new Set<AuditRecord['type']>(['host_started', 'host_stopped', 'run_started', 'run_finished', 'run_aborted', 'policy_error', 'log_repaired', 'log_regressed']);
const NEWLINE = 0x0a;

interface Pending {
  input: AuditRecordInput;
  resolve: (r: AuditRecord) => void;
  reject: (e: unknown) => void;
}

interface FileState {
  fd: number;
  ino: number;
  size: number;
}

interface ChainEnd {
  seq: number;
  hash: string;
}

/** `audit.jsonl` → `audit.3.jsonl`; a name without extension gets `.3` appended. */
export function rotatedPath(file: string, n: number): string {
  const ext = path.extname(file);
  return ext ? `${file.slice(0, -ext.length)}.${n}${ext}` : `${file}.${n}`;
}

/** Rotated siblings of `file` that exist, as { n, path }, newest (n = 1) first. */
export function rotatedSiblings(file: string): Array<{ n: number; path: string }> {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const ext = path.extname(base);
  const stem = ext ? base.slice(0, -ext.length) : base;
  const re = new RegExp(`^${escapeRe(stem)}\\.(\\d+)${escapeRe(ext)}$`);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: Array<{ n: number; path: string }> = [];
  for (const name of names) {
    const m = re.exec(name);
    if (m && Number(m[1]) > 0) out.push({ n: Number(m[1]), path: path.join(dir, name) });
  }
  return out.sort((a, b) => a.n - b.n);
}

/** Every file of the chain that exists, oldest first: audit.N.jsonl … audit.1.jsonl, audit.jsonl. */
export function auditChainFiles(file: string): string[] {
  const files = rotatedSiblings(file)
    .reverse()
    .map((s) => s.path);
  if (fs.existsSync(file)) files.push(file);
  return files;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function sha256(b: Buffer | string): string {
  return crypto.createHash('sha256').update(b).digest('hex');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (e) => (e ? reject(e) : resolve())));
}

/**
 * The last complete line of the first `size` bytes of fd, and how many bytes follow the last newline (an
 * incomplete line left by a writer that died mid-write). Reads backwards in growing windows.
 */
function readTail(fd: number, size: number): { lastLine: Buffer | null; tornBytes: number } {
  if (size === 0) return { lastLine: null, tornBytes: 0 };
  for (let window = Math.min(size, 64 * 1024); ; window = Math.min(size, window * 4)) {
    const buf = Buffer.alloc(window);
    readFully(fd, buf, size - window);
    const endNl = buf.lastIndexOf(NEWLINE);
    const atStart = window === size;
    if (endNl < 0) {
      if (atStart) return { lastLine: null, tornBytes: size };
      continue;
    }
    const startNl = endNl > 0 ? buf.lastIndexOf(NEWLINE, endNl - 1) : -1;
    if (startNl < 0 && !atStart) continue;
    return { lastLine: buf.subarray(startNl + 1, endNl), tornBytes: window - 1 - endNl };
  }
}

function readFully(fd: number, buf: Buffer, position: number): void {
  let off = 0;
  while (off < buf.length) {
    const n = fs.readSync(fd, buf, off, buf.length - off, position + off);
    if (n === 0) throw new SandboxError('AUDIT_BROKEN', 'audit file shrank while it was being read');
    off += n;
  }
}

/** Calls fn for each complete line (without its newline) of buf; returns the offset after the last newline. */
function forEachLine(buf: Buffer, fn: (line: Buffer, index: number) => void): number {
  let start = 0;
  let index = 0;
  for (;;) {
    const nl = buf.indexOf(NEWLINE, start);
    if (nl < 0) return start;
    fn(buf.subarray(start, nl), index++);
    start = nl + 1;
  }
}

export class AuditLog {
  readonly file: string;
  /** Identity stamped on every line this process writes. */
  readonly writer: AuditWriter;
  private readonly lockFile: string;
  private readonly lock: FileLock;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly patterns: string[];
  private readonly secrets = new Set<string>();
  private readonly fsyncPolicy: FsyncPolicy;
  private readonly lockTimeoutMs: number;
  private readonly now: () => number;

  private fd: number | null = null;
  /** Chain end as of our last write, valid while the file still has that inode and size. */
  private cache: (ChainEnd & { ino: number; size: number }) | null = null;
  /** Digests whose policy the current file already holds, from the bytes scanned so far. */
  private digestScan: { ino: number; scannedTo: number; digests: Set<string> } | null = null;
  /** Highest seq this process wrote or found at the chain's end: the chain must never end below it. */
  private highWater = 0;
  private readonly pending: Pending[] = [];
  private pumpScheduled = false;
  private ops: Promise<void> = Promise.resolve();
  private closed = false;

  /** Opens (creating the directory and file) and, unless opts.recover is false, closes runs of dead writers. */
  static async open(file: string, opts: AuditLogOptions = {}): Promise<AuditLog> {
    const log = new AuditLog(path.resolve(file), opts);
    if (opts.recover !== false) {
      try {
        await log.recoverAborted();
      } catch (e) {
        await log.close().catch(() => undefined);
        throw e;
      }
    }
    return log;
  }

  private constructor(file: string, opts: AuditLogOptions) {
    const keep = opts.keep ?? DEFAULT_AUDIT_KEEP;
    const maxBytes = opts.maxBytes ?? DEFAULT_AUDIT_MAX_BYTES;
    if (!Number.isInteger(keep) || keep < 1) throw new SandboxError('IO_FAILED', `audit keep must be a whole number ≥ 1, got ${keep}`);
    if (!(maxBytes > 0)) throw new SandboxError('IO_FAILED', `audit maxBytes must be positive, got ${maxBytes}`);
    this.file = file;
    this.keep = keep;
    this.maxBytes = maxBytes;
    this.patterns = [...(opts.secretPatterns ?? [])];
    this.fsyncPolicy = opts.fsync ?? 'lifecycle';
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 10_000;
    this.now = opts.now ?? Date.now;
    this.addSecretValues(opts.secretValues ?? []);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const self = processIdentity();
    const id = opts.writerIdentity ?? self;
    this.writer = { pid: id.pid, host: id.host, startedAt: id.startedAt, ...(id.bootId ? { bootId: id.bootId } : {}), ...(id.startTicks != null ? { startTicks: id.startTicks } : {}) };
    this.lockFile = `${file}.lock`;
    this.lock = openFileLock(this.lockFile, self);
  }

  /** Which lock mechanism is in force: flock, or the O_EXCL lock-file fallback. */
  get lockMechanism(): FileLock['mechanism'] {
    return this.lock.mechanism;
  }

  /** Secret patterns masked from now on, in addition to those given at open (e.g. a run's policy's). */
  addSecretPatterns(patterns: Iterable<string>): void {
    for (const p of patterns) if (typeof p === 'string' && p && !this.patterns.includes(p)) this.patterns.push(p);
  }

  /** Literal values masked from now on (e.g. values of filtered or secret-named variables). */
  addSecretValues(values: Iterable<string>): void {
    for (const v of values) if (typeof v === 'string' && v.length >= MIN_SECRET_VALUE_LENGTH) this.secrets.add(v);
  }

  /**
   * Queues a record; resolves with the line as written (seq, prev, time filled in, secrets masked) once it
   * is in the file (and synced, per the fsync policy). Records of one AuditLog keep their order.
   */
  append(record: AuditRecordInput): Promise<AuditRecord> {
    if (this.closed) return Promise.reject(new SandboxError('IO_FAILED', `audit log ${this.file} is closed`));
    let input: AuditRecordInput;
    try {
      input = this.mask(record);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<AuditRecord>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (!this.pumpScheduled) {
        this.pumpScheduled = true;
        void this.enqueue(() => this.pump());
      }
    });
  }

  /**
   * Appends run_aborted for every run_started whose run never finished and whose writer is provably dead
   * (same host, and the pid is gone, a zombie, from another boot, or now a different process by start
   * time). Runs of live writers, and of writers on other hosts, are left alone. Returns the run ids closed.
   */
  recoverAborted(): Promise<string[]> {
    return this.enqueue(async () => {
      const aborted = await this.withLock(() => {
        const open = new Map<string, AuditWriter>();
        for (const f of auditChainFiles(this.file)) {
          forEachLine(fs.readFileSync(f), (line) => {
            // Cheap pre-filter: only run_* lines matter, and most lines are violations.
            if (line.indexOf('"type":"run_') < 0) return;
            const p = parseAuditLine(line.toString('utf8'));
            if (!p.ok) return;
            const r = p.record;
            if (r.type === 'run_started') open.set(r.runId, r.writer);
            else if (r.type === 'run_finished' || r.type === 'run_aborted') open.delete(r.runId);
          });
        }
        const closed: string[] = [];
        for (const [runId, w] of open) {
          if (processLiveness(w) !== 'dead') continue;
          this.writeOne({
            type: 'run_aborted',
            runId,
            reason: `writer process ${w.pid} on ${w.host} (started ${w.startedAt}) is gone and the run never finished`,
          });
          closed.push(runId);
        }
        return closed;
      });
      if (aborted.length) await this.sync(true);
      return aborted;
    });
  }

  /** Resolves when every record queued so far is written. */
  flush(): Promise<void> {
    return this.enqueue(async () => undefined);
  }

  /** Writes what is queued, syncs, and releases the file and the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true; // later appends are refused; the ones already queued are written first
    await this.flush();
    if (this.fd != null) {
      if (this.fsyncPolicy !== 'never') await fdatasync(this.fd).catch(() => undefined);
      fs.closeSync(this.fd);
      this.fd = null;
    }
    this.lock.close();
  }

  // ---- internals ----

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.ops.then(fn);
    this.ops = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  /** Writes every pending record in one lock hold; appends made meanwhile schedule the next pump. */
  private async pump(): Promise<void> {
    let batch: Pending[] = [];
    let results: Array<{ ok: true; record: AuditRecord } | { ok: false; error: unknown }>;
    try {
      results = await this.withLock(() => {
        this.pumpScheduled = false;
        batch = this.pending.splice(0);
        return batch.map((b) => {
          try {
            return { ok: true as const, record: this.writeOne(b.input) };
          } catch (error) {
            return { ok: false as const, error };
          }
        });
      });
    } catch (e) {
      // The lock never came: everything waiting fails, nothing was written.
      this.pumpScheduled = false;
      for (const b of this.pending.splice(0)) b.reject(e);
      return;
    }
    const needSync = this.fsyncPolicy === 'always' || results.some((r) => r.ok && LIFECYCLE.has(r.record.type));
    let syncError: unknown = null;
    if (results.some((r) => r.ok)) await this.sync(needSync).catch((e) => (syncError = e));
    batch.forEach((b, i) => {
      const r = results[i]!;
      if (!r.ok) b.reject(r.error);
      else if (syncError) b.reject(new SandboxError('IO_FAILED', `audit line ${r.record.seq} written but not synced: ${(syncError as Error).message}`));
      else b.resolve(r.record);
    });
  }

  private async sync(wanted: boolean): Promise<void> {
    if (!wanted || this.fsyncPolicy === 'never' || this.fd == null) return;
    await fdatasync(this.fd);
  }

  /** Polls LOCK_EX|LOCK_NB with short, jittered, growing sleeps: the event loop never waits on the lock. */
  private async withLock<T>(fn: () => T): Promise<T> {
    const deadline = Date.now() + this.lockTimeoutMs;
    let delay = 1;
    while (!this.lock.tryAcquire()) {
      if (Date.now() >= deadline) {
        throw new SandboxError('AUDIT_LOCKED', `audit log ${this.file}: another writer held ${path.basename(this.lockFile)} for over ${this.lockTimeoutMs} ms`);
      }
      await sleep(delay * (0.5 + Math.random()));
      delay = Math.min(delay * 2, 8);
    }
    try {
      return fn();
    } finally {
      this.lock.release();
    }
  }

  /** The current file, reopened when another writer rotated it away since our last write. Lock held. */
  private current(): FileState {
    let onDisk: fs.Stats | null = null;
    try {
      onDisk = fs.statSync(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(`stat ${this.file}`, e);
    }
    if (this.fd != null) {
      const mine = fs.fstatSync(this.fd);
      if (onDisk && onDisk.ino === mine.ino && onDisk.dev === mine.dev) return { fd: this.fd, ino: mine.ino, size: mine.size };
      fs.closeSync(this.fd);
      this.fd = null;
      this.cache = null;
      this.digestScan = null;
    }
    try {
      this.fd = fs.openSync(this.file, fs.constants.O_RDWR | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o600);
    } catch (e) {
      throw ioError(`open ${this.file}`, e);
    }
    const st = fs.fstatSync(this.fd);
    return { fd: this.fd, ino: st.ino, size: st.size };
  }

  /** seq and hash of the chain's last line, repairing an incomplete tail first. Lock held; may write. */
  private chainEnd(st: FileState): ChainEnd {
    const c = this.cache;
    if (c && c.ino === st.ino && c.size === st.size) return { seq: c.seq, hash: c.hash };
    const end = this.readChainEnd(st);
    if (end.seq < this.highWater) {
      // Lines this process wrote or saw are gone (file deleted or cut back): no legitimate operation does
      // that, so say it in the chain before going on from what is left.
      const expected = this.highWater;
      this.highWater = end.seq;
      this.writeOne({
        type: 'log_regressed',
        expectedSeq: expected,
        foundSeq: end.seq,
        reason: `the chain ended at seq ${expected} when this writer last saw it and now ends at seq ${end.seq}: lines or files were removed`,
      });
      return { seq: this.cache!.seq, hash: this.cache!.hash };
    }
    this.highWater = end.seq;
    return end;
  }

  private readChainEnd(st: FileState): ChainEnd {
    const { lastLine, tornBytes } = readTail(st.fd, st.size);
    if (tornBytes > 0) return this.repairTail(st, tornBytes);
    if (lastLine) return this.endOf(lastLine, this.file);
    // Empty current file: the chain ends in the newest rotated file that has a line.
    for (const r of rotatedSiblings(this.file)) {
      const fd = fs.openSync(r.path, 'r');
      try {
        const t = readTail(fd, fs.fstatSync(fd).size);
        if (t.lastLine) return this.endOf(t.lastLine, r.path);
      } finally {
        fs.closeSync(fd);
      }
    }
    return { seq: 0, hash: GENESIS_HASH };
  }

  private endOf(line: Buffer, file: string): ChainEnd {
    const p = parseAuditLine(line.toString('utf8'));
    if (!p.ok) throw new SandboxError('AUDIT_BROKEN', `the last line of ${file} ${p.reason}; refusing to extend a broken chain (see "script-sandbox audit verify"; move the file aside to start a new chain)`);
    return { seq: p.record.seq, hash: sha256(line) };
  }

  /** Cuts off an incomplete last line (a writer died inside write) and records that it did. Lock held. */
  private repairTail(st: FileState, tornBytes: number): ChainEnd {
    const keepBytes = st.size - tornBytes;
    const torn = Buffer.alloc(tornBytes);
    readFully(st.fd, torn, keepBytes);
    fs.ftruncateSync(st.fd, keepBytes);
    this.cache = null;
    this.writeOne({
      type: 'log_repaired',
      file: path.basename(this.file),
      removedBytes: tornBytes,
      removedSha256: sha256(torn),
      reason: 'incomplete last line cut off: a writer died in the middle of writing it',
    });
    return { seq: this.cache!.seq, hash: this.cache!.hash };
  }

  /** Serializes and writes one record at the chain's end, rotating first when it would overflow. Lock held. */
  private writeOne(input: AuditRecordInput): AuditRecord {
    let st = this.current();
    const c = this.cache;
    const known = c !== null && c.ino === st.ino && c.size === st.size;
    const end = this.chainEnd(st);
    // Off the fast path a repair or regression line may have been written first (possibly rotating).
    if (!known) st = this.current();
    let { record, line } = this.serialize(input, end, st);
    if (st.size > 0 && st.size + line.length > this.maxBytes) {
      this.rotate();
      st = this.current();
      ({ record, line } = this.serialize(input, end, st));
    }
    let written = 0;
    try {
      written = fs.writeSync(st.fd, line);
    } catch (e) {
      this.cutBack(st);
      throw ioError(`write ${this.file}`, e);
    }
    if (written !== line.length) {
      this.cutBack(st);
      throw new SandboxError('AUDIT_BROKEN', `short write to ${this.file} (${written} of ${line.length} bytes); the partial line was removed`);
    }
    const size = st.size + line.length;
    this.cache = { ino: st.ino, size, seq: record.seq, hash: sha256(line.subarray(0, line.length - 1)) };
    this.highWater = record.seq;
    if (record.type === 'run_started' && record.policy) this.noteDigest(st, record.policyDigest);
    return record;
  }

  /** After a failed write, remove whatever part of the line reached the file. */
  private cutBack(st: FileState): void {
    try {
      fs.ftruncateSync(st.fd, st.size);
    } catch {
      // nothing more we can do; the next writer repairs an incomplete tail
    }
    this.cache = null;
  }

  private serialize(input: AuditRecordInput, end: ChainEnd, st: FileState): { record: AuditRecord; line: Buffer } {
    let body: AuditRecordInput = input;
    if (input.type === 'run_started' && input.policy && this.fileHasPolicy(st, input.policyDigest)) {
      const { policy: _omitted, ...rest } = input;
      body = rest;
    }
    const candidate = {
      v: AUDIT_FORMAT_VERSION,
      seq: end.seq + 1,
      prev: end.hash,
      time: new Date(this.now()).toISOString(),
      writer: this.writer,
      ...body,
    };
    const parsed = AuditRecord.safeParse(candidate);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new SandboxError('PROTOCOL_INVALID', `audit record ${input.type} is invalid: ${i.path.join('.') || '(root)'}: ${i.message}`);
    }
    return { record: parsed.data, line: Buffer.from(`${JSON.stringify(parsed.data)}\n`, 'utf8') };
  }

  private rotate(): void {
    if (this.fd != null) {
      if (this.fsyncPolicy !== 'never') fs.fdatasyncSync(this.fd);
      fs.closeSync(this.fd);
      this.fd = null;
    }
    this.cache = null;
    this.digestScan = null;
    try {
      // Highest first, so every rename's target has already moved on; beyond `keep` is dropped.
      for (const r of rotatedSiblings(this.file).reverse()) {
        if (r.n >= this.keep) fs.rmSync(r.path, { force: true });
        else fs.renameSync(r.path, rotatedPath(this.file, r.n + 1));
      }
      fs.renameSync(this.file, rotatedPath(this.file, 1));
    } catch (e) {
      throw ioError(`rotate ${this.file}`, e);
    }
    if (this.fsyncPolicy !== 'never') syncDir(path.dirname(this.file));
  }

  /** Whether the current file already holds the full policy for this digest; scans only new bytes. */
  private fileHasPolicy(st: FileState, digest: string): boolean {
    let scan = this.digestScan;
    if (!scan || scan.ino !== st.ino || scan.scannedTo > st.size) scan = this.digestScan = { ino: st.ino, scannedTo: 0, digests: new Set() };
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

  private noteDigest(st: FileState, digest: string): void {
    if (this.digestScan && this.digestScan.ino === st.ino) this.digestScan.digests.add(digest);
  }

  /** Every string in the record, at any depth, through the secret masker. Keys are names and stay. */
  private mask<T>(value: T): T {
    const values = [...this.secrets].sort((a, b) => b.length - a.length);
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return maskSecrets(v, this.patterns, values);
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object') {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) out[k] = walk(x);
        return out;
      }
      return v;
    };
    return walk(value) as T;
  }
}

function syncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // some file systems refuse fsync on directories; the renames still happened
  } finally {
    if (fd != null) fs.closeSync(fd);
  }
}

function ioError(what: string, e: unknown): SandboxError {
  const err = e as NodeJS.ErrnoException;
  return new SandboxError('IO_FAILED', `${what}: ${err.code ?? err.message}`, { call: what.split(' ')[0], errno: typeof err.errno === 'number' ? -err.errno : undefined });
}

// ---- verification ----

export interface VerifyResult {
  ok: boolean;
  /** Lines checked (whole lines, across all files). */
  lines: number;
  /** Files checked, oldest first. */
  files: string[];
  firstSeq?: number;
  lastSeq?: number;
  /** The chain starts at seq 1 (nothing rotated out of it). */
  anchored: boolean;
  /** An incomplete last line in the newest file: a writer died mid-write; the next writer cuts it off. */
  incompleteTail?: { file: string; bytes: number };
  firstBroken?: { file: string; line: number; reason: string };
}

const ROTATED_NAME = /\.\d+(\.[^./]+)?$/;

/**
 * Checks every line: whole and terminated, valid JSON, valid against the shared schema, seq = previous + 1,
 * prev = SHA-256 of the previous line (across files). Given one path of the current file, its rotated
 * siblings are found and checked oldest → newest; given a list, it is taken as the chain in that order.
 *
 * Where a check fails, the line reported is the one that is wrong as far as the chain can tell: a line whose
 * seq is out of place (deleted or reordered lines), or — when a line's hash no longer matches the next
 * line's prev — the changed line itself. The last line of the chain has no successor yet, so a change to it
 * is only detectable once another line follows (host_stopped on close provides one).
 */
export function verifyAuditFile(files: string[] | string): VerifyResult {
  const list = typeof files === 'string' ? auditChainFiles(path.resolve(files)) : files.map((f) => path.resolve(f));
  const result: VerifyResult = { ok: true, lines: 0, files: list, anchored: false };
  const broken = (file: string, line: number, reason: string): VerifyResult => ({ ...result, ok: false, firstBroken: { file, line, reason } });
  if (!list.length) return broken(typeof files === 'string' ? path.resolve(files) : '(none)', 0, 'no audit file found');

  let prev: { seq: number; hash: string; file: string; line: number } | null = null;
  for (let fi = 0; fi < list.length; fi++) {
    const file = list[fi]!;
    let buf: Buffer;
    try {
      buf = fs.readFileSync(file);
    } catch (e) {
      return broken(file, 0, `cannot read (${(e as NodeJS.ErrnoException).code})`);
    }
    const { lines, rest } = splitLines(buf);
    for (let li = 0; li < lines.length; li++) {
      const raw = lines[li]!;
      const lineNo = li + 1;
      if (raw.length === 0) return broken(file, lineNo, 'empty line');
      const p = parseAuditLine(raw.toString('utf8'));
      if (!p.ok) return broken(file, lineNo, p.reason);
      const r = p.record;
      if (!prev) {
        if (r.seq === 1) {
          if (r.prev !== GENESIS_HASH) return broken(file, lineNo, 'seq 1 must have the genesis prev (64 zeros)');
          result.anchored = true;
        } else if (!ROTATED_NAME.test(path.basename(file))) {
          // Only a rotated file may start mid-chain (older files were dropped); the current file may not.
          return broken(file, lineNo, `the chain starts at seq ${r.seq}, not 1: lines before it are missing`);
        }
        result.firstSeq = r.seq;
      } else {
        if (r.seq !== prev.seq + 1) {
          const why = r.seq > prev.seq + 1 ? `${r.seq - prev.seq - 1} line(s) missing before it, or lines reordered` : 'a line repeated or lines reordered';
          return broken(file, lineNo, `seq ${r.seq} where ${prev.seq + 1} was expected: ${why}`);
        }
        if (r.prev !== prev.hash) {
          const here = prev.file === file ? `line ${lineNo}` : `line ${lineNo} of ${path.basename(file)}`;
          return broken(prev.file, prev.line, `its hash does not match the prev recorded in ${here}: this line was changed after it was written (or that prev was)`);
        }
      }
      prev = { seq: r.seq, hash: sha256(raw), file, line: lineNo };
      result.lines++;
      result.lastSeq = r.seq;
    }
    if (rest > 0) {
      if (fi === list.length - 1) result.incompleteTail = { file, bytes: rest };
      else return broken(file, lines.length + 1, 'incomplete last line in a rotated file');
    }
  }
  return result;
}

/** Complete lines of buf (without newlines) and the length of an unterminated rest. */
function splitLines(buf: Buffer): { lines: Buffer[]; rest: number } {
  const lines: Buffer[] = [];
  const end = forEachLine(buf, (line) => lines.push(line));
  return { lines, rest: buf.length - end };
}

/** Reads all records of the chain (oldest first), skipping lines that do not parse. For readers (CLI). */
export function readAuditRecords(file: string): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (const f of auditChainFiles(path.resolve(file))) {
    forEachLine(fs.readFileSync(f), (line) => {
      const p = parseAuditLine(line.toString('utf8'));
      if (p.ok) out.push(p.record);
    });
  }
  return out;
}
