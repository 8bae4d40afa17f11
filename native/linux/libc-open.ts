// The one place that opens the C library: glibc on Linux, else dlopen(NULL) (the C library the process is
// already linked against, e.g. musl). Every binding module in native/linux binds its functions on this handle.
import koffi from 'koffi';
import type { LibraryHandle } from 'koffi';

export function openLibc(): LibraryHandle {
  try {
    return koffi.load('libc.so.6');
  } catch {
    return koffi.load(null);
  }
}
