#!/usr/bin/env node
// The `lla` executable: runs the compiled CLI (dist/, built by `npm install`), or the TypeScript sources
// through tsx when dist/ is missing (a development checkout before its first build).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'src', 'cli', 'run.js');
let entry;
if (existsSync(compiled)) {
  entry = pathToFileURL(compiled).href;
} else {
  const { register } = await import('tsx/esm/api');
  register();
  entry = pathToFileURL(join(root, 'src', 'cli', 'run.ts')).href;
}
await import(entry);
