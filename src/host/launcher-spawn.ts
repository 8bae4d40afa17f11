// The launcher's process, as every launcher source starts it: `node launcher.js` (behind the namespace stage's
// command when there is one) with fd 3 the control channel and, behind the stage, fd 4 the init's status line.
// Its own module (node:child_process only) so the CLI's small entry bundle can start the launcher before it
// loads the commands' bundle (EarlyLauncher), the exact same way a ColdLauncherSource would.
import { spawn, type ChildProcess } from 'node:child_process';

export type LauncherStdin = 'pipe' | 'inherit' | 'ignore';

export function spawnLauncher(launcherPath: string, nodePath: string, prefix: string[], stdin: LauncherStdin): ChildProcess {
  const argv = [...prefix, nodePath, launcherPath];
  return spawn(argv[0]!, argv.slice(1), {
    stdio: prefix.length > 0 ? [stdin, 'pipe', 'pipe', 'pipe', 'pipe'] : [stdin, 'pipe', 'pipe', 'pipe'],
    // The launcher's own environment is not the script's (that comes in the plan); keep it empty so
    // NODE_OPTIONS and friends from the user's shell cannot change how the launcher behaves.
    env: {},
  });
}

/**
 * A launcher the CLI's entry started before anything else (`run` only), handed to the engine: it is used
 * only when the engine would have started exactly this one (same stage prefix, launcher and stdin, and the
 * stage's probe says the tier is available); otherwise it is killed. Whoever does not claim it kills it.
 */
export interface EarlyLauncher {
  readonly child: ChildProcess;
  readonly prefix: string[];
  readonly launcherPath: string;
  readonly nodePath: string;
  readonly stdin: LauncherStdin;
  claimed: boolean;
}

/** Kills an early launcher nobody claimed (its stage's init dies with it: PDEATHSIG). */
export function discardEarly(early: EarlyLauncher | undefined): void {
  if (!early || early.claimed) return;
  early.claimed = true;
  try {
    early.child.kill('SIGKILL');
  } catch {
    // gone
  }
}
