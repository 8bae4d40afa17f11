// Path-list helpers of the models' grant building.
import { isUnder, normalizeAbs } from './paths';

/** The paths normalised, each once, in first-seen order. */
export function uniq(xs: readonly string[]): string[] {
  return [...new Set(xs.map((x) => normalizeAbs(x)))];
}

/** Carve-outs strictly below one of `paths`: for a grant that gives back something inside a carve-out (the
 *  carve-outs above it are what it overrides; one equal to it was ruled out before). */
export function below(paths: readonly string[], cuts: readonly string[]): string[] {
  return cuts.filter((c) => paths.some((p) => c !== p && isUnder(c, p)));
}
