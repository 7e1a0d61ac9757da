// The public entry (src/index.ts) as a library user calls it: defaults that fit short runs, on both backends.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LlaModel,
  loadCorpus,
  DEFAULT_SETTINGS,
  LDA_DEFAULTS,
  UsageError,
  type Corpus,
  type ModelOptions,
} from '../src/index.js';
import { readModelFile } from '../src/io/format-read.js';
import { writeModelFile } from '../src/io/format-write.js';

let corpus: Corpus;
for (const backend of ['native', 'wasm'] as const) {
  const api = suite(`library API (${backend} kernels)`);
  api.before(async () => {
    corpus ??= await loadCorpus(new URL('../data/sample-events.tsv.gz', import.meta.url).pathname);
  });
  api('a short run needs no initialisation setting: hmm:N scales with the iterations', async () => {
    const model = await LlaModel.create({
      model: 'lla',
      topics: 6,
      iterations: 3,
      lstmTokens: 2000,
      backend,
      warn: () => undefined,
    });
    assert.is(model.backend, backend);
    assert.equal(
      [model.settings.contextStart, model.settings.initHmmSweeps, model.settings.initLdaSweeps],
      [true, 2, 0],
    );
    await model.train(corpus);
    assert.is(model.history.length, 3);
    assert.equal(
      model.history.map((record) => record.mode),
      ['hmm', 'hmm', 'lla'],
    );
    // lla's default engine is the kernels' trainer: no TF.js backend was started
    assert.is(model.lstmEngine, 'kernel');
    assert.is(model.tfBackend, null);
    // the LSTM's first M-step trains on the last initialisation sweep's topics: from that sweep on, every record
    // names the engine (the sweeps before it train no LSTM)
    assert.equal(
      model.history.map((record) => record.lstmEngine),
      [null, 'kernel', 'kernel'],
    );
    // before any action the session predicts from the LSTM's begin symbol: a full distribution over actions
    const first = model.session().next(model.vocabulary.size);
    const total = first.reduce((sum, entry) => sum + entry.probability, 0);
    assert.ok(Math.abs(total - 1) < 1e-4, `begin-of-sequence next-action probabilities sum to ${total}`);
    model.dispose();
  });
  api(
    'lda has no initialisation and its own iterations; the defaults keep their hmm sweeps; an lda initialisation replaces the hmm one',
    async () => {
      const lda = await LlaModel.create({ model: 'lda', topics: 6, iterations: 3, backend, warn: () => undefined });
      assert.equal([lda.settings.initLdaSweeps, lda.settings.initHmmSweeps, lda.settings.contextStart], [0, 0, false]);
      const ldaDefaults = (await LlaModel.create({ model: 'lda', backend, warn: () => undefined })).settings;
      assert.is(ldaDefaults.iterations, LDA_DEFAULTS.iterations);
      assert.ok(LDA_DEFAULTS.iterations < DEFAULT_SETTINGS.iterations, 'lda runs no hmm sweeps, so fewer iterations');
      await lda.train(corpus);
      assert.is(lda.topicWords(0, 3).length, 3);
      const defaults = (await LlaModel.create({ backend, warn: () => undefined })).settings;
      assert.equal(
        [defaults.initHmmSweeps, defaults.contextStart],
        [DEFAULT_SETTINGS.initHmmSweeps, DEFAULT_SETTINGS.contextStart],
      );
      const withLda = (await LlaModel.create({ initLdaSweeps: 4, backend, warn: () => undefined })).settings;
      assert.equal([withLda.initLdaSweeps, withLda.initHmmSweeps, withLda.contextStart], [4, 0, false]);
    },
  );
  api.run();
}

const options = suite('library API: options');
options('an unknown option is refused, naming it (and the option meant), before any kernel loads', async () => {
  for (const [given, named, meant] of [
    [{ topic: 5 }, 'topic', 'topics'],
    [{ iterations: 3, learning_rate: 0.1 }, 'learning_rate', 'learningRate'],
    [{ tfbackend: 'cpu' }, 'tfbackend', 'tfBackend'],
    [{ colour: 'blue' }, 'colour', null],
  ] as const) {
    let message = '';
    await LlaModel.create({ ...given, backend: 'no-such-backend' } as ModelOptions).catch((error: Error) => {
      message = error.message;
    });
    assert.match(message, new RegExp(`unknown option '${named}'`), `create(${JSON.stringify(given)}) said: ${message}`);
    if (meant) assert.match(message, new RegExp(`did you mean '${meant}'`), message);
    assert.match(message, /topics, iterations/, 'the message lists the options');
  }
});
options('a model file saved with an option this lla does not know still loads (the option is left out)', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'lla-api-'));
  try {
    // what create() saved before it refused unknown options: the key inside the file's settings
    const contents = readModelFile(new URL('./fixtures/models/lda-model-0.1.0.lla', import.meta.url).pathname, {
      expectKind: 'model',
    });
    const header = contents.header as { settings: Record<string, unknown> };
    header.settings = { ...header.settings, topic: 5 };
    const path = join(folder, 'with-unknown-option.lla');
    writeModelFile(path, { kind: 'model', header, sections: contents.sections });
    const model = await LlaModel.load(path, { warn: () => undefined });
    assert.is(model.model, 'lda');
    assert.not.ok('topic' in model.settings);
    assert.is(model.topicWords(0, 3).length, 3);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
options('what needs topics, asked of the lstm baseline, is a usage error that says why (not a TypeError)', async () => {
  const lstm = await LlaModel.create({
    model: 'lstm',
    iterations: 1,
    hidden: 4,
    embedding: 4,
    lstmTokens: 200,
    batch: 4,
    bptt: 4,
    backend: 'wasm',
    warn: () => undefined,
  });
  await lstm.train([
    ['a', 'b', 'c', 'a', 'b'],
    ['b', 'c', 'a', 'c'],
  ]);
  const calls: Array<[string, () => unknown]> = [
    ['phi', () => lstm.phi()],
    ['servingTables', () => lstm.servingTables()],
    ['topicWords', () => lstm.topicWords(0)],
    ['transitionMatrix', () => lstm.transitionMatrix()],
    ['infer', () => lstm.infer([['a']])],
    ['session', () => lstm.session()],
  ];
  for (const [name, call] of calls) {
    let caught: unknown;
    try {
      await call();
    } catch (error) {
      caught = error;
    }
    assert.instance(caught, UsageError, `${name}: ${String(caught)}`);
    assert.match(
      (caught as Error).message,
      new RegExp(`^${name}: the lstm baseline has no topics`),
      (caught as Error).message,
    );
  }
  lstm.dispose();
});
options.run();
