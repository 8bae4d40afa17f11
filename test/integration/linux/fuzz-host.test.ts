// Bad input, property-based, against a real host process (dist/host.js forked with an IPC channel, as the
// extension forks it): garbage and near-valid protocol messages. Each must be answered with one
// protocol_error naming the problem; the host stays alive and still runs a script afterwards. Requests
// that are well-formed but wrong (a relative workspace, an unknown fetch) get a typed `rejected`.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { ClientMessage } from '../../../src/protocol/host';
import { anyJsonish, assertReadable, params, replaceAt } from '../../unit/fuzz/fuzz-support';
import { HostProcess, type Msg } from './host-process';

const WS = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-fuzz-host-'));
const VALID: unknown[] = [
  { type: 'run', requestId: 'r', command: ['/bin/true'], cwd: WS, workspace: WS, env: { PATH: '/usr/bin:/bin' }, layers: { user: { mode: 'enforce', limits: { timeoutSeconds: 5 } } }, approvedLoosening: false, inferInterpreter: true, interpreters: { '.py': ['python3'] }, alerts: { threshold: 3, windowMs: 1000, criticalAtOnce: true } },
  { type: 'gitFetch', requestId: 'g', spec: { repo: 'https://example.com/r', ref: 'main', script: 'a.sh' }, workspace: WS, cacheRoot: path.join(WS, 'cache'), layers: {} },
  { type: 'gitFetchCancel', requestId: 'g' },
  { type: 'gitApprove', requestId: 'a', fetchId: 'f' },
  { type: 'gitCacheClean', requestId: 'c', cacheRoot: path.join(WS, 'cache') },
  { type: 'cancel', runId: 'x' },
  { type: 'capabilities', requestId: 'q' },
  { type: 'shutdown' },
];

/** Messages the host's own schema refuses (the same zod schema: the host must answer each with protocol_error). */
const invalidMessage = fc
  .oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...VALID), fc.nat(), anyJsonish).map(([v, k, x]) => replaceAt(v, k, x)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.record({ type: fc.oneof(fc.string({ maxLength: 8 }), anyJsonish), requestId: anyJsonish }, { requiredKeys: [] }) },
    { weight: 1, arbitrary: fc.constantFrom(...VALID).chain((v) => fc.constantFrom(...Object.keys(v as object)).map((k) => Object.fromEntries(Object.entries(v as object).filter(([kk]) => kk !== k)))) },
  )
  .filter((m) => !ClientMessage.safeParse(m).success);

function deep(n: number): unknown {
  let o: Record<string, unknown> = {};
  const root = o;
  for (let i = 0; i < n; i++) o = (o.a = {}) as Record<string, unknown>;
  return root;
}

describe('fuzz: host protocol messages (real host process)', function () {
  this.timeout(300_000);
  let host: HostProcess;
  const tally = { sent: 0, protocolErrors: 0 };

  before(async () => {
    host = new HostProcess();
    await host.ready(60_000);
  });
  after(async () => {
    process.stdout.write(`      [fuzz] host protocol: ${tally.sent} bad messages sent, ${tally.protocolErrors} protocol_error answers, host alive: ${host.alive}\n`);
    await host.stop();
    fs.rmSync(WS, { recursive: true, force: true });
  });

  async function expectProtocolError(m: unknown): Promise<void> {
    const before = host.messages.length;
    host.send(m);
    tally.sent++;
    const answer = await host.waitFor((x) => x.type === 'protocol_error', 20_000, `protocol_error for ${JSON.stringify(m)?.slice(0, 200)}`);
    tally.protocolErrors++;
    const extra = host.messages.slice(before).filter((x) => x.type !== 'protocol_error');
    assert.deepEqual(extra, [], 'a bad message got an answer other than protocol_error');
    assert.match(String(answer.message), /^invalid message: \S/);
    assertReadable(answer.message, m, 'protocol_error');
  }

  it('answers every garbage or near-valid message with one protocol_error naming the problem', async () => {
    await fc.assert(fc.asyncProperty(invalidMessage, (m) => expectProtocolError(m)), params(2500, 'bad host messages'));
    assert.ok(host.alive, 'host died');
  });

  it('awkward payloads: huge strings, deep nesting, lone surrogates, wrong types at the top', async () => {
    for (const m of ['x'.repeat(1 << 20), deep(2000), { type: 'run', requestId: '\ud800', command: [] }, { type: 'cancel', runId: '' }, [], 0, null, true, { type: 'run', layers: { user: deep(500) } }, { type: '__proto__' }, { ['__proto__']: { type: 'shutdown' } }]) {
      await expectProtocolError(m);
    }
  });

  it('well-formed but wrong requests get a typed rejection, not a crash', async () => {
    const ask = async (m: Record<string, unknown>): Promise<Msg> => {
      host.send(m);
      return host.waitFor((x) => x.requestId === m.requestId && x.type === 'rejected', 30_000, `rejection of ${m.requestId}`);
    };
    for (const m of [
      { ...(VALID[0] as object), requestId: 'rel', workspace: 'relative/ws' },
      { ...(VALID[0] as object), requestId: 'loosen', layers: { user: { profile: 'strict' }, workspace: { profile: 'permissive' } } },
      { ...(VALID[0] as object), requestId: 'badaddr', layers: { user: { network: { allowAddresses: ['not-an-address'] } } } },
      { type: 'gitApprove', requestId: 'unknown-fetch', fetchId: 'nope' },
      { ...(VALID[0] as object), requestId: 'unknown-git-run', gitFetchId: 'nope' },
      { ...(VALID[1] as object), requestId: 'bad-spec', spec: { repo: 'ftp://x', ref: 'main', script: 'a' } },
    ]) {
      const r = await ask(m);
      const err = r.error as { code: string; message: string };
      assert.match(err.code, /^[A-Z_]+$/);
      assertReadable(err.message, m, `rejection of ${m.requestId}`);
    }
  });

  it('is alive afterwards and still runs a script', async () => {
    assert.ok(host.alive, `host exited: ${host.stderr}`);
    const runId = await host.run({ requestId: 'after-fuzz', command: ['/bin/echo', 'still-serving'], cwd: WS, workspace: WS });
    const f = await host.finished(runId, 120_000);
    assert.equal(f.exitCode, 0, JSON.stringify(f));
    assert.equal(host.output(runId), 'still-serving\n');
  });
});

describe('fuzz: host protocol, an audit path the kernel refuses oddly', function () {
  this.timeout(60_000);
  it('a run whose auditPath is under /proc is answered, and the host keeps serving', async function () {
    const host = new HostProcess();
    try {
      await host.ready(60_000);
      host.send({ type: 'run', requestId: 'proc-audit', command: ['/bin/true'], cwd: '/', workspace: '/', env: {}, layers: {}, auditPath: '/proc/no-such-dir/audit.jsonl' });
      host.send({ type: 'capabilities', requestId: 'after' });
      // Both answers may already be in: the audit folder is now made one component at a time, so the refusal
      // comes at once (Node's recursive mkdirSync used to loop forever under /proc and stall the host).
      await host.waitFor((m) => m.requestId === 'after', 10_000, 'capabilities after the run', true);
      const answer = await host.waitFor((m) => m.requestId === 'proc-audit', 30_000, 'answer to the run', true);
      assert.equal(answer.type, 'rejected', JSON.stringify(answer));
    } finally {
      host.child.kill('SIGKILL');
      await host.exited;
    }
  });
});
