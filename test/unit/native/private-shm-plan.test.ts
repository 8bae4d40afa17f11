// The namespace plan's private /dev/shm: present when the run may write /dev/shm, sized to its memory limit.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolvePolicy } from '../../../src/policy';
import { runFs } from '../../../native/linux/compile-plan';

describe('namespace plan: private /dev/shm', function () {
  let root: string;
  let ws: string;
  beforeEach(function () {
    if (!fs.existsSync('/dev/shm') || fs.realpathSync('/dev/shm') !== '/dev/shm') this.skip(); // no /dev/shm directory on this machine
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ns-shm-')));
    ws = path.join(root, 'ws');
    fs.mkdirSync(path.join(ws, 'run-tmp'), { recursive: true });
  });
  afterEach(() => root && fs.rmSync(root, { recursive: true, force: true }));

  const mounts = (run: Record<string, unknown>) => {
    const p = resolvePolicy({ run: { mode: 'enforce', ...run } }, { workspace: ws, home: path.join(root, 'home') }).policy;
    return runFs(p, { tmpDir: path.join(ws, 'run-tmp'), toolRoots: [], file: '/bin/sh', listener: true, namespaces: true }).mounts!;
  };

  it('moderate: /dev/shm writable, so a private tmpfs of the memory limit', () => {
    assert.deepEqual(mounts({ profile: 'moderate', limits: { memoryMiB: 64 } }).privateShm, { sizeBytes: 64 * 1024 * 1024 });
  });

  it('no memory limit: tmpfs default size', () => {
    assert.deepEqual(mounts({ profile: 'permissive' }).privateShm, { sizeBytes: null });
  });

  it('a /dev/shm the policy hides (denyRead) gets no private tmpfs over the hiding mount', () => {
    const ns = mounts({ profile: 'moderate', filesystem: { denyRead: ['/dev/shm'] } });
    if (!ns.hidden.includes('/dev/shm')) return; // hidden by Landlock only in this policy shape: nothing to cover
    assert.equal(ns.privateShm, undefined);
  });

  it('strict: /dev/shm is not writable, so no private tmpfs (it stays read-only)', () => {
    assert.equal(mounts({ profile: 'strict' }).privateShm, undefined);
  });
});
