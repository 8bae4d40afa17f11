// The runner: one request in, one RunHandle out. It resolves the command, filters the environment,
// compiles the plan, gets a launcher (pre-warmed from the pool or cold: LauncherSource), hands it the plan,
// and watches the tree until the run is over. Everything a run does is reported as an event.
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { ResolvedPolicy } from '../policy/schema';
import { decideEnv } from '../policy/evaluate';
import { SandboxError } from '../errors';
import { needsEgressProxy, startEgressProxy, withProxyAllowed } from './egress-proxy';
import type { ExecOutcome, Launcher, LauncherSource } from './launcher-source';
import { resolveCommand, toolRootsFor, type ResolvedCommand } from './command';
import type { HostPlatform, PlanRequest, RunTree, Supervision } from './platform';
import type { Plan } from '../protocol/plan';
import { Placeholders } from './ns-placeholders';
import type { RunTerminalPort } from './run-terminal';
import { nestedRepoViolations, scanGitEntries, type GitEntries } from './nested-repos';
import { RunHandle, exitForError, exitStatusFor, newRunId } from './run-handle';
import type { LimitEvent } from '../protocol/run-events';
import { compileReactions, type RunReactions } from '../protocol/run-reactions';
import { measureUsage } from './run-usage';
import { crossingEvent } from './run-limits';
import { makeRunTmp } from './run-tmp';
import { interpreterFiles, round3, signalName } from './run-bookkeeping';
import { withDenyGlobLinks } from './deny-glob-links';

export interface RunRequest {
  command: string[];
  cwd: string;
  policy: ResolvedPolicy;
  /** The environment the script would get without a sandbox; filtered by the policy. */
  env: Record<string, string>;
  stdin?: 'pipe' | 'inherit' | 'ignore';
  inferInterpreter?: boolean;
  interpreters?: Record<string, string[]>;
  runId?: string;
  /** A pty the caller made (the host): the script's stdin/stdout/stderr and controlling terminal; `stdin` is ignored. */
  terminal?: RunTerminalPort;
  /** The caller's own terminal the script inherits (the CLI's tty on stdin): granted by its exact path. */
  callerTty?: string;
  /** The host's reactions, when the caller (the run session) compiled them already; else compiled here from the policy. */
  reactions?: RunReactions;
}

const ESRCH = os.constants.errno.ESRCH;


export class Runner {
  constructor(
    private readonly platform: HostPlatform,
    private readonly launchers: LauncherSource,
  ) {}

  run(req: RunRequest): RunHandle {
    const runId = req.runId ?? newRunId();
    const handle = new RunHandle(runId);
    // Start on the next tick so callers can attach listeners first.
    setImmediate(() => {
      this.start(req, handle).catch((e) => this.failEarly(handle, e, Date.now()));
    });
    return handle;
  }

  private failEarly(handle: RunHandle, e: unknown, t0: number): void {
    const err = e instanceof SandboxError ? e : new SandboxError('SETUP_FAILED', (e as Error)?.message ?? String(e));
    handle.finish({
      runId: handle.runId,
      exitCode: exitForError(err.code),
      signal: null,
      durationMs: Date.now() - t0,
      cpuUserMs: null,
      cpuSystemMs: null,
      maxRssKiB: null,
      usageSource: 'sampled',
      limits: [],
      setupError: err.toData(),
      timedOut: false,
      cancelled: false,
    });
  }

