#!/usr/bin/env node
// Runs the uvu suite (TypeScript through tsx) and ends with the plain line `N passed, N failed, N skipped`
// that CI reads; uvu's own exit code is passed through. Extra arguments narrow the file pattern.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
// uvu's package.json is not exported: find its folder from its main entry (node_modules/uvu/dist/index.js)
let uvuFolder = dirname(require.resolve('uvu'));
while (!existsSync(join(uvuFolder, 'bin.js')) && dirname(uvuFolder) !== uvuFolder) uvuFolder = dirname(uvuFolder);
const uvu = join(uvuFolder, 'bin.js');
const pattern = process.argv[2] ? `${process.argv[2]}.*\\.test\\.ts$` : '\\.test\\.ts$';
const child = spawn(process.execPath, [uvu, '-r', 'tsx', 'test', pattern], {
  cwd: root,
  env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let output = '';
child.stdout.on('data', (chunk) => {
  output += chunk.toString();
  process.stdout.write(chunk);
});
child.on('close', (code, signal) => {
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  if (Number.isFinite(total) && Number.isFinite(passed)) {
    const failed = Math.max(0, total - passed - skipped) + (code !== 0 && total === passed + skipped ? 1 : 0);
    console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  } else {
    console.log(`0 passed, 1 failed (the test runner ended without totals: exit ${code ?? signal})`);
  }
  process.exit(code ?? 1);
});
