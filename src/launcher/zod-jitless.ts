// zod builds a compiled fast path (a generated function) per object schema at its first parse; whether it
// may is read when the schema is constructed, which in a bundle is when the bundle loads. So `z.config()`
// called by the bundle's code comes too late for its own schemas. zod's core adopts a config object already
// on globalThis (`__zod_globalConfig`, how copies of zod share one config) when it loads: set before loading.
// No zod import here: the entries that call this stay small.

/** Turns zod's compiled fast path off for every schema of a bundle loaded after this call. */
export function zodJitlessBeforeLoad(): void {
  const g = globalThis as { __zod_globalConfig?: { jitless?: boolean } };
  (g.__zod_globalConfig ??= {}).jitless = true;
}
