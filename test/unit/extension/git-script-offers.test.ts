// Multi-root: which folder a git-script runs in (git-script-offers.ts). A folder's own definition runs in
// that folder; a name several folders define, or a user-level one with several folders open, asks which
// folder; with one folder (or none) nothing is asked.
import * as assert from 'node:assert/strict';
import type { GitScriptSpec } from '../../../src/policy/git-script-spec';
import { folderChoice, folderForSpec, folderOffers, groupDescription, groupOffers, type Offer } from '../../../src/extension/git-script-offers';

const spec = (name: string, repo = `file:///repos/${name}`): GitScriptSpec => ({ name, repo, ref: 'v1', script: `bin/${name}.sh` });
const A = { name: 'a' };
const B = { name: 'b' };
const C = { name: 'c' };
type F = typeof A;

describe('extension: which folder a git-script runs in (multi-root)', () => {
  it('a script defined only in folder b\'s settings runs in b, without asking', () => {
    const offers = [...folderOffers<F>(A, [{ source: 'settings of a', specs: [spec('lint')] }]), ...folderOffers<F>(B, [{ source: 'settings of b', specs: [spec('deploy')] }])];
    const groups = groupOffers(offers);
    assert.deepEqual(groups.map((g) => g.name), ['lint', 'deploy']);
    const c = folderChoice(groups[1]!, [A, B]);
    assert.equal(c.kind, 'run');
    assert.equal(c.kind === 'run' && c.offer.folder, B);
  });

  it('a user-level script with two folders open is one entry that asks with the workspace folder pick', () => {
    const user = [spec('tidy')];
    const offers = [A, B].flatMap((f) => folderOffers<F>(f, [{ source: 'user settings', specs: user }]));
    const groups = groupOffers(offers);
    assert.equal(groups.length, 1, 'one entry, not one per folder');
    assert.equal(groupDescription(groups[0]!), 'file:///repos/tidy @ v1');
    const c = folderChoice(groups[0]!, [A, B]);
    assert.deepEqual(c.kind === 'ask' && [c.all, c.offers.map((o) => o.folder)], [true, [A, B]]);
  });

  it('the same name in two of three folders asks among those two only, each running its own definition', () => {
    const offers: Array<Offer<F>> = [
      ...folderOffers<F>(A, [{ source: 'settings of a', specs: [spec('lint', 'file:///a-lint')] }]),
      ...folderOffers<F>(B, [{ source: 'b/.vscode/sandbox.json', specs: [spec('lint', 'file:///b-lint')] }]),
      ...folderOffers<F>(C, [{ source: 'settings of c', specs: [spec('other')] }]),
    ];
    const lint = groupOffers(offers).find((g) => g.name === 'lint')!;
    assert.equal(groupDescription(lint), 'defined in 2 folders');
    const c = folderChoice(lint, [A, B, C]);
    assert.equal(c.kind, 'ask');
    if (c.kind !== 'ask') return;
    assert.equal(c.all, false, 'folder c does not define it: not the all-folders pick');
    assert.deepEqual(c.offers.map((o) => [o.folder, o.spec.repo]), [[A, 'file:///a-lint'], [B, 'file:///b-lint']]);
  });

  it('one folder: a user-level and a workspace definition of one script are one offer; nothing is asked', () => {
    const offers = folderOffers<F>(A, [{ source: 'user settings', specs: [spec('tidy')] }, { source: 'workspace settings', specs: [spec('tidy')] }]);
    assert.equal(offers.length, 1);
    assert.equal(offers[0]!.source, 'user settings');
    assert.equal(folderChoice(groupOffers(offers)[0]!, [A]).kind, 'run');
  });

  it('the same name twice for one folder (settings and policy file) stays two entries, as before', () => {
    const offers = folderOffers<F>(A, [{ source: 'workspace settings', specs: [spec('lint', 'file:///x')] }, { source: '.vscode/sandbox.json', specs: [spec('lint', 'file:///y')] }]);
    const groups = groupOffers(offers);
    assert.equal(groups.length, 2);
    for (const g of groups) assert.equal(folderChoice(g, [A]).kind, 'run');
  });

  it('no folder open: user-level scripts run without a folder', () => {
    const offers = folderOffers<F>(undefined, [{ source: 'user settings', specs: [spec('tidy')] }]);
    const c = folderChoice(groupOffers(offers)[0]!, []);
    assert.deepEqual(c.kind === 'run' && c.offer.folder, undefined);
  });

  it('a definition handed to the command (Run Again): the folder it ran in, else the only one, else ask', () => {
    assert.deepEqual(folderForSpec(B, [A, B]), { kind: 'run', folder: B });
    assert.deepEqual(folderForSpec(undefined, [A, B]), { kind: 'ask' });
    assert.deepEqual(folderForSpec(C, [A, B]), { kind: 'ask' }, 'a folder no longer open is not used');
    assert.deepEqual(folderForSpec(undefined, [A]), { kind: 'run', folder: A });
    assert.deepEqual(folderForSpec(undefined, []), { kind: 'run', folder: undefined });
  });
});
