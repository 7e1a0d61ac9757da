// Model files written by earlier versions keep loading and give the same results (SPEC section 6), on both
// kernel backends. The fixtures were made once by test/fixtures/models/make-model-fixture.ts (lla 0.1.0, header
// schema 1), make-schema-2-fixture.ts (schema 2: the copy component and the recency cache) and
// make-schema-3-fixture.ts (schema 3: repeat blocks).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { LlaModel } from '../src/model/model.js';

const folder = new URL('./fixtures/models/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('model-0.1.0.expected.json', folder), 'utf8')) as {
  probe: string[][];
} & Record<
  'lla' | 'lda',
  {
    topicWords: unknown;
    perplexity: number;
    predictNext: Array<{ action: string; probability: number }>;
    parameterCount: number;
  }
>;

for (const backend of ['native', 'wasm'] as const) {
  const test = suite(`model fixtures of lla 0.1.0 (${backend} kernels)`);
  for (const kind of ['lla', 'lda'] as const) {
    test(`the ${kind} model of 0.1.0 loads and predicts as it did`, async () => {
      const model = await LlaModel.load(new URL(`${kind}-model-0.1.0.lla`, folder).pathname, {
        backend,
        warn: () => undefined,
      });
      assert.is(model.backend, backend);
      assert.is(model.model, kind);
      // settings it predates take their meaning of then: the paper's sampler, no hmm initialisation or fallback
      assert.equal(
        [
          model.settings.lookahead,
          model.settings.contextStart,
          model.settings.initHmmSweeps,
          model.settings.initFallbackSweeps,
        ],
        [false, false, 0, 0],
      );
      assert.is(model.settings.initExact, model.settings.exact);
      // counts are integers: topics are exact on every backend
      assert.equal(
        Array.from({ length: 4 }, (_, k) => model.topicWords(k, 5)),
        expected[kind].topicWords,
      );
      assert.is(model.parameterCount, expected[kind].parameterCount);
      // the likelihood runs through floating point that may differ by build and backend: agree closely
      const perplexity = await model.perplexity(expected.probe);
      assert.ok(
        Math.abs(perplexity / expected[kind].perplexity - 1) < 1e-3,
        `perplexity ${perplexity} vs ${expected[kind].perplexity}`,
      );
      const next = model.predictNext(expected.probe[0], 5);
      assert.equal(
        next.map((entry) => entry.action),
        expected[kind].predictNext.map((entry) => entry.action),
      );
      next.forEach((entry, i) =>
        assert.ok(Math.abs(entry.probability - expected[kind].predictNext[i].probability) < 1e-4),
      );
      model.dispose();
    });
  }
  test.run();
}

// Schema 1 (lla 0.1.0) predates the copy component and the recency cache: such files load without either.
for (const kind of ['lla', 'lda'] as const) {
  const test = suite(`model fixture of lla 0.1.0: no copy component (${kind})`);
  test('loads as a model without a copy component, whose cache reference is unknown', async () => {
    const model = await LlaModel.load(new URL(`${kind}-model-0.1.0.lla`, folder).pathname, {
      backend: 'native',
      warn: () => undefined,
    });
    assert.is(model.copy, null);
    assert.is(model.cache, null);
    const references = model.references(expected.probe);
    assert.is(references.cache, null);
    assert.ok(
      references.unigramPerplexity !== null && references.unigramPerplexity > 1,
      'the unigram still comes from its counts',
    );
    model.dispose();
  });
  test.run();
}

// Schema 2 (issue 13): the copy component and the recency cache's constants, made once by make-schema-2-fixture.ts.
const schema2 = JSON.parse(readFileSync(new URL('model-schema-2.expected.json', folder), 'utf8')) as {
  probe: string[][];
} & Record<
  'lla' | 'lda' | 'cache',
  {
    perplexity: number;
    predictNext: Array<{ action: string; probability: number }>;
    parameterCount: number;
    copy: { decay: number; window: number; rate: number[]; mass: number[] } | null;
    cache: unknown;
  }
>;
for (const backend of ['native', 'wasm'] as const) {
  const test = suite(`model fixtures of header schema 2 (${backend} kernels)`);
  for (const kind of ['lla', 'lda', 'cache'] as const) {
    test(`the ${kind} model of schema 2 loads with its copy component and cache, and predicts as it did`, async () => {
      const model = await LlaModel.load(new URL(`${kind}-model-schema-2.lla`, folder).pathname, {
        backend,
        warn: () => undefined,
      });
      const saved = schema2[kind];
      assert.is(model.model, kind);
      assert.equal(
        model.copy === null
          ? null
          : {
              decay: model.copy.decay,
              window: model.copy.window,
              rate: Array.from(model.copy.rate),
              mass: Array.from(model.copy.mass),
            },
        saved.copy,
      );
      assert.equal(model.cache, saved.cache);
      assert.is(model.parameterCount, saved.parameterCount);
      const perplexity = await model.perplexity(schema2.probe);
      assert.ok(Math.abs(perplexity / saved.perplexity - 1) < 1e-3, `perplexity ${perplexity} vs ${saved.perplexity}`);
      const next = model.predictNext(schema2.probe[0], 5);
      assert.equal(
        next.map((entry) => entry.action),
        saved.predictNext.map((entry) => entry.action),
      );
      next.forEach((entry, i) => assert.ok(Math.abs(entry.probability - saved.predictNext[i].probability) < 1e-4));
      model.dispose();
    });
  }
  test.run();
}

// Schema 3: repeat blocks (the `repeats` setting and the `repeat` table), made once by make-schema-3-fixture.ts.
const schema3 = JSON.parse(readFileSync(new URL('model-schema-3.expected.json', folder), 'utf8')) as {
  probe: string[][];
} & Record<
  'lla' | 'lda',
  { perplexity: number; predictNext: Array<Array<{ action: string; probability: number }>>; repeat: number[] }
>;
for (const backend of ['native', 'wasm'] as const) {
  const test = suite(`model fixtures of header schema 3 (${backend} kernels)`);
  for (const kind of ['lla', 'lda'] as const) {
    test(`the ${kind} model of schema 3 loads with its repeat table, and predicts as it did`, async () => {
      const model = await LlaModel.load(new URL(`${kind}-model-schema-3.lla`, folder).pathname, {
        backend,
        warn: () => undefined,
      });
      const saved = schema3[kind];
      assert.is(model.settings.repeats, 'blocks');
      assert.equal(Array.from(model.repeat!), saved.repeat);
      const perplexity = await model.perplexity(schema3.probe);
      assert.ok(Math.abs(perplexity / saved.perplexity - 1) < 1e-3, `perplexity ${perplexity} vs ${saved.perplexity}`);
      const histories = [schema3.probe[0], schema3.probe[1].slice(0, 7)];
      histories.forEach((history, h) => {
        const next = model.predictNext(history, 5);
        assert.equal(
          next.map((entry) => entry.action),
          saved.predictNext[h].map((entry) => entry.action),
        );
        next.forEach((entry, i) => assert.ok(Math.abs(entry.probability - saved.predictNext[h][i].probability) < 1e-4));
      });
      model.dispose();
    });
  }
  test.run();
}
