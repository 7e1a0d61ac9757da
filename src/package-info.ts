/** The package's root folder and version, found from this file both in src/ (tsx) and dist/src/ (compiled). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

let cached: { root: string; version: string } | undefined;

function locate(): { root: string; version: string } {
  if (cached) return cached;
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 4; depth++) {
    try {
      const parsed = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (parsed.name === 'lla' && parsed.version) {
        cached = { root: folder, version: parsed.version };
        return cached;
      }
    } catch {
      // not here: go up (src/ → root, dist/src/ → dist → root)
    }
    folder = dirname(folder);
  }
  throw new Error('lla: cannot find its own package.json above ' + fileURLToPath(import.meta.url));
}

/** Absolute path of the package root (where package.json, build/ and wasm/ live). */
export function packageRoot(): string {
  return locate().root;
}

export function packageVersion(): string {
  return locate().version;
}
