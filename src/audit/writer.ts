// The audit log's writer: JSON Lines, one keyed, chained record per line (format: ./chain.ts). The log
// sits where the user chose (default: the workspace's `.sandbox`), opened without following links
// (./safe-dir.ts); the key that seals lines and the writers' lock sit in the user's state folder
// (./key.ts), out of every script's reach: a script can neither forge lines nor hold the lock.
//
// - A line is one write(2) of the whole line on an O_APPEND fd; a short write is cut back off before the
//   error is reported, so the file only ever holds whole lines of reported records.
// - Several processes may write one file. Each append takes the exclusive lock (released by the kernel
//   when a holder dies), re-reads the file's last line for seq/prev, writes, and unlocks; records queued
//   meanwhile go in one lock hold, in order.
// - An incomplete last line (a writer killed inside write(2)) is cut off and recorded (`log_repaired`); a
//   chain ending below a seq this writer saw is recorded (`log_regressed`); a last line whose seal does
//   not hold is not extended (AUDIT_BROKEN): the writer never vouches for a line it cannot check.
// - fsync (option `fsync`, default 'lifecycle'): after lifecycle records, not after each violation, so a
//   script that floods violations cannot turn each into a disk flush. Rotation by size: ./rotation.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AUDIT_FORMAT_VERSION, AuditRecord, type AuditRecordInput, type AuditWriter } from '../protocol/audit';
import { SandboxError } from '../errors';
import { openFileLock, processIdentity, type FileLock } from '../../native/linux/file-lock';
import { sealLine, sha256 } from './chain';
import { auditLockPath, defaultStateDir, ioError, loadOrCreateAuditKey } from './key';
import { readFully } from './lines';
import { findChainEnd, type ChainEnd } from './tail';
import { withFileLock } from './lock';
import { SecretMasker } from './mask';
import { DEFAULT_AUDIT_KEEP, DEFAULT_AUDIT_MAX_BYTES, type AuditLogOptions, type FsyncPolicy } from './options';
import { PolicyDigests } from './policy-digests';
import { describeZodError } from '../policy/schema';
import { abortedReason, deadWriters } from './recover';
import { recoveryCheckpointPath, scanOpenRuns } from './recover-checkpoint';
import { rotateFiles, syncDir } from './rotation';
import { openLogDir, openLogFile, type LogDir } from './safe-dir';

const LIFECYCLE = new Set<AuditRecord['type']>(['host_started', 'host_stopped', 'run_started', 'run_finished', 'run_aborted', 'policy_error', 'log_repaired', 'log_regressed']);

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

function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (e) => (e ? reject(e) : resolve())));
}

export class AuditLog {
  readonly file: string;
  /** Identity stamped on every line this process writes. */
  readonly writer: AuditWriter;
  /** Where the writers' lock lives (the state folder, never next to the log). */
  readonly lockFile: string;
  /** Where the last recovery scan of this log ended (recover-checkpoint.ts). */
  private readonly checkpointFile: string;
  private readonly dir: LogDir;
  private readonly key: Buffer;
  private readonly lock: FileLock;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly masker: SecretMasker;
  private readonly fsyncPolicy: FsyncPolicy;
  private readonly lockTimeoutMs: number;
  private readonly now: () => number;

  private fd: number | null = null;
  /** Chain end as of our last write, valid while the file still has that inode and size. */
  private cache: (ChainEnd & { ino: number; size: number }) | null = null;
  /** Digests whose policy the current file already holds. */
  private readonly digests = new PolicyDigests();
  /** Highest seq this process wrote or found at the chain's end: the chain must never end below it. */
  private highWater = 0;
  private readonly pending: Pending[] = [];
  private pumpScheduled = false;
  private ops: Promise<void> = Promise.resolve();
  private closed = false;

