// Small pieces of a run's bookkeeping the runner uses: a signal's name, a millisecond figure rounded for the
// result, and the files a command runs (its interpreters' too), whose folders the plan grants as tool roots.
import * as os from 'node:os';
import { readShebang, findInPath, type ResolvedCommand } from './command';

const SIGNAL_NUMBERS = os.constants.signals as Record<string, number>;

export function signalName(n: number): string | null {
  return Object.entries(SIGNAL_NUMBERS).find(([, v]) => v === n)?.[0] ?? null;
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export function interpreterFiles(cmd: ResolvedCommand, pathVar: string | undefined): string[] {
  const files = [cmd.file];
  const shebang = cmd.script ? readShebang(cmd.script) : null;
  const names = [...(shebang ?? []), ...(cmd.interpreter ? [cmd.interpreter] : [])];
  for (const n of names) {
    if (n.startsWith('-')) continue;
    const f = n.includes('/') ? n : findInPath(n, pathVar);
    if (f) files.push(f);
  }
  return files;
}
