// How a process's bundle is loaded, for the entries of every process (CLI, launcher, supervisor worker): a
// protocol-layer module so that each of them may import it. Loads a bundle (dist/cli-main.js,
// dist/launcher-main.js, dist/supervisor-main.js) with V8's code cache made at build time (beside it,
// NAME.cache), so a cold CLI, a launcher or a supervisor worker deserialises the compiled bundle instead of
// parsing and compiling 300-600 KB of JavaScript. Used by the small entry bundles (cli.js, launcher.js, supervisor.js).
// The cache sits beside the bundle (whoever can write one can write the other, so it trusts nothing new) and
// starts with the build's id, which the build also puts on the bundle's first line (build.mjs): V8 itself
// only checks the source's length, and a stale cache must never run. Every build has a new id, so a bundle
// rebuilt without its cache, or a cache left from another build, does not match; comparing ids, not a hash
// of the source, keeps node:crypto and a pass over 400-600 KB out of every launcher's start. A missing, stale
// or rejected cache (another Node, other V8 flags) costs nothing but the plain compile.
import * as fs from 'node:fs';
import Module = require('node:module');
import * as path from 'node:path';
import * as vm from 'node:vm';

/** The bundle's first line as build.mjs writes it: the build's id, which the cache file starts with too. */
const BUILD_ID = /^\/\*build [0-9a-f]{32}\*\//;

function buildIdOf(source: string): Buffer | null {
  const m = BUILD_ID.exec(source);
  return m ? Buffer.from(m[0], 'utf8') : null;
}

interface NodeModule {
  exports: unknown;
  filename: string;
  paths: string[];
  loaded: boolean;
}

/** Compiles the file as CommonJS (the loader's own wrapper) with the cache if it matches, and runs it. */
function compileAndRun(file: string, source: string, cachedData: Buffer | undefined): { module: NodeModule; script: vm.Script } {
  const script = new vm.Script(Module.wrap(source), { filename: file, ...(cachedData ? { cachedData } : {}) });
  const ModuleCtor = Module as unknown as { new (id: string): NodeModule; _nodeModulePaths(dir: string): string[] };
  const m = new ModuleCtor(file);
  m.filename = file;
  m.paths = ModuleCtor._nodeModulePaths(path.dirname(file));
  const fn = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: NodeModule, filename: string, dirname: string) => void;
  fn.call(m.exports, m.exports, Module.createRequire(file), m, file, path.dirname(file));
  m.loaded = true;
  return { module: m, script };
}

/** `require(file)` for a bundle, with its code cache when the cache was made for exactly this build of it. */
export function requireWithCodeCache(file: string): unknown {
  const source = fs.readFileSync(file, 'utf8');
  const id = buildIdOf(source);
  let cachedData: Buffer | undefined;
  try {
    const cache = id ? fs.readFileSync(`${file}.cache`) : null;
    if (id && cache && cache.length > id.length && cache.subarray(0, id.length).equals(id)) cachedData = cache.subarray(id.length);
  } catch {
    cachedData = undefined; // no cache: compile as usual
  }
  return compileAndRun(file, source, cachedData).module.exports;
}

/**
 * Build step: loads the bundle once (its top level runs, so what it compiles is in the cache), runs the
 * bundle's `codeCacheWorkload` export when it has one, and writes the cache. V8 puts every function compiled
 * so far into the cache, so a workload that walks a start's path (a cold run's policy and plan, a launcher's
 * plan reader) spares each of those functions its compile at its first call in every process. A workload that
 * fails is said and leaves the cache as the top level made it.
 */
export function writeCodeCache(file: string): void {
  const source = fs.readFileSync(file, 'utf8');
  const id = buildIdOf(source);
  if (!id) throw new Error(`${file} has no build id on its first line (build.mjs writes one)`);
  const { script, module } = compileAndRun(file, source, undefined);
  const workload = (module.exports as { codeCacheWorkload?: unknown }).codeCacheWorkload;
  if (typeof workload === 'function') {
    try {
      workload();
    } catch (e) {
      process.stderr.write(`code cache of ${path.basename(file)}: its workload failed (${(e as Error)?.message ?? String(e)}); the cache holds the top level only\n`);
    }
  }
  fs.writeFileSync(`${file}.cache`, Buffer.concat([id, script.createCachedData()]));
}
