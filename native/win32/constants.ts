// Win32 constants used by the job-object backend, as plain data (winnt.h, winbase.h, processthreadsapi.h;
// values and sources in the team's PLATFORMS.md §1.1). No koffi here, so unit tests and the plan compiler
// can use them on any OS.

/** JOBOBJECTINFOCLASS values passed to Set/QueryInformationJobObject. */
export const JobInfoClass = {
  BasicAccountingInformation: 1,
  BasicLimitInformation: 2,
  BasicUIRestrictions: 4,
  EndOfJobTimeInformation: 6,
  AssociateCompletionPortInformation: 7,
  BasicAndIoAccountingInformation: 8,
  ExtendedLimitInformation: 9,
  NotificationLimitInformation: 12,
  LimitViolationInformation: 13,
  CpuRateControlInformation: 15,
} as const;

/** JOB_OBJECT_LIMIT_* (LimitFlags of the basic/extended/notification limit structs). */
export const JobLimit = {
  WORKINGSET: 0x1,
  PROCESS_TIME: 0x2,
  JOB_TIME: 0x4,
  ACTIVE_PROCESS: 0x8,
  AFFINITY: 0x10,
  PRIORITY_CLASS: 0x20,
  PRESERVE_JOB_TIME: 0x40,
  SCHEDULING_CLASS: 0x80,
  PROCESS_MEMORY: 0x100,
  JOB_MEMORY: 0x200,
  DIE_ON_UNHANDLED_EXCEPTION: 0x400,
  BREAKAWAY_OK: 0x800,
  SILENT_BREAKAWAY_OK: 0x1000,
  KILL_ON_JOB_CLOSE: 0x2000,
  JOB_READ_BYTES: 0x10000,
  JOB_WRITE_BYTES: 0x20000,
  CPU_RATE_CONTROL: 0x40000,
} as const;

/** JOB_OBJECT_MSG_*: the message id arrives in lpNumberOfBytesTransferred of GetQueuedCompletionStatus. */
export const JobMsg = {
  END_OF_JOB_TIME: 1,
  END_OF_PROCESS_TIME: 2,
  ACTIVE_PROCESS_LIMIT: 3,
  ACTIVE_PROCESS_ZERO: 4,
  NEW_PROCESS: 6,
  EXIT_PROCESS: 7,
  ABNORMAL_EXIT_PROCESS: 8,
  PROCESS_MEMORY_LIMIT: 9,
  JOB_MEMORY_LIMIT: 10,
  NOTIFICATION_LIMIT: 11,
  JOB_CYCLE_TIME_LIMIT: 12,
  SILO_TERMINATED: 13,
} as const;

export const JOB_OBJECT_TERMINATE_AT_END_OF_JOB = 0;
export const JOB_OBJECT_POST_AT_END_OF_JOB = 1;

/** Access rights on a job handle (winnt.h). The launcher's copy gets only what it needs. */
export const JOB_OBJECT_ASSIGN_PROCESS = 0x1;
export const JOB_OBJECT_QUERY = 0x4;

export const CREATE_SUSPENDED = 0x4;
export const CREATE_UNICODE_ENVIRONMENT = 0x400;
export const EXTENDED_STARTUPINFO_PRESENT = 0x80000;
export const STARTF_USESTDHANDLES = 0x100;
export const HANDLE_FLAG_INHERIT = 0x1;

export const PROC_THREAD_ATTRIBUTE_HANDLE_LIST = 0x20002;
export const PROC_THREAD_ATTRIBUTE_JOB_LIST = 0x2000d;

export const STD_INPUT_HANDLE = -10;
export const STD_OUTPUT_HANDLE = -11;
export const STD_ERROR_HANDLE = -12;

export const PROCESS_DUP_HANDLE = 0x40;
export const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
export const SYNCHRONIZE = 0x100000;
export const DUPLICATE_SAME_ACCESS = 0x2;

export const INFINITE = 0xffffffff;
export const WAIT_OBJECT_0 = 0;
export const WAIT_TIMEOUT = 0x102;
export const STILL_ACTIVE = 259;

export const ERROR_ACCESS_DENIED = 5;
export const ERROR_INVALID_PARAMETER = 87;
export const ERROR_NOT_SUPPORTED = 50;
export const ERROR_NOT_ENOUGH_QUOTA = 1816;
export const ERROR_FILE_NOT_FOUND = 2;
export const ERROR_PATH_NOT_FOUND = 3;
export const ERROR_BAD_EXE_FORMAT = 193;

/** INVALID_HANDLE_VALUE as koffi returns pointers (BigInt). */
export const INVALID_HANDLE_VALUE = 0xffff_ffff_ffff_ffffn;

/** Job times are in 100 ns units. */
export const TICKS_PER_SECOND = 10_000_000n;
