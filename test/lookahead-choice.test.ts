// `--lookahead auto` (settings.chooseLookahead, src/train/lookahead-choice.ts), on both kernel backends: the run
// trains lla's own iterations with lookahead and without from the end of the hmm start and keeps the one whose final
// model has the lower held-in perplexity; the kept model is, section for section, the model of a plain run with
// that --lookahead setting, and each run's held-in score is that plain run's; the model then says which setting it
// holds. Without the held-in slice (--copy off) there is nothing to choose by: the run is the plain lookahead run.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlaModel, type ModelOptions, type TrainSummary } from '../src/model/model.js';
import { actionName, generateSynthetic } from '../src/generate/synthetic.js';
import { readModelFile } from '../src/io/format-read.js';
import { writeModelFile } from '../src/io/format-write.js';
import { assertSameSections, sectionBytes } from './helpers/model-sections.js';
import type { IterationRecord } from '../src/train/sem.js';

const folder = mkdtempSync(join(tmpdir(), 'lla-lookahead-choice-'));

/**
 * Generated first-order corpora: 'repeats' copies 30% of its actions, most from just before (as event logs repeat),
 * 'order' copies none. With these seeds the choice keeps the run without lookahead on the first and the one with it
 * on the second, so that both ways of ending (the first run restored, the second kept as it stands) are tested.
 */
const CORPORA = { repeats: 0.3, order: 0 } as const;
type CorpusName = keyof typeof CORPORA;

function sequences(corpusName: CorpusName): { train: string[][]; test: string[][] } {
  const corpus = generateSynthetic({
    topics: 6,
    vocabulary: 400,
    sequences: 240,
    length: 40,
    seed: 4,
    dynamics: 'first-order',
    copyRate: CORPORA[corpusName],
    copyDecay: 0.3,
  });
  const all: string[][] = [];
  for (let d = 0; d + 1 < corpus.offsets.length; d++) {
    all.push(Array.from(corpus.tokens.subarray(corpus.offsets[d], corpus.offsets[d + 1]), actionName));
  }
  return { train: all.slice(0, 200), test: all.slice(200) };
}

// over tokens: as repeat blocks (the default), the corpus with repeats keeps lookahead too, and the other ending
// would go untested
const SETTINGS: ModelOptions = {
  model: 'lla',
  repeats: 'tokens',
  topics: 6,
  iterations: 9,
  contextStart: true,
  initHmmSweeps: 4,
  hidden: 16,
  embedding: 8,
  lstmTokens: 3000,
  batch: 16,
  bptt: 20,
  particles: 8,
  threads: 1,
  seed: 3,
  warn: () => undefined,
};

/** The final model's held-in perplexity as the copy fit reports it (copy component included where kept). */
function heldInOf(summary: TrainSummary): number {
  const copy = summary.copy!;
  return copy.kept ? copy.heldInPerplexityWith : copy.heldInPerplexityWithout;
}

interface Trained {
  summary: TrainSummary;
  path: string;
  lookahead: boolean;
  exact: boolean;
}

async function trainAndSave(options: ModelOptions, corpusName: CorpusName, name: string): Promise<Trained> {
  const { train, test } = sequences(corpusName);
  const model = await LlaModel.create(options);
  try {
    const summary = await model.train(train, { heldOut: test });
    const path = join(folder, `${name}.lla`);
    await model.save(path);
    return { summary, path, lookahead: model.settings.lookahead, exact: model.settings.exact };
  } finally {
    model.dispose();
  }
}

/**
 * Trains a choosing run that checkpoints to `out` and is stopped as by Ctrl-C: the signal is aborted when a record
 * of `run` at the second-to-last iteration comes, so the run ends after the next one. Returns the error it ended with.
 */
