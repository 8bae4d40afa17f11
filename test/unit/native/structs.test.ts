// Struct layouts declared for koffi, checked against the C definitions (x86_64 / aarch64 LP64).
import * as assert from 'node:assert/strict';
import koffi from 'koffi';
import type { TypeObject } from 'koffi';
import { PathBeneathAttrStruct, RulesetAttrStruct, encodePathBeneath, encodeRulesetAttr } from '../../../native/linux/landlock';
import { CapDataStruct, CapHeaderStruct, RlimitStruct, SigactionStruct, UtsnameStruct, decodeCapData, encodeCapData } from '../../../native/linux/libc';
import { NotifSizesStruct, SockFilterStruct, SockFprogStruct } from '../../../native/linux/seccomp-load';
import { IoVecStruct, MsgHdrStruct, OpenHowStruct } from '../../../native/linux/notify';
import { SeccompNotifAddfdStruct } from '../../../native/linux/notify-addfd';

function layout(t: TypeObject, fields: string[]): Record<string, number> {
  return Object.fromEntries(fields.map((f) => [f, koffi.offsetof(t, f)]));
}

describe('native struct layouts', function () {
  it('struct seccomp_notif_addfd = 24 (ioctl 0x40182103 encodes that size)', function () {
    assert.equal(koffi.sizeof(SeccompNotifAddfdStruct), 24);
    assert.deepEqual(layout(SeccompNotifAddfdStruct, ['id', 'flags', 'srcfd', 'newfd', 'newfd_flags']), { id: 0, flags: 8, srcfd: 12, newfd: 16, newfd_flags: 20 });
  });

  it('struct iovec = 16, struct msghdr = 56 (the supervisor reads and builds them), struct open_how = 24', function () {
    assert.equal(koffi.sizeof(IoVecStruct), 16);
    assert.deepEqual(layout(IoVecStruct, ['iov_base', 'iov_len']), { iov_base: 0, iov_len: 8 });
    assert.equal(koffi.sizeof(MsgHdrStruct), 56);
    assert.deepEqual(layout(MsgHdrStruct, ['msg_name', 'msg_namelen', 'msg_iov', 'msg_iovlen', 'msg_control', 'msg_controllen', 'msg_flags']), {
      msg_name: 0,
      msg_namelen: 8,
      msg_iov: 16,
      msg_iovlen: 24,
      msg_control: 32,
      msg_controllen: 40,
      msg_flags: 48,
    });
    assert.equal(koffi.sizeof(OpenHowStruct), 24);
  });

  it('struct rlimit { rlim_t cur, max } = 16 bytes', function () {
    assert.equal(koffi.sizeof(RlimitStruct), 16);
    assert.deepEqual(layout(RlimitStruct, ['rlim_cur', 'rlim_max']), { rlim_cur: 0, rlim_max: 8 });
  });

  it('glibc struct sigaction = 152 bytes (handler, 128-byte mask, int flags, restorer)', function () {
    assert.equal(koffi.sizeof(SigactionStruct), 152);
    assert.deepEqual(layout(SigactionStruct, ['sa_handler', 'sa_mask', 'sa_flags', 'sa_restorer']), {
      sa_handler: 0,
      sa_mask: 8,
      sa_flags: 136,
      sa_restorer: 144,
    });
  });

  it('capability header { u32 version; int pid } = 8 bytes, data { u32 effective, permitted, inheritable } = 12 bytes', function () {
    assert.equal(koffi.sizeof(CapHeaderStruct), 8);
    assert.deepEqual(layout(CapHeaderStruct, ['version', 'pid']), { version: 0, pid: 4 });
    assert.equal(koffi.sizeof(CapDataStruct), 12);
    assert.deepEqual(layout(CapDataStruct, ['effective', 'permitted', 'inheritable']), { effective: 0, permitted: 4, inheritable: 8 });
    // Version 3: two data structs, capabilities 0-31 in the first, 32-63 in the second.
    const sets = { effective: 0x1_0000_0101n, permitted: 0x1ff_ffff_ffffn, inheritable: 0n };
    const b = encodeCapData(sets);
    assert.equal(b.length, 24);
    assert.equal(b.readUInt32LE(0), 0x101);
    assert.equal(b.readUInt32LE(4), 0xffff_ffff);
    assert.equal(b.readUInt32LE(12), 1);
    assert.equal(b.readUInt32LE(16), 0x1ff);
    assert.deepEqual(decodeCapData(b), sets);
  });

  it('struct utsname = 6 × char[65]', function () {
    assert.equal(koffi.sizeof(UtsnameStruct), 390);
    assert.deepEqual(layout(UtsnameStruct, ['sysname', 'nodename', 'release', 'version', 'machine', 'domainname']), {
      sysname: 0,
      nodename: 65,
      release: 130,
      version: 195,
      machine: 260,
      domainname: 325,
    });
  });

  it('struct landlock_ruleset_attr = 3 × u64', function () {
    assert.equal(koffi.sizeof(RulesetAttrStruct), 24);
    assert.deepEqual(layout(RulesetAttrStruct, ['handled_access_fs', 'handled_access_net', 'scoped']), {
      handled_access_fs: 0,
      handled_access_net: 8,
      scoped: 16,
    });
  });

  it('struct landlock_path_beneath_attr is packed: 12 bytes', function () {
    assert.equal(koffi.sizeof(PathBeneathAttrStruct), 12);
    assert.deepEqual(layout(PathBeneathAttrStruct, ['allowed_access', 'parent_fd']), { allowed_access: 0, parent_fd: 8 });
    const b = encodePathBeneath(0x4005, 7);
    assert.equal(b.length, 12);
    assert.equal(b.readBigUInt64LE(0), 0x4005n);
    assert.equal(b.readInt32LE(8), 7);
    // The hand-written encoding is byte for byte koffi's, for a negative fd and rights above 2^32 too.
    for (const [rights, fd] of [[0x4005, 7], [0x1ffff, -1], [2 ** 40 + 3, 2 ** 31 - 1]] as const) {
      const k = Buffer.alloc(12);
      koffi.encode(k, 0, PathBeneathAttrStruct, { allowed_access: BigInt(rights), parent_fd: fd });
      assert.deepEqual(encodePathBeneath(rights, fd, Buffer.alloc(12, 0xee)), k);
    }
  });

  it('encodes the ruleset attr with the size of the ABI', function () {
    assert.equal(encodeRulesetAttr(1, 0x1fff, 0).length, 8);
    assert.equal(encodeRulesetAttr(3, 0x7fff, 0).length, 8);
    assert.equal(encodeRulesetAttr(4, 0x7fff, 0).length, 16);
    assert.equal(encodeRulesetAttr(5, 0xffff, 0).length, 16);
    const b = encodeRulesetAttr(7, 0xffff, 3);
    assert.equal(b.length, 24);
    assert.equal(b.readBigUInt64LE(0), 0xffffn);
    assert.equal(b.readBigUInt64LE(8), 0n);
    assert.equal(b.readBigUInt64LE(16), 3n);
  });

  it('struct sock_filter = 8 bytes, struct sock_fprog = 16 bytes', function () {
    assert.equal(koffi.sizeof(SockFilterStruct), 8);
    assert.deepEqual(layout(SockFilterStruct, ['code', 'jt', 'jf', 'k']), { code: 0, jt: 2, jf: 3, k: 4 });
    assert.equal(koffi.sizeof(SockFprogStruct), 16);
    assert.deepEqual(layout(SockFprogStruct, ['len', 'filter']), { len: 0, filter: 8 });
  });

  it('struct seccomp_notif_sizes = 3 × u16', function () {
    assert.equal(koffi.sizeof(NotifSizesStruct), 6);
    assert.deepEqual(layout(NotifSizesStruct, ['seccomp_notif', 'seccomp_notif_resp', 'seccomp_data']), {
      seccomp_notif: 0,
      seccomp_notif_resp: 2,
      seccomp_data: 4,
    });
  });
});
