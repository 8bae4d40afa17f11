// The CLI's own terminal, which a run inherits on stdin: granted to the run by its exact path (a script may
// reopen it, as `tty`, ssh or gpg do), and the only /dev/pts entry it gets. The script still has no
// controlling terminal (the launcher leads its own session) and TIOCSTI stays blocked by the syscall filter.
import * as fs from 'node:fs';
import { PTY_SLAVE } from '../policy/terminal-grants';

/** The pty slave on the CLI's stdin, or undefined (not a terminal, not a pty, or no /proc). */
export function callerTty(stdin: { isTTY?: boolean } = process.stdin, readlink: (p: string) => string = fs.readlinkSync): string | undefined {
  if (!stdin.isTTY) return undefined;
  try {
    const p = readlink('/proc/self/fd/0');
    return PTY_SLAVE.test(p) ? p : undefined;
  } catch {
    return undefined;
  }
}
