// The shape of src/ (issue 14): imports point down the layers only, every file sits in a listed layer, the
// README's architecture section lists the same layers, and no file grows past 500 lines.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

/**
 * The layers of src/, top to bottom: a folder (or a top-level file) may import from its own layer and the
 * layers below it, never from a layer above. Written here once; the README's architecture section lists it.
 */
const LAYERS: ReadonlyArray<ReadonlyArray<string>> = [
  ['cli', 'index.ts'],
  ['report', 'model'],
  ['train', 'eval', 'lstm', 'bench'],
  ['kernels', 'io', 'corpus', 'generate'],
  ['errors.ts', 'package-info.ts'],
];

const MAX_LINES = 500;

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The unit a file under src/ belongs to: its first folder below src/, or its own name at the top. */
function unitOf(file: string): string {
  return relative(src, file).split(sep)[0];
}

function layerOf(unit: string): number {
  return LAYERS.findIndex((layer) => layer.includes(unit));
}

/** Every module a file names: static imports and re-exports (type-only ones included) and dynamic import(). */
function importedSpecifiers(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((entry) => entry.fileName);
}

/** The src/ file a relative specifier names (`./x.js` is `./x.ts` in the sources), else null. */
function resolveInSrc(file: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
  return target.startsWith(src + sep) ? target : null;
}

const files = sourceFiles(src);
const name = (file: string) => relative(root, file).split(sep).join('/');

test('every file under src/ sits in a listed layer', () => {
  assert.ok(files.length > 50, `found only ${files.length} files under src/`);
  const unlisted = [...new Set(files.map(unitOf))].filter((unit) => layerOf(unit) < 0);
  assert.equal(
    unlisted,
    [],
    `src/ units in no layer: ${unlisted.join(', ')}; add them to LAYERS here and to the README`,
  );
});

test('imports point down the layers only (cli -> report/model -> train/eval/lstm/bench -> kernels/io/corpus/generate)', () => {
  const upward: string[] = [];
  let checked = 0;
  for (const file of files) {
    const from = layerOf(unitOf(file));
    for (const specifier of importedSpecifiers(file)) {
      const target = resolveInSrc(file, specifier);
      if (target === null) continue;
      checked++;
      const to = layerOf(unitOf(target));
      if (to < from) {
        upward.push(`${name(file)} imports ${specifier} (${unitOf(target)}, layer ${to + 1}) from layer ${from + 1}`);
      }
    }
  }
  assert.ok(checked > 200, `read only ${checked} imports inside src/: the import reader is broken`);
  assert.equal(upward, [], `imports from a higher layer:\n  ${upward.join('\n  ')}`);
});

test("the README's architecture section lists the same layers", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const line = /^Layers, top to bottom: (.+)$/m.exec(readme);
  assert.ok(line, "README.md has no 'Layers, top to bottom: ...' line in its architecture section");
  const listed = line[1]
    .replace(/\.$/, '')
    .split(' -> ')
    .map((layer) => layer.split(', ').map((unit) => unit.replace(/`/g, '')));
  assert.equal(
    listed,
    LAYERS.map((layer) => [...layer]),
  );
});

test(`no file under src/ is longer than ${MAX_LINES} lines`, () => {
  const tooLong: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    if (lines > MAX_LINES) tooLong.push(`${name(file)}: ${lines} lines`);
  }
  assert.equal(tooLong, [], `split these files by concern:\n  ${tooLong.join('\n  ')}`);
});

test.run();
