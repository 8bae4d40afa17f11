// The file-system rights the policy speaks of, named as Landlock names them: the filesystem model grants
// them and the Linux plan hands them to the kernel, so both use this one vocabulary.
export const LANDLOCK_ACCESS = [
  'execute',
  'write_file',
  'read_file',
  'read_dir',
  'remove_dir',
  'remove_file',
  'make_char',
  'make_dir',
  'make_reg',
  'make_sock',
  'make_fifo',
  'make_block',
  'make_sym',
  'refer',
  'truncate',
  'ioctl_dev',
] as const;
export type LandlockAccess = (typeof LANDLOCK_ACCESS)[number];

/** The rights a Landlock rule on a non-directory may carry (the kernel refuses any other with EINVAL): what
 *  a rule on a file grants is these, whatever else it names. */
export const FILE_ACCESS: readonly LandlockAccess[] = ['execute', 'write_file', 'read_file', 'truncate', 'ioctl_dev'];
