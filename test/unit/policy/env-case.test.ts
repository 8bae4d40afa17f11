// Environment names on a Windows plan fold case (Windows keeps one variable per name whatever its case: `Path`
// is `PATH`), so an allow glob matches any spelling there; on Linux and macOS names are exact. The run's
// platform comes from its workspace (a Windows plan's workspace is `C:/…`), not from the OS running the test.
import * as assert from 'node:assert/strict';
import { decideEnv, envNameMatches, resolvePolicy, type PolicyInput } from '../../../src/policy';

const win = (run: PolicyInput = {}) => resolvePolicy({ run }, { workspace: 'C:\\work\\proj', home: 'C:\\Users\\u' }).policy;
const linux = (run: PolicyInput = {}) => resolvePolicy({ run }, { workspace: '/work/proj', home: '/home/u' }).policy;

describe('policy/env names: case folds on a Windows plan only', () => {
  it('envNameMatches folds case when asked: literals and globs', () => {
    assert.ok(envNameMatches('PATH', 'Path', true));
    assert.ok(envNameMatches('MY_APP_*', 'My_App_Mode', true));
    assert.ok(envNameMatches('a?c', 'ABC', true));
    assert.ok(!envNameMatches('PATH', 'Path'));
    assert.ok(!envNameMatches('MY_APP_*', 'My_App_Mode'));
    assert.ok(!envNameMatches('MY_APP_*', 'XMY_APP_MODE', true));
  });

  it('Windows: Path, SystemRoot and a glob-allowed My_App_Mode pass an allow list spelled in upper case', () => {
    const env = { Path: 'C:\\Windows', SystemRoot: 'C:\\Windows', My_App_Mode: 'fast', Other: 'x' };
    const { kept, removed } = decideEnv(win({ env: { allow: ['PATH', 'SYSTEMROOT', 'MY_APP_*'] } }), env);
    assert.deepEqual(Object.keys(kept).sort(), ['My_App_Mode', 'Path', 'SystemRoot']);
    assert.deepEqual(removed, ['Other']);
  });

  it('Windows: a variable cannot dodge the allow list by its case either way (a lower-case allow entry is the same name)', () => {
    const { kept } = decideEnv(win({ env: { allow: ['my_app_*'] } }), { MY_APP_MODE: 'fast' });
    assert.equal(kept.MY_APP_MODE, 'fast');
  });

  it('Linux: names are exact, so Path and My_App_Mode are removed by an upper-case list', () => {
    const env = { Path: '/x', PATH: '/usr/bin', My_App_Mode: 'fast' };
    const { kept, removed } = decideEnv(linux({ env: { allow: ['MY_APP_*'] } }), env);
    assert.deepEqual(Object.keys(kept).sort(), ['PATH']);
    assert.deepEqual(removed, ['Path', 'My_App_Mode']);
  });
});
