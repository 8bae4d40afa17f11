// Golden dumps of the profile programs: any change to the emitted BPF shows up as a reviewed diff.
// UPDATE_GOLDEN=1 rewrites them. Paths resolve from the repository root (the working directory of the run).
import { buildProfileFilter, compileFilter, disassemble, type SyscallFilterOptions } from '../../../native/linux/seccomp';
import { assertGolden } from '../fixtures/golden';

const GOLDEN_DIR = 'test/unit/seccomp/golden';

const base: Omit<SyscallFilterOptions, 'arch'> = { network: 'inet', allowPtrace: false, extraDeny: [], denyAction: { kind: 'errno', errno: 1 } };
const CASES: { file: string; opts: SyscallFilterOptions }[] = [
  { file: 'x86_64-moderate.txt', opts: { ...base, arch: 'x86_64' } },
  { file: 'aarch64-moderate.txt', opts: { ...base, arch: 'aarch64' } },
  { file: 'x86_64-network-none.txt', opts: { ...base, arch: 'x86_64', network: 'none' } },
  { file: 'x86_64-metadata-locked.txt', opts: { ...base, arch: 'x86_64', metadataLocked: true } },
  { file: 'x86_64-ipc-locked.txt', opts: { ...base, arch: 'x86_64', metadataLocked: true, ipcLocked: 'no-namespace' } },
  { file: 'aarch64-ipc-locked.txt', opts: { ...base, arch: 'aarch64', metadataLocked: true, ipcLocked: 'no-namespace' } },
  {
    file: 'x86_64-monitor.txt',
    opts: { ...base, arch: 'x86_64', denyAction: { kind: 'notify' }, monitor: { network: true, fileWrites: true, fileReads: false } },
  },
];

describe('seccomp golden dumps', () => {
  for (const c of CASES) {
    it(c.file, () => {
      const text = disassemble(compileFilter(buildProfileFilter(c.opts)), { arch: c.opts.arch });
      assertGolden(GOLDEN_DIR, c.file, text);
    });
  }
});
