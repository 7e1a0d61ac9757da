// The public entry (src/index.ts) as a library user calls it: defaults that fit short runs, on both backends.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LlaModel, loadCorpus, DEFAULT_SETTINGS, type Corpus } from '../src/index.js';

let corpus: Corpus;
for (const backend of ['native', 'wasm'] as const) {
  const api = suite(`library API (${backend} kernels)`);
  api.before(async () => {
    corpus ??= await loadCorpus(new URL('../data/sample-events.tsv.gz', import.meta.url).pathname);
  });
  api('a short run needs no initialisation setting: lda:N scales with the iterations', async () => {
    const model = await LlaModel.create({ model: 'lla', topics: 6, iterations: 3, lstmTokens: 2000, backend, warn: () => undefined });
    assert.is(model.backend, backend);
    assert.is(model.settings.initLdaSweeps, 2);
    await model.train(corpus);
    assert.is(model.history.length, 3);
    assert.equal(model.history.map((record) => record.mode), ['lda', 'lda', 'lla']);
    assert.ok(model.tfBackend !== null);
    // before any action the session predicts from the LSTM's begin symbol: a full distribution over actions
    const first = model.session().next(model.vocabulary.size);
    const total = first.reduce((sum, entry) => sum + entry.probability, 0);
    assert.ok(Math.abs(total - 1) < 1e-4, `begin-of-sequence next-action probabilities sum to ${total}`);
    model.dispose();
  });
  api('lda has no initialisation sweeps; the defaults keep lda:8 of 15', async () => {
    const lda = await LlaModel.create({ model: 'lda', topics: 6, iterations: 3, backend, warn: () => undefined });
    assert.is(lda.settings.initLdaSweeps, 0);
    await lda.train(corpus);
    assert.is(lda.topicWords(0, 3).length, 3);
    assert.is((await LlaModel.create({ backend, warn: () => undefined })).settings.initLdaSweeps, DEFAULT_SETTINGS.initLdaSweeps);
  });
  api.run();
}
