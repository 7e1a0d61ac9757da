#!/usr/bin/env node
// Builds everything `npm install` needs, offline: the C++ addon (cmake-js, Node-API headers from the
// node-api-headers package, no download), the AssemblyScript WASM module, and the TypeScript sources (dist/).
// A failed C++ build does not fail the install: lla then runs on the WASM kernels and says so.
// Usage: node scripts/build.mjs [--only native|wasm|ts]...
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const only = [];
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--only' && process.argv[i + 1]) only.push(process.argv[++i]);
  else {
    console.error(
      `build: unknown argument '${process.argv[i]}'. Usage: node scripts/build.mjs [--only native|wasm|ts]`,
    );
    process.exit(2);
  }
}
const wanted = (step) => only.length === 0 || only.includes(step);

function run(label, command, args) {
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status === 0) {
    console.log(`lla build: ${label} ok (${seconds} s)`);
    return true;
  }
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-25).join('\n');
  console.error(
    `lla build: ${label} failed (${result.error ? result.error.message : `exit ${result.status}`}):\n${output}`,
  );
  return false;
}

function binOf(pkg, bin) {
  const manifest = require(`${pkg}/package.json`);
  const relative = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin[bin];
  return join(dirname(require.resolve(`${pkg}/package.json`)), relative);
}

let failed = false;
if (wanted('native')) {
  let ok = false;
  try {
    ok = run('native addon (cmake-js)', process.execPath, [
      binOf('cmake-js', 'cmake-js'),
      'compile',
      '--log-level',
      'error',
    ]);
  } catch (error) {
    console.error(`lla build: native addon: cmake-js is not available (${error.message})`);
  }
  if (!ok) {
    console.error(
      'lla build: the native addon could not be built; lla will use the WASM kernels ' +
        '(slower). Install cmake and a C++17 compiler, then run `npm run build:native`.',
    );
  }
}
if (wanted('wasm')) {
  const script = join(root, 'scripts', 'build-wasm.mjs');
  if (!existsSync(script) || !run('WASM kernels (AssemblyScript)', process.execPath, [script])) failed = true;
}
if (wanted('ts')) {
  if (!run('TypeScript (tsc)', process.execPath, [binOf('typescript', 'tsc'), '-p', join(root, 'tsconfig.json')]))
    failed = true;
}
process.exit(failed ? 1 : 0);