  private async start(asked: RunRequest, handle: RunHandle): Promise<void> {
    const t0 = Date.now();
    const runId = handle.runId;
    // Deny globs followed through the links on their ways, before anything is compiled from the policy.
    const linked = withDenyGlobLinks(asked.policy);
    for (const n of linked.notes) handle.emit('stderr', Buffer.from(`script-sandbox: not kept in enforce: ${n}\n`));
    const given = { ...asked, policy: linked.policy, globLinks: linked.links };
    // Wildcard host rules are matched by name through a per-run proxy; the script may reach the proxy.
    // A platform whose kernel rules cannot name hosts (macOS Seatbelt) sends all egress through the proxy.
    const wantsProxy = needsEgressProxy(given.policy) || (this.platform.proxiesAllEgress?.(given.policy) ?? false);
    const reactions = given.reactions ?? compileReactions(given.policy);
    const proxy = wantsProxy ? await startEgressProxy(given.policy, reactions, runId, (v) => handle.emit('violation', v)) : null;
    const req = { ...(proxy ? { ...given, policy: withProxyAllowed(given.policy, proxy.port) } : given), reactions };
    try {
      await this.startWith(req, handle, t0, proxy?.env() ?? {});
    } finally {
      proxy?.close();
    }
  }

  private async startWith(req: RunRequest & { reactions: RunReactions; globLinks: string[] }, handle: RunHandle, t0: number, proxyEnv: Record<string, string>): Promise<void> {
    const p = req.policy;
    const runId = handle.runId;

    const { kept, removed } = decideEnv(p, this.platform.envForPolicy?.(p, req.env) ?? req.env);
    const cmd = resolveCommand(req.command, {
      cwd: req.cwd,
      pathVar: kept.PATH ?? req.env.PATH,
      inferInterpreter: req.inferInterpreter,
      interpreters: req.interpreters,
    });
    const tmpDir = makeRunTmp(runId);
    const env: Record<string, string> = { ...kept, ...proxyEnv, TMPDIR: tmpDir };
    const toolRoots = toolRootsFor(interpreterFiles(cmd, env.PATH), [p.home, os.homedir()]);

    let tree: RunTree | null = null;
    let launcher: Launcher | null = null;
    let plan: Plan;
    let planReq: PlanRequest;
    let prepared: unknown = null;
    let releasePlaceholders = () => undefined as void;
    const supervised = this.platform.supervises(p);
    try {
      if (supervised) prepared = await this.platform.prepareSupervision(p);
      tree = this.platform.createTree(runId, p);
      planReq = { runId, file: cmd.file, argv: cmd.argv, env, cwd: req.cwd, tmpDir, toolRoots, nprocLimit: tree.nprocRlimit(), memoryWatchdogOnly: tree.kind === 'watchdog', ...ttyOf(req) };
      plan = this.platform.compile(p, { ...planReq, listener: supervised });
      if (req.terminal && plan.platform === 'linux') plan = { ...plan, terminal: { path: req.terminal.path } };
      const made = this.placeholders.make(plan.namespaces);
      releasePlaceholders = made.release;
      if (plan.namespaces && made.readOnlyFs.length) {
        const keep = (x: string) => !made.readOnlyFs.includes(x);
        plan = { ...plan, namespaces: { ...plan.namespaces, readOnly: plan.namespaces.readOnly.filter(keep), hidden: plan.namespaces.hidden.filter(keep) } };
      }
      launcher = await this.launchers.acquire({ stdin: req.terminal ? 'ignore' : (req.stdin ?? 'ignore') });
    } catch (e) {
      launcher?.kill();
      tree?.dispose();
      releasePlaceholders();
      fs.rmSync(tmpDir, { recursive: true, force: true });
      throw e;
    }
    try {
      await this.supervise(req, handle, { t0, cmd, removed, tmpDir, tree, launcher, plan, planReq, prepared, releasePlaceholders });
    } catch (e) {
      // A failure once the launcher had its tree (its listener could not be taken: the launcher died under the
      // run) skipped the teardown that comes with a result: the tree's processes, its cgroup and owner record,
      // and the temp folder go here, before the setup error is reported (red team rt19: they were left).
      if (!handle.finished) {
        tree.killAll();
        launcher.kill();
        tree.dispose();
        fs.rmSync(tmpDir, { recursive: true, force: true });
      }
      throw e;
    } finally {
      releasePlaceholders();
    }
  }

