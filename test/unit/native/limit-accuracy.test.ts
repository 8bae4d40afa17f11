// The capability report's limit lines: exact where a cgroup or rlimit keeps a limit, approximate (with what
// gets past it) where the watchdog polls.
import * as assert from 'node:assert/strict';
import { limitCapabilities } from '../../../native/linux/limit-accuracy';

const by = (caps: ReturnType<typeof limitCapabilities>) => Object.fromEntries(caps.map((c) => [c.name, c]));

describe('capability report: limit accuracy', () => {
  it('a cgroup makes memory and processes exact', () => {
    const c = by(limitCapabilities({ treeLimits: 'cgroup v2', namespaces: true, tempDir: '/tmp', tmpfsTemps: [] }));
    assert.equal(c.limit_memory!.available, true);
    assert.match(c.limit_memory!.detail, /^exact \(cgroup v2\)/);
    assert.equal(c.limit_processes!.available, true);
    assert.ok(Object.values(c).every((x) => !x.requiredForEnforce));
  });

  it('the watchdog is approximate and names what evades it, tier and temp dirs included', () => {
    const ns = by(limitCapabilities({ treeLimits: 'watchdog', namespaces: true, tempDir: '/tmp', tmpfsTemps: [] }));
    assert.equal(ns.limit_memory!.available, false);
    assert.match(ns.limit_memory!.detail, /^approximate/);
    assert.match(ns.limit_memory!.detail, /private \/dev\/shm/);
    assert.match(ns.limit_memory!.detail, /fds in flight in unix sockets/);
    assert.match(ns.limit_memory!.detail, /datagram: sent by the supervisor/);
    assert.match(ns.limit_disk!.detail, /\/tmp is disk here/);
    const fb = by(limitCapabilities({ treeLimits: 'watchdog', namespaces: false, tempDir: '/tmp', tmpfsTemps: ['/tmp'] }));
    assert.match(fb.limit_memory!.detail, /files closed in \/dev\/shm/);
    assert.match(fb.limit_memory!.detail, /files left in \/tmp \(tmpfs/);
    assert.match(fb.limit_disk!.detail, /\/tmp is a tmpfs here, so that is memory/);
  });
});
