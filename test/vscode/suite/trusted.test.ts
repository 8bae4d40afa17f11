// Inside VS Code, trusted workspace: real runs through the command, real violations from the sandbox.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, runScript, setSetting, waitFor, watchDiagnostics, workspaceUri, type Api, type RunJson } from './helpers';
import { registerTerminalRuns } from './terminal-runs';

// Same numbers as test/e2e/fixtures.ts (1-based lines where each script does what the sandbox stops).
const DEPLOY_LINE = 4;
const METADATA_LINE = 7;
const LATENCY_BUDGET_MS = 500;

describe('Script Sandbox in VS Code (trusted workspace)', function () {
  let sandbox: Api;
  const deploy = () => workspaceUri('scripts', 'deploy.sh');

  before(async () => {
    sandbox = await api();
    await setSetting('mode', 'enforce');
  });

  after(async () => {
    await setSetting('mode', undefined);
  });

  it('forks the sandbox host only on first use', async () => {
    assert.equal(sandbox.hostPid(), null, 'no host before the first run');
    const r = await runScript(workspaceUri('scripts', 'hello.sh'));
    assert.equal(r.status, 'finished', JSON.stringify(r));
    assert.equal(r.exitCode, 0);
    assert.ok(sandbox.hostPid(), 'host running after the first run');
  });

  it(`runs a script and puts its file violation in Problems on line ${DEPLOY_LINE} within ${LATENCY_BUDGET_MS} ms`, async () => {
    const rc = path.join(os.homedir(), '.bashrc');
    const before = fs.existsSync(rc) ? fs.readFileSync(rc, 'utf8') : null;
    const watch = watchDiagnostics(deploy(), 'sandbox');
    let r: RunJson;
    try {
      r = await runScript(deploy());
      await new Promise((res) => setTimeout(res, 300));
    } finally {
      watch.dispose();
    }
    const v = r.violations.find((x) => x.kind === 'file');
    assert.ok(v, `a file violation: ${JSON.stringify(r.violations)}`);
    assert.equal(v.action, 'blocked');
    assert.match(v.path ?? '', /\.bashrc$/);
    assert.equal(before === null ? !fs.existsSync(rc) : fs.readFileSync(rc, 'utf8') === before, true, '~/.bashrc untouched in enforce');

    const diags = vscode.languages.getDiagnostics(deploy()).filter((d) => d.source === 'sandbox');
    assert.ok(diags.length >= 1, 'a sandbox diagnostic on the script');
    const d = diags.find((x) => x.message.includes('.bashrc'));
    assert.ok(d, `a diagnostic naming .bashrc: ${diags.map((x) => x.message).join(' | ')}`);
    assert.equal(d.range.start.line + 1, DEPLOY_LINE, 'on the line that writes the file');
    assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
    assert.deepEqual(d.tags ?? [], [], 'no tags: a violation is neither unused nor deprecated');
    // The code is the rule, linked to the README section that explains it (README.md#L<heading line>).
    const code = d.code as { value: string; target: vscode.Uri };
    assert.equal(code.value, v.rule);
    assert.ok(code.target instanceof vscode.Uri, `a link: ${JSON.stringify(d.code)}`);
    assert.equal(path.basename(code.target.fsPath), 'README.md');
    const heading = fs.readFileSync(code.target.fsPath, 'utf8').split('\n')[Number(/^L(\d+)$/.exec(code.target.fragment)?.[1]) - 1];
    assert.match(heading ?? '', /^#### Rule: protected paths$/, `the link opens the rule's section: ${code.target.toString()}`);
    // Once the run has ended, related information points at the violation's own line in the audit log.
    const related = await waitFor('related information', () => vscode.languages.getDiagnostics(deploy()).find((x) => x.message === d.message)?.relatedInformation?.[0]);
    const auditLine = fs.readFileSync(related.location.uri.fsPath, 'utf8').split('\n')[related.location.range.start.line]!;
    const record = JSON.parse(auditLine) as { type: string; runId: string; violation: { rule: string; time: string } };
    assert.equal(record.type, 'violation', auditLine);
    assert.equal(record.runId, r.runId);
    assert.deepEqual([record.violation.rule, record.violation.time], [v.rule, v.time]);
    assert.match(related.message, /audit log, line \d+/);

    const first = watch.seen.find((s) => s.d.message.includes('.bashrc'));
    assert.ok(first, 'the diagnostic appeared during the run');
    const latency = first.at - Date.parse(v.time);
    console.log(`      violation → Problems latency: ${latency} ms (violation at ${v.time})`);
    assert.ok(latency >= -5 && latency < LATENCY_BUDGET_MS, `latency ${latency} ms`);
  });

  it(`puts a network violation (cloud metadata address) on line ${METADATA_LINE}`, async () => {
    const uri = workspaceUri('scripts', 'metadata.py');
    const r = await runScript(uri);
    const v = r.violations.find((x) => x.kind === 'network');
    assert.ok(v, `a network violation: ${JSON.stringify(r.violations)}`);
    assert.equal(v.address, '169.254.169.254');
    const d = vscode.languages.getDiagnostics(uri).find((x) => x.source === 'sandbox' && x.message.includes('169.254.169.254'));
    assert.ok(d, 'diagnostic naming the address');
    assert.equal(d.range.start.line + 1, METADATA_LINE);
  });

  it('replaces a script\'s diagnostics on its next run', async () => {
    await runScript(deploy());
    const n = vscode.languages.getDiagnostics(deploy()).filter((d) => d.source === 'sandbox').length;
    await runScript(deploy());
    assert.equal(vscode.languages.getDiagnostics(deploy()).filter((d) => d.source === 'sandbox').length, n);
  });

  it('lists runs in the Sandbox Monitor, newest first, with violations, usage and policy', async () => {
    const roots = sandbox.monitor.getChildren() as unknown[];
    assert.ok(roots.length >= 4, `runs in the tree: ${roots.length}`);
    const top = sandbox.monitor.getTreeItem(roots[0]);
    assert.equal(top.label, 'deploy.sh');
    assert.match(String(top.description), /violation/);
    assert.equal(top.contextValue, 'run.finished');
    const groups = (sandbox.monitor.getChildren(roots[0]) as unknown[]).map((g) => String(sandbox.monitor.getTreeItem(g).label));
    assert.deepEqual(groups.slice(0, 3), [`Violations (${sandbox.runs()[0]!.violations.length})`, 'Resource usage', 'Policy in force']);
    const violations = sandbox.monitor.getChildren((sandbox.monitor.getChildren(roots[0]) as unknown[])[0]) as unknown[];
    assert.ok(String(sandbox.monitor.getTreeItem(violations[0]).label).includes('.bashrc'));
  });

  it('offers quick fixes that edit .vscode/sandbox.json', async () => {
    const d = vscode.languages.getDiagnostics(deploy()).find((x) => x.source === 'sandbox')!;
    await vscode.workspace.openTextDocument(deploy()); // code actions are computed on an open model
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', deploy(), d.range, vscode.CodeActionKind.QuickFix.value);
    const titles = actions.map((a) => a.title);
    const allow = actions.find((a) => /^Allow writing to .*\.bashrc in this workspace$/.test(a.title));
    assert.ok(allow, `titles: ${titles.join(' | ')}`);
    assert.ok(titles.includes('Switch this workspace to warn mode'));
    // ~/.bashrc is a protected path: releasing it is never the one obvious fix, nor is warn mode.
    assert.deepEqual(actions.filter((a) => a.isPreferred).map((a) => a.title), []);
    const entries = allow.edit!.entries();
    assert.equal(entries.length, 1);
    assert.ok(entries[0]![0].fsPath.endsWith(path.join('.vscode', 'sandbox.json')));
    const text = entries[0]![1].map((e) => e.newText).join('');
    assert.match(text, /"allowWrite"/);
    assert.match(text, /\.bashrc/);
  });

  it('takes a mode change in settings on the next run, without reload', async () => {
    const rc = path.join(os.homedir(), '.bashrc');
    const before = fs.existsSync(rc) ? fs.readFileSync(rc) : null;
    await setSetting('mode', 'warn');
    try {
      const r = await runScript(deploy());
      assert.equal(r.policy?.mode, 'warn');
      assert.equal(r.exitCode, 0, 'nothing blocked in warn');
      const v = r.violations.find((x) => x.kind === 'file');
      assert.ok(v, `a warned file violation: ${JSON.stringify(r.violations)}`);
      assert.equal(v.action, 'warned');
      const d = vscode.languages.getDiagnostics(deploy()).find((x) => x.source === 'sandbox' && x.message.includes('.bashrc'));
      assert.equal(d?.severity, vscode.DiagnosticSeverity.Warning);
    } finally {
      await setSetting('mode', 'enforce');
      if (before) fs.writeFileSync(rc, before);
      else fs.rmSync(rc, { force: true });
    }
    const again = await runScript(deploy());
    assert.equal(again.policy?.mode, 'enforce');
  });

  it('Stop kills the run\'s process tree', async () => {
    const pending = runScript(workspaceUri('scripts', 'long.sh'));
    const run = await waitFor('long.sh running', () => sandbox.runs().find((r) => r.status === 'running' && (r as unknown as { script: string }).script.endsWith('long.sh')));
    const pid = (run as unknown as { pid: number }).pid;
    assert.ok(fs.existsSync(`/proc/${pid}`));
    await vscode.commands.executeCommand('scriptSandbox.stopRun', run.runId);
    const r = await pending;
    assert.equal(r.status, 'finished');
    assert.notEqual(r.exitCode, 0);
    await waitFor(`pid ${pid} gone`, () => !isAlive(pid), 5000);
  });

  it('restarts a dead host and reports the run in flight as aborted', async () => {
    const pending = runScript(workspaceUri('scripts', 'long.sh'));
    const run = await waitFor('long.sh running', () => sandbox.runs().find((r) => r.status === 'running'));
    const scriptPid = (run as unknown as { pid: number }).pid;
    await waitFor('the script started its child (sleep)', () => descendants(scriptPid).length > 0, 5000);
    const tree = [scriptPid, ...descendants(scriptPid)];
    const hostPid = sandbox.hostPid()!;
    process.kill(hostPid, 'SIGKILL');
    const r = await pending;
    assert.equal(r.status, 'aborted');
    // The whole tree, not only the script: a SIGKILLed host cannot clean up, the kernel side must.
    try {
      await waitFor(`run tree ${tree.join(', ')} gone with its host`, () => !tree.some(isAlive), 5000);
    } catch (e) {
      const alive = tree.filter(isAlive);
      for (const pid of alive) process.kill(pid, 'SIGKILL'); // this test's own leftovers, not left to linger
      throw new Error(`${(e as Error).message}; still alive were ${alive.join(', ')}`);
    }
    const next = await runScript(workspaceUri('scripts', 'hello.sh'));
    assert.equal(next.exitCode, 0);
    assert.notEqual(sandbox.hostPid(), hostPid, 'a new host');
  });

  it('runs a `sandbox` task from tasks.json through the same host', async () => {
    const tasks = await vscode.tasks.fetchTasks({ type: 'sandbox' });
    const task = tasks.find((t) => t.name === 'hello in sandbox');
    assert.ok(task, `tasks: ${tasks.map((t) => t.name).join(', ')}`);
    const before = sandbox.runs().length;
    const ended = new Promise<void>((resolve) => {
      const sub = vscode.tasks.onDidEndTask((e) => {
        if (e.execution.task.name === task.name) {
          sub.dispose();
          resolve();
        }
      });
    });
    await vscode.tasks.executeTask(task);
    await ended;
    const r = await waitFor('task run finished', () => sandbox.runs().length > before && sandbox.runs()[0]!.status === 'finished' && sandbox.runs()[0]);
    assert.equal(r.exitCode, 0);
    assert.equal(r.policy?.profile, 'strict', 'the task\'s profile applies');
  });

  describe('a workspace that tries to loosen the user\'s settings', () => {
    // The fixture's .vscode/settings.json sets mode disabled, profile permissive and allowWrite ["~"]; the
    // user's mode is enforce. The script writes a file in the home directory, outside the workspace.
    const target = path.join(os.homedir(), `sandbox-settings-escape-${process.pid}.txt`);
    const escape = () => workspaceUri('scripts', 'escape.sh');

    beforeEach(() => {
      fs.rmSync(target, { force: true });
      fs.writeFileSync(escape().fsPath, `#!/bin/sh\necho escaped > "${target}"\necho "exit $?"\n`, { mode: 0o755 });
    });
    afterEach(() => fs.rmSync(target, { force: true }));

    it('VS Code itself gives the workspace\'s values (the precondition of the attack)', () => {
      const cfg = vscode.workspace.getConfiguration('scriptSandbox', workspaceUri());
      assert.equal(cfg.get('mode'), 'disabled');
      assert.equal(cfg.get('profile'), 'permissive');
      assert.equal(cfg.inspect('mode')?.globalValue, 'enforce');
    });

    it('a run stays under the user\'s mode and profile: the write outside the workspace is blocked', async () => {
      const r = await runScript(escape());
      assert.equal(r.status, 'finished', JSON.stringify(r));
      assert.equal(fs.existsSync(target), false, `${target} must not exist: the run was not sandboxed`);
      assert.equal(r.policy?.mode, 'enforce');
      assert.equal(r.policy?.profile, 'moderate');
      assert.ok(!r.policy?.filesystem.allowWrite.some((g) => g === os.homedir()), `allowWrite: ${r.policy?.filesystem.allowWrite.join(', ')}`);
      const v = r.violations.find((x) => x.kind === 'file' && (x.path ?? '').endsWith(path.basename(target)));
      assert.ok(v, `a violation for the write: ${JSON.stringify(r.violations)}`);
      assert.equal(v.action, 'blocked');
      for (const setting of ['scriptSandbox.mode', 'scriptSandbox.profile', 'scriptSandbox.filesystem.allowWrite']) {
        assert.ok(
          r.notes.some((n) => n.startsWith(`ignored ${setting} = `) && n.includes('.vscode/settings.json')),
          `a note naming ${setting} and where it came from: ${r.notes.join(' | ')}`,
        );
      }
      assert.ok(r.notes.includes('in force: mode enforce (user), profile moderate (default)'), r.notes.join(' | '));
    });

    it('a tasks.json task with "mode": "disabled" stays under the user\'s mode too', async () => {
      const tasks = await vscode.tasks.fetchTasks({ type: 'sandbox' });
      const task = tasks.find((t) => t.name === 'escape task');
      assert.ok(task, `tasks: ${tasks.map((t) => t.name).join(', ')}`);
      const before = sandbox.runs().length;
      const ended = new Promise<void>((resolve) => {
        const sub = vscode.tasks.onDidEndTask((e) => {
          if (e.execution.task.name === task.name) {
            sub.dispose();
            resolve();
          }
        });
      });
      await vscode.tasks.executeTask(task);
      await ended;
      const r = await waitFor('task run finished', () => sandbox.runs().length > before && sandbox.runs()[0]!.status === 'finished' && sandbox.runs()[0]);
      assert.equal(fs.existsSync(target), false, `${target} must not exist: the task's run was not sandboxed`);
      assert.equal(r.policy?.mode, 'enforce');
      assert.equal(r.policy?.profile, 'moderate');
      assert.ok(r.violations.some((x) => x.kind === 'file' && x.action === 'blocked'), JSON.stringify(r.violations));
      assert.ok(r.notes.some((n) => n.startsWith('ignored task "escape task": mode = "disabled"')), r.notes.join(' | '));
      assert.ok(r.notes.some((n) => n.startsWith('ignored task "escape task": profile = "permissive"')), r.notes.join(' | '));
    });

    it('workspace values that tighten are taken, and the run says where its mode came from', async () => {
      const cfg = vscode.workspace.getConfiguration('scriptSandbox', workspaceUri());
      await setSetting('mode', 'warn');
      await cfg.update('mode', 'enforce', vscode.ConfigurationTarget.Workspace);
      await cfg.update('limits.maxProcesses', 7, vscode.ConfigurationTarget.Workspace);
      try {
        const r = await runScript(escape());
        assert.equal(fs.existsSync(target), false, 'enforce (from the workspace) blocks the write');
        assert.equal(r.policy?.mode, 'enforce');
        assert.equal((r.policy as unknown as { limits: { maxProcesses: number } }).limits.maxProcesses, 7);
        assert.ok(r.notes.includes('in force: mode enforce (workspace, tightened), profile moderate (default)'), r.notes.join(' | '));
      } finally {
        await cfg.update('limits.maxProcesses', undefined, vscode.ConfigurationTarget.Workspace);
        await cfg.update('mode', 'disabled', vscode.ConfigurationTarget.Workspace);
        await setSetting('mode', 'enforce');
      }
    });

    it('a workspace auditPath outside the workspace is ignored; one that leaves it through a symbolic link records nothing', async () => {
      // The host appends the audit log outside any sandbox: a repository must not choose a file elsewhere.
      const cfg = vscode.workspace.getConfiguration('scriptSandbox', workspaceUri());
      const outside = path.join(os.homedir(), `sandbox-audit-escape-${process.pid}.jsonl`);
      const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-audit-out-'));
      const link = workspaceUri('linked-logs').fsPath;
      fs.symlinkSync(outDir, link);
      try {
        await cfg.update('auditPath', outside, vscode.ConfigurationTarget.Workspace);
        const r = await runScript(workspaceUri('scripts', 'hello.sh'));
        assert.equal(r.exitCode, 0);
        assert.equal(fs.existsSync(outside), false, `${outside} must not be written`);
        assert.equal((r as unknown as { auditPath: string }).auditPath, workspaceUri('.sandbox', 'audit.jsonl').fsPath);
        assert.ok(r.notes.some((n) => n.startsWith('ignored scriptSandbox.auditPath = ') && n.includes('outside the workspace')), r.notes.join(' | '));

        await cfg.update('auditPath', 'linked-logs/audit.jsonl', vscode.ConfigurationTarget.Workspace);
        const r2 = await runScript(workspaceUri('scripts', 'hello.sh'));
        assert.equal(r2.exitCode, 0);
        assert.deepEqual(fs.readdirSync(outDir), [], 'nothing written through the link');
        assert.ok(r2.notes.some((n) => n.includes('symbolic link') && n.includes('not recorded')), r2.notes.join(' | '));
      } finally {
        await cfg.update('auditPath', undefined, vscode.ConfigurationTarget.Workspace);
        fs.rmSync(link, { force: true });
        fs.rmSync(outDir, { recursive: true, force: true });
        fs.rmSync(outside, { force: true });
      }
    });
  });

  it('reveals a run in the audit log and copies it as JSON', async () => {
    const run = sandbox.runs().find((r) => r.violations.length > 0)!;
    await vscode.commands.executeCommand('scriptSandbox.revealInAuditLog', run.runId);
    const editor = await waitFor('the audit log in an editor', () => vscode.window.activeTextEditor?.document.fileName.endsWith(path.join('.sandbox', 'audit.jsonl')) && vscode.window.activeTextEditor);
    const selected = editor.document.getText(editor.selection);
    assert.match(selected, new RegExp(`"runId":"${run.runId}"`));
    assert.match(selected.split('\n')[0]!, /"type":"run_started"/);
    assert.match(selected, /"type":"violation"/);
    await vscode.commands.executeCommand('scriptSandbox.copyRunAsJson', run.runId);
    const copied = JSON.parse(await vscode.env.clipboard.readText()) as RunJson;
    assert.equal(copied.runId, run.runId);
    assert.equal(copied.violations.length, run.violations.length);
  });

  it('shows what this machine enforces', async () => {
    await vscode.commands.executeCommand('scriptSandbox.showCapabilities');
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse('script-sandbox:/capabilities.md'));
    assert.match(doc.getText(), /Enforce mode: (possible|NOT possible)/);
    assert.match(doc.getText(), /\| (✅|❌) \| \*\*/);
  });

  it('shows an invalid .vscode/sandbox.json in Problems on the offending keys', async () => {
    const uri = workspaceUri('.vscode', 'sandbox.json');
    const text = ['{', '  // typos a user makes', '  "mode": "block",', '  "limits": { "cpuSeconds": -5 },', '  "netwrok": {}', '}', ''].join('\n');
    await vscode.workspace.fs.writeFile(uri, Buffer.from(text));
    try {
      const diags = await waitFor('policy diagnostics', () => {
        const ds = vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'sandbox');
        return ds.length >= 3 && ds;
      });
      const on = (line: number, needle: string) => diags.find((d) => d.range.start.line === line && d.message.includes(needle));
      const mode = on(2, 'mode');
      assert.ok(mode, diags.map((d) => `${d.range.start.line}: ${d.message}`).join(' | '));
      assert.equal(mode.severity, vscode.DiagnosticSeverity.Error);
      assert.equal(mode.range.start.character, 2, 'on the key "mode"');
      assert.ok(on(3, 'cpuSeconds'));
      const unknown = on(4, 'netwrok');
      assert.ok(unknown);
      assert.equal(unknown.range.end.character - unknown.range.start.character, '"netwrok"'.length);
      // A run with a broken workspace policy does not start.
      const r = await vscode.commands.executeCommand('scriptSandbox.runInSandbox', workspaceUri('scripts', 'hello.sh'));
      assert.equal(r, undefined);
    } finally {
      await vscode.workspace.fs.delete(uri);
    }
    await waitFor('policy diagnostics cleared', () => vscode.languages.getDiagnostics(uri).length === 0);
  });
});

function descendants(root: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === root) out.push(Number(d), ...descendants(Number(d)));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function isAlive(pid: number): boolean {
  try {
    const state = /State:\s+(\w)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return state !== 'Z';
  } catch {
    return false;
  }
}
// After the suite above (its first test needs a window with no host yet).
registerTerminalRuns();
