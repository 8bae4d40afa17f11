// git's own progress lines → the fetch's stage and overall percentage (what the progress notification shows).
import * as assert from 'node:assert/strict';
import { parseGitProgress } from '../../../src/gitscript/fetch';

describe('gitscript: fetch progress from git --progress', () => {
  it('reads each stage\'s percentage and places it in the whole fetch (receiving dominates)', () => {
    assert.deepEqual(parseGitProgress('remote: Counting objects:  50% (5/10)'), { stage: 'Counting objects', stagePercent: 50, percent: 3 });
    assert.deepEqual(parseGitProgress('remote: Compressing objects: 100% (10/10), done.'), { stage: 'Compressing objects', stagePercent: 100, percent: 10 });
    assert.deepEqual(parseGitProgress('Receiving objects:  42% (420/1000), 1.20 MiB | 2.00 MiB/s'), { stage: 'Receiving objects', stagePercent: 42, percent: 42 });
    assert.deepEqual(parseGitProgress('Resolving deltas: 100% (3/3), done.'), { stage: 'Resolving deltas', stagePercent: 100, percent: 100 });
  });

  it('ignores other lines', () => {
    for (const l of ['', 'From file:///x', ' * [new branch]      main       -> refs/src/heads/main', 'remote: Total 10 (delta 0)', 'warning: Receiving objects: 12%x']) assert.equal(parseGitProgress(l), null, l);
  });
});
