// Which README section explains a violation's rule, for the diagnostic's `code` link. Pure (no vscode), so
// a unit test checks that every family's heading exists in the README. A rule is "family:detail"
// ("protected:~/.ssh", "seccomp:deny ptrace", "cloud-metadata:169.254.169.254/32") or a bare name.
import type { Violation } from '../policy/violation';

/** README headings (level 4, under "What a violation's rule means"), by rule family. */
export const RULE_HEADINGS = {
  protected: 'Rule: protected paths',
  filesystem: 'Rule: file grants, deny lists and read-only',
  metadata: 'Rule: cloud metadata',
  network: 'Rule: network addresses, ports and presets',
  unixSockets: 'Rule: unix sockets',
  syscalls: 'Rule: system calls',
  limits: 'Rule: resource limits',
  other: 'Rule: environment and policy',
} as const;
export type RuleFamily = keyof typeof RULE_HEADINGS;

const BY_PREFIX: Array<[RegExp, RuleFamily]> = [
  [/^(protected:|filesystem\.nestedRepository)/, 'protected'],
  [/^cloud-metadata:/, 'metadata'],
  [/^unix-/, 'unixSockets'],
  [/^(seccomp|seatbelt):/, 'syscalls'],
  [/^limit:/, 'limits'],
  [/^(denyRead|denyWrite|allowRead|allowWrite|readOnly|profile:|system-path:|device:|outside-granted-paths|fallback-tier|temp-dir|workspace|shared-temp:)/, 'filesystem'],
  [/^(denyHosts|allowHosts|allowAddresses|unspecified|preset:|blocked-port:|private|loopback|link-local|multicast|reserved|invalid-address|serving:)/, 'network'],
];

const BY_KIND: Record<Violation['kind'], RuleFamily> = { file: 'filesystem', network: 'network', syscall: 'syscalls', resource: 'limits', env: 'other', policy: 'other' };

export function ruleFamily(v: Pick<Violation, 'rule' | 'kind'>): RuleFamily {
  return BY_PREFIX.find(([re]) => re.test(v.rule))?.[1] ?? BY_KIND[v.kind] ?? 'other';
}

/** GitHub's anchor for a heading: lower case, punctuation other than `-` dropped, spaces to `-`. */
export function slugOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The 0-based line of the heading with this anchor in a Markdown text, or undefined. */
export function headingLine(markdown: string, anchor: string): number | undefined {
  const lines = markdown.split('\n');
  const i = lines.findIndex((l) => /^#{1,6}\s/.test(l) && slugOf(l.replace(/^#+\s*/, '')) === anchor);
  return i < 0 ? undefined : i;
}

/** The README anchor that explains a violation's rule. */
export function ruleAnchor(v: Pick<Violation, 'rule' | 'kind'>): string {
  return slugOf(RULE_HEADINGS[ruleFamily(v)]);
}
