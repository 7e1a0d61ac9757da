/**
 * Chooses the kernel backend (SPEC section 7). `auto` tries the native addon, then WASM, and warns once when it
 * falls back; a forced backend never falls back and fails with one error listing every attempt, its cause and
 * its fix. Every candidate is validated through its buildInfo() before it is handed out.
 */
import { BackendError, UsageError } from '../errors.js';
import { packageVersion } from '../package-info.js';
import type { BackendName, Kernel } from './types.js';

export type BackendChoice = BackendName | 'auto';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'native', 'wasm'];

export type KernelCandidate = () => Kernel | Promise<Kernel>;

export interface LoadKernelOptions {
  /** explicit choice (`--backend`); wins over the environment */
  backend?: string;
  /** where LLA_BACKEND is read (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** candidate loaders, replaceable so tests can exercise every path without breaking the real build */
  candidates?: Partial<Record<BackendName, KernelCandidate>>;
  /** receives the one fallback warning (default: stderr); the library itself prints nothing else */
  warn?: (message: string) => void;
  /** version the build must carry (default: this package's) */
  expectedVersion?: string;
}

const FIXES: Record<BackendName, string> = {
  native:
    'rebuild the addon with `npm run build:native` (needs cmake, a C++17 compiler and Node-API headers ' +
    'from the node-api-headers package), or use LLA_BACKEND=wasm',
  wasm: 'rebuild the WebAssembly module with `npm run build:wasm`, or reinstall the package',
};

let warnedFallback = false;

/** For tests: forget that the fallback warning was already given. */
export function resetFallbackWarning(): void {
  warnedFallback = false;
}

/** `--backend` wins over LLA_BACKEND; absent both, `auto`. An unknown value is a usage error. */
export function resolveBackendChoice(option: string | undefined, env: NodeJS.ProcessEnv = process.env): BackendChoice {
  const fromOption = option !== undefined && option !== '';
  const raw = fromOption ? option : env.LLA_BACKEND;
  if (raw === undefined || raw === '') return 'auto';
  const value = raw.trim().toLowerCase();
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  const source = fromOption ? '--backend' : 'LLA_BACKEND';
  throw new UsageError(`${source}='${raw}' is not a kernel backend: use one of ${BACKEND_CHOICES.join(', ')}`);
}

async function defaultCandidate(name: BackendName): Promise<Kernel> {
  if (name === 'native') {
    const { loadNativeKernel } = await import('./native.js');
    return loadNativeKernel();
  }
  const { loadWasmKernel } = await import('./wasm.js');
  return loadWasmKernel();
}

/** Throws (with the reason) unless the kernel's build info fits this package and process. */
export function validateBuildInfo(name: BackendName, kernel: Kernel, expectedVersion: string): void {
  if (kernel.name !== name) throw new Error(`it calls itself '${kernel.name}', not '${name}'`);
  const info = kernel.buildInfo();
  if (info === null || typeof info !== 'object') throw new Error('buildInfo() returned no object');
  if (info.backend !== name) throw new Error(`buildInfo().backend is '${String(info.backend)}', not '${name}'`);
  if (info.version !== expectedVersion) {
    throw new Error(`it was built from lla ${String(info.version)} but this is lla ${expectedVersion} (a stale build)`);
  }
  if (typeof info.instructionSet !== 'string' || info.instructionSet === '') {
    throw new Error('buildInfo() names no instruction set');
  }
  if (!Number.isInteger(info.maxThreads) || info.maxThreads < 1) {
    throw new Error(`buildInfo().maxThreads is ${String(info.maxThreads)}, expected a whole number >= 1`);
  }
  if (typeof info.threads !== 'boolean') throw new Error('buildInfo().threads is not a boolean');
  if (name === 'native') {
    const processNapi = Number(process.versions.napi);
    if (!Number.isInteger(info.napiVersion) || (info.napiVersion as number) < 1) {
      throw new Error(`buildInfo().napiVersion is ${String(info.napiVersion)}`);
    }
    if (Number.isFinite(processNapi) && (info.napiVersion as number) > processNapi) {
      throw new Error(`it needs Node-API ${info.napiVersion} but this Node.js offers ${processNapi}`);
    }
  } else if (info.napiVersion !== null) {
    throw new Error('a WASM build must report napiVersion null');
  }
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0].replace(/^Error:\s*/, '');
}

/** Loads the kernel backend chosen by options/environment; the result's `name` says which one loaded. */
export async function loadKernel(options: LoadKernelOptions = {}): Promise<Kernel> {
  const choice = resolveBackendChoice(options.backend, options.env ?? process.env);
  const expectedVersion = options.expectedVersion ?? packageVersion();
  const order: BackendName[] = choice === 'auto' ? ['native', 'wasm'] : [choice];
  const failures: string[] = [];
  for (const name of order) {
    try {
      const candidate = options.candidates?.[name];
      const kernel = await (candidate ? candidate() : defaultCandidate(name));
      validateBuildInfo(name, kernel, expectedVersion);
      if (failures.length > 0 && !warnedFallback) {
        warnedFallback = true;
        const warn = options.warn ?? ((message: string) => process.stderr.write(`${message}\n`));
        warn(
          `lla: warning: using the ${name} kernel backend because ${failures.join('; ')}. ` +
            `Set LLA_BACKEND=${name} to silence this warning.`,
        );
      }
      return kernel;
    } catch (error) {
      failures.push(`the ${name} backend failed to load: ${describe(error)} (fix: ${FIXES[name]})`);
    }
  }
  const how =
    choice === 'auto'
      ? 'no kernel backend could be loaded'
      : `the ${choice} kernel backend was requested (${options.backend ? '--backend' : 'LLA_BACKEND'}) and does not fall back`;
  throw new BackendError(`${how}:\n  - ${failures.join('\n  - ')}`);
}
