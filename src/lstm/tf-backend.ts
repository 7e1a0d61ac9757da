/**
 * Chooses and initialises the TensorFlow.js backend that trains the LSTM (SPEC 7):
 * `@tensorflow/tfjs-node` when it is installed (an optional dependency whose install script downloads
 * libtensorflow, so it is often absent), else `@tensorflow/tfjs-backend-wasm` loading its .wasm files from
 * node_modules (never from the network), else the plain 'cpu' backend.
 * `LLA_TF_BACKEND=node|wasm|cpu|auto` or an explicit option forces one; a forced backend never falls back.
 * TF.js's console banners are silenced unless `verbose` is asked for: the library prints nothing by itself.
 */
import type * as TfModule from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BackendError, UsageError } from '../errors.js';

export type Tf = typeof TfModule;
export type TfBackendName = 'node' | 'wasm' | 'cpu';
export type TfBackendChoice = TfBackendName | 'auto';

export interface TfBackendOptions {
  /** forced backend; default: LLA_TF_BACKEND, else 'auto'. */
  backend?: TfBackendChoice;
  /** keep TF.js's own console messages (banners, warnings). Default false. */
  verbose?: boolean;
}

export interface TfRuntime {
  tf: Tf;
  /** which backend runs the LSTM. */
  name: TfBackendName;
  /** for 'auto': why the preferred backends were skipped (empty when the first one loaded). */
  skipped: string[];
}

/** TF.js registers its backends under these names. */
const TF_BACKEND_ID: Record<TfBackendName, string> = { node: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };
const AUTO_ORDER: TfBackendName[] = ['node', 'wasm', 'cpu'];

let current: TfRuntime | null = null;
/** TF.js itself, imported on first use so that commands without an LSTM do not pay for loading it */
let tf!: Tf;
/** serialises initialisations: TF.js has one global engine. */
let queue: Promise<unknown> = Promise.resolve();
let wasmPathsSet = false;

/** The backend that last initialised successfully, or null before `initTf`. */
export function tfBackendName(): TfBackendName | null {
  return current === null ? null : current.name;
}

/** Parses a backend name from the environment or a flag; throws naming the accepted values. */
export function parseTfBackend(value: string, source: string): TfBackendChoice {
  const v = value.trim().toLowerCase();
  if (v === 'node' || v === 'wasm' || v === 'cpu' || v === 'auto') return v;
  throw new UsageError(
    `${source}=${JSON.stringify(value)} is not a TensorFlow.js backend: use node, wasm, cpu or auto`,
  );
}

/**
 * Initialises TF.js with the chosen backend and returns it. Calling again with another choice switches the
 * global engine (tensors made earlier move to the new backend when they are next used).
 */
export function initTf(options: TfBackendOptions = {}): Promise<TfRuntime> {
  const run = queue.then(() => initNow(options));
  queue = run.catch(() => undefined);
  return run;
}

/** The running TF.js runtime, initialising it (as `initTf`) on first use or when a backend is named. */
export function ensureTf(options: TfBackendOptions = {}): Promise<TfRuntime> {
  if (current !== null && options.backend === undefined) return Promise.resolve(current);
  if (current !== null && options.backend === current.name) return Promise.resolve(current);
  return initTf(options);
}

async function initNow(options: TfBackendOptions): Promise<TfRuntime> {
  if (tf === undefined) tf = await import('@tensorflow/tfjs');
  const fromEnv = process.env.LLA_TF_BACKEND;
  const choice: TfBackendChoice =
    options.backend ?? (fromEnv !== undefined && fromEnv !== '' ? parseTfBackend(fromEnv, 'LLA_TF_BACKEND') : 'auto');
  if (!(options.verbose ?? false)) {
    // PROD only gates TF.js's console.warn/console.log calls (the "install tfjs-node" banner and the like).
    tf.env().set('PROD', true);
  }
  if (choice !== 'auto') {
    const failure = await tryBackend(choice);
    if (failure !== null) {
      throw new BackendError(
        `TensorFlow.js backend '${choice}' was forced (by ${options.backend !== undefined ? 'option' : 'LLA_TF_BACKEND'}) but could not start: ${failure}`,
      );
    }
    current = { tf, name: choice, skipped: [] };
    return current;
  }
  const skipped: string[] = [];
  for (const name of AUTO_ORDER) {
    const failure = await tryBackend(name);
    if (failure === null) {
      current = { tf, name, skipped };
      return current;
    }
    skipped.push(`${name}: ${failure}`);
  }
  throw new BackendError(`no TensorFlow.js backend could start:\n  ${skipped.join('\n  ')}`);
}

/** Returns null when the backend is now active, else why not and how to fix it. */
async function tryBackend(name: TfBackendName): Promise<string | null> {
  try {
    if (name === 'node') {
      const failure = await loadNodeBinding();
      if (failure !== null) return failure;
    } else if (name === 'wasm') {
      await registerWasm();
    }
    const ok = await tf.setBackend(TF_BACKEND_ID[name]);
    if (!ok) return `tf.setBackend('${TF_BACKEND_ID[name]}') returned false (the backend failed to initialise)`;
    await tf.ready();
    if (tf.getBackend() !== TF_BACKEND_ID[name]) return `TF.js reports backend '${tf.getBackend()}' instead`;
    return null;
  } catch (error) {
    return `${(error as Error).message ?? String(error)}`;
  }
}

/**
 * Imports @tensorflow/tfjs-node, which registers the 'tensorflow' backend on the same TF.js engine (it depends
 * on the same @tensorflow/tfjs version, deduplicated by npm). ERR_MODULE_NOT_FOUND means "not installed".
 */
async function loadNodeBinding(): Promise<string | null> {
  if (tf.findBackend(TF_BACKEND_ID.node) !== null) return null;
  // libtensorflow logs its CPU feature notes to stderr unless told otherwise.
  if (process.env.TF_CPP_MIN_LOG_LEVEL === undefined) process.env.TF_CPP_MIN_LOG_LEVEL = '2';
  const moduleName = '@tensorflow/tfjs-node';
  try {
    // a variable specifier keeps TypeScript from requiring the optional package's types at build time
    await import(moduleName);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      return (
        '@tensorflow/tfjs-node is not installed (its install script downloads libtensorflow, which needs ' +
        'internet access); fix: `npm install @tensorflow/tfjs-node` on a machine with access, or use LLA_TF_BACKEND=wasm'
      );
    }
    return (
      `@tensorflow/tfjs-node is installed but failed to load (${(error as Error).message}); fix: reinstall it ` +
      '(`npm rebuild @tensorflow/tfjs-node`) or use LLA_TF_BACKEND=wasm'
    );
  }
  if (tf.findBackend(TF_BACKEND_ID.node) === null) {
    return (
      "@tensorflow/tfjs-node loaded but registered no 'tensorflow' backend on this @tensorflow/tfjs " +
      `(version ${tf.version.tfjs}): its @tensorflow/tfjs copy differs; fix: install matching versions`
    );
  }
  return null;
}

/** Registers the WASM backend with its binaries resolved inside node_modules (no fetch from a CDN). */
async function registerWasm(): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (!wasmPathsSet) {
    const require = createRequire(import.meta.url);
    const directory = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    wasm.setWasmPaths(directory + path.sep);
    wasmPathsSet = true;
  }
}
