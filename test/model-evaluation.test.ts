// A model's held-out evaluation (src/eval/model-evaluation.ts): every model kind scores its next-action metrics
// at exactly the same positions (the seeded sample of next-action.ts), so that their Recall@k compare.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadKernel } from '../src/kernels/loader.js';
import type { BackendName, CountTables } from '../src/kernels/types.js';
import { createActionLstm, type ActionLstm } from '../src/lstm/action-lstm.js';
import { nextActionEvaluation } from '../src/eval/next-action.js';
import { actionLstmNextAction } from '../src/eval/model-evaluation.js';
import { mulberry32 } from './helpers/mulberry32.js';

const V = 12;
const K = 3;
const SEED = 7;

/** D sequences of `length` actions drawn uniformly: tokens [T], offsets [D+1]. */
function corpus(sequences: number, length: number, seed: number) {
  const random = mulberry32(seed);
  const tokens = Int32Array.from({ length: sequences * length }, () => Math.floor(random() * V));
  const offsets = Int32Array.from({ length: sequences + 1 }, (_, d) => d * length);
  return { tokens, offsets, skippedTokens: 0 };
}

/** Every action counted once in every topic: valid tables for the topic models' filter. */
function flatCounts(): CountTables {
  return {
    rowOffsets: Int32Array.from({ length: V + 1 }, (_, w) => w * K),
    rowTopics: Int32Array.from({ length: V * K }, (_, e) => e % K),
    rowCounts: new Int32Array(V * K).fill(1),
    topicTotals: new Int32Array(K).fill(V),
  };
}

let lstm: ActionLstm;
for (const backend of ['native', 'wasm'] as BackendName[]) {
  const test = suite(`next-action positions shared by every model (${backend} kernels)`);
  test.before(async () => {
    lstm ??= await createActionLstm({ vocabularySize: V, hidden: 4, embedding: 4, learningRate: 0.01, seed: 1 });
  });
  for (const [sequences, sampled] of [
    [60, true],
    [20, false],
  ] as const) {
    test(`the lstm baseline ranks at the topic models' positions (${sampled ? 'a seeded sample of' : 'all'} eligible)`, async () => {
      const kernel = await loadKernel({ backend });
      const heldOut = corpus(sequences, 50, 11);
      const topic = await nextActionEvaluation({
        kernel,
        mode: 'lda',
        counts: flatCounts(),
        beta: 0.01,
        alpha: 0.1,
        particles: 4,
        seed: SEED,
        threads: 1,
        corpus: heldOut,
        numTopics: K,
        vocabularySize: V,
      });
      const baseline = await actionLstmNextAction({
        lstm,
        kernel,
        seed: SEED,
        vocabularySize: V,
        corpus: heldOut,
        nextAction: true,
      });
      assert.is(topic.sampled, sampled);
      assert.is(baseline.sampled, sampled);
      assert.is(baseline.eligiblePositions, topic.eligiblePositions);
      assert.is(baseline.positions, sampled ? 2000 : sequences * 45);
      assert.equal(Array.from(baseline.scoredPositions), Array.from(topic.scoredPositions));
      // the ranks are the baseline's own: every one within 1..V, and Recall@10 counts the ranks up to 10
      assert.ok(baseline.ranks.every((rank) => rank >= 1 && rank <= V));
      assert.is(baseline.recallAt10, baseline.ranks.filter((rank) => rank <= 10).length / baseline.positions);
    });
  }
  test.run();
}
