// The namespace stage's kept verdict (src/host/linux/stage-cache.ts), on real files in a temp state folder:
// only an entry written for this boot, kernel, uid and stage command, in a file of ours nobody else can
// write, is believed; anything else is a miss, and a miss means the probe runs.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dropStageCache, readStageCache, writeStageCache } from '../../../src/host/linux/stage-cache';

describe('namespace stage verdict cache', () => {
  let dir: string;
  const prefix = ['/usr/bin/unshare', '--user', '--', '/usr/bin/perl', '-e', 'stage', '272', '165', '157', '4242'];
  beforeEach(function () {
    if (!fs.existsSync('/proc/sys/kernel/random/boot_id')) this.skip(); // no boot id: the cache is never used
    dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ss-stage-cache-')), 'state');
  });
  afterEach(() => dir && fs.rmSync(path.dirname(dir), { recursive: true, force: true }));
  const file = () => path.join(dir, 'namespace-stage.json');

  it('a verdict written is read back, for the same stage command whatever the host pid', () => {
    assert.equal(readStageCache(prefix, dir), null);
    writeStageCache(prefix, true, dir);
    assert.deepEqual(readStageCache(prefix, dir), { privateDevpts: true });
    assert.deepEqual(readStageCache([...prefix.slice(0, -1), '777'], dir), { privateDevpts: true });
    assert.equal(fs.statSync(file()).mode & 0o777, 0o600);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
  });

  it('another stage command, boot or kernel in the key is a miss', () => {
    writeStageCache(prefix, false, dir);
    assert.equal(readStageCache(['/usr/bin/unshare', '--user', '--', '/usr/bin/perl', '-e', 'other stage', '272', '165', '157', '4242'], dir), null);
    const entry = JSON.parse(fs.readFileSync(file(), 'utf8'));
    const key = JSON.parse(entry.key);
    for (const [i, v] of [[0, 'another-boot'], [1, '1.0.0'], [2, 12345]] as const) {
      const k = [...key];
      k[i] = v;
      fs.writeFileSync(file(), JSON.stringify({ ...entry, key: JSON.stringify(k) }));
      assert.equal(readStageCache(prefix, dir), null, `key part ${i} changed`);
    }
  });

  it('a forged or damaged entry is a miss: open to others, a link, not "available", garbage', () => {
    writeStageCache(prefix, true, dir);
    const good = fs.readFileSync(file(), 'utf8');
    fs.chmodSync(file(), 0o622);
    assert.equal(readStageCache(prefix, dir), null, 'writable by others');
    fs.rmSync(file());
    const elsewhere = path.join(path.dirname(dir), 'elsewhere.json');
    fs.writeFileSync(elsewhere, good, { mode: 0o600 });
    fs.symlinkSync(elsewhere, file());
    assert.equal(readStageCache(prefix, dir), null, 'a symbolic link');
    fs.rmSync(file());
    fs.writeFileSync(file(), JSON.stringify({ ...JSON.parse(good), available: false }), { mode: 0o600 });
    assert.equal(readStageCache(prefix, dir), null, 'not available');
    fs.writeFileSync(file(), '{"key":', { mode: 0o600 });
    assert.equal(readStageCache(prefix, dir), null, 'garbage');
  });

  it('dropped, it is a miss', () => {
    writeStageCache(prefix, true, dir);
    dropStageCache(dir);
    assert.equal(readStageCache(prefix, dir), null);
    dropStageCache(dir); // none: no error
  });
});
