// The policy file's analysis lives in src/policy/policy-text.ts, shared with the CLI (one parser, one text).
export { analyzePolicyText, type PolicyAnalysis, type PolicyProblem } from '../policy/policy-text';