async function trainStopped(
  backend: 'native' | 'wasm',
  corpusName: CorpusName,
  out: string,
  run: (record: IterationRecord) => boolean,
  settings: ModelOptions = SETTINGS,
  stopAfter = SETTINGS.iterations!,
): Promise<Error | null> {
  const { train, test } = sequences(corpusName);
  const controller = new AbortController();
  const model = await LlaModel.create({ ...settings, backend, chooseLookahead: true });
  try {
    return await model
      .train(train, {
        heldOut: test,
        signal: controller.signal,
        checkpoint: { out, every: 0, resume: false },
        onProgress: (record) => {
          if (run(record) && record.iteration === stopAfter - 1) controller.abort();
        },
      })
      .then(
        () => null,
        (thrown: Error) => thrown,
      );
  } finally {
    model.dispose();
  }
}

/** Resumes the checkpoint of `out` and saves the model there: its summary, setting and how many iterations ran. */
async function resumeAndSave(
  backend: 'native' | 'wasm',
  corpusName: CorpusName,
  out: string,
  settings: ModelOptions = SETTINGS,
): Promise<{ summary: TrainSummary; lookahead: boolean; iterationsRun: number }> {
  const { train, test } = sequences(corpusName);
  const model = await LlaModel.create({ ...settings, backend, chooseLookahead: true });
  try {
    let iterationsRun = 0;
    const summary = await model.train(train, {
      heldOut: test,
      checkpoint: { out, every: 0, resume: true },
      onProgress: () => iterationsRun++,
    });
    await model.save(out);
    return { summary, lookahead: model.settings.lookahead, iterationsRun };
  } finally {
    model.dispose();
  }
}

/** What each (backend, corpus) kept, to check that both outcomes were tested. */
const kept: Record<string, boolean> = {};

