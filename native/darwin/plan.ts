// The compiled macOS plan: declared with the other plans in src/protocol/plan.ts (one shape, validated by the
// launcher on arrival).
export type { DarwinPlan } from '../../src/protocol/plan';
