// The private devpts step and its grant: /dev/pts as a whole is granted only in the namespace tier, and the
// launcher keeps that rule only when it made the private instance; any failure falls back to the exact
// paths (never to the host's instance as a whole).
import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import { DEVPTS_RULE_PATH, devptsStep } from '../../../native/linux/apply';
import { sysError, type Libc } from '../../../native/linux/libc';
import type { LandlockRule, LinuxPlan, NamespacePlan } from '../../../src/protocol/plan';
import { DEVPTS_DIR, terminalGrants } from '../../../src/policy/terminal-grants';
import { grantsAllow } from '../../../src/policy/grants-allow';

const libc = {} as Libc;
const ns: NamespacePlan = { writable: ['/'], readOnly: [], hidden: [], pinned: [], isolateNetwork: false };
const rules: LandlockRule[] = [
  { path: '/dev/ptmx', access: ['read_file', 'write_file', 'ioctl_dev'] },
  { path: '/dev/pts/ptmx', access: ['read_file', 'write_file', 'ioctl_dev'] },
  { path: '/dev/pts', access: ['read_file', 'write_file', 'ioctl_dev', 'read_dir'] },
];
const plan = (namespaces: NamespacePlan | null): LinuxPlan => ({
  platform: 'linux',
  runId: 'r',
  file: '/bin/true',
  argv: ['true'],
  env: {},
  cwd: '/',
  rlimits: [],
  noNewPrivs: true,
  landlock: { handled: ['read_file'], rules, carveOuts: [], scopes: [] },
  seccomp: null,
  requireLandlock: true,
  namespaces,
});
const paths = (p: LinuxPlan) => p.landlock!.rules.map((r) => r.path);

describe('private devpts', () => {
  it('the launcher drops the same path fs-model grants', () => assert.equal(DEVPTS_RULE_PATH, DEVPTS_DIR));

  it('/dev/pts as a whole is granted in the namespace tier only; the exact paths in both', () => {
    const ns = terminalGrants('/dev/pts/7', 'namespaces');
    const fb = terminalGrants('/dev/pts/7', 'fallback');
    assert.ok(grantsAllow(ns, '/dev/pts/3', 'write'));
    assert.ok(!grantsAllow(fb, '/dev/pts/3', 'write'));
    for (const g of [ns, fb]) for (const p of ['/dev/ptmx', '/dev/pts/ptmx', '/dev/pts/7']) assert.ok(grantsAllow(g, p, 'write'), p);
    assert.deepEqual(terminalGrants('/dev/pts/7'), fb, 'the default is the fallback tier');
  });

  it('mounted: the /dev/pts rule stays', () => {
    let mounted = 0;
    const out = devptsStep(libc, plan(ns), () => void mounted++);
    assert.equal(mounted, 1);
    assert.deepEqual(paths(out), ['/dev/ptmx', '/dev/pts/ptmx', '/dev/pts']);
  });

  it('mount refused: the /dev/pts rule is dropped, the exact paths stay', () => {
    const out = devptsStep(libc, plan(ns), () => {
      throw sysError('mount', os.constants.errno.EPERM);
    });
    assert.deepEqual(paths(out), ['/dev/ptmx', '/dev/pts/ptmx']);
  });

  it('no namespace stage (fallback tier, warn): no mount is tried, the /dev/pts rule is dropped', () => {
    const out = devptsStep(libc, plan(null), () => assert.fail('mounted without a namespace stage'));
    assert.deepEqual(paths(out), ['/dev/ptmx', '/dev/pts/ptmx']);
  });

  it('an unexpected error (not a failed call) is not swallowed', () => {
    assert.throws(() => devptsStep(libc, plan(ns), () => {
      throw new TypeError('bug');
    }), TypeError);
  });
});
