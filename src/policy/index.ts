// The policy module's public API: schema, presets, resolve, evaluate, explain. Pure throughout.
export * from './schema';
export * from './violation';
export { WorkspacePolicyFile, splitWorkspaceFile, type WorkspaceFileContent } from './workspace-file';
export { parseWorkspaceFile } from './policy-text';
export {
  ALWAYS_PROTECTED,
  SYSTEM_PATHS,
  DEVICE_READ_WRITE,
  DEVICE_READ_ONLY,
  DEVICE_ROOT,
  SHARED_TEMP_PATHS,
  DEFAULT_ENV_ALLOW,
  DEFAULT_SECRET_PATTERNS,
  DEFAULT_BLOCKED_PORTS,
  PORT_NAMES,
  NETWORK_PRESET_MEANING,
  PROFILE_NAMES,
  DEFAULT_PROFILE,
  presetFor,
  sharedTempWritable,
  type ProtectedEntry,
  type ProfilePreset,
} from './presets';
export {
  resolvePolicy,
  validateLayer,
  expandGlob,
  looserFields,
  parsePolicyFile,
  policyDigest,
  canonicalJson,
  type PolicyLayers,
  type ResolveContext,
  type Resolution,
} from './resolve';
export {
  decidePath,
  decideEnv,
  decideAddress,
  describeAddress,
  maskSecrets,
  compileSecretPattern,
  compileSecretPatterns,
  envNameMatches,
  looksSecretName,
  protectedPaths,
  systemPathOf,
  addressRules,
  MASK,
  MIN_MASKED_VALUE_LENGTH,
  type Decision,
  type EnvDecision,
  type PathExtras,
  type ProtectedPath,
  type AddressInfo,
  type AddressContext,
} from './evaluate';
export {
  parseIpLiteral,
  parseIp,
  formatIp,
  classifyIp,
  parseCidr,
  cidrContains,
  parseAddressRule,
  hostMatches,
  METADATA_HOSTS,
  type Ip,
  type Cidr,
  type AddressRule,
  type AddressCategory,
  type Classification,
} from './ip';
export { globCovers, globNames, globStaticPrefix, normalizeAbs, isUnder, displayPath } from './paths';
export { parseJsonc, JsoncError } from './jsonc';
export { explainPolicy, type PolicyExplanation } from './explain';
export { buildFsModel } from './fs-model';
export { protectedSet } from './protected-set';
export { grantsAllow, modelAllows } from './grants-allow';
export { kernelPrefix } from './glob-kernel-paths';
export { gitConfigValues, parseGitFile } from './git-config';
export {
  NO_FS,
  READ_RIGHTS,
  WRITE_RIGHTS,
  type FsModel,
  type FsModelFs,
  type FsModelRequest,
  type FsTier,
  type Grant,
  type ProtectedInWritable,
  type HiddenPath,
} from './fs-model-types';
