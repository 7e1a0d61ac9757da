#!/usr/bin/env node
// Compiles the AssemblyScript kernels (assembly/) into wasm/ at the project root (not build/, which
// `cmake-js clean` deletes): lla.wasm (single thread, own memory imported from JS) and lla-threads.wasm
// (shared imported memory for worker_threads). Usable alone (`node scripts/build-wasm.mjs`) or from build.mjs.
import { spawnSync } from 'node:child_process';
import { mkdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** 65536 pages = 4 GiB, the wasm32 limit: a shared memory must declare its maximum up front. */
export const MAXIMUM_MEMORY_PAGES = 65536;

const common = ['assembly/index.ts', '-O3', '--noAssert', '--runtime', 'stub', '--enable', 'simd', '--importMemory'];
const variants = [
  { outFile: 'wasm/lla.wasm', extra: [] },
  {
    outFile: 'wasm/lla-threads.wasm',
    extra: ['--enable', 'threads', '--sharedMemory', '--maximumMemory', String(MAXIMUM_MEMORY_PAGES)],
  },
];

function ascPath() {
  // Resolve the compiler from this package's dependencies, never from a global install.
  const require = createRequire(join(root, 'package.json'));
  const packageJson = require.resolve('assemblyscript/package.json');
  return join(dirname(packageJson), 'bin', 'asc.js');
}

export function buildWasm({ quiet = false } = {}) {
  const asc = ascPath();
  if (!existsSync(asc)) {
    throw new Error(`AssemblyScript compiler not found at ${asc}: install dependencies with \`npm install\``);
  }
  mkdirSync(join(root, 'wasm'), { recursive: true });
  for (const { outFile, extra } of variants) {
    const result = spawnSync(process.execPath, [asc, ...common, ...extra, '--outFile', outFile], {
      cwd: root,
      stdio: quiet ? 'pipe' : 'inherit',
    });
    if (result.status !== 0) {
      const output = quiet ? `\n${result.stdout}${result.stderr}` : '';
      throw new Error(
        `compiling ${outFile} from assembly/ failed (exit ${result.status}): fix the errors above${output}`,
      );
    }
    if (!quiet) console.log(`built ${outFile}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    buildWasm();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
