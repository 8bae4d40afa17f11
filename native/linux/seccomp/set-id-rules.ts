// Set-user-ID and set-group-ID modes refused in the BPF, in every mode (red team rt22): a script run by root
// holds no capabilities and gains nothing from such a file itself, but one it left behind (a root script's
// set-user-ID root file in /tmp) would run with its owner's rights for every user of the machine. Like the
// foreign-pid denials they protect the host, not a policy: plain EPERM, not reported. The mode arguments
// are umode_t (32 bits); a mode without O_CREAT or O_TMPFILE is 0 from libc. openat2's mode sits in its
// struct, which the filter cannot read: the supervisor checks it (supervisor-files.ts).
import { arg32, rule, type SeccompAction, type SeccompRule } from './dsl';

const SET_ID_BITS = 0o6000;

/** Each call with a mode argument, and that argument's index. */
const MODE_ARGS: ReadonlyArray<readonly [string, 1 | 2 | 3]> = [
  ['chmod', 1],
  ['fchmod', 1],
  ['fchmodat', 2],
  ['fchmodat2', 2],
  ['open', 2],
  ['openat', 3],
  ['creat', 1],
  ['mknod', 1],
  ['mknodat', 2],
];

export const SET_ID_REASON = "a set-user-ID or set-group-ID mode: a file left so runs with its owner's rights for every user of this machine";

/** A call missing on an architecture (open, chmod on aarch64) is skipped by the compiler, as elsewhere. */
export function setIdModeRules(refuse: SeccompAction): SeccompRule[] {
  return MODE_ARGS.map(([c, i]) => rule(c, refuse, `${c}: ${SET_ID_REASON}`, [arg32(i).maskedAny(SET_ID_BITS)]));
}
