// The Wine tier for environment names: the real CLI under Node for Windows, where a variable's name keeps the
// case it was given (`Ss_Probe_Mixed`) and Windows treats names case-insensitively. An allow glob spelled in
// upper case must pass it (it was removed before: the glob matched case-sensitively, as on Linux).
import * as assert from 'node:assert/strict';
import { cli, wineReady, workspace, z } from './wine-env';

describe('Wine tier: environment names fold case on Windows', function () {
  this.timeout(240_000);

  before(function () {
    if (!wineReady()) this.skip();
  });

  it('--env-allow SS_PROBE_* passes Ss_Probe_Mixed to the script; an unlisted variable of any case stays out', function () {
    const ws = workspace();
    const r = cli(ws, ['run', '--workspace', z(ws), '--mode', 'enforce', '--profile', 'permissive', '--env-allow', 'SS_PROBE_*', '--', 'cmd', '/c', 'echo [%Ss_Probe_Mixed%] [%Ss_Other_Mixed%]'], {
      Ss_Probe_Mixed: 'visible',
      Ss_Other_Mixed: 'hidden',
    });
    assert.equal(r.status, 0, r.err);
    assert.match(r.out, /\[visible\] \[%Ss_Other_Mixed%\]/, r.out + r.err);
  });
});
