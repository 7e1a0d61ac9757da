// The native sweep copies its id arrays into pooled buffers and checks the copies, split over threads
// (native/snapshot.cc): a bad id must still be reported at its first index, whichever thread's range holds it, and
// reused (never zero-filled) buffers must not change results.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadNativeKernel } from '../src/kernels/native.js';
import { allocAlias, allocCounts, groupTokensByAction } from '../src/kernels/buffers.js';

const kernel = loadNativeKernel();
// big enough that copies and checks are split over 2 threads (256Ki values per thread at least)
const T = 700_000;
const V = 60;
const K = 8;

function corpus() {
  const tokens = new Int32Array(T);
  let state = 12345;
  for (let i = 0; i < T; i += 1) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    tokens[i] = (state >>> 8) % V;
  }
  const sequences = 70;
  const offsets = new Int32Array(sequences + 1);
  for (let d = 0; d <= sequences; d += 1) offsets[d] = Math.floor((T * d) / sequences);
  const { wordOffsets, wordTokens } = groupTokensByAction(tokens, V, (n) => new Int32Array(n));
  const topicsPrev = new Int32Array(T);
  kernel.randomTopics(offsets, topicsPrev, K, 7);
  const counts = allocCounts(kernel, V, K, T);
  kernel.buildCounts(tokens, wordOffsets, wordTokens, topicsPrev, K, counts, 2);
  const alias = allocAlias(kernel, V, K, T);
  kernel.buildAlias(counts, K, 0.01, alias, 2);
  return { tokens, offsets, wordOffsets, wordTokens, topicsPrev, counts, alias };
}

function sweepArgs(c: ReturnType<typeof corpus>, topicsNext: Int32Array) {
  return {
    mode: 'lda' as const,
    exact: false,
    mhSteps: 2,
    proposals: 'cycle' as const,
    numTopics: K,
    vocabularySize: V,
    tokens: c.tokens,
    offsets: c.offsets,
    topicsPrev: c.topicsPrev,
    topicsNext,
    counts: c.counts,
    alias: c.alias,
    beta: 0.01,
    alpha: 0.1,
    sequenceSmoothing: 0.1,
    seed: 3,
    iteration: 1,
    threads: 2,
  };
}

async function rejection(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error('expected the call to fail');
}

test('a bad id in the second thread range is reported at its index, by the sweep and by buildCounts', async () => {
  const c = corpus();
  const topicsNext = new Int32Array(T);
  const at = T - 5; // in the last range
  const saved = c.tokens[at];
  c.tokens[at] = V;
  const tokenError = await rejection(() => kernel.sweep(sweepArgs(c, topicsNext)));
  assert.ok(tokenError.includes(`tokens [${at}] = ${V} is outside [0, ${V})`), tokenError);
  c.tokens[at] = saved;
  c.topicsPrev[at] = -1;
  const topicError = await rejection(() => kernel.sweep(sweepArgs(c, topicsNext)));
  assert.ok(topicError.includes(`topicsPrev [${at}] = -1 is outside [0, ${K})`), topicError);
  // two bad ids, one per thread range: the first is reported
  c.topicsPrev[10] = K;
  const firstError = await rejection(() => kernel.sweep(sweepArgs(c, topicsNext)));
  assert.ok(firstError.includes(`topicsPrev [10] = ${K} is outside`), firstError);
  assert.throws(
    () => kernel.buildCounts(c.tokens, c.wordOffsets, c.wordTokens, c.topicsPrev, K, c.counts, 2),
    (error: Error) => error.message.includes(`topics [10] = ${K} is outside [0, ${K})`),
  );
});

test('repeated sweeps on pooled buffers give the same topics as the first', async () => {
  const c = corpus();
  const first = new Int32Array(T);
  const firstResult = await kernel.sweep(sweepArgs(c, first));
  for (let repeat = 0; repeat < 3; repeat += 1) {
    // other calls in between leave other values in the pooled buffers
    const scratch = new Int32Array(T);
    await kernel.sweep({ ...sweepArgs(c, scratch), seed: 100 + repeat });
    const again = new Int32Array(T);
    const result = await kernel.sweep(sweepArgs(c, again));
    assert.equal(result.logPhi, firstResult.logPhi);
    assert.ok(
      again.every((value, i) => value === first[i]),
      `sweep ${repeat + 2} differs from the first`,
    );
  }
});

test('writing into the arguments after the call returns does not change the sweep', async () => {
  const c = corpus();
  const expected = new Int32Array(T);
  await kernel.sweep(sweepArgs(c, expected));
  const topicsNext = new Int32Array(T);
  const running = kernel.sweep(sweepArgs(c, topicsNext));
  const tokens = c.tokens.slice();
  c.tokens.fill(V - 1); // valid ids, but different ones: only the copy taken at the call may be used
  c.counts.rowTopics.fill(K - 1);
  await running;
  c.tokens.set(tokens);
  assert.ok(
    topicsNext.every((value, i) => value === expected[i]),
    'the sweep used values written after the call',
  );
});

test.run();
