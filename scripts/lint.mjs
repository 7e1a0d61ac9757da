#!/usr/bin/env node
// `npm run lint`: eslint (no warnings allowed), prettier --check and clang-format --dry-run over native/, each
// from this package's devDependencies. `npm run format` (--write): prettier --write and clang-format -i.
// Every step runs; the exit code is 1 when any failed.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const write = process.argv.includes('--write');
const unknown = process.argv.slice(2).filter((argument) => argument !== '--write');
if (unknown.length > 0) {
  console.error(`lint: unknown argument '${unknown[0]}'. Usage: node scripts/lint.mjs [--write]`);
  process.exit(2);
}

function binOf(pkg, bin) {
  const manifest = require(`${pkg}/package.json`);
  const relative = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin[bin];
  return join(dirname(require.resolve(`${pkg}/package.json`)), relative);
}

const nativeFiles = readdirSync(join(root, 'native'))
  .filter((name) => /\.(cc|h)$/.test(name))
  .sort()
  .map((name) => join('native', name));

const steps = write
  ? [
      ['prettier --write', binOf('prettier', 'prettier'), ['--write', '--log-level', 'warn', '.']],
      ['clang-format -i', binOf('clang-format', 'clang-format'), ['-i', ...nativeFiles]],
    ]
  : [
      ['eslint', binOf('eslint', 'eslint'), ['--max-warnings', '0', '.']],
      ['prettier --check', binOf('prettier', 'prettier'), ['--check', '--log-level', 'warn', '.']],
      ['clang-format --dry-run', binOf('clang-format', 'clang-format'), ['--dry-run', '--Werror', ...nativeFiles]],
    ];

let failed = 0;
for (const [label, script, args] of steps) {
  const started = Date.now();
  const result = spawnSync(process.execPath, [script, ...args], { cwd: root, stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status === 0) console.log(`lint: ${label} ok (${seconds} s)`);
  else {
    failed++;
    console.error(`lint: ${label} failed (${result.error ? result.error.message : `exit ${result.status}`})`);
  }
}
if (failed > 0 && !write)
  console.error('lint: `npm run format` rewrites the formatting; eslint errors need a fix by hand');
process.exit(failed > 0 ? 1 : 0);