for (const backend of ['native', 'wasm'] as const) {
  for (const corpusName of Object.keys(CORPORA) as CorpusName[]) {
    const choice = suite(`--lookahead auto (${backend} kernels, ${corpusName})`);
    let auto: Trained;
    let withLookahead: Trained;
    let without: Trained;

    choice.before(async () => {
      const name = `${backend}-${corpusName}`;
      auto = await trainAndSave({ ...SETTINGS, backend, chooseLookahead: true }, corpusName, `${name}-auto`);
      withLookahead = await trainAndSave({ ...SETTINGS, backend, lookahead: true }, corpusName, `${name}-1`);
      without = await trainAndSave({ ...SETTINGS, backend, lookahead: false }, corpusName, `${name}-0`);
      kept[name] = auto.lookahead;
    });

    choice('runs on the backend asked for', async () => {
      const model = await LlaModel.create({ ...SETTINGS, backend });
      assert.is(model.backend, backend);
      model.dispose();
    });

    choice('scores each run as the plain run with its setting, and keeps the lower held-in perplexity', () => {
      const chosen = auto.summary.lookaheadChoice;
      assert.ok(chosen, 'a choosing run reports its choice');
      assert.is(chosen!.heldInPerplexity.lookahead, heldInOf(withLookahead.summary));
      assert.is(chosen!.heldInPerplexity.noLookahead, heldInOf(without.summary));
      assert.is.not(
        chosen!.heldInPerplexity.lookahead,
        chosen!.heldInPerplexity.noLookahead,
        'the two runs differ (else the comparison below proves nothing)',
      );
      const keepLookahead = chosen!.heldInPerplexity.lookahead <= chosen!.heldInPerplexity.noLookahead;
      assert.is(chosen!.lookahead, keepLookahead);
      assert.is(auto.lookahead, keepLookahead, "the model's settings say which run it kept");
      assert.is(auto.exact, (keepLookahead ? withLookahead : without).exact);
      assert.is(withLookahead.summary.lookaheadChoice, null, 'a plain run does not choose');
    });

    choice('keeps, section for section, the model of the plain run with the chosen setting', () => {
      const kept = auto.summary.lookaheadChoice!.lookahead ? withLookahead : without;
      const other = kept === withLookahead ? without : withLookahead;
      assertSameSections(kept.path, auto.path, 'the kept run against the plain run');
      const a = sectionBytes(auto.path);
      assert.is(auto.summary.heldOut!.perplexity, kept.summary.heldOut!.perplexity);
      assert.is(auto.summary.iterations, kept.summary.iterations);
      // and not that of the other run: the comparison can fail
      const c = sectionBytes(other.path);
      assert.ok(
        Object.keys(a).some((name) => !c[name] || !a[name].equals(c[name])),
        'the other run ends elsewhere',
      );
    });

    choice('the saved model loads, with the setting it kept', async () => {
      const loaded = await LlaModel.load(auto.path, { backend, warn: () => undefined });
      try {
        assert.equal([loaded.settings.chooseLookahead, loaded.settings.lookahead], [true, auto.lookahead]);
        assert.is(loaded.settings.exact, auto.exact);
      } finally {
        loaded.dispose();
      }
    });

    choice('the history holds both runs, tagged, after the shared hmm start', () => {
      const records = readModelFile(auto.path).header.history as Array<{
        mode: string;
        lookahead?: boolean;
        iteration: number;
      }>;
      const hmm = records.filter((record) => record.mode === 'hmm');
      assert.is(hmm.length, SETTINGS.initHmmSweeps);
      assert.ok(hmm.every((record) => record.lookahead === undefined));
      const first = records.filter((record) => record.lookahead === true);
      const second = records.filter((record) => record.lookahead === false);
      const iterationsFrom = (runs: typeof records) => runs.map((record) => record.iteration);
      const consecutive = (count: number) => Array.from({ length: count }, (_, i) => SETTINGS.initHmmSweeps! + 1 + i);
      assert.ok(first.length > 0 && second.length > 0, `${first.length} and ${second.length} records`);
      assert.equal(iterationsFrom(first), consecutive(first.length), 'the first run follows the hmm start');
      assert.equal(iterationsFrom(second), consecutive(second.length), 'the second run starts where the first did');
      assert.equal(records, [...hmm, ...first, ...second]);
    });
    choice(
      "Ctrl-C at the first run's end: the checkpoint holds its result and the second run's start; resumed, the same model",
      async () => {
        const out = join(folder, `${backend}-${corpusName}-stopped.lla`);
        // seen at the first run's second-to-last iteration, the abort ends the run after its last one
        const error = await trainStopped(backend, corpusName, out, (record) => record.lookahead === true);
        assert.is(error?.name, 'InterruptedError', String(error));
        const header = readModelFile(`${out}.ckpt`, { expectKind: 'checkpoint' }).header as {
          iteration: number;
          lookaheadChoice: { phase: string };
        };
        assert.is(header.lookaheadChoice.phase, 'second');
        assert.is(header.iteration, SETTINGS.initHmmSweeps, 'the run stands where both runs start');

        // a checkpoint whose first run's state is missing or of another size is refused before any work
        const checkpoint = readModelFile(`${out}.ckpt`, { expectKind: 'checkpoint' });
        const damaged = async (name: string, sections: typeof checkpoint.sections, problem: RegExp) => {
          const path = join(folder, `${backend}-${corpusName}-${name}.lla`);
          writeModelFile(`${path}.ckpt`, { kind: 'checkpoint', header: checkpoint.header, sections });
          const error = await resumeAndSave(backend, corpusName, path).then(
            () => null,
            (thrown: Error) => thrown,
          );
          assert.is(error?.name, 'InputError', String(error));
          assert.match(error!.message, problem);
          assert.ok(error!.message.includes(`${path}.ckpt`), `names the checkpoint: ${error!.message}`);
        };
        const { choiceFirstLstm: _dropped, ...withoutWeights } = checkpoint.sections;
        await damaged('no-weights', withoutWeights, /choiceFirstLstm/);
        const topics = checkpoint.sections.choiceFirstTopics as Int32Array;
        await damaged(
          'short-topics',
          { ...checkpoint.sections, choiceFirstTopics: topics.subarray(1) },
          /the first run\) does not fit this run/,
        );

        const resumed = await resumeAndSave(backend, corpusName, out);
        assert.ok(resumed.iterationsRun > 0);
        assert.equal(resumed.summary.lookaheadChoice, auto.summary.lookaheadChoice);
        assert.is(resumed.summary.heldOut!.perplexity, auto.summary.heldOut!.perplexity);
        assertSameSections(auto.path, out);
      },
    );

    choice(
      'Ctrl-C before the final evaluation: the checkpoint holds the kept run; resumed, only the evaluation runs',
      async () => {
        const out = join(folder, `${backend}-${corpusName}-evaluation.lla`);
        // seen at the second run's second-to-last iteration: its last one runs, the choice is made, the evaluation stops
        const error = await trainStopped(backend, corpusName, out, (record) => record.lookahead === false);
        assert.match(String(error), /final held-out evaluation was interrupted/);
        const header = readModelFile(`${out}.ckpt`, { expectKind: 'checkpoint' }).header as {
          lookaheadChoice: { phase: string; result: { lookahead: boolean } };
        };
        assert.is(header.lookaheadChoice.phase, 'chosen');
        assert.is(header.lookaheadChoice.result.lookahead, auto.summary.lookaheadChoice!.lookahead);

        const resumed = await resumeAndSave(backend, corpusName, out);
        assert.is(resumed.iterationsRun, 0, 'no iteration runs again');
        assert.equal(resumed.summary.lookaheadChoice, auto.summary.lookaheadChoice);
        assert.is(resumed.summary.heldOut!.perplexity, auto.summary.heldOut!.perplexity);
        assert.equal(resumed.summary.stop, auto.summary.stop);
        assert.is(resumed.lookahead, auto.lookahead);
        assertSameSections(auto.path, out);
      },
    );

    choice.run();
  }
}

