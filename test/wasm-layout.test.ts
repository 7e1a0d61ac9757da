// The parameter blocks, the Cell struct and the mode and proposal codes as the WASM wrapper writes them
// (src/kernels/wasm-layout.ts, MODE_CODE and PROPOSAL_CODE of src/kernels/types.ts) against the constants both
// compiled modules export from assembly/layout.ts: every field on each side, at the same offset.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MODE_CODE, PROPOSAL_CODE } from '../src/kernels/types.js';
import { CELL, FILTER, ROWS, SWEEP } from '../src/kernels/wasm-layout.js';
import { TRAIN } from '../src/kernels/wasm-train-windows.js';

/** topicsPrev -> TOPICS_PREV, word-lla -> WORD_LLA */
const constantName = (key: string) =>
  key
    .replace(/-/g, '_')
    .replace(/[A-Z]/g, (letter) => `_${letter}`)
    .toUpperCase();

/** The exported i32 globals of a compiled module, by name. */
function exportedConstants(file: string, shared: boolean): Map<string, number> {
  const module = new WebAssembly.Module(readFileSync(new URL(`../wasm/${file}`, import.meta.url)));
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const constants = new Map<string, number>();
  for (const [name, value] of Object.entries(instance.exports)) {
    if (value instanceof WebAssembly.Global && typeof value.value === 'number') constants.set(name, value.value);
  }
  return constants;
}

for (const [file, shared] of [
  ['lla.wasm', false],
  ['lla-threads.wasm', true],
] as const) {
  test(`${file}: every block field of the wrapper is the module's, at the same offset, and none is missing`, () => {
    const constants = exportedConstants(file, shared);
    const groups: Array<[string, Record<string, number>]> = [
      ['SWEEP', SWEEP],
      ['FILTER', FILTER],
      ['ROWS', ROWS],
      ['CELL', CELL],
      ['TRAIN', TRAIN],
    ];
    for (const [prefix, block] of groups) {
      const wrapper = new Map(Object.entries(block).map(([key, offset]) => [`${prefix}_${constantName(key)}`, offset]));
      const module = new Map([...constants].filter(([name]) => name.startsWith(`${prefix}_`)));
      for (const [name, offset] of wrapper)
        assert.is(module.get(name), offset, `${name}: the wrapper writes ${offset}`);
      for (const name of module.keys())
        assert.ok(wrapper.has(name), `${name} of assembly/layout.ts has no field in the wrapper's ${prefix}`);
    }
  });

  test(`${file}: the mode and proposal codes are the module's`, () => {
    const constants = exportedConstants(file, shared);
    for (const [mode, code] of Object.entries(MODE_CODE))
      assert.is(constants.get(`MODE_${constantName(mode)}`), code, mode);
    assert.is(constants.get('PROPOSAL_WORD'), PROPOSAL_CODE.word);
    assert.is(constants.get('PROPOSAL_SEQUENCE'), PROPOSAL_CODE.sequence);
    // cycle is both kinds, alternating
    assert.is(PROPOSAL_CODE.cycle, PROPOSAL_CODE.word | PROPOSAL_CODE.sequence);
  });
}

test.run();
