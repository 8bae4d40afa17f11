// SysV IPC in the fallback tier: without an IPC namespace a script would reach the host's shared memory
// segments of the same uid. The syscall filter denies SysV IPC there; seen from outside: a segment the host
// made cannot be attached from a run, and its content is unchanged afterwards.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { PYTHON, makeSandbox, runIn, writeScript, type Sandbox } from './helpers';

const SHM_TOOL = `
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.shmget.restype = ctypes.c_int
libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
FAIL = ctypes.c_void_p(-1).value
op = sys.argv[1]
if op == 'create':
    sid = libc.shmget(0, 4096, 0o1600)
    addr = libc.shmat(sid, None, 0)
    assert sid >= 0 and addr != FAIL, ctypes.get_errno()
    ctypes.memmove(addr, b'HOSTDATA', 8)
    print(sid)
elif op == 'read':
    addr = libc.shmat(int(sys.argv[2]), None, 0)
    assert addr != FAIL, ctypes.get_errno()
    print(ctypes.string_at(addr, 8).decode())
elif op == 'rm':
    libc.shmctl(int(sys.argv[2]), 0, None)
elif op == 'attack':
    addr = libc.shmat(int(sys.argv[2]), None, 0)
    if addr == FAIL or addr is None:
        print('denied errno=%d' % ctypes.get_errno())
    else:
        print('attached ' + ctypes.string_at(addr, 8).decode())
        ctypes.memmove(addr, b'PWNED!!!', 8)
`;

describe('SysV IPC in the fallback tier', function () {
  this.timeout(60000);
  let sb: Sandbox;
  let tool: string;
  let shmid = '';
  beforeEach(() => {
    sb = makeSandbox();
    tool = writeScript(sb.workspace, 'shm.py', SHM_TOOL, 0o644);
  });
  afterEach(() => {
    if (shmid) execFileSync(PYTHON, [tool, 'rm', shmid]);
    shmid = '';
    sb.cleanup();
  });

  it('a host shared memory segment cannot be attached from a --no-namespaces run, and stays unchanged', async () => {
    shmid = execFileSync(PYTHON, [tool, 'create']).toString().trim();
    assert.match(shmid, /^\d+$/);
    // strict --net none: the tightest run still shared the host's IPC before the fix.
    const r = await runIn(sb, ['--profile', 'strict', '--net', 'none'], [PYTHON, tool, 'attack', shmid], { SCRIPT_SANDBOX_NAMESPACES: '0' });
    assert.match(r.stdout, /denied errno=1\b/, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.equal(execFileSync(PYTHON, [tool, 'read', shmid]).toString().trim(), 'HOSTDATA');
  });
});
