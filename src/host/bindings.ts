// The host binding of each backend, by the backend's platform name: the one table that pairs native/'s
// per-OS backends with src/host/'s per-OS code (see engine-parts.ts for why the two halves live apart). The
// type requires an entry for every supported backend native/index.ts can return.
import type { AnyBackend, UnsupportedBackend } from '../../native';
import type { HostBinding } from './engine-parts';
import { darwinBinding } from './darwin/binding';
import { linuxBinding } from './linux/binding';
import { win32Binding } from './win32/binding';

type Supported = Exclude<AnyBackend, UnsupportedBackend>;

const BINDINGS: { [P in Supported['platform']]: HostBinding<Extract<Supported, { platform: P }>> } = {
  linux: linuxBinding,
  win32: win32Binding,
  darwin: darwinBinding,
};

/** The host binding for a supported backend. */
export function bindingFor<B extends Supported>(backend: B): HostBinding<B> {
  return BINDINGS[backend.platform] as unknown as HostBinding<B>;
}