  /**
   * Opens (creating the folder, file and key) and, unless opts.recover is false, closes runs of dead
   * writers. A folder or file that is a link, not ours, or writable by others fails with AUDIT_UNSAFE_PATH.
   */
  static async open(file: string, opts: AuditLogOptions = {}): Promise<AuditLog> {
    const log = new AuditLog(path.resolve(file), opts);
    try {
      log.current(); // refuse an unsafe file now, not at the first record
      if (opts.recover !== false) await log.recoverAborted();
    } catch (e) {
      await log.close().catch(() => undefined);
      throw e;
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
    this.masker = new SecretMasker(opts.secretPatterns ?? [], opts.secretValues ?? []);
    this.fsyncPolicy = opts.fsync ?? 'lifecycle';
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 10_000;
    this.now = opts.now ?? Date.now;
    const stateDir = opts.stateDir ?? defaultStateDir();
    this.key = loadOrCreateAuditKey(stateDir);
    this.dir = openLogDir(file, opts.workspace);
    const self = processIdentity();
    const id = opts.writerIdentity ?? self;
    this.writer = { pid: id.pid, host: id.host, startedAt: id.startedAt, ...(id.bootId ? { bootId: id.bootId } : {}), ...(id.startTicks != null ? { startTicks: id.startTicks } : {}) };
    try {
      this.lockFile = auditLockPath(stateDir, path.join(this.dir.realDir, this.dir.base));
      this.checkpointFile = recoveryCheckpointPath(stateDir, path.join(this.dir.realDir, this.dir.base));
      this.lock = openFileLock(this.lockFile, self);
    } catch (e) {
      this.dir.close();
      throw ioError(`lock for ${file}`, e);
    }
  }

  /** Which lock mechanism is in force: flock, or the O_EXCL lock-file fallback. */
  get lockMechanism(): FileLock['mechanism'] {
    return this.lock.mechanism;
  }

  /** Secret patterns masked from now on, in addition to those given at open (e.g. a run's policy's). */
  addSecretPatterns(patterns: Iterable<string>): void {
    this.masker.addPatterns(patterns);
  }

  /** Literal values masked from now on (e.g. values of filtered or secret-named variables). */
  addSecretValues(values: Iterable<string>): void {
    this.masker.addValues(values);
  }

  /**
   * Queues a record; resolves with the line as written (seq, prev, time, mac filled in, secrets masked)
   * once it is in the file (and synced, per the fsync policy). Records of one AuditLog keep their order.
   */
  append(record: AuditRecordInput): Promise<AuditRecord> {
    if (this.closed) return Promise.reject(new SandboxError('IO_FAILED', `audit log ${this.file} is closed`));
    let input: AuditRecordInput;
    try {
      input = this.masker.mask(record);
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

  /** Appends run_aborted for every open run of a dead writer (./recover.ts). Returns the run ids closed. */
  recoverAborted(): Promise<string[]> {
    return this.enqueue(async () => {
      const aborted = await this.withLock(() => {
        let scan: ReturnType<typeof scanOpenRuns>;
        try {
          scan = scanOpenRuns(this.dir, this.checkpointFile);
        } catch (e) {
          throw ioError(`read ${this.dir.base}`, e);
        }
        // Where this scan ended, before the run_aborted lines: the next scan reads those as any new line.
        scan.save();
        return deadWriters(scan.open).map(({ runId, writer }) => {
          this.writeOne({ type: 'run_aborted', runId, reason: abortedReason(writer) });
          return runId;
        });
      });
      if (aborted.length) await this.sync(true);
      return aborted;
    });
  }

  /** Resolves when every record queued so far is written. */
  flush(): Promise<void> {
    return this.enqueue(async () => undefined);
  }

  /** Writes what is queued, syncs, and releases the file, the folder and the lock. */
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
    this.dir.close();
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

  private withLock<T>(fn: () => T): Promise<T> {
    return withFileLock(this.lock, this.lockTimeoutMs, () => `audit log ${this.file}: another writer held ${this.lockFile} for over ${this.lockTimeoutMs} ms`, fn);
  }

  /** The current file, reopened when another writer rotated it away since our last write. */
  private current(): FileState {
    let onDisk: fs.Stats | null = null;
    try {
      onDisk = fs.lstatSync(this.dir.at(this.dir.base));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(`stat ${this.file}`, e);
    }
    if (this.fd != null) {
      const mine = fs.fstatSync(this.fd);
      if (onDisk && onDisk.ino === mine.ino && onDisk.dev === mine.dev) return { fd: this.fd, ino: mine.ino, size: mine.size };
      fs.closeSync(this.fd);
      this.fd = null;
      this.cache = null;
      this.digests.reset();
    }
    this.fd = openLogFile(this.dir, this.dir.base);
    const st = fs.fstatSync(this.fd);
    return { fd: this.fd, ino: st.ino, size: st.size };
  }

  /** seq and link of the chain's last line, repairing an incomplete tail first. Lock held; may write. */
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
    const end = findChainEnd(this.dir, this.key, st);
    return 'tornBytes' in end ? this.repairTail(st, end.tornBytes) : end;
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
      file: this.dir.base,
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
    this.cache = { ino: st.ino, size, seq: record.seq, hash: record.mac! };
    this.highWater = record.seq;
    if (record.type === 'run_started' && record.policy) this.digests.note(st.ino, record.policyDigest);
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
    if (input.type === 'run_started' && input.policy && this.digests.has(st, input.policyDigest)) {
      const { policy: _omitted, ...rest } = input;
      body = rest;
    }
    const candidate = { v: AUDIT_FORMAT_VERSION, seq: end.seq + 1, prev: end.hash, time: new Date(this.now()).toISOString(), writer: this.writer, ...body };
    const parsed = AuditRecord.safeParse(candidate);
    if (!parsed.success) {
      throw new SandboxError('PROTOCOL_INVALID', describeZodError(parsed.error, `audit record ${input.type} is invalid`, { first: true }));
    }
    const { line, mac } = sealLine(this.key, parsed.data);
    return { record: { ...parsed.data, mac }, line };
  }

  private rotate(): void {
    if (this.fd != null) {
      if (this.fsyncPolicy !== 'never') fs.fdatasyncSync(this.fd);
      fs.closeSync(this.fd);
      this.fd = null;
    }
    this.cache = null;
    this.digests.reset();
    try {
      rotateFiles(this.dir.at(this.dir.base), this.keep);
    } catch (e) {
      throw ioError(`rotate ${this.file}`, e);
    }
    if (this.fsyncPolicy !== 'never') syncDir(this.dir.at('.'));
  }
}
