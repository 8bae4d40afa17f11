// Which directories the fallback tier's carve-outs leave without a Landlock rule of their own: the ones the
// supervisor performs creations and removals in (src/host/linux/supervisor-emulate.ts).
import * as assert from 'node:assert/strict';
import { carvedDirs } from '../../../src/host/linux/supervisor-emulate';
import type { Grant } from '../../../src/policy/fs-model-types';

describe('supervisor emulation: carved directories', function () {
  it('the workspace root and every directory down to a carve-out, not the carve-out or what is inside it', function () {
    const grants: Grant[] = [
      { access: ['read_file', 'read_dir'], paths: ['/'], except: ['/home/u/.ssh'] },
      { access: ['read_file', 'write_file', 'make_reg'], paths: ['/ws'], except: ['/ws/.git', '/ws/.vscode', '/ws/sub/.githooks', '/ws/.git/hooks'] },
    ];
    assert.deepEqual([...carvedDirs({ grants })].sort(), ['/ws', '/ws/sub']);
  });

  it('no carve-outs, or carve-outs of read-only grants: nothing to emulate', function () {
    assert.equal(carvedDirs({ grants: [{ access: ['read_file', 'write_file'], paths: ['/ws'], except: [] }] }).size, 0);
    assert.equal(carvedDirs({ grants: [{ access: ['read_file'], paths: ['/'], except: ['/etc/shadow'] }] }).size, 0);
  });

  it('a carve-out equal to the grant root carves nothing', function () {
    assert.equal(carvedDirs({ grants: [{ access: ['write_file'], paths: ['/ws'], except: ['/ws'] }] }).size, 0);
  });
});
