// Structs and constants of the restricted token (winnt.h, securitybaseapi.h), field for field with fixed-width
// types so the x64 layouts hold under koffi on Linux too (unit-tested there). Pointers are uintptr_t.
import koffi from 'koffi';
import { encodeStruct } from './structs';

/** SID_AND_ATTRIBUTES: 16 bytes on x64 (Sid 0, Attributes 8, 4 pad). */
export const SID_AND_ATTRIBUTES = koffi.struct({
  Sid: 'uintptr_t',
  Attributes: 'uint32',
});

/** TOKEN_DEFAULT_DACL: the ACL every object the script creates starts with (its own processes included). */
export const TOKEN_DEFAULT_DACL = koffi.struct({
  DefaultDacl: 'uintptr_t',
});

/** TOKEN_USER / TOKEN_OWNER header: one SID_AND_ATTRIBUTES (the SID bytes follow in the same buffer). */
export const TOKEN_USER = koffi.struct({
  User: SID_AND_ATTRIBUTES,
});

/** TOKEN_GROUPS header: GroupCount then SID_AND_ATTRIBUTES[GroupCount] at 8. */
export const TOKEN_GROUPS_HEADER = koffi.struct({
  GroupCount: 'uint32',
  Groups: koffi.array(SID_AND_ATTRIBUTES, 1),
});

/** FILETIME, as GetProcessTimes fills it (100 ns since 1601). */
export const FILETIME = koffi.struct({
  dwLowDateTime: 'uint32',
  dwHighDateTime: 'uint32',
});

export const TokenAccess = {
  ASSIGN_PRIMARY: 0x1,
  DUPLICATE: 0x2,
  QUERY: 0x8,
  ADJUST_DEFAULT: 0x80,
} as const;

/** TOKEN_INFORMATION_CLASS values used here. */
export const TokenInfoClass = {
  TokenUser: 1,
  TokenGroups: 2,
  TokenDefaultDacl: 6,
  TokenRestrictedSids: 11,
  TokenLogonSid: 28,
} as const;

/** CreateRestrictedToken flags. */
export const RestrictedTokenFlag = {
  DISABLE_MAX_PRIVILEGE: 0x1,
  SANDBOX_INERT: 0x2,
  LUA_TOKEN: 0x4,
  WRITE_RESTRICTED: 0x8,
} as const;

export const SE_GROUP_LOGON_ID = 0xc0000000;

/** SE_OBJECT_TYPE / SECURITY_INFORMATION for Get/SetNamedSecurityInfoW. */
export const SE_FILE_OBJECT = 1;
export const DACL_SECURITY_INFORMATION = 0x4;

/**
 * SID_AND_ATTRIBUTES[] for CreateRestrictedToken's SidsToRestrict: one 16-byte entry per SID address
 * (attributes 0, as the API requires for restricting SIDs).
 */
export function sidAndAttributesArray(sids: readonly bigint[]): Buffer {
  return Buffer.concat(sids.map((Sid) => encodeStruct(SID_AND_ATTRIBUTES, { Sid, Attributes: 0 })));
}