  private async supervise(
    req: RunRequest & { reactions: RunReactions; globLinks: string[] },
    handle: RunHandle,
    s: { t0: number; cmd: ResolvedCommand; removed: string[]; tmpDir: string; tree: RunTree; launcher: Launcher; plan: Plan; planReq: PlanRequest; prepared: unknown; releasePlaceholders: () => void },
  ): Promise<void> {
    const p = req.policy;
    const { tree } = s;
    // Replaced when the first launcher turns out dead before it answered the plan (see startOn).
    let launcher = s.launcher;
    const limits: LimitEvent[] = [];
    let timedOut = false;
    let cancelled = false;

    const reportLimit = (ev: LimitEvent) => {
      if (limits.some((l) => l.limit === ev.limit)) return;
      limits.push(ev);
      handle.emit('limit', ev);
    };
    const killTree = () => {
      tree.killAll();
      launcher.kill();
    };
    handle.cancelImpl = () => {
      cancelled = true;
      killTree();
    };

    let supervision: Supervision | null = null;
    const bind = (l: Launcher) => {
      l.onListener = async (fd) => {
        supervision = this.platform.supervise(
          {
            runId: handle.runId,
            policy: p,
            globLinks: req.globLinks,
            reactions: req.reactions,
            plan: s.planReq,
            launcherPid: l.pid,
            fd,
            onViolation: (v) => handle.emit('violation', v),
            onError: (message) => handle.emit('stderr', Buffer.from(`script-sandbox: ${message}\n`)),
          },
          s.prepared,
        );
      };
      l.stdout.on('data', (b: Buffer) => handle.emit('stdout', b));
      l.stderr.on('data', (b: Buffer) => handle.emit('stderr', b));
      handle.stdin = req.terminal ? null : l.stdin;
    };

    req.terminal?.onOutput((b) => handle.emit('stdout', b));

    const timeoutS = p.limits.timeoutSeconds;
    // The wall clock applies in every mode, warn included: it is the hard stop that keeps a run from hanging forever.
    // It starts again at exec: a set-up slowed by a loaded machine never eats the script's time, and is still bounded.
    const onTimeout = (s: number) => () => {
      timedOut = true;
      reportLimit({ limit: 'timeout', observed: s, max: s, action: 'killed', message: `wall-clock timeout of ${s} s reached; the process tree was killed` });
      killTree();
    };
    let timer = timeoutS != null ? setTimeout(onTimeout(timeoutS), timeoutS * 1000) : null;

    const overlap = { other: this.inFlight.size > 0 };
    for (const o of this.inFlight) o.other = true;
    this.inFlight.add(overlap);
    const usageBefore = this.platform.childrenUsage();
    const external = this.platform.watchViolations?.({
      runId: handle.runId,
      policy: p,
      rootPid: launcher.pid,
      onViolation: (v) => handle.emit('violation', v),
      onError: (message) => handle.emit('stderr', Buffer.from(`script-sandbox: ${message}\n`)),
    });
    // Nested repositories cannot be forbidden, only found afterwards (see nested-repos.ts): the workspace as it
    // was before the script, seen while the launcher applies its plan (startOn), once per run.
    let gitBefore: GitEntries | null = null;
    const beforeScript = () => {
      if (req.reactions.sandboxed && !gitBefore) gitBefore = scanGitEntries(p.workspace);
    };
    let outcome: ExecOutcome | 'dead';
    try {
      outcome = await this.startOn(launcher, bind, tree, s.plan, beforeScript);
      // A pooled launcher killed while it waited is found dead only now (the tree could not take its pid, or it
      // closed its channel without a word). The script never started, so the plan goes to another launcher; the
      // pool holds two and one kill can take both, hence up to two replacements.
      for (let retry = 0; outcome === 'dead' && retry < 2 && !cancelled && !timedOut; retry++) {
        launcher.kill();
        overlap.other = true; // the dead launcher's own CPU reaches the host's children usage: sampled figures
        try {
          launcher = await this.launchers.acquire({ stdin: req.terminal ? 'ignore' : (req.stdin ?? 'ignore') });
        } catch (e) {
          outcome = { ok: false, error: (e instanceof SandboxError ? e : new SandboxError('LAUNCHER_CRASHED', (e as Error)?.message ?? String(e))).toData() };
          break;
        }
        outcome = await this.startOn(launcher, bind, tree, s.plan, beforeScript);
      }
    } catch (e) {
      // The run ends here with a setup error (startWith tears it down): its wall-clock timer must not keep
      // the host alive, nor fire at a tree that is gone.
      if (timer) clearTimeout(timer);
      this.inFlight.delete(overlap);
      launcher.kill();
      throw e;
    }
    if (outcome === 'dead') outcome = { ok: false, error: { code: 'LAUNCHER_CRASHED', message: 'launchers exited before they answered the plan (killed while they waited, or crashed at once)' } };
    const execAt = outcome.ok ? performance.now() : null;
    if (outcome.ok && timer && timeoutS != null && !timedOut) {
      clearTimeout(timer);
      timer = setTimeout(onTimeout(timeoutS), timeoutS * 1000);
    }
    if (outcome.ok) {
      tree.arm((c) => {
        const ev = crossingEvent(c, req.reactions);
        reportLimit(ev);
        // A crossing of memory, processes or tree CPU ends the run in enforce: a limit that only logs is none.
        if (ev.action === 'killed') killTree();
      }, outcome.launcherCpu.userMs + outcome.launcherCpu.systemMs);
      handle.emit('started', {
        runId: handle.runId,
        pid: launcher.pid,
        command: req.command,
        file: s.cmd.file,
        script: s.cmd.script,
        cwd: req.cwd,
        envRemoved: s.removed,
        treeLimits: tree.kind,
        time: new Date().toISOString(),
      });
    }
    const { code, signal } = await launcher.exited;
    const exitAt = performance.now();
    if (timer) clearTimeout(timer);

    // The host's children usage holds the run only once its own child is reaped (in the namespace tier the
    // stage, after it tore its namespaces down); a cgroup has the figures at once, so only without one is
    // that wait paid (a cgroup whose figures turn out unreadable waits below).
    if (!tree.kind.startsWith('cgroup')) await launcher.reaped;
    let concurrentReaps = this.platform.childrenUsage();
    this.inFlight.delete(overlap);
    // Leftovers (daemons) die first, so nothing is left blocked on a listener we are about to close and
    // nothing holds the output pipes open; then the output is drained.
    tree.sweep();
    // Every violation the supervisor saw is delivered before 'finished'; the worker's answer and the output's
    // end are awaited together.
    const sv = supervision as Supervision | null;
    await Promise.all([launcher.drained(2000), req.terminal?.drained(2000), sv?.flush(), external?.flush()]);
    sv?.detach();

    // Limits the kernel enforced show up as the way the process ended.
    const l = p.limits;
    // A shell reports a child killed by a signal as 128+N: the limit signals count either way.
    const sig = signal ?? (code != null && code > 128 ? signalName(code - 128) : null);
    // The tree's figures, read once now that everything is drained (a cgroup's are a few file reads each time).
    const treeUsage = tree.usage();
    if (treeUsage.source !== 'cgroup' && tree.kind.startsWith('cgroup')) {
      await launcher.reaped;
      concurrentReaps = this.platform.childrenUsage();
    }
    if ((sig === 'SIGXCPU' && l.cpuSeconds != null) || (signal === 'SIGKILL' && l.cpuSeconds != null && !timedOut && !cancelled && treeUsage.cpuUserMs != null && (treeUsage.cpuUserMs + (treeUsage.cpuSystemMs ?? 0)) / 1000 >= l.cpuSeconds)) {
      reportLimit({ limit: 'cpu', observed: l.cpuSeconds, max: l.cpuSeconds ?? 0, action: 'killed', message: `CPU time limit ${l.cpuSeconds} s reached (${signal})` });
    }
    if (sig === 'SIGXFSZ' && l.fileSizeMiB != null) {
      reportLimit({ limit: 'fileSize', observed: null, max: l.fileSizeMiB ?? 0, action: 'killed', message: `file size limit ${l.fileSizeMiB} MiB reached (SIGXFSZ)` });
    }
    const hits = tree.kernelHits();
    if (hits.memory && l.memoryMiB != null) reportLimit({ limit: 'memory', observed: null, max: l.memoryMiB, action: 'killed', message: `memory limit ${l.memoryMiB} MiB reached; the kernel killed the process (cgroup OOM)` });
    if (hits.processes && l.maxProcesses != null) reportLimit({ limit: 'processes', observed: l.maxProcesses, max: l.maxProcesses, action: 'denied', message: `process limit ${l.maxProcesses} reached; further forks failed` });

    if (gitBefore && outcome.ok) {
      for (const v of nestedRepoViolations(handle.runId, gitBefore, scanGitEntries(p.workspace), req.reactions)) handle.emit('violation', v);
    }
    const usage = measureUsage(treeUsage, usageBefore, concurrentReaps, outcome.ok ? outcome.launcherCpu : null, overlap);
    const setupError = outcome.ok ? null : outcome.error;
    const at = (t: number | null) => (t === null ? null : round3(t - handle.requestedAt));
    // The result goes out before the teardown (cgroup rmdir, reaper update, temp folder): 'finished' listeners
    // (the host's IPC send) run first. The teardown is still synchronous here, so a caller awaiting wait()
    // resumes after it and finds the run's cgroup and TMPDIR gone, as before.
    try {
      handle.finish({
        runId: handle.runId,
        exitCode: setupError ? exitForError(setupError.code) : exitStatusFor(code, signal),
        signal: setupError ? null : signal,
        durationMs: Date.now() - s.t0,
        ...usage,
        limits,
        setupError,
        timedOut,
        cancelled,
        phases: { execMs: at(execAt), exitMs: at(exitAt)!, resultMs: at(performance.now())! },
      });
    } finally {
      tree.dispose();
      s.releasePlaceholders();
      fs.rmSync(s.tmpDir, { recursive: true, force: true });
      this.launchers.released?.(launcher);
    }
  }

