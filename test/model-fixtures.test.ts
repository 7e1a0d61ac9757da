// Model files written by earlier versions keep loading and give the same results (SPEC section 6), on both
// kernel backends. The fixtures were made once by test/fixtures/models/make-model-fixture.ts (lla 0.1.0).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { LlaModel } from '../src/model/model.js';

const folder = new URL('./fixtures/models/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('model-0.1.0.expected.json', folder), 'utf8')) as {
  probe: string[][];
} & Record<'lla' | 'lda', { topicWords: unknown; perplexity: number; predictNext: Array<{ action: string; probability: number }>; parameterCount: number }>;

for (const backend of ['native', 'wasm'] as const) {
  const test = suite(`model fixtures of lla 0.1.0 (${backend} kernels)`);
  for (const kind of ['lla', 'lda'] as const) {
    test(`the ${kind} model of 0.1.0 loads and predicts as it did`, async () => {
      const model = await LlaModel.load(new URL(`${kind}-model-0.1.0.lla`, folder).pathname, { backend, warn: () => undefined });
      assert.is(model.backend, backend);
      assert.is(model.model, kind);
      // settings it predates take their meaning of then: the paper's sampler, no hmm initialisation
      assert.equal([model.settings.lookahead, model.settings.contextStart, model.settings.initHmmSweeps], [false, false, 0]);
      assert.is(model.settings.initExact, model.settings.exact);
      // counts are integers: topics are exact on every backend
      assert.equal(Array.from({ length: 4 }, (_, k) => model.topicWords(k, 5)), expected[kind].topicWords);
      assert.is(model.parameterCount, expected[kind].parameterCount);
      // the likelihood runs through floating point that may differ by build and backend: agree closely
      const perplexity = await model.perplexity(expected.probe);
      assert.ok(Math.abs(perplexity / expected[kind].perplexity - 1) < 1e-3, `perplexity ${perplexity} vs ${expected[kind].perplexity}`);
      const next = model.predictNext(expected.probe[0], 5);
      assert.equal(next.map((entry) => entry.action), expected[kind].predictNext.map((entry) => entry.action));
      next.forEach((entry, i) => assert.ok(Math.abs(entry.probability - expected[kind].predictNext[i].probability) < 1e-4));
      model.dispose();
    });
  }
  test.run();
}
