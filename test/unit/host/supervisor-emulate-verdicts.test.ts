// Warn mode's only refusal where the supervisor performs calls (supervisor-emulate-verdicts.ts): the integrity
// set as the kernel keeps it. The supervisor performs in the host's view, where the namespace tier's
// read-only binds and covers do not exist, so its model's mounts must refuse as its grants do.
import * as assert from 'node:assert/strict';
import { integrityAllows } from '../../../src/host/linux/supervisor-emulate-verdicts';
import type { FsModel, Grant } from '../../../src/policy/fs-model-types';

const ALL: Grant['access'] = ['read_file', 'write_file', 'read_dir', 'make_reg', 'make_dir', 'remove_file', 'remove_dir'];

function model(tier: FsModel['tier'], grants: Grant[]): FsModel {
  return {
    tier,
    protected: [],
    writableRoots: ['/'],
    protectedInWritable: [{ path: '/ws/.git', reason: 'git metadata', writableInside: ['/ws/.git/objects'] }],
    hidden: [{ path: '/ws/.sandbox', reason: 'audit log' }],
    notes: [],
    grants,
  };
}

describe('supervisor emulation: warn mode refuses the integrity set only', function () {
  const ns = model('namespaces', [{ access: ALL, paths: ['/'], except: ['/dev'] }]);
  const fallback = model('fallback', [
    { access: ALL, paths: ['/'], except: ['/dev', '/ws/.git', '/ws/.sandbox'] },
    { access: ['read_file', 'read_dir'], paths: ['/ws/.git'], except: [] },
    { access: ALL, paths: ['/ws/.git/objects'], except: [] },
  ]);

  for (const m of [ns, fallback]) {
    it(`${m.tier} tier: anything outside the set is allowed, a new name in a carved folder included`, function () {
      for (const p of ['/ws/newf', '/home/u/newhome', '/tmp/x', '/ws/.git/objects/ab/cd']) assert.equal(integrityAllows(m, p, 'write', false), true, p);
      assert.equal(integrityAllows(m, '/ws/.git/config', 'read', false), true);
    });

    it(`${m.tier} tier: a write inside a read-only path or a cover, a read inside a cover, is refused (the grants allow it in the namespace tier)`, function () {
      for (const p of ['/ws/.git', '/ws/.git/hooks/pre-commit', '/ws/.git/renamed', '/ws/.sandbox/audit.jsonl']) assert.equal(integrityAllows(m, p, 'write', false), false, p);
      assert.equal(integrityAllows(m, '/ws/.sandbox/audit.jsonl', 'read', false), false);
      assert.equal(integrityAllows(m, '/dev/sda', 'write', false), false);
    });

    it(`${m.tier} tier: a move of a folder that holds a kept path is refused, of one that does not is allowed`, function () {
      assert.equal(integrityAllows(m, '/ws', 'write', true), false);
      assert.equal(integrityAllows(m, '/', 'write', true), false);
      assert.equal(integrityAllows(m, '/ws/src', 'write', true), true);
      assert.equal(integrityAllows(m, '/ws', 'write', false), true);
    });
  }
});
