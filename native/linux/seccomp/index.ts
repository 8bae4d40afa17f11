// seccomp-bpf: the filter language, its compiler to classic BPF, a kernel-faithful evaluator for tests, the
// syscall tables and the sandbox profile. Pure TypeScript; installing the program is ../seccomp-load.ts.
export * from './arch';
export * from './dsl';
export * from './compile';
export * from './disassemble';
export * from './evaluate';
export * from './verify';
export * from './profile';
export { SYSCALLS_X86_64 } from './syscalls-x86_64';
export { SYSCALLS_AARCH64 } from './syscalls-aarch64';