  /**
   * Binds a launcher to the run, puts it in the tree, does what must be done before the script starts
   * (`beforeScript`: the nested-repository scan) and hands it the plan; 'dead' when it was gone before it
   * answered (nothing of the script ran), so another launcher may take the plan.
   */
  private async startOn(l: Launcher, bind: (l: Launcher) => void, tree: RunTree, plan: Plan, beforeScript: () => void): Promise<ExecOutcome | 'dead'> {
    bind(l);
    // A plan with a seccomp listener has a barrier: the launcher cannot exec before the host acks the listener,
    // and the ack is only written once the launcher's answers are read, after this synchronous attach and
    // scan. Such a plan goes out first, so the launcher reads and applies it while the host writes the cgroups
    // and scans the workspace (ms, tens of ms in a large one).
    const barrier = plan.platform === 'linux' && plan.seccomp?.listener === true;
    const sent = barrier ? l.exec(plan) : null;
    try {
      tree.attach(l.pid);
    } catch (e) {
      if (sent) {
        l.kill();
        await sent;
      }
      // A cgroup refuses a pid that is gone (ESRCH): the launcher died while it waited.
      if ((e as NodeJS.ErrnoException)?.code === 'ESRCH' || (e as SandboxError)?.errno === ESRCH) return 'dead';
      throw e;
    }
    beforeScript();
    const outcome = await (sent ?? l.exec(plan));
    return !outcome.ok && outcome.silent ? 'dead' : outcome;
  }

  /** Runs in flight, each with a flag set when another run overlapped it (its rusage delta is then shared). */
  private readonly inFlight = new Set<{ other: boolean }>();
  /** Namespace tier: empty directories made as bind targets for missing protected entries. */
  private readonly placeholders = new Placeholders();
}

/** The run's terminal for the grants: the host's pty slave, else the caller's tty. */
function ttyOf(req: RunRequest): { ttyPath?: string } {
  const p = req.terminal?.path ?? req.callerTty;
  return p ? { ttyPath: p } : {};
}
