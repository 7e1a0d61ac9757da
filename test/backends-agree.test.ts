// Native and WASM kernels on the same corpus, seed and settings. lda mode uses integer counts and the same
// random streams, and its acceptance arithmetic is plain double precision on both: the assignments must be
// identical. The LSTM modes evaluate the cell with different (but 1e-5-accurate) float code, so they must agree
// on almost every assignment, not necessarily all.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadKernel } from '../src/kernels/loader.js';
import { loadCorpus, type Corpus } from '../src/corpus/index.js';
import { SemState } from '../src/train/sem.js';
import { semSettings } from './helpers/sem-settings.js';
import { randomCellWeights } from '../src/bench/sampler-throughput.js';
import type { Kernel } from '../src/kernels/types.js';

let corpus: Corpus;
const kernels = {} as Record<'native' | 'wasm', Kernel>;

/** topics: [T] the assignments after 3 sweeps from the seed's random start (`initial`); `hmm`: 3 hmm sweeps (the
 * initialisation of lla, with lookahead), `lookahead`: lla's lookahead. */
async function sweeps(
  kernel: Kernel,
  model: 'lda' | 'lla' | 'word-lla' | 'hmm',
  exact: boolean,
  lookahead = false,
  numTopics = 16,
): Promise<{ initial: Int32Array; topics: Int32Array }> {
  const settings = semSettings({
    model: model === 'hmm' ? 'lla' : model,
    numTopics,
    vocabularySize: corpus.vocabulary.size,
    iterations: 3,
    initHmmSweeps: model === 'hmm' ? 3 : 0,
    exact,
    initExact: exact,
    lookahead,
    seed: 9,
    threads: 2,
  });
  const state = new SemState(kernel, settings, { tokens: corpus.tokens, offsets: corpus.offsets });
  const initial = Int32Array.from(state.topics);
  if (model === 'lla' || model === 'word-lla') {
    state.weights = randomCellWeights(model, numTopics, corpus.vocabulary.size, 16, 4);
  }
  for (let i = 0; i < 3; i++) await state.step(null);
  return { initial, topics: Int32Array.from(state.topics) };
}

const test = suite('native and wasm kernels agree');
test.before(async () => {
  corpus = await loadCorpus(new URL('../data/sample-events.tsv.gz', import.meta.url).pathname);
  kernels.native = await loadKernel({ backend: 'native' });
  kernels.wasm = await loadKernel({ backend: 'wasm' });
});
// Agreement means something only between two different kernels that both sample: two copies of one backend, or
// two kernels that leave the random start as it is, would agree perfectly.
test('two different kernels (a Node-API addon and a wasm32 module), and each one moves the chain', async () => {
  assert.is(typeof kernels.native.buildInfo().napiVersion, 'number');
  assert.is(kernels.wasm.buildInfo().napiVersion, null);
  assert.match(kernels.wasm.buildInfo().instructionSet, /^wasm32/);
  for (const kernel of [kernels.native, kernels.wasm]) {
    const { initial, topics } = await sweeps(kernel, 'lda', false);
    let moved = 0;
    for (let t = 0; t < topics.length; t++) if (topics[t] !== initial[t]) moved++;
    // about 86% of the tokens change topic in 3 sweeps from a random start at K = 16
    assert.ok(
      moved / topics.length > 0.5,
      `${kernel.name}: only ${((100 * moved) / topics.length).toFixed(1)}% of the topics changed`,
    );
  }
});
for (const exact of [false, true]) {
  test(`lda (${exact ? 'exact' : 'MH'}): identical assignments after 3 sweeps on 2 threads`, async () => {
    const native = (await sweeps(kernels.native, 'lda', exact)).topics;
    const wasm = (await sweeps(kernels.wasm, 'lda', exact)).topics;
    assert.is(wasm.length, native.length);
    assert.ok(
      native.every((z, t) => z === wasm[t]),
      'assignments differ',
    );
  });
  // the hmm's transition table and phi are double arithmetic over integer counts, as lda's prior is
  test(`hmm (${exact ? 'exact' : 'MH'}, lookahead): identical assignments after 3 sweeps on 2 threads`, async () => {
    const native = await sweeps(kernels.native, 'hmm', exact);
    const wasm = (await sweeps(kernels.wasm, 'hmm', exact)).topics;
    assert.ok(
      native.topics.every((z, t) => z === wasm[t]),
      'assignments differ',
    );
    assert.ok(
      native.topics.some((z, t) => z !== native.initial[t]),
      'the hmm sweeps moved nothing',
    );
  });
  // K=40: the native kernel's candidate logits run one 32-column part and one 8-column tail (K=16: the tail alone)
  for (const [model, lookahead, numTopics] of [
    ['lla', false, 16],
    ['word-lla', false, 16],
    ['lla', true, 16],
    ['lla', true, 40],
  ] as const) {
    test(`${model}${lookahead ? ' with lookahead' : ''} (${exact ? 'exact' : 'MH'}, K=${numTopics}): at least 99% identical assignments after 3 sweeps`, async () => {
      const native = (await sweeps(kernels.native, model, exact, lookahead, numTopics)).topics;
      const wasm = (await sweeps(kernels.wasm, model, exact, lookahead, numTopics)).topics;
      let same = 0;
      for (let t = 0; t < native.length; t++) if (native[t] === wasm[t]) same++;
      assert.ok(same / native.length >= 0.99, `${((100 * same) / native.length).toFixed(2)}% identical`);
    });
  }
}
test.run();
