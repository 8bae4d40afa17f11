// The terminals a run may use: the pty multiplexers and its own terminal, never the host's /dev/pts.
import type { FsTier, Grant } from './fs-model-types';

/** A pty slave path (`/dev/pts/N`): the only terminals a grant may name besides the multiplexers. */
export const PTY_SLAVE = /^\/dev\/pts\/\d+$/;

/** The devpts mount point: in the namespace tier the launcher mounts a private instance over it. */
export const DEVPTS_DIR = '/dev/pts';

/**
 * Terminals of a run: the pty multiplexers and exactly the run's own terminal. Never the host's /dev/pts as a
 * whole: every other session's terminal of the same user is in there (read what they type, write onto their
 * screen). In the namespace tier the launcher mounts a private devpts instance over /dev/pts (and its ptmx
 * over /dev/ptmx), so /dev/pts as a whole is granted there: it holds only the ptys the script makes itself
 * (`script`, expect, pty.spawn need their new slaves; Landlock checks the open inside TIOCGPTPEER too). The
 * launcher drops that rule when it could not mount the private instance (see apply.ts devptsStep), so a
 * failed mount falls back to the exact-path grants, never to the host's instance. Fallback tier cost: a pty
 * the script makes itself has an ungranted slave (EACCES).
 */
export function terminalGrants(ttyPath: string | undefined, tier: FsTier = 'fallback'): Grant[] {
  const own = ttyPath && PTY_SLAVE.test(ttyPath) ? [ttyPath] : [];
  const exact: Grant = { access: ['read_file', 'write_file', 'ioctl_dev'], paths: ['/dev/ptmx', '/dev/pts/ptmx', ...own], except: [] };
  if (tier !== 'namespaces') return [exact];
  return [exact, { access: ['read_file', 'write_file', 'ioctl_dev', 'read_dir'], paths: [DEVPTS_DIR], except: [] }];
}
