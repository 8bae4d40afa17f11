// The capability probe on the real kernel. It must not change the calling process.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { probeLinux } from '../../../../native/linux/capabilities';
import { loadLibc } from '../../../../native/linux/libc';
import { notifSizes } from '../../../../native/linux/seccomp-load';

function statusField(field: string): string | undefined {
  return new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1]?.trim();
}

describe(`native capability probe (uid ${process.getuid?.()})`, function () {
  it('reports this kernel and leaves the process unrestricted', function () {
    const before = { nnp: statusField('NoNewPrivs'), seccomp: statusField('Seccomp') };
    const p = probeLinux(loadLibc());
    assert.equal(p.kernel, fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
    assert.equal(p.seccomp, statusField('Seccomp') !== undefined);
    assert.equal(p.noNewPrivs, true);
    assert.ok(p.landlockAbi === null || (Number.isInteger(p.landlockAbi) && p.landlockAbi >= 1));
    assert.equal(typeof p.userNamespaces.available, 'boolean');
    assert.ok(p.userNamespaces.detail.length > 0);
    assert.deepEqual({ nnp: statusField('NoNewPrivs'), seccomp: statusField('Seccomp') }, before);
  });

  it('reads the user-notification struct sizes from the kernel', function () {
    const p = probeLinux(loadLibc());
    if (!p.seccompUserNotif) this.skip();
    // DESIGN.md §5: seccomp_notif 80 bytes, seccomp_notif_resp 24, seccomp_data 64.
    assert.deepEqual(notifSizes(loadLibc()), { notif: 80, notifResp: 24, data: 64 });
  });
});
