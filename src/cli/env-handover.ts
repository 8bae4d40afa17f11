// dist/cli.js begins as a shell script (build.mjs writes its first two lines) that hands NODE_EXTRA_CA_CERTS
// to Node under another name: Node 20 reads and parses that certificate bundle at every start (35-45 ms
// here), and the CLI's own process never makes a TLS connection. The entry puts the variable back first
// thing, before anything reads the environment, so the script (and git, for git-scripts) get it as the user
// set it. `node dist/cli.js` (no shell) skips the hand-over and changes nothing.

/** The name the shell lines hand NODE_EXTRA_CA_CERTS over under. */
export const CA_CERTS_HANDOVER = 'SCRIPT_SANDBOX_HANDOVER_NODE_EXTRA_CA_CERTS';

/** The shell lines at the top of dist/cli.js: valid sh, and to JavaScript a string statement and a comment. */
export const CLI_SHELL_PREAMBLE = [
  '#!/bin/sh',
  `":" //; [ -n "\${NODE_EXTRA_CA_CERTS+x}" ] && export ${CA_CERTS_HANDOVER}="$NODE_EXTRA_CA_CERTS" && unset NODE_EXTRA_CA_CERTS; exec /usr/bin/env node "$0" "$@"`,
].join('\n');

/** Puts a handed-over NODE_EXTRA_CA_CERTS back (an empty value stays empty, an unset one unset). */
export function restoreHandedOverEnv(env: NodeJS.ProcessEnv = process.env): void {
  const v = env[CA_CERTS_HANDOVER];
  if (v === undefined) return;
  env.NODE_EXTRA_CA_CERTS = v;
  delete env[CA_CERTS_HANDOVER];
}
