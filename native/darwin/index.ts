// native/darwin: Seatbelt profile generation, rlimits with Darwin's numbers, the unified-log denial parser.
export { createDarwinBackend, compileDarwinPlan, darwinRlimits, type DarwinBackend, type DarwinCompileRequest } from './backend';
export type { DarwinPlan } from './plan';
export { seatbeltProfile, type SeatbeltProfile, type SeatbeltRequest } from './seatbelt';
export { parseLogLine, denialToViolation, streamDenials, type SandboxDenial } from './log-stream';
export { darwinReport, type DarwinFacts } from './capabilities';