/** Runs that stop by --tol: 0.9 is met as soon as the test has its 6 records, after the 6th lla iteration of each. */
const CONVERGING: ModelOptions = { ...SETTINGS, iterations: 14, tol: 0.9 };
const CONVERGED_AT = CONVERGING.initHmmSweeps! + 6;

for (const backend of ['native', 'wasm'] as const) {
  const converging = suite(`--lookahead auto, runs that converge (${backend} kernels)`);
  converging(
    'Ctrl-C at the end of a first run that converged: the resumed run still trains the second, to the same model',
    async () => {
      const whole = await trainAndSave({ ...CONVERGING, backend, chooseLookahead: true }, 'repeats', `${backend}-tol`);
      const history = readModelFile(whole.path).header.history as Array<{ lookahead?: boolean; iteration: number }>;
      const last = (lookahead: boolean) => history.filter((record) => record.lookahead === lookahead).at(-1);
      assert.is(last(true)?.iteration, CONVERGED_AT, 'the first run converged');
      assert.is(last(false)?.iteration, CONVERGED_AT, 'the second run converged');

      const out = join(folder, `${backend}-tol-stopped.lla`);
      const error = await trainStopped(
        backend,
        'repeats',
        out,
        (record) => record.lookahead === true,
        CONVERGING,
        CONVERGED_AT,
      );
      assert.is(error?.name, 'InterruptedError', String(error));
      const resumed = await resumeAndSave(backend, 'repeats', out, CONVERGING);
      assert.is(resumed.iterationsRun, 6, 'the second run trains after the resume');
      assert.equal(resumed.summary.lookaheadChoice, whole.summary.lookaheadChoice);
      assert.equal(resumed.summary.stop, whole.summary.stop);
      assertSameSections(whole.path, out);
    },
  );
  converging.run();
}

const noHeldIn = suite('--lookahead auto without a held-in slice');
noHeldIn.after(() => rmSync(folder, { recursive: true, force: true }));
noHeldIn('both outcomes were tested: some run kept lookahead and some did not', () => {
  assert.equal(Object.keys(kept).length, 4);
  assert.equal(new Set(Object.values(kept)).size, 2, JSON.stringify(kept));
});
noHeldIn('with --copy off there is nothing to choose by: the run is the plain lookahead run', async () => {
  const auto = await trainAndSave({ ...SETTINGS, copy: 'off', chooseLookahead: true }, 'repeats', 'off-auto');
  const plain = await trainAndSave({ ...SETTINGS, copy: 'off', lookahead: true }, 'repeats', 'off-1');
  assert.is(auto.summary.lookaheadChoice, null);
  assert.is(auto.lookahead, true);
  assert.is(auto.summary.heldOut!.perplexity, plain.summary.heldOut!.perplexity);
});
noHeldIn.run();
