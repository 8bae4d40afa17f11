// The supervisor worker's poll() set, kept between waits: filled again only when its fds change, so a wait
// allocates nothing (the loop waits once per supervised call, issue 11).
import koffi from 'koffi';
import { openLibc } from './libc-open';
import { PollfdStruct } from './notify';

export interface PollSet {
  /** Empties the set. */
  clear(): void;
  add(fd: number, events: number): void;
  readonly size: number;
  fd(i: number): number;
  /** Blocking poll() over the set; the number of entries with events (0 on timeout or EINTR). */
  wait(timeoutMs: number): number;
  /** The i-th entry's events from the last wait. */
  revents(i: number): number;
}

export function loadPollSet(): PollSet {
  const poll = openLibc().func('poll', 'int', ['void *', 'ulong', 'int']);
  const size = koffi.sizeof(PollfdStruct);
  let buf = Buffer.alloc(size * 8);
  const fds: number[] = [];
  return {
    clear: () => void (fds.length = 0),
    add(fd, events) {
      if (buf.length < size * (fds.length + 1)) {
        const bigger = Buffer.alloc(buf.length * 2);
        buf.copy(bigger);
        buf = bigger;
      }
      buf.writeInt32LE(fd, fds.length * size);
      buf.writeInt16LE(events, fds.length * size + 4);
      buf.writeInt16LE(0, fds.length * size + 6);
      fds.push(fd);
    },
    get size() {
      return fds.length;
    },
    fd: (i) => fds[i]!,
    // The kernel writes every entry's revents, so nothing is reset between waits.
    wait: (timeoutMs) => Math.max(0, poll(buf, fds.length, timeoutMs)),
    revents: (i) => buf.readInt16LE(i * size + 6),
  };
}
