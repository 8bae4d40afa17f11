// The audit log: writer (./writer.ts), keyed chain format (./chain.ts), reader and verify (./verify.ts),
// recovery of aborted runs (./recover.ts), where the key and locks live (./key.ts), and how the log's
// folder is opened without following links (./safe-dir.ts).
export { AuditLog } from './writer';
export { DEFAULT_AUDIT_KEEP, DEFAULT_AUDIT_MAX_BYTES, type AuditLogOptions, type FsyncPolicy } from './options';
export { MIN_SECRET_VALUE_LENGTH } from './mask';
export { auditChainFiles, rotatedPath, rotatedSiblings } from './files';
export { readAuditRecords, verifyAuditFile, type VerifyOptions, type VerifyResult } from './verify';
export { auditKeyPath, defaultStateDir, readAuditKey } from './key';
